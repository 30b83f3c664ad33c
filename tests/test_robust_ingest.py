"""Ingest under hostile input: one bad file never sinks a batch, the work per
file is bounded, and the corpus cannot tear.

Each test writes its hostile files into tmp_path.  The tests that need a
folder nobody can read run the CLI without root's capabilities (setpriv),
since root reads every folder.
"""
from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.corpus import ingest, split
from pipeline.corpus.store import build_corpus, corpus_stats, load_articles, load_sentences, manifest_path
from pipeline.errors import CorpusError
from pipeline.corpus.boilerplate import clean_paragraphs
from pipeline.corpus.discover import expand_inputs
from pipeline.corpus.ingest import read_article
from pipeline.corpus.metadata import MAX_FRONT_MATTER_CHARS
from pipeline.corpus.readers import MAX_FILE_BYTES, MAX_HTML_DEPTH, MAX_TEXT_CHARS
from pipeline.corpus.extract import LARGE_PAGE_CHARS, _unwrap, body_text, page_text
from pipeline.records import Article
from pipeline.corpus.split import MAX_SENTENCE_CHARS, split_article, split_paragraph

from conftest import REPO, kill_before_step

GOOD = "Envoys meet in Geneva\n\nThe U.N. envoy met both delegations on Monday. Talks resume on Tuesday, officials said.\n"
BODY = "The U.N. envoy met both delegations on Monday. Talks resume on Tuesday, officials said.\n"


def _md(front: str, body: str = BODY) -> str:
    return f"---\n{front}\n---\n{body}"


def _batch(tmp_path: Path, name: str, content: str | bytes) -> tuple[dict, Path]:
    """One hostile file next to a good article, ingested together."""
    raw = tmp_path / "raw"
    raw.mkdir(exist_ok=True)
    (raw / "good.txt").write_text(GOOD, encoding="utf-8")
    bad = raw / name
    bad.write_bytes(content) if isinstance(content, bytes) else bad.write_text(content, encoding="utf-8")
    res = build_corpus([raw], tmp_path / "corpus")
    assert "good" in {a.article_id for a in load_articles(tmp_path / "corpus")}
    return res, bad


def _only_error(res: dict, bad: Path) -> str:
    assert len(res["errors"]) == 1, res["errors"]
    msg = res["errors"][0]
    assert msg.startswith(str(bad)) and "\n" not in msg
    return msg


# --------------------------------------------------------------------------
# Front matter
# --------------------------------------------------------------------------
@pytest.mark.parametrize("date", ["2016-02-30", "2016-02-03 25:00:00"])
def test_front_matter_date_that_does_not_exist(tmp_path, date):
    res, bad = _batch(tmp_path, "a.md", _md(f"title: Talks resume in Geneva today\ndate: {date}"))
    msg = _only_error(res, bad)
    assert f"{bad}:3:" in msg and "is not a real date" in msg and "fix the YAML" in msg


def test_front_matter_url_that_does_not_parse(tmp_path):
    res, bad = _batch(tmp_path, "a.md", _md("title: Talks resume in Geneva today\nurl: 'http://[::1/x'"))
    msg = _only_error(res, bad)
    assert f"{bad}:3:" in msg and "not a valid address" in msg and "correct it or remove it" in msg


@pytest.mark.parametrize("front, key, line", [
    ("title: {a: 1}", "title", 2),
    ("title: Talks resume in Geneva today\noutlet: {name: Reuters}", "outlet", 3),
    ("title: Talks resume in Geneva today\nurl: [[1, 2]]", "url", 3),
])
def test_front_matter_mapping_or_list_where_text_belongs(tmp_path, front, key, line):
    res, bad = _batch(tmp_path, "a.md", _md(front))
    msg = _only_error(res, bad)
    assert f"{bad}:{line}:" in msg and f"'{key}'" in msg and "write it as one line of text" in msg
    assert corpus_stats(tmp_path / "corpus")["articles"] == 1  # stats no longer meet a mapping


def test_a_stored_mapping_outlet_is_a_clean_error_not_a_crash(tmp_path):
    """A corpus written by an older version, with a mapping for an outlet."""
    root = tmp_path / "corpus"
    root.mkdir()
    record = Article("a", "a.md", "Title", ("Text.",), outlet={"name": "Reuters"}).to_dict()
    (root / "articles.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"articles.jsonl:1: bad article record \(outlet must be text\); rebuild"):
        corpus_stats(root)


def test_yaml_alias_bomb_is_refused_at_once(tmp_path):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"{c}: &{c} [" + ",".join([f"*{p}"] * 9) + "]" for p, c in zip("abcdefgh", "bcdefghi")]
    res, bad = _batch(tmp_path, "bomb.md", _md("\n".join(lines) + "\ntitle: *i"))
    msg = _only_error(res, bad)
    assert "alias" in msg and "write each value out" in msg
    # an anchor that nothing repeats is harmless
    (tmp_path / "anchor.md").write_text(_md("title: &t Talks resume in Geneva today"), encoding="utf-8")
    assert read_article(tmp_path / "anchor.md").title == "Talks resume in Geneva today"


def test_front_matter_over_the_limit(tmp_path):
    front = "title: Talks\n" + "\n".join(f"k{i}: {'x' * 60}" for i in range(MAX_FRONT_MATTER_CHARS // 60))
    res, bad = _batch(tmp_path, "big.md", _md(front))
    assert "front matter is over 64 KB" in _only_error(res, bad)


# --------------------------------------------------------------------------
# Bounded work per file
# --------------------------------------------------------------------------
def test_file_over_the_size_limit_is_refused(tmp_path):
    res, bad = _batch(tmp_path, "huge.txt", "Headline\n\n" + "x" * MAX_FILE_BYTES)
    assert "file is over 8 MB" in _only_error(res, bad)


def test_text_over_the_limit_is_refused_before_cleaning(tmp_path):
    res, bad = _batch(tmp_path, "long.txt", "Headline\n\n" + "Talks go on. " * (MAX_TEXT_CHARS // 13 + 1))
    assert "characters of article text, over the 500,000" in _only_error(res, bad)


def _nested_page(depth: int) -> str:
    body = ("<p>The envoy met both delegations in Geneva on Monday, officials said.</p>"
            "<p>Talks were suspended until February 25, the U.N. envoy said.</p>")
    return f"<html><head><title>Envoy meets delegations</title></head><body>{'<div>' * depth}{body}{'</div>' * depth}</body></html>"


@pytest.mark.parametrize("depth", [300, 2000])
def test_html_nested_hundreds_of_levels_deep_gives_its_text(tmp_path, depth):
    """libxml2's default limit (256 levels) used to cut such a page before its text: "no article text found"."""
    (tmp_path / "deep.html").write_text(_nested_page(depth), encoding="utf-8")
    art = read_article(tmp_path / "deep.html")
    assert art.title == "Envoy meets delegations"
    assert art.paragraphs == ("The envoy met both delegations in Geneva on Monday, officials said.",
                              "Talks were suspended until February 25, the U.N. envoy said.")


def test_html_nested_past_the_parsers_limit_is_one_clear_warning(tmp_path):
    res, bad = _batch(tmp_path, "deeper.html", _nested_page(MAX_HTML_DEPTH + 100))
    msg = _only_error(res, bad)
    assert f"nests its elements over {MAX_HTML_DEPTH:,} levels deep" in msg and "save the article's text as a .txt" in msg


def test_one_huge_line_is_cut_into_bounded_sentences(tmp_path):
    """A whole article on one line, 10 times Punkt's piece: no headline, every word kept."""
    text = "The envoy met both delegations in Geneva on Monday, officials said. " * 1500
    (tmp_path / "oneline.txt").write_text(text, encoding="utf-8")
    art = read_article(tmp_path / "oneline.txt")
    assert art.title == "" and len(art.paragraphs) > 1 and max(map(len, art.paragraphs)) <= split.MAX_PIECE_CHARS
    sents = split_article(art)
    assert len(sents) == 1500 and {s.text for s in sents} == {"The envoy met both delegations in Geneva on Monday, officials said."}


def test_one_huge_token_is_cut_at_the_sentence_limit(tmp_path):
    token = "x" * 30_000
    text = f"It said {token}."
    spans = split_paragraph(text)
    assert max(e - s for s, e in spans) == MAX_SENTENCE_CHARS
    assert "".join(text[s:e] for s, e in spans).replace(" ", "") == text.replace(" ", "")
    (tmp_path / "token.txt").write_text(f"Headline\n\nIt said {token}.\n", encoding="utf-8")
    sents = split_article(read_article(tmp_path / "token.txt"))
    assert sents[0].text == "Headline" and max(len(s.text) for s in sents) <= MAX_SENTENCE_CHARS


# --------------------------------------------------------------------------
# Finding files
# --------------------------------------------------------------------------
def _talks(*args: str, unprivileged: bool = False) -> subprocess.CompletedProcess:
    """Run the CLI; ``unprivileged``: as root, without the capabilities that read every folder."""
    cmd = [sys.executable, "-m", "pipeline", *args]
    if unprivileged and os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("running as root without setpriv: cannot make a folder unreadable")
        cmd = ["setpriv", "--inh-caps=-all", "--bounding-set=-all", "--securebits=+noroot,+noroot_locked", *cmd]
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture
def locked(tmp_path):
    """A folder holding an article that nobody may read; unlocked again afterwards for cleanup."""
    folder = tmp_path / "locked"
    folder.mkdir()
    (folder / "secret.txt").write_text(GOOD, encoding="utf-8")
    folder.chmod(0)
    yield folder
    folder.chmod(0o755)


def test_unreadable_folder_is_reported_as_unreadable(tmp_path, locked):
    p = _talks("ingest", str(locked), "--root", str(tmp_path / "corpus"), unprivileged=True)
    assert p.returncode == 1 and "Traceback" not in p.stderr
    assert f"warning: {locked}: cannot read folder (Permission denied); check its permissions" in p.stderr
    assert "holds no article files" not in p.stderr
    assert "error: no article file found in the inputs; the corpus was left unchanged" in p.stderr
    assert "none of the 0 file(s)" not in p.stderr  # no files to blame: the folder was the problem


def _ingest_with_a_locked_folder(raw: Path, corpus: Path):
    """``talks ingest raw`` (as an unprivileged user) with an unreadable folder ``raw/locked`` holding an article."""
    (raw / "locked").mkdir()
    (raw / "locked" / "secret.txt").write_text(GOOD, encoding="utf-8")
    (raw / "locked").chmod(0)
    try:
        return _talks("ingest", str(raw), "--root", str(corpus), unprivileged=True)
    finally:
        (raw / "locked").chmod(0o755)


def test_unreadable_subfolder_and_pdf_in_a_folder_are_reported(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "good.txt").write_text(GOOD, encoding="utf-8")
    (raw / "report.pdf").write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    p = _ingest_with_a_locked_folder(raw, tmp_path / "corpus")
    assert p.returncode == 1 and "Traceback" not in p.stderr
    assert f"{raw / 'locked'}: cannot read folder (Permission denied)" in p.stderr
    assert f"{raw / 'report.pdf'}: a PDF document, not text" in p.stderr
    assert [a.article_id for a in load_articles(tmp_path / "corpus")] == ["good"]


def test_files_of_other_types_in_a_folder_are_counted_not_passed_over(tmp_path):
    raw = tmp_path / "raw"
    (raw / "page_files").mkdir(parents=True)
    (raw / "good.txt").write_text(GOOD, encoding="utf-8")
    (raw / "random.bin").write_bytes(os.urandom(300))
    (raw / "page_files" / "logo.png").write_bytes(b"\x89PNG\r\n")
    (raw / "page_files" / "app.js").write_text("x = 1")
    (raw / "page_files" / "more.js").write_text("y = 2")
    (raw / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    p = _talks("ingest", str(raw), "--root", str(tmp_path / "corpus"))
    assert p.returncode == 1 and "Traceback" not in p.stderr
    assert p.stderr.splitlines() == [f"warning: {raw}: 5 file(s) of other types ignored (.js: 2, .bin: 1, .png: 1, hidden: 1): "
                                     "only .txt, .md, .html and files without an extension are read as articles; convert or "
                                     "rename those that are articles (skipped)"]
    assert [a.article_id for a in load_articles(tmp_path / "corpus")] == ["good"]
    (raw / "good.txt").unlink()
    p = _talks("ingest", str(raw / "*"), "--root", str(tmp_path / "other"))  # a glob says so too
    assert p.returncode == 1 and "5 file(s) of other types ignored" in p.stderr and "no such file" not in p.stderr


def test_a_hidden_article_file_in_a_folder_is_reported(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "good.txt").write_text(GOOD, encoding="utf-8")
    (raw / ".hidden.txt").write_text(GOOD.replace("Geneva", "Vienna"), encoding="utf-8")
    p = _talks("ingest", str(raw), "--root", str(tmp_path / "corpus"))
    assert p.returncode == 1 and "Traceback" not in p.stderr
    assert p.stderr.splitlines() == [f"warning: {raw / '.hidden.txt'}: hidden file (its name starts with '.'), not ingested; "
                                     "rename it without the dot to ingest it, or move it out of the folder (skipped)"]
    assert [a.article_id for a in load_articles(tmp_path / "corpus")] == ["good"]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
def test_utf16_with_a_byte_order_mark_is_read_like_utf8(tmp_path, encoding):
    text = GOOD.replace("Geneva", "Genève").replace("\n", "\r\n")
    bom = b"\xfe\xff" if encoding == "utf-16-be" else b""  # Python's utf-16 and utf-32 write their own mark
    for name, data in (("utf8", text.encode("utf-8")), ("wide", bom + text.encode(encoding))):
        (tmp_path / name).mkdir()
        (tmp_path / name / "article.txt").write_bytes(data)
        build_corpus([tmp_path / name], tmp_path / name / "corpus")
    utf8, wide = (load_sentences(tmp_path / n / "corpus") for n in ("utf8", "wide"))
    assert list(wide.text) == ["Envoys meet in Genève", "The U.N. envoy met both delegations on Monday.",
                               "Talks resume on Tuesday, officials said."]
    assert list(wide.sentence_id) == list(utf8.sentence_id)  # the same ids as the UTF-8 copy: labels carry over


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_gets_re_encoding_advice(tmp_path, encoding):
    (tmp_path / "article.txt").write_bytes(GOOD.encode(encoding))
    with pytest.raises(CorpusError) as e:
        read_article(tmp_path / "article.txt")
    enc = encoding.replace("-le", "le").replace("-be", "be")
    assert str(e.value) == (f"{tmp_path / 'article.txt'}: looks like {enc.upper()} text without a byte order mark; "
                            f"re-save the file as UTF-8, e.g. iconv -f {enc} -t utf-8")
    (tmp_path / "article.txt").write_bytes(b"\xff\xfe" + GOOD.encode("utf-16-le")[:-1])  # cut in a character
    with pytest.raises(CorpusError, match="UTF-16 text .byte order mark. that does not decode; re-save the file as UTF-8"):
        read_article(tmp_path / "article.txt")


@pytest.mark.parametrize("name", ["report.pdf", "report.txt"])
def test_a_pdf_is_named_a_pdf(tmp_path, name):
    (tmp_path / name).write_bytes(b"%PDF-1.7\n%\xb5\xb5\xb5\xb5\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")
    with pytest.raises(CorpusError) as e:
        read_article(tmp_path / name)
    assert "a PDF document, not text" in str(e.value) and "pdftotext" in str(e.value) and "UTF-8" not in str(e.value)


def test_a_symlink_loop_yields_each_article_once(tmp_path):
    feed = tmp_path / "feed"
    feed.mkdir()
    (feed / "a.txt").write_text(GOOD, encoding="utf-8")
    (feed / "loop").symlink_to(feed, target_is_directory=True)
    (feed / "again").symlink_to(feed, target_is_directory=True)  # two loops: 2^40 paths for a naive walk
    (feed / "alias.txt").symlink_to(feed / "a.txt")
    for spec in (str(feed / "**" / "*.txt"), str(feed), str(feed / "*")):
        assert expand_inputs([spec]) == [feed / "a.txt"], spec
    res = build_corpus([str(feed / "**" / "*.txt"), feed], tmp_path / "corpus")
    assert res["articles"] == 1 and res["errors"] == []


def test_control_characters_never_reach_the_corpus(tmp_path):
    # A NUL in the first 4 KB marks a binary file; later ones are debris in text.
    text = "Headline\x07 here\n\n" + "Filler sentence. " * 300 + "A NUL\x00 late in\x07 the file.\x0cNext page.\x85\n"
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "nul.txt").write_bytes(text.encode("utf-8"))
    build_corpus([tmp_path / "raw"], tmp_path / "corpus")
    for path in (tmp_path / "corpus").iterdir():
        data = path.read_text(encoding="utf-8")
        assert not any(ord(c) < 32 and c not in "\n" or 0x7F <= ord(c) < 0xA0 for c in data), path
    texts = list(load_sentences(tmp_path / "corpus").text)
    assert texts[0] == "Headline here" and "A NUL late in the file." in texts and "Next page." in texts


# --------------------------------------------------------------------------
# Any other failure is that file's warning
# --------------------------------------------------------------------------
def test_an_unexpected_exception_is_that_files_warning(tmp_path, monkeypatch):
    real = ingest.from_plain_text

    def buggy(path, text):
        if path.name == "bad.txt":
            raise ZeroDivisionError("boom")
        return real(path, text)

    monkeypatch.setattr(ingest, "from_plain_text", buggy)
    res, bad = _batch(tmp_path, "bad.txt", GOOD)
    msg = _only_error(res, bad)
    assert "unexpected ZeroDivisionError (boom); the file was skipped: please report it as a bug" in msg


def test_an_unexpected_exception_while_splitting_is_that_files_warning(tmp_path, monkeypatch):
    real = split.split_paragraph

    def poisoned(text):
        if "poison" in text:
            raise IndexError("list index out of range")
        return real(text)

    monkeypatch.setattr(split, "split_paragraph", poisoned)
    res, bad = _batch(tmp_path, "bad.txt", "Headline\n\nA poison sentence.\n")
    assert "unexpected IndexError" in _only_error(res, bad)
    assert "bad" not in {a.article_id for a in load_articles(tmp_path / "corpus")}


@pytest.mark.parametrize("exc", [MemoryError, KeyboardInterrupt])
def test_memory_error_and_interrupt_are_never_swallowed(tmp_path, monkeypatch, exc):
    def fail(path, text):
        raise exc()

    monkeypatch.setattr(ingest, "from_plain_text", fail)
    (tmp_path / "a.txt").write_text(GOOD, encoding="utf-8")
    with pytest.raises(exc):
        build_corpus([tmp_path / "a.txt"], tmp_path / "corpus")


# --------------------------------------------------------------------------
# Markdown
# --------------------------------------------------------------------------
MARKDOWN = """\
# Envoys meet in **Geneva**

> **The U.N. envoy** met both delegations on Monday, [officials said](http://example.com/a).
> He spoke of *real progress* on aid to Madaya, and of snake_case_names.

- Talks resume on `Tuesday` at the Palais des Nations.
- ![a photo](photo.jpg)The delegations will meet separately first.

2016. The year the talks began.
"""


def test_markdown_syntax_is_cleaned_from_md_bodies(tmp_path):
    for name, text in (("a.md", MARKDOWN), ("b.md", _md("title: Envoys meet in Geneva", MARKDOWN.split("\n", 2)[2]))):
        (tmp_path / name).write_text(text, encoding="utf-8")
        art = read_article(tmp_path / name)
        assert art.title == "Envoys meet in Geneva"
        assert list(art.paragraphs) == [
            "The U.N. envoy met both delegations on Monday, officials said.",
            "He spoke of real progress on aid to Madaya, and of snake_case_names.",
            "Talks resume on Tuesday at the Palais des Nations.",
            "The delegations will meet separately first.",
            "2016. The year the talks began.",
        ]
    (tmp_path / "c.txt").write_text(MARKDOWN, encoding="utf-8")  # a .txt file is text as it stands
    assert "**The U.N. envoy** met" in " ".join(read_article(tmp_path / "c.txt").paragraphs)


def test_markdown_cleaning_leaves_html_bodies_alone(articles_dir, tmp_path):
    """The feed's .md files are HTML under front matter: not Markdown."""
    page = tmp_path / "a.md"
    page.write_text(_md("title: Envoys meet in Geneva", "<p>Talks on **aid** resume, the envoy said.</p>\n"), encoding="utf-8")
    assert read_article(page).paragraphs == ("Talks on **aid** resume, the envoy said.",)


# --------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------
_front = st.text(max_size=200).map(lambda t: f"---\n{t}\n---\n")
_bodies = st.one_of(st.text(max_size=400), st.sampled_from(["<p>x</p>", "<html><body><p>Text. More.</p>", "# **x** [a](b)"]))
_files = st.one_of(
    st.binary(max_size=600),
    st.tuples(st.one_of(st.just(""), _front), _bodies).map(lambda fb: (fb[0] + fb[1]).encode("utf-8", "surrogatepass")),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=_files, suffix=st.sampled_from([".txt", ".md", ".html", ""]))
def test_reading_any_bytes_raises_nothing_but_corpus_errors(data, suffix):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"article{suffix}"
        path.write_bytes(data)
        try:
            art = read_article(path)
        except CorpusError as e:
            assert str(e).startswith(str(path)) and "please report it as a bug" not in str(e)
        else:
            split_article(art)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_cleaning_and_splitting_any_text_loses_no_text(text):
    clean_paragraphs([text, text])
    # Small limits, so that examples cross them: cut pieces and cut sentences.
    with mock.patch.object(split, "MAX_PIECE_CHARS", 40), mock.patch.object(split, "MAX_SENTENCE_CHARS", 15):
        spans = split_paragraph(text)
    assert "".join("".join(text[s:e] for s, e in spans).split()) == "".join(text.split())
    for (_, e1), (s2, _) in itertools.pairwise(spans):
        assert e1 <= s2
    assert all(e - s <= 15 and text[s:e] == text[s:e].strip() and e > s for s, e in spans)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(max_size=120), max_size=5), st.text(max_size=60))
def test_sentence_ids_are_stable_on_re_run(paragraphs, title):
    art = Article("a1", "a1.txt", title, tuple(paragraphs))
    first = [(s.sentence_id, s.text, s.start, s.end) for s in split_article(art)]
    assert first == [(s.sentence_id, s.text, s.start, s.end) for s in split_article(art)]
    assert all(art.body[s:e] == t for _, t, s, e in first)


def test_re_ingesting_gives_the_same_files_byte_for_byte(tmp_path, articles_dir):
    build_corpus([articles_dir], tmp_path / "a")
    build_corpus([articles_dir], tmp_path / "b")
    build_corpus([articles_dir], tmp_path / "b")  # again, over itself
    for name in ("articles.jsonl", "sentences.csv", "manifest.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


# --------------------------------------------------------------------------
# A corpus that cannot tear
# --------------------------------------------------------------------------
# Runs build_corpus with every file replacement and corpus write announced on
# stdout, each waiting for a line on stdin before it goes ahead.
_STEPPED_INGEST = """
import pipeline.corpus.store as corpus

os.replace = stepped("replace", os.replace)
corpus.atomic_write_text = stepped("write", corpus.atomic_write_text)
corpus.build_corpus([sys.argv[1]], sys.argv[2])
print("done", flush=True)
"""


def _snapshot(root: Path) -> tuple[list, list]:
    return [a.to_dict() for a in load_articles(root)], load_sentences(root).to_dict("records")


@pytest.mark.slow
def test_a_kill_at_any_step_leaves_the_old_corpus_or_the_new(tmp_path, articles_dir):
    old_root = tmp_path / "old"
    build_corpus([articles_dir / "plain.txt"], old_root)
    old = _snapshot(old_root)
    expected_new = tmp_path / "expected"
    shutil.copytree(old_root, expected_new)
    build_corpus([articles_dir], expected_new)
    new = _snapshot(expected_new)
    assert new != old
    # The steps: write the staged articles (a temp file, then its rename), the
    # same for the staged sentences and the manifest (its rename commits),
    # then rename both into place.
    steps = ["write .", "replace .", "write .", "replace .", "write manifest.json", "replace manifest.json",
             "replace articles.jsonl", "replace sentences.csv"]
    for kill_at, expected_step in enumerate(steps):
        root = tmp_path / f"run{kill_at}"
        shutil.copytree(old_root, root)
        step = kill_before_step(_STEPPED_INGEST, [articles_dir, root], kill_at)
        assert step.startswith(expected_step), (kill_at, step)
        committed = kill_at > steps.index("replace manifest.json")
        assert _snapshot(root) == (new if committed else old), step
    # The next run cleans up what a killed one left.
    build_corpus([articles_dir], root)
    assert sorted(os.listdir(root)) == ["articles.jsonl", "manifest.json", "sentences.csv"]
    assert _snapshot(root) == new


def test_a_file_that_does_not_match_the_manifest_is_a_clean_error(tiny_corpus):
    assert json.loads(manifest_path(tiny_corpus).read_text())["sentences"]["rows"] == len(load_sentences(tiny_corpus))
    with open(tiny_corpus / "sentences.csv", "a", encoding="utf-8") as f:
        f.write("sdeadbeef0000,x,0,0,0,1,X\n")
    with pytest.raises(CorpusError, match=r"sentences.csv: does not match manifest.json .*talks ingest corpus/raw --replace"):
        load_sentences(tiny_corpus)
    assert load_articles(tiny_corpus)  # the other file still matches


# --------------------------------------------------------------------------
# Install
# --------------------------------------------------------------------------
def test_every_library_the_code_imports_is_declared():
    """pip 23 installs trafilatura without lxml_html_clean; HTML then fails with ImportError."""
    import ast
    from importlib.metadata import packages_distributions

    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = {_dist_name(r) for r in project["dependencies"]}
    declared_any = declared | {_dist_name(r) for reqs in project["optional-dependencies"].values() for r in reqs}
    assert "lxml-html-clean" in declared
    dists = packages_distributions()
    for path in sorted((REPO / "pipeline").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else []
            for top in {n.split(".")[0] for n in names} - set(sys.stdlib_module_names) - {"pipeline"}:
                owners = {_dist_name(d) for d in dists.get(top, [top])}
                assert owners & declared_any, f"{path.name} imports {top}: declare {sorted(owners)} in pyproject.toml"


def _dist_name(requirement: str) -> str:
    import re

    return re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0].lower().replace("_", "-")


# --------------------------------------------------------------------------
# Everything at once, through the CLI
# --------------------------------------------------------------------------
def test_a_mixed_folder_ingests_every_good_article_and_names_every_bad_file(tmp_path, articles_dir):
    raw = tmp_path / "raw"
    shutil.copytree(articles_dir, raw / "good")
    bad = {
        "date.md": _md("title: Talks resume in Geneva today\ndate: 2016-02-30"),
        "url.md": _md("title: Talks resume in Geneva today\nurl: 'http://[::1/x'"),
        "mapping.md": _md("title: {a: 1}"),
        "bomb.md": _md("a: &a [x, x]\nb: &b [*a, *a]\ntitle: *b"),
        "bigfront.md": _md("title: x\nnote: " + "y" * MAX_FRONT_MATTER_CHARS),
        "huge.txt": "Headline\n\n" + "x" * MAX_FILE_BYTES,
        "long.txt": "Headline\n\n" + "Talks go on. " * (MAX_TEXT_CHARS // 13 + 1),
        "empty.txt": "",
        "cp1252.txt": "Caf\xe9 talks\n\nThe envoy said so.\n".encode("cp1252"),
        "binary.txt": b"\x00\x01\x02" * 100,
        "doc.txt": b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n",
        "report.pdf": b"%PDF-1.4\n",
        "letter.docx": b"PK\x03\x04\x14\x00",
        "zipped.txt": b"PK\x03\x04\x14\x00",
        "unclosed.md": "---\ntitle: x\n" + BODY,
    }
    for name, content in bad.items():
        path = raw / "bad" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content, encoding="utf-8")
    (raw / "bad" / "loop").symlink_to(raw, target_is_directory=True)
    p = _ingest_with_a_locked_folder(raw, tmp_path / "corpus")
    assert p.returncode == 1 and "Traceback" not in p.stderr, p.stderr
    warnings = [line for line in p.stderr.splitlines() if line.startswith("warning: ")]
    for name in [*bad, "locked"]:
        assert sum(f"{name}" in w for w in warnings) == 1, (name, p.stderr)
    assert len(warnings) == len(bad) + 1, p.stderr
    assert {a.article_id for a in load_articles(tmp_path / "corpus")} == {"plain", "frontmatter", "page"}


def test_a_large_page_nested_thousands_deep_reads_as_the_shallow_one(tmp_path):
    """resiliparse's time grows with text times depth (seconds for this page, 40 s for 7 MB): wrappers are
    unwrapped first, so the text is the shallow page's."""
    para = "<p>The envoy met both delegations in Geneva on Monday, officials said.</p>" * 2000
    deep, shallow = ("<html><head><title>Envoy</title></head><body>" + "<div>" * d + para + "</div>" * d + "</body></html>"
                     for d in (2000, 3))
    assert len(deep) > LARGE_PAGE_CHARS
    assert page_text(deep).text == page_text(shallow).text
    assert body_text("<div>" * 2000 + para + "</div>" * 2000) == body_text("<div>" + para + "</div>")


def test_unwrapping_keeps_every_wrapper_that_holds_text_or_an_inline_element():
    import lxml.html

    root = lxml.html.document_fromstring("<html><body><section><div><span>Lead</span></div> after <div><div><p>One.</p></div></div>"
                                         "<div>x<div><p>Two.</p></div></div></section></body></html>")
    _unwrap(root)
    assert lxml.html.tostring(root.find("body"), encoding="unicode") == (
        "<body><section><div><span>Lead</span></div> after <p>One.</p><div>x<p>Two.</p></div></section></body>")
