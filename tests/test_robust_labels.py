"""The label store and its tools on bad input: files from other programs
(byte order marks, CRLF), cut-off and emptied stores, malformed Label Studio
and doccano exports, unwritable --out paths, control characters in article
text, an import during a live session; and property tests of the reader."""
from __future__ import annotations

import json
import shutil
import tempfile
import unicodedata
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.cli import main
from pipeline.errors import LabelError, PipelineError
from pipeline.labels.interop import import_labels
from pipeline.labels.agreement import label_stats
from pipeline.labels.gold import check_labels, find_problems, gold_labels, load_labels, read_store
from pipeline.labels.journal import annotator_lock, append_journal, compact_journal, save_record, undo_record
from pipeline.labels.store import STORE_COLUMNS, write_store
from pipeline.labelling.terminal import _DIM, _HI, _OFF, Item, Session, build_queue
from pipeline.project import Project

DATA = Path(__file__).parent / "data"
GOOD = DATA / "labels" / "good"
CY = (GOOD / "cy.csv").read_bytes()  # header and one row, with a quoted text
ANA = (GOOD / "ana.csv").read_bytes()  # header and eight rows


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    from pipeline.corpus.store import build_corpus

    root = tmp_path_factory.mktemp("c") / "corpus"
    assert not build_corpus([DATA / "articles"], root)["errors"]
    return root


@pytest.fixture
def good(tmp_path: Path) -> Path:
    return Path(shutil.copytree(GOOD, tmp_path / "labels"))


def _cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _one_error_line(err: str, *words: str) -> None:
    """The CLI's answer to bad input: exactly one ``error:`` line, no traceback."""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    assert all(w in lines[0] for w in words), (words, err)


# --------------------------------------------------------------------------
# Files saved by other programs: BOM, CRLF
# --------------------------------------------------------------------------
@pytest.mark.parametrize("bom,crlf", [(True, False), (False, True), (True, True)])
def test_bom_and_crlf_stores_are_read_as_they_are(good, corpus, capsys, bom, crlf):
    gold = gold_labels(Project(corpus=corpus, labels=good))
    data = ANA.replace(b"\n", b"\r\n") if crlf else ANA
    (good / "ana.csv").write_bytes(b"\xef\xbb\xbf" * bom + data)
    assert check_labels(Project(corpus=corpus, labels=good)) == []
    assert _cli(capsys, "labels", "check", "--labels", str(good), "--root", str(corpus))[1].strip() == "labels OK"
    assert gold_labels(Project(corpus=corpus, labels=good)).equals(gold)
    assert read_store(good / "ana.csv")["text"].str.contains("\r").sum() == 0
    # the next tool write gives the file its plain form again
    append_journal(good, "ana", save_record("ana", "s0960e75ab157", "plain", "The government denied it.", {"blame": 1}))
    compact_journal(good, "ana")
    rewritten = (good / "ana.csv").read_bytes().split(b"\n")
    assert rewritten[:2] + rewritten[3:] == ANA.split(b"\n")[:2] + ANA.split(b"\n")[3:]  # line 3: the new timestamp


# --------------------------------------------------------------------------
# Cut-off and emptied stores
# --------------------------------------------------------------------------
@pytest.mark.parametrize("cut", [
    len(ANA) - 30,  # in the middle of the last row's values
    ANA.rindex(b'"') - 10,  # inside the last row's quoted text
    ANA.rindex(b"\n", 0, len(ANA) - 1) + 5,  # just after the last row began
])
def test_truncated_last_row_says_so(good, corpus, capsys, cut):
    (good / "ana.csv").write_bytes(ANA[:cut])
    last = ANA[:cut].count(b"\n") + 1
    problems = [p for p in find_problems(Project(corpus=corpus, labels=good)) if p.path.endswith("ana.csv")]
    assert len(problems) == 1, problems  # one problem, not one per missing value
    p = problems[0]
    assert p.line == last and not p.warning and p.message.startswith("the last row is cut off")
    assert "truncated" in p.fix and "restore it from git" in p.fix and "commas" not in str(p)
    with pytest.raises(LabelError, match="the last row is cut off"):
        read_store(good / "ana.csv")
    code, out, _ = _cli(capsys, "labels", "check", "--labels", str(good), "--root", str(corpus))
    assert code == 1 and f"ana.csv:{last}: the last row is cut off" in out


def test_quote_never_closed_is_a_cut_off_row_where_it_opened(good, corpus):
    lines = ANA.decode().splitlines(keepends=True)
    lines[8] = lines[8].replace("Kerry says", '"Kerry says')  # line 9 opens a quote, nothing closes it
    (good / "ana.csv").write_text("".join(lines))  # though the file still ends with a line break
    [p] = [p for p in find_problems(Project(corpus=corpus, labels=good)) if p.path.endswith("ana.csv")]
    assert p.line == 9 and "cut off" in p.message and "inside a quoted text" in p.message


def test_more_or_fewer_fields_in_the_middle_get_their_own_advice(good, corpus):
    lines = ANA.decode().splitlines(keepends=True)
    lines[2] = lines[2].replace("The government denied it.", "The government, denied it.")
    lines[3] = lines[3].rsplit(",", 2)[0] + "\n"
    (good / "ana.csv").write_text("".join(lines))
    found = {p.line: str(p) for p in find_problems(Project(corpus=corpus, labels=good)) if "fields" in p.message}
    assert "11 fields but the header has 10; quote text that contains commas" in found[3]
    assert "8 fields but the header has 10; fill in the missing fields" in found[4]


def test_last_row_without_line_break_is_a_warning(good, corpus, capsys):
    (good / "ana.csv").write_bytes(ANA[:-1])  # complete, only the final line break is missing
    [p] = find_problems(Project(corpus=corpus, labels=good))
    assert p.warning and p.line == 9 and "may be cut off" in p.message
    assert len(gold_labels(Project(corpus=corpus, labels=good))) == len(gold_labels(Project(corpus=corpus, labels=GOOD)))
    (good / "ana.csv").write_bytes(ANA[:-4])  # cut inside the last field (the timestamp)
    assert [q.warning for q in find_problems(Project(corpus=corpus, labels=good))] == [True]
    assert _cli(capsys, "labels", "check", "--labels", str(good), "--root", str(corpus))[0] == 0


def test_store_emptied_to_its_header_is_a_warning(good, corpus, capsys):
    (good / "cy.csv").write_bytes(CY.split(b"\n")[0] + b"\n")
    [p] = find_problems(Project(corpus=corpus, labels=good))
    assert p.warning and p.path == str(good / "cy.csv") and "no rows" in p.message and "restore it from git" in p.fix
    code, out, _ = _cli(capsys, "labels", "check", "--labels", str(good), "--root", str(corpus))
    assert code == 0 and "cy.csv: warning: no rows" in out and "0 problem(s), 1 warning(s)" in out
    assert len(gold_labels(Project(corpus=corpus, labels=good)))  # training is not stopped by it
    # pending decisions in the journal fill it: no warning
    append_journal(good, "cy", save_record("cy", "s6d3b8460a828", "frontmatter", "Mr. Kerry called Lavrov on Sunday.", {"diplomacy": 1}))
    assert find_problems(Project(corpus=corpus, labels=good)) == []


def test_a_journal_all_undone_creates_no_empty_store(tmp_path, corpus):
    labels = tmp_path / "labels"
    append_journal(labels, "t", save_record("t", "s6d3b8460a828", "frontmatter", "Mr. Kerry called Lavrov on Sunday.", {"diplomacy": 1}))
    append_journal(labels, "t", undo_record("t", "s6d3b8460a828"))
    assert compact_journal(labels, "t") == 2
    assert not (labels / "t.csv").exists() and find_problems(Project(corpus=corpus, labels=labels)) == []


# --------------------------------------------------------------------------
# Import while a labelling session holds the annotator
# --------------------------------------------------------------------------
def test_import_refuses_while_a_session_holds_the_annotator(good, corpus, capsys):
    append_journal(good, "ana", save_record("ana", "s0960e75ab157", "plain", "The government denied it.", {"violence": 1}))
    journal = (good / ".journal" / "ana.jsonl").read_bytes()
    store = (good / "ana.csv").read_bytes()
    src = str(DATA / "labels" / "import" / "doccano.jsonl")
    with annotator_lock(good, "ana"):  # what a running 'talks label' (terminal or web) holds
        code, _, err = _cli(capsys, "labels", "import", src, "--format", "doccano", "--annotator", "ana",
                            "--labels", str(good), "--root", str(corpus))
        assert code == 1
        _one_error_line(err, "another 'talks label' session", "ana", "finish it first")
        assert (good / ".journal" / "ana.jsonl").read_bytes() == journal  # not compacted under the session
        assert (good / "ana.csv").read_bytes() == store
        assert import_labels(src, "doccano", "bob", Project(corpus=corpus, labels=good))["rows"] == 3  # another annotator is free
    assert import_labels(src, "doccano", "ana", Project(corpus=corpus, labels=good))["rows"] == 3  # once the session ended
    assert (good / ".journal" / "ana.jsonl").read_text() == ""


# --------------------------------------------------------------------------
# Unwritable --out, malformed exports: one line each, never a traceback
# --------------------------------------------------------------------------
def test_out_paths_under_a_file_are_one_error_line(good, corpus, tmp_path, capsys):
    blocker = tmp_path / "afile"
    blocker.write_text("not a folder\n")
    code, _, err = _cli(capsys, "labels", "agree", str(good / "ana.csv"), str(good / "bob.csv"), "--out", str(blocker / "d.csv"))
    assert code == 1
    _one_error_line(err, str(blocker / "d.csv"), "is a file, not a folder")
    code, _, err = _cli(capsys, "labels", "export", "--format", "doccano", "--out", str(blocker / "x.jsonl"),
                        "--labels", str(good), "--root", str(corpus))
    assert code == 1
    _one_error_line(err, "is a file, not a folder")
    assert blocker.read_text() == "not a folder\n"


KERRY = {"text": "Mr. Kerry called Lavrov on Sunday.", "sentence_id": "s6d3b8460a828"}


@pytest.mark.parametrize("task,why", [
    ({"data": KERRY, "annotations": {"result": []}}, "its annotations are not a list of objects"),
    ({"data": KERRY, "annotations": "diplomacy"}, "its annotations are not a list of objects"),
    ({"data": KERRY, "annotations": ["diplomacy"]}, "its annotations are not a list of objects"),
    ({"data": KERRY, "annotations": [{"result": {"choices": ["diplomacy"]}}]}, "the result of its annotation is not a list of objects"),
    ({"data": KERRY, "annotations": [{"result": ["diplomacy"]}]}, "the result of its annotation is not a list of objects"),
    ({"data": KERRY, "annotations": [{"result": [{"type": "choices", "value": {"choices": "diplomacy"}}]}]}, "a choices result has no list of choices"),
    ({"data": KERRY, "annotations": [{"result": [{"type": "choices", "value": ["diplomacy"]}]}]}, "a choices result has no list of choices"),
    ({"data": "Mr. Kerry called Lavrov on Sunday.", "annotations": []}, "its data is not a JSON object"),
    ("Mr. Kerry called Lavrov on Sunday.", "the task is not a JSON object"),
])
def test_malformed_label_studio_task_is_one_warning(tmp_path, corpus, capsys, task, why):
    good_task = {"data": {"text": "The government denied it.", "sentence_id": "s0960e75ab157"},
                 "annotations": [{"result": [{"type": "choices", "value": {"choices": ["blame"]}}]}]}
    src = tmp_path / "export.json"
    src.write_text(json.dumps([task, good_task]))
    labels = tmp_path / "labels"
    code, out, err = _cli(capsys, "labels", "import", str(src), "--format", "labelstudio", "--annotator", "ls",
                          "--labels", str(labels), "--root", str(corpus))
    assert code == 1 and "imported 1 labelled sentences" in out  # a skipped task fails the run
    assert err.strip().splitlines() == [f"warning: {src}: task 1: {why}; skipped"]
    assert list(read_store(labels / "ls.csv")["sentence_id"]) == ["s0960e75ab157"]  # the well-formed task still counts


@pytest.mark.parametrize("label", [5, 1.5, True, [5], [[0, 5, "diplomacy"]], {"diplomacy": 1}])
def test_doccano_label_of_the_wrong_type_is_one_warning(tmp_path, corpus, capsys, label):
    src = tmp_path / "data.jsonl"
    src.write_text(json.dumps({"sentence_id": "s6d3b8460a828", "label": label}) + "\n")
    code, out, err = _cli(capsys, "labels", "import", str(src), "--format", "doccano", "--annotator", "dc",
                          "--labels", str(tmp_path / "labels"), "--root", str(corpus))
    lines = err.strip().splitlines()
    assert code == 1 and out == f"nothing imported; {tmp_path / 'labels' / 'dc.csv'} not created\n"
    assert not (tmp_path / "labels" / "dc.csv").exists()
    assert len(lines) == 1 and lines[0].startswith(f"warning: {src}: line 1: unknown choice(s)") and "skipped" in lines[0]


@pytest.mark.parametrize("fmt,content,words", [
    ("labelstudio", b"\xff\xfe[]", ("not UTF-8",)),
    ("doccano", b'{"text": "\xe9"}\n', ("not UTF-8",)),
    ("labelstudio", b"[" * 100_000, ("not valid JSON",)),
    ("doccano", b"[" * 100_000 + b"\n", (":1:", "not a JSON object")),
    ("labelstudio", b'"just a string"', ("expected a JSON list of tasks",)),
])
def test_unreadable_export_is_one_error_line(tmp_path, corpus, capsys, fmt, content, words):
    src = tmp_path / "export"
    src.write_bytes(content)
    code, _, err = _cli(capsys, "labels", "import", str(src), "--format", fmt, "--annotator", "x",
                        "--labels", str(tmp_path / "labels"), "--root", str(corpus))
    assert code == 1
    _one_error_line(err, str(src), *words)


@pytest.mark.parametrize("content", [{"data": {"text": "Mr. Kerry called Lavrov on Sunday."}}, {"label_config": "<View/>"}])
def test_a_json_object_instead_of_a_task_list_is_an_error(tmp_path, corpus, capsys, content):
    src = tmp_path / "export.json"
    src.write_text(json.dumps(content))
    code, out, err = _cli(capsys, "labels", "import", str(src), "--format", "labelstudio", "--annotator", "ls",
                          "--labels", str(tmp_path / "labels"), "--root", str(corpus))
    assert code == 1 and out == ""  # no "imported 0 ... into" line
    _one_error_line(err, str(src), "expected a JSON list of tasks, not a JSON object", "[ ]")
    assert not (tmp_path / "labels").exists()


def test_one_line_that_is_not_json_in_a_doccano_file_is_one_warning(tmp_path, corpus, capsys):
    src = tmp_path / "data.jsonl"
    good = [{"sentence_id": "s6d3b8460a828", "label": ["diplomacy"]}, {"sentence_id": "s0960e75ab157", "label": ["blame"]}]
    src.write_text(json.dumps(good[0]) + "\n{'label': 'not json'}\n" + json.dumps(good[1]) + "\n")
    code, out, err = _cli(capsys, "labels", "import", str(src), "--format", "doccano", "--annotator", "dc",
                          "--labels", str(tmp_path / "labels"), "--root", str(corpus))
    assert code == 1 and "imported 2 labelled sentences" in out
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"warning: {src}: line 2: not a JSON object (") and lines[0].endswith("; skipped")
    assert sorted(read_store(tmp_path / "labels" / "dc.csv")["sentence_id"]) == ["s0960e75ab157", "s6d3b8460a828"]


def test_import_of_a_folder_or_a_bom_file(tmp_path, corpus, capsys):
    code, _, err = _cli(capsys, "labels", "import", str(tmp_path), "--format", "doccano", "--annotator", "x",
                        "--labels", str(tmp_path / "labels"), "--root", str(corpus))
    assert code == 1
    _one_error_line(err, "cannot read the import file")
    src = tmp_path / "bom.jsonl"
    src.write_bytes(b"\xef\xbb\xbf" + json.dumps({"sentence_id": "s6d3b8460a828", "label": ["diplomacy"]}).encode() + b"\r\n")
    assert import_labels(src, "doccano", "x", Project(corpus=corpus, labels=tmp_path / "labels"))["rows"] == 1


# --------------------------------------------------------------------------
# Control characters in article text reach the screen as symbols only
# --------------------------------------------------------------------------
def test_control_characters_are_shown_not_sent_to_the_terminal(tmp_path):
    labels = tmp_path / "labels"
    text = "Rebels\x1b]0;owned\x07 said\x1b[2J it\x9b31m was\tover\r\nnow\x7f."
    item = Item("s1", "a\x1b[1m", text, "Before\x1b[A", "After\x00", "Title\x1b[31m", {})
    session = Session("t", labels, [item])
    for color in (True, False):
        screen = session.screen(color=color)
        body = screen.replace(_HI, "").replace(_DIM, "").replace(_OFF, "")
        assert [c for c in body if unicodedata.category(c) == "Cc" and c != "\n"] == []
        assert "Rebels\u241b]0;owned\u2407 said\u241b[2J it\\x9b31m was\u2409over\u240d\u240anow\u2421." in body
        assert "Title\u241b[31m  [a\u241b[1m]" in body and "Before\u241b[A" in body and "After\u2400" in body
    session.key("\r")
    assert json.loads((labels / ".journal" / "t.jsonl").read_text())["text"] == text
    compact_journal(labels, "t")
    assert read_store(labels / "t.csv").loc[0, "text"] == text  # the store keeps the corpus text exactly


def test_queue_file_saved_from_excel(tmp_path, corpus):
    queue = tmp_path / "queue.csv"
    queue.write_bytes(b"\xef\xbb\xbfrank,sentence_id\r\n1,s6d3b8460a828\r\n2,s0960e75ab157\r\n")
    assert [it.sentence_id for it in build_queue("t", Project(corpus=corpus, labels=tmp_path / "labels"), queue=queue)] == ["s6d3b8460a828", "s0960e75ab157"]
    queue.write_bytes("sentence_id\ns6d3b8460a828\n".encode("utf-16"))
    with pytest.raises(LabelError, match="not UTF-8"):
        build_queue("t", Project(corpus=corpus, labels=tmp_path / "labels"), queue=queue)


# --------------------------------------------------------------------------
# Property tests of the reader
# --------------------------------------------------------------------------
def _mutated(src: bytes):
    """A valid store with a stretch replaced by random bytes, cut, or re-encoded."""
    return st.one_of(
        st.binary(max_size=400),
        st.tuples(st.integers(0, len(src)), st.integers(0, 40), st.binary(max_size=30)).map(
            lambda t: src[:t[0]] + t[2] + src[t[0] + t[1]:]),
        st.integers(0, len(src)).map(lambda n: src[:n]),
        st.sampled_from([b"\xef\xbb\xbf", b"", b"\xff\xfe"]).map(lambda bom: bom + src.replace(b"\n", b"\r\n")),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.one_of(_mutated(ANA), _mutated(CY)))
def test_any_bytes_as_a_store_give_label_errors_only(corpus, data):
    """Whatever the bytes, the readers raise nothing but PipelineErrors, and
    load_labels fails exactly when check reports an error-level problem."""
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "x.csv"
        path.write_bytes(data)
        problems = find_problems(Project(corpus=corpus, labels=d))  # must not raise
        errors = [p for p in problems if not p.warning]
        assert all(p.path == str(path) and "; " in str(p) for p in problems)
        assert label_stats(Project(corpus=corpus, labels=d))["problems"] == len(errors)  # stats skip what check flags
        try:
            load_labels(Project(corpus=corpus, labels=d))
            assert not errors, errors
        except LabelError:
            assert errors
        try:
            read_store(path)
        except PipelineError:
            pass


cells = st.text(max_size=60)


@settings(max_examples=80, deadline=None)
@given(texts=st.lists(cells, min_size=1, max_size=6), stamps=st.lists(cells, min_size=6, max_size=6))
def test_any_text_round_trips_through_the_store_exactly(texts, stamps):
    """Text (and any other text cell) written by write_store reads back byte
    for byte, directly and through the labelling tool's journal."""
    rows = [{"sentence_id": f"s{i:03d}", "article_id": "a", "text": t, "diplomacy": 1, "violence": 0, "humanitarian": 0,
             "blame": 0, "junk": 0, "annotator": "x", "timestamp": stamps[i]} for i, t in enumerate(texts)]
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "x.csv"
        write_store(pd.DataFrame(rows, columns=list(STORE_COLUMNS)), path)
        back = read_store(path)
        assert list(back["text"]) == texts and list(back["timestamp"]) == stamps[:len(texts)]
        first = path.read_bytes()
        write_store(back, path)
        assert path.read_bytes() == first  # rewriting changes nothing: an empty git diff
        for i, t in enumerate(texts):  # the labelling tool's way in
            append_journal(d, "x", save_record("x", f"s{i:03d}", "a", t[::-1], {"violence": 1}))
        compact_journal(d, "x")
        assert list(read_store(path)["text"]) == [t[::-1] for t in texts]
