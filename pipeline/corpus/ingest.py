"""Stage 1: raw article files -> :class:`Article` records.

Reads plain text (headline on the first line), Markdown with YAML front matter
over an HTML body, and saved HTML pages.  HTML bodies go through trafilatura
(the field's maintained main-text extractor); every format then passes the
same paragraph rules, which drop what is not article text: template and ad
markers, photo captions and credits, bylines and reporting credits,
share/newsletter prompts, "Related" blocks, comment-policy lines, all-caps
section headings and "Source" links.  The rules describe *kinds* of
boilerplate, not this corpus's strings, so they hold on unseen coverage.

One bad file never sinks a batch, and no file can make the work unbounded:
a file over :data:`MAX_FILE_BYTES` is refused before it is read, article text
over :data:`MAX_TEXT_CHARS` before it is cleaned, front matter over
:data:`MAX_FRONT_MATTER_CHARS` or with YAML aliases before it is parsed, and
runaway paragraphs are cleaned piece by piece.  Everything that goes wrong
with one file is a :class:`CorpusError` naming it (:func:`read_article`
raises nothing else).

Output of the corpus: ``corpus/articles.jsonl`` (one article per line) and
``corpus/sentences.csv`` (written by :func:`write_corpus`, after ``split``).
"""
from __future__ import annotations

import glob
import html
import os
import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import yaml
from yaml.constructor import ConstructorError

from pipeline.errors import CorpusError, blame_file
from pipeline.records import Article, article_id_for
from pipeline.corpus.split import MAX_PIECE_CHARS, cut_spans

ARTICLE_SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm", ""}
MARKDOWN_SUFFIXES = {".md", ".markdown"}

# Limits that keep the work and memory per file bounded.  The corpus's largest
# file is 63 KB and its longest front matter 1.4 KB; a saved news page with
# its scripts and inline data is rarely over 3 MB.
MAX_FILE_BYTES = 8 * 1024 * 1024
# Article text (a plain-text or Markdown body, or what trafilatura extracts
# from HTML): Punkt needs up to ~50 microseconds a character, so this bounds
# one file to about half a minute.  A long feature is 100,000 characters.
MAX_TEXT_CHARS = 500_000
MAX_FRONT_MATTER_CHARS = 64 * 1024
# A plain-text first line longer than this is a paragraph, not a headline
# (the corpus's longest headline is 110 characters).
MAX_TITLE_CHARS = 500


# --------------------------------------------------------------------------
# Finding files
# --------------------------------------------------------------------------
def expand_inputs(inputs: Iterable[str | Path], problems: list[CorpusError] | None = None) -> list[Path]:
    """Files, folders (recursively) and globs -> sorted article files, each file once.

    A path that matches nothing raises, so a typo is not a silent empty run.
    What is found but cannot be ingested (a folder that cannot be read, a PDF
    or word-processor document in a folder) is added to ``problems``; without
    that list the first such problem raises.  A file reached by two paths
    (a link, a glob through a symlink loop) is listed once.
    """
    found: dict[str, Path] = {}
    seen_problems: list[CorpusError] = []
    for item in map(str, inputs):
        p = Path(item)
        before = len(seen_problems)
        if p.is_file():
            files = [p]
        elif p.is_dir():
            files = list(_folder_files(p, seen_problems))
            if not files and len(seen_problems) == before:
                raise CorpusError("folder holds no article files (.txt, .md, .html); check the path", p)
        else:
            files = list(_glob_files(item, seen_problems))
            if not files and len(seen_problems) == before:
                raise CorpusError("no such file, folder or glob match; check the path", item)
        for f in files:
            found.setdefault(os.path.realpath(f), f)
    if seen_problems and problems is None:
        raise seen_problems[0]
    if problems is not None:
        problems.extend(seen_problems)
    return sorted(found.values())


def _folder_files(folder: Path, problems: list[CorpusError]) -> Iterator[Path]:
    """The article files under ``folder``, following linked folders once each."""

    def unreadable(e: OSError) -> None:
        problems.append(CorpusError(f"cannot read folder ({e.strerror}); check its permissions", e.filename))

    read: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(folder, onerror=unreadable, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in read:  # a symlink loop, or a second link to a folder already read
            dirnames.clear()
            continue
        read.add(real)
        dirnames.sort()
        yield from (f for f in (Path(dirpath, name) for name in sorted(filenames)) if _wanted(f, problems))


def _glob_files(pattern: str, problems: list[CorpusError]) -> Iterator[Path]:
    """Files matching a glob, and the article files in folders it matches.

    ``**`` goes through pathlib, whose recursive search does not follow links
    into folders, so a symlink loop cannot multiply the matches.
    """
    parts = Path(pattern).parts
    fixed = next((i for i, part in enumerate(parts) if glob.has_magic(part)), len(parts))
    base, rest = Path(*parts[:fixed]), parts[fixed:]
    if not rest:
        return
    for m in sorted(base.glob(str(Path(*rest)))):
        if m.is_dir():
            yield from _folder_files(m, problems)
        elif _wanted(m, problems):
            yield m


def _wanted(f: Path, problems: list[CorpusError]) -> bool:
    """Whether a file found in a folder or by a glob is an article file to read.

    A document ingest cannot read is reported rather than passed over in
    silence; other files (images, scripts and style sheets beside saved
    pages, dot-files) are not articles and are passed over.
    """
    if f.name.startswith("."):
        return False
    if f.suffix.lower() in _DOCUMENTS:
        problems.append(CorpusError(_DOCUMENTS[f.suffix.lower()], f))
        return False
    if f.suffix.lower() not in ARTICLE_SUFFIXES:
        return False
    if not f.is_file():
        problems.append(CorpusError("not a regular file (a broken link, a pipe or a device); remove it or link it to an article", f))
        return False
    return True


_CONVERT = "ingest reads text only (.txt, .md, .html): save it as text first"
_DOCUMENTS = {
    ".pdf": f"a PDF document, not text; {_CONVERT} (e.g. pdftotext FILE.pdf FILE.txt), or move it out of the folder",
    **{ext: f"a {ext[1:].upper()} document, not text; {_CONVERT}, or move it out of the folder"
       for ext in (".doc", ".docx", ".odt", ".rtf", ".epub")},
}


# --------------------------------------------------------------------------
# Reading one file
# --------------------------------------------------------------------------
def read_text(path: Path) -> str:
    """The file's text, or a CorpusError saying what is wrong with it.

    Line ends become ``\\n``, as do vertical tabs and form feeds; other
    control characters (a NUL in a scraped page, a cp1252 quote read as
    U+0092) are dropped, as trafilatura drops them from HTML, so they never
    reach the corpus, a CSV cell or a terminal.
    """
    try:
        with open(path, "rb") as f:
            # In blocks, stopping past the limit: read(limit) would allocate the whole limit for every file.
            data = bytearray()
            while len(data) <= MAX_FILE_BYTES and (block := f.read(1 << 16)):
                data += block
    except OSError as e:
        raise CorpusError(f"cannot read file ({e.strerror}); check its permissions", path) from None
    if len(data) > MAX_FILE_BYTES:
        raise CorpusError(f"file is over {MAX_FILE_BYTES >> 20} MB, far more than one article; check it is a single article "
                          "(split a collection into one file per article)", path)
    if not data.strip():
        raise CorpusError("file is empty; remove it or re-download the article", path)
    if b"%PDF-" in data[:1024]:
        raise CorpusError(_DOCUMENTS[".pdf"], path)
    if data.startswith(b"PK\x03\x04"):
        raise CorpusError(f"a ZIP archive or an office document (.docx, .odt, .epub), not text; {_CONVERT}", path)
    if b"\x00" in data[:4096]:
        raise CorpusError("file is binary, not text; only .txt, .md and .html articles can be ingested", path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise CorpusError(
            f"not valid UTF-8 (byte 0x{data[e.start]:02x}); re-save the file as UTF-8, "
            "e.g. iconv -f cp1252 -t utf-8",
            path,
            line,
        ) from None
    text = text.replace("\r\n", "\n")
    return text.translate(_CONTROLS) if _CONTROL.search(text) else text


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # a quick look first: translate() is slow on long text
_CONTROLS = {c: None for c in (*range(0x00, 0x09), *range(0x0E, 0x20), *range(0x7F, 0xA0))} | {0x0B: "\n", 0x0C: "\n", 0x0D: "\n"}


def read_article(path: str | Path) -> Article:
    """Parse one article file of any supported format.

    Raises only CorpusError (and MemoryError): whatever else goes wrong with
    the file is reported as that file's problem.
    """
    path = Path(path)
    with blame_file(path):
        text = read_text(path)
        if text.startswith("---\n"):
            return _from_front_matter(path, text)
        if _looks_like_html(path, text):
            return _from_html_page(path, text)
        return _from_plain_text(path, _text_body(path, text))


def iter_articles(paths: Iterable[Path], errors: list[CorpusError] | None = None) -> Iterator[Article]:
    """Articles from files, in order.  With ``errors`` given, a bad file is
    recorded there and skipped so the rest of the batch goes through."""
    seen: dict[str, int] = {}
    for path in paths:
        try:
            art = read_article(path)
        except CorpusError as e:
            if errors is None:
                raise
            errors.append(e)
            continue
        # Two files with one stem (corpus/a/x.md, corpus/b/x.md) must not share an id.
        n = seen[art.article_id] = seen.get(art.article_id, 0) + 1
        if n > 1:
            art = Article(**{**art.__dict__, "article_id": f"{art.article_id}-{n}"})
        yield art


def _looks_like_html(path: Path, text: str) -> bool:
    """A saved page or a bare fragment: an .html name, or markup from the first character."""
    head = text.lstrip()[:5000].lower()
    if path.suffix.lower() in (".html", ".htm") and "<" in head:
        return True
    return head.startswith(("<!doctype html", "<html")) or "<body" in head or bool(
        head.startswith("<") and re.search(r"<(p|div|article|section)\b", head)
    )


def _from_plain_text(path: Path, text: str) -> Article:
    lines = text.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    # The headline is the first non-empty line; one too long to be a headline
    # (a whole article on one line) is the first paragraph.
    if first < len(lines) and len(lines[first]) <= MAX_TITLE_CHARS:
        title, rest = clean_inline(lines[first]), lines[first + 1 :]
    else:
        title, rest = "", lines[first:]
    paragraphs = _text_paragraphs(rest)
    date = _date_in(paragraphs[:3])
    outlet = _dateline_outlet(paragraphs[:3])
    return _make(path, title, paragraphs, date=date, outlet=outlet, url=None, fmt="text")


def _text_body(path: Path, text: str) -> str:
    """A plain-text or Markdown body as text, within the size limit."""
    _check_size(len(text), path)
    return _markdown_to_text(text) if path.suffix.lower() in MARKDOWN_SUFFIXES else text


def _check_size(chars: int, path: Path) -> None:
    if chars > MAX_TEXT_CHARS:
        raise CorpusError(f"{chars:,} characters of article text, over the {MAX_TEXT_CHARS:,} one article can have; "
                          "check it is a single article (split a collection into one file per article)", path)


def _text_paragraphs(lines: list[str]) -> list[str]:
    """Lines -> paragraphs.  A line that ends mid-sentence and is long is a
    hard wrap and joins the next line; any other line is its own paragraph
    (scraped text puts one paragraph per line, captions and credits included)."""
    paras: list[str] = []
    cur: list[str] = []  # the lines of the paragraph being read (joined once: a long run of hard wraps stays linear)
    for raw in lines:
        line = raw.strip()
        if not line:
            if cur:
                paras.append(" ".join(cur))
            cur = []
            continue
        cur.append(line)
        if not (len(raw.rstrip()) >= 60 and not re.search(r"[.!?:\"'”’)]$", line)):
            paras.append(" ".join(cur))
            cur = []
    if cur:
        paras.append(" ".join(cur))
    return paras


def _from_front_matter(path: Path, text: str) -> Article:
    end = re.search(r"^---\s*$", text[4:], flags=re.M)
    if end is None:
        raise CorpusError("front matter opens with '---' but never closes; add the closing '---' line", path, 1)
    fm_text = text[4 : 4 + end.start()]
    body = text[4 + end.end() :]
    meta = _parse_front_matter(fm_text, path)

    def field(*keys: str):
        return _meta_value(meta, fm_text, path, *keys)

    title = clean_inline(html.unescape(str(field("title", "post_title", "original_title", "headline") or "")))
    date = _iso_date(field("date", "post_date", "published_date"))
    raw_url = field(*_URL_KEYS)
    url = _article_url(raw_url, path, _key_line(fm_text, *_URL_KEYS)) if raw_url else None
    if "<" in body and re.search(r"<(p|div|span|br|article|section)\b", body, flags=re.I):
        paragraphs = _html_paragraphs(body, path)
    else:
        paragraphs = _text_paragraphs(_text_body(path, body).split("\n"))
    title, outlet = _split_outlet(title)
    source = field("outlet", "source", "publisher")
    outlet = outlet or (str(source) if source is not None else None) or _outlet_from_url(url)
    if not title and paragraphs:
        title, paragraphs = paragraphs[0], paragraphs[1:]
    return _make(path, title, paragraphs, date=date, outlet=outlet, url=url, fmt="markdown")


class _FrontMatterLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml's when present: the pure-Python one is half of ingest time
    """Safe YAML that refuses aliases and dates that do not exist.

    Front matter needs no aliases, and nested ones expand a few hundred bytes
    into gigabytes (a "billion laughs").  A date such as 2016-02-30 becomes a
    parse error with its line, not a ValueError from inside PyYAML.
    """

    def construct_object(self, node, deep=False):
        # A node met a second time was reached through an alias.
        if node in self.constructed_objects or node in self.recursive_objects:
            raise ConstructorError(None, None, "an alias (*name) repeats the value anchored here; front matter may not use "
                                   "aliases: write each value out", node.start_mark)
        return super().construct_object(node, deep=deep)

    def construct_yaml_timestamp(self, node):
        try:
            return super().construct_yaml_timestamp(node)
        except (ValueError, AttributeError):  # a day or hour out of range; an explicit !!timestamp on other text
            raise ConstructorError(None, None, f"{node.value!r} is not a real date or time", node.start_mark) from None


_FrontMatterLoader.add_constructor("tag:yaml.org,2002:timestamp", _FrontMatterLoader.construct_yaml_timestamp)


def _parse_front_matter(fm_text: str, path: Path) -> dict:
    if len(fm_text) > MAX_FRONT_MATTER_CHARS:
        raise CorpusError(f"front matter is over {MAX_FRONT_MATTER_CHARS // 1024} KB, where a few lines of metadata belong; "
                          "check its closing '---' line", path, 1)
    try:
        meta = yaml.load(fm_text, Loader=_FrontMatterLoader) or {}
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(e, "problem", None) or "invalid YAML"
        raise CorpusError(f"front matter does not parse ({problem}); fix the YAML between the '---' lines", path, line) from None
    except (ValueError, TypeError) as e:  # a value an explicit tag (!!int, !!float) cannot take
        raise CorpusError(f"front matter does not parse ({e}); fix the YAML between the '---' lines", path) from None
    if not isinstance(meta, dict):
        raise CorpusError("front matter is not a key: value mapping; fix the YAML between the '---' lines", path, 2)
    return meta


def _from_html_page(path: Path, text: str) -> Article:
    import trafilatura

    doc = trafilatura.bare_extraction(_prune_link_lists(text), with_metadata=True, include_comments=False, include_tables=False, deduplicate=False)
    doc = {} if doc is None else doc if isinstance(doc, dict) else doc.as_dict()
    # A bare fragment (no <body>) can defeat whole-page extraction: read it as a body.
    paragraphs = clean_paragraphs(_lines(doc.get("text") or "", path)) or clean_paragraphs(_html_paragraphs(text, path))
    if not paragraphs:
        raise CorpusError("no article text found in this HTML page; check it is an article, not an index page", path)
    title = clean_inline(html.unescape(doc.get("title") or ""))
    title, outlet = _split_outlet(title)
    if not title and len(paragraphs) > 1 and not re.search(r"[.!?\"”]$", paragraphs[0]):
        title, paragraphs = paragraphs[0], paragraphs[1:]  # no <title>: a first line with no sentence end is the headline
    if paragraphs and title and _same_text(paragraphs[0], title):
        paragraphs = paragraphs[1:]  # the page repeats its <h1> in the body
    url = _checked_url(doc.get("url"), path)
    outlet = outlet or doc.get("sitename") or _outlet_from_url(url)
    return _make(path, title, paragraphs, date=_iso_date(doc.get("date")), outlet=outlet, url=url, fmt="html", cleaned=True)


def _prune_link_lists(html_text: str) -> str:
    """Drop paragraphs and list items whose whole text is a link.

    "Read more" and "Related" lists are headlines of other stories, each a
    link on its own; article paragraphs are text with, at most, links inside.
    """
    import lxml.html

    try:
        root = lxml.html.document_fromstring(html_text)
    except Exception:  # an unparsable page: leave it to trafilatura's own parser
        return html_text
    for el in list(root.iter("p", "li")):
        text = " ".join(el.text_content().split())
        links = " ".join(" ".join(a.text_content().split()) for a in el.iter("a"))
        if text and links and " ".join(links.split()) == text:
            el.drop_tree()
    # Photo captions and gallery slides, by their markup: <figcaption>, an
    # element whose class names a caption ("caption", "wp-caption-text",
    # "media__caption"), and a gallery container (data-is-gallery, each slide
    # a data-slidename).  A gallery's captions read like prose ("Kim inspects
    # a drill ..."), so only the markup tells them from article text.
    for el in list(root.iter()):
        if not isinstance(el.tag, str) or el.getparent() is None:
            continue
        classes = (el.get("class") or "").lower().split()
        if (el.tag == "figcaption" or any(_CAPTION_CLASS.search(c) for c in classes)
                or el.get("data-is-gallery") == "true" or el.get("data-slidename") is not None):
            el.drop_tree()
    return lxml.html.tostring(root, encoding="unicode")


# A class name that marks a caption: "caption", "pb-caption", "caption-text", "media__caption".
_CAPTION_CLASS = re.compile(r"(^|[-_])caption($|[-_])")


def _html_paragraphs(fragment: str, path: Path) -> list[str]:
    import trafilatura

    fragment = re.sub(r"\[ad_\d+\]", " ", fragment)
    out = trafilatura.extract(
        _prune_link_lists(f"<html><body>{fragment}</body></html>"),
        output_format="txt",
        include_comments=False,
        include_tables=False,
        deduplicate=False,
        favor_recall=True,
    )
    return _lines(out or "", path)


def _lines(text: str, path: Path) -> list[str]:
    """The non-empty lines of text trafilatura extracted, within the size limit."""
    _check_size(len(text), path)
    return [ln.strip() for ln in text.split("\n") if ln.strip()]


def _make(path: Path, title: str, paragraphs: list[str], *, date, outlet, url, fmt, cleaned: bool = False) -> Article:
    paras = paragraphs if cleaned else clean_paragraphs(paragraphs)
    if not title and not paras:
        raise CorpusError("no article text left after cleaning; check the file is an article", path)
    return Article(
        article_id=article_id_for(path.name),
        source=str(path),
        title=title,
        paragraphs=tuple(paras),
        date=date,
        outlet=outlet,
        url=url,
        format=fmt,
    )


# --------------------------------------------------------------------------
# Metadata helpers
# --------------------------------------------------------------------------
_URL_KEYS = ("url", "original_link", "canonical_url", "permalink", "link")


def _meta_value(meta: dict, fm_text: str, path: Path, *keys: str):
    """The first of ``keys`` set in the front matter: a string, number or date.

    Feeds write some values as one-item lists (``original_link: [url]``); the
    first item counts.  A mapping or a list where text belongs is an error
    naming its line: as text it would be YAML syntax in a headline or outlet.
    """
    for k in keys:
        v = meta.get(k)
        if isinstance(v, list):
            v = v[0] if v else None
        if isinstance(v, (dict, list, set, bytes)):
            kind = {dict: "a mapping", list: "a list", set: "a set"}.get(type(v), "binary data")
            raise CorpusError(f"front matter '{k}' is {kind}, where text belongs; write it as one line of text", path, _key_line(fm_text, k))
        if v not in (None, ""):
            return v.strip() if isinstance(v, str) else v
    return None


def _key_line(fm_text: str, *keys: str) -> int | None:
    """The file line of the first of ``keys`` written at the top level of the front matter."""
    for k in keys:
        m = re.search(rf"^{re.escape(k)}[ \t]*:", fm_text, flags=re.M)
        if m:
            return fm_text.count("\n", 0, m.start()) + 2  # line 1 is the opening '---'
    return None


def _iso_date(value) -> str | None:
    if value in (None, ""):
        return None
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d")
    m = re.match(r"\s*(\d{4})-(\d{2})-(\d{2})", str(value))
    return "-".join(m.groups()) if m else None


_DATE_FORMATS = ("%d %B %Y", "%B %d, %Y", "%b. %d, %Y", "%b %d, %Y", "%d %b %Y")


def _date_in(paragraphs: list[str]) -> str | None:
    for p in paragraphs:
        for m in re.finditer(r"(\d{1,2} [A-Z][a-z]+ \d{4}|[A-Z][a-z]{2,8}\.? \d{1,2}, \d{4})", p):
            for fmt in _DATE_FORMATS:
                try:
                    return datetime.strptime(m.group(1), fmt).strftime("%Y-%m-%d")
                except ValueError:
                    pass
    return None


def _dateline_outlet(paragraphs: list[str]) -> str | None:
    # "GENEVA (AFP) - ..." or "Reuters: The United Nations ..."
    for p in paragraphs:
        m = re.match(r"^[A-Z][A-Z ,/.'-]+\(([A-Z][A-Za-z]+)\)\s*[-—–]", p) or re.match(r"^([A-Z][a-z]+):\s", p)
        if m and m.group(1).isalpha() and len(m.group(1)) <= 12:
            return m.group(1)
    return None


def _split_outlet(title: str) -> tuple[str, str | None]:
    """'Headline - Reuters' -> ('Headline', 'Reuters'): the outlet suffix is not headline text."""
    m = re.match(r"^(.{20,}?)\s+[-–—|]\s+([A-Z][\w.&' ]{1,40})$", title) if len(title) <= MAX_TITLE_CHARS else None
    if m and len(m.group(2).split()) <= 5:
        return m.group(1).strip(), m.group(2).strip()
    return title, None


def _article_url(raw, path: Path, line: int | None) -> str:
    url = _checked_url(html.unescape(str(raw)), path, line)
    # Aggregator redirect links carry the article's own address in ?url=
    inner = parse_qs(urlparse(url).query).get("url")
    return _checked_url(inner[0], path, line) if inner else url


def _checked_url(url: str | None, path: Path, line: int | None = None) -> str | None:
    """``url`` as it is, or a CorpusError when it does not parse (a broken [IPv6] host)."""
    try:
        urlparse(url or "")
    except ValueError as e:
        raise CorpusError(f"url {url[:100]!r} is not a valid address ({e}); correct it or remove it", path, line) from None
    return url


def _outlet_from_url(url: str | None) -> str | None:
    if not url:
        return None
    host = urlparse(url).netloc.lower()
    host = re.sub(r"^(www|feeds|rss|m|mobile|edition)\.", "", host)
    # "reuters.com" -> "Reuters", to match outlets named in headline suffixes.
    name = host.split(".")[0] if host else ""
    return name.capitalize() if name else None


def _same_text(a: str, b: str) -> bool:
    return re.sub(r"\W+", "", a).lower() == re.sub(r"\W+", "", b).lower()


# --------------------------------------------------------------------------
# Markdown: a .md body that is text, not HTML
# --------------------------------------------------------------------------
# The CommonMark syntax that fits on one line, removed line by line so the
# paragraph rules see the same lines as in a plain-text file.  Every span is
# bounded, so each rule is linear in the line.  Ordered-list numbers stay
# ("2016. The year ..." must keep its year); "---" and "***" lines are left
# to the rule that drops lines of punctuation.
_MD_LINE_START = (
    (re.compile(r"^ {0,3}(?:>[ \t]?)+"), ""),  # block quote markers
    (re.compile(r"^ {0,3}#{1,6}(?:[ \t]+|$)(.*?)(?:[ \t]+#+)?[ \t]*$"), r"\1"),  # ATX heading markers
    (re.compile(r"^ {0,3}[-+*][ \t]+"), ""),  # bullet list markers
)
_MD_LINK_DEFINITION = re.compile(r"^ {0,3}\[[^\]\n]{1,300}\]:[ \t]*\S")
_MD_INLINE = (
    (re.compile(r"!\[[^\]\n]{0,300}\]\([^)\n]{0,300}\)"), ""),  # images
    (re.compile(r"\[([^\]\n]{0,300})\](?:\([^)\n]{0,300}\)|\[[^\]\n]{0,300}\])"), r"\1"),  # links: their text
    (re.compile(r"<(https?://[^>\s]{1,300})>"), r"\1"),  # autolinks
    (re.compile(r"</?[A-Za-z][A-Za-z0-9-]{0,30}(?:\s[^<>\n]{0,300})?/?>"), ""),  # inline HTML tags
    (re.compile(r"(?<!\\)(`+)(.{1,300}?)\1"), r"\2"),  # code
    (re.compile(r"(?<!\\)(\*\*|__|~~)(?=\S)(.{1,300}?)(?<=[^\s\\])\1"), r"\2"),  # strong, strikethrough
    (re.compile(r"(?<!\\)\*(?=[^\s*])(.{1,300}?)(?<=[^\s*\\])\*"), r"\1"),  # emphasis
    (re.compile(r"(?<![\w\\])_(?=[^\s_])(.{1,300}?)(?<=[^\s_\\])_(?!\w)"), r"\1"),  # emphasis, never inside a word
    (re.compile(r"\\([!-/:-@\[-`{-~])"), r"\1"),  # backslash escapes
)


def _markdown_to_text(text: str) -> str:
    """Markdown -> its text, one line out for each line in."""
    out = []
    for line in text.split("\n"):
        if _MD_LINK_DEFINITION.match(line):
            line = ""  # "[1]: http://..." is where a link points, not text
        for rule, repl in _MD_LINE_START + _MD_INLINE:
            line = rule.sub(repl, line)
        out.append(line)
    return "\n".join(out)


# --------------------------------------------------------------------------
# Paragraph cleaning: general rules for what is not article text
# --------------------------------------------------------------------------
# Template spans are bounded: a line of unclosed "{{" must not cost quadratic time.
_TEMPLATE = re.compile(r"\{\{.{0,200}?\}\}|\[ad_\d+\]|\[/?[a-z_]+\]|\{%.{0,200}?%\}")
_SPACES = re.compile(r"[ \t\u00a0\u2009\u202f]+")

_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
_WEEKDAY = r"(?:Mon|Tue|Tues|Wed|Thu|Thur|Thurs|Fri|Sat|Sun)[a-z]*\.?"
_DATE_TOKEN = re.compile(rf"^(?:{_MONTH}|{_WEEKDAY}|\d[\d:.,/-]*|[ap]\.?m\.?|GMT|UTC|ET|EST|[-–—|,•]+)$", re.I)

_PROMPT = re.compile(
    r"^(sign up|subscribe|join |follow us|follow @|like us|click here|get (email|the latest|our)|"
    r"share (this|on)|download (our|the) app|read more|see also|more coverage|watch:|listen:|"
    r"find .{0,40} on your tv|recommended|advertisement|sponsored)",
    re.I,
)
_PROMPT_ANY = re.compile(
    r"(telegram channel|whatsapp channel|delivered to your inbox|"
    r"all rights reserved|copyright ©|©\s*\d{4}|cookie|javascript)",
    re.I,
)
# Share and newsletter prompts ("Follow us on Twitter", "Get our newsletter"):
# only in a short line, as a long paragraph can discuss Twitter or a newsletter.
_SOCIAL_PROMPT = re.compile(r"(newsletter|on facebook|on twitter)", re.I)
MAX_PROMPT_WORDS = 25
_COMMENT_POLICY = re.compile(r"comment(s|ing)? (guidelines|policy|are closed|section)|^comments\b|^leave a (comment|reply)", re.I)
_CREDIT_LINE = re.compile(
    r"^\(?\s*((additional )?reporting|writing|editing|compiled|produced|translated|edited) by\b|"
    r"^\(\s*(writing and )?(additional )?(reporting|writing|editing)\b|"
    r"contributed (to )?(this )?report|"
    r"^(photo|image|picture|video|file photo)( credit)?\s*[:|]",
    re.I,
)
# "Thaer Al Khalidiya/Reuters", "Safin Hamed/AFP/Getty Images": a name over an agency.
_PHOTO_CREDIT = re.compile(r"^[A-Z][\w.'-]*( [A-Z][\w.'-]*){0,4}\s*/\s*[A-Z][\w.&' -]*(/[A-Z][\w.&' -]*)*$")
# A caption that ends in its credit: "... in Geneva, Switzerland - Reuters"
_CAPTION_CREDIT_TAIL = re.compile(r"\s[-–—|]\s*(Reuters|AFP|AP|Getty Images|EPA|AP Photo|Photo|File)\s*$|\((Reuters|AFP|AP|EPA|Getty Images)( Photo)?\)\s*$", re.I)
# A caption that ends with the photo's date: "... in Homs, Feb. 9, 2014."
_CAPTION_DATE_TAIL = re.compile(rf",\s+{_MONTH}\s+\d{{1,2}},\s+\d{{4}}\.?$")
# A byline: "By John Smith", "By Jane Doe and Ann Roe, Associated Press".  Case
# matters (capitalised names), and it is a short line with no sentence end, so
# "By contrast, ..." and "By Monday, the rebels had retreated." stay.
_BYLINE = re.compile(r"^[Bb][Yy] [A-Z][\w.'-]+( [A-Z][\w.'-]+){0,3}(,| and| in|$)")
MAX_BYLINE_WORDS = 12
# An embedded post's credit line: "— Jane Doe (@janedoe) March 26, 2016".
_POST_CREDIT = re.compile(rf"^[-–—]\s*[^()]{{1,80}}\(@\w{{1,30}}\)\s*{_MONTH}\s+\d{{1,2}},\s+\d{{4}}$")
# A time stamp with its label: "Last Updated Feb 10, 2016 11:03 AM EST", "Published: 9:00 p.m."
_STAMP_LABEL = re.compile(r"^((last )?(updated|modified|published|posted)( on| at)?:?)\s+", re.I)
# Page navigation: "Go Back to Top.", "Skip To: Start of Article.", "Skip to main content".
_NAVIGATION = re.compile(r"^((go )?back to top|skip to\b|jump to (top|navigation|content))", re.I)
# Paywall and account messages: "... needed to view this article in its entirety",
# "Already a subscriber? Log in", "Choose an online service", "no digital access".
_PAYWALL = re.compile(
    r"to (view|read|access|continue reading) (this|the) (full )?(article|story|content)|already a subscriber|"
    r"subscribers? only|^(log|sign) in to (continue|read|view)|^choose (an? |your )?(online |digital )?"
    r"(service|subscription|plan)\b|\bno digital access\b",
    re.I,
)
# A teaser for another story, set in brackets as its own paragraph:
# "[Brace yourself for a long battle about the court]".
_BRACKET_TEASER = re.compile(r"^\[[^\[\]]{10,200}\]$")
# Promos that address the reader: a question to "you" answered with an offer
# ("Want to explore ...? Check out our eBook", "Need a break? Try playing our
# games."), "You can subscribe to ...", "If you missed ..., we've got you
# covered", "Full coverage of X is here", and a short "Watch ..." video teaser.
_READER_PROMO = re.compile(
    r"^(want|need|looking for|craving|wondering)\b[^?]{0,120}\?\s+(check out|try|click|sign up|subscribe|get|"
    r"download|visit|follow|listen|watch|read|see)\b|"
    r"^you can (subscribe|sign up|follow|download|listen|watch|find|get)\b|"
    r"^if you missed\b.{0,80}\bwe('ve| have) got you covered|"
    r"^(full|more|complete|all|our) .{0,80}\bcoverage\b.{0,80}\b(is|are) here\b",
    re.I,
)
_WATCH_TEASER = re.compile(r"(^|[.!?]\s+)(watch|see|listen)\b(?! out\b)", re.I)
MAX_PROMO_WORDS = 40
# Syndication notes: "This article originally appeared on MSNBC.com.",
# "A version of this story first appeared in ...".
_SYNDICATION = re.compile(r"^(this|a version of this) (article|story|post|piece|column)\b.{0,40}\b(originally|first) "
                          r"(appeared|published|ran)\b|^this (article|story|post) was (originally|first) published\b", re.I)
# A caption that names its photo: "Kim inspects ... in this undated picture
# released by KCNA", "This undated photo, released Tuesday, shows ...".
_CAPTION_PHRASE = re.compile(
    r"\bin (this|an?) (undated |handout |file |undated handout )?(photo|picture|image|photograph)(?![-\w])|"
    r"^(this|an?) (undated |handout |file )?(photo|picture|image|photograph)(?![-\w])[^.]{0,100}\bshows\b",
    re.I,
)
MAX_CAPTION_WORDS = 60
# A closing author bio: "Jane Doe is The Washington Post's White House bureau
# chief, covering ...", "John Roe is a reporter at Wired."  Only among an
# article's last paragraphs, where bios sit; a sentence about a journalist in
# the story's body stays.
_AUTHOR_BIO = re.compile(
    r"^[A-Z][\w.'-]+( [A-Z][\w.'-]+){1,3} (is|was) (a|an|the|[A-Z][\w.&' ]{0,40}'s)\b.{0,80}?\b"
    r"(reporter|correspondent|writer|editor|columnist|bureau chief|contributor|producer|journalist)\b"
)
BIO_TAIL = 3
# Ciphered or scrambled text (a paywall's obfuscated body): most "words" mix
# letters with digits or symbols ("kAm|2?<2E@ A@=:46 D2J E96").
_CIPHER_WORD = re.compile(r"^(?=.*[A-Za-z])(?=.*[\d|<>=@$%^&*;:?!\[\]{}~]).+$")
_CIPHER_CHAR = re.compile(r"[\d|<>=@$%^&*;:?!\[\]{}~]")
# A trailing link, picture link or hashtag of a quoted post: not part of its sentence.
_TRAILING_LINKS = re.compile(r"(\s+(https?://\S+|pic\.twitter\.com/\S+|#\w+))+$")
_RELATED = re.compile(r"^(related( news| stories| articles| coverage| content| links)?|more (news|stories) on|read next|you may also like|top stories|most (read|popular))\s*:?$", re.I)
_SOURCE_LINK = re.compile(r"^(source|via|original article|read the original)\s*[:.]?\s*(\S+)?$", re.I)
_LIVEBLOG_TEMPLATE = re.compile(r"\(all times (local|[A-Z]{2,4})\):?\s*$", re.I)
_RULE = re.compile(r"^[\W_]+$")


def clean_inline(text: str) -> str:
    """Strip template markers and normalise spacing inside one paragraph."""
    text = _TEMPLATE.sub(" ", html.unescape(text))
    return _SPACES.sub(" ", text).strip()


def is_boilerplate(para: str) -> bool:
    """True when a paragraph is not article text (see the module docstring)."""
    p = para.strip()
    if not p or _RULE.match(p):
        return True
    words = p.split()
    stamp = _STAMP_LABEL.sub("", p).split()
    if stamp and all(_DATE_TOKEN.match(w.strip(",;()")) or not w.strip(",;()") for w in stamp):
        return True  # a dateline or time stamp: "Thursday, 4 February 2016 00:00", "Last Updated Feb 10, 2016 11:03 AM EST"
    if _PROMPT.match(p) or _PROMPT_ANY.search(p) or _COMMENT_POLICY.search(p):
        return True
    if len(words) <= MAX_PROMPT_WORDS and (_SOCIAL_PROMPT.search(p) or _NAVIGATION.match(p) or _PAYWALL.search(p)):
        return True  # share/newsletter prompts, page navigation, paywall messages
    if _CREDIT_LINE.search(p) and len(words) <= 80:
        return True
    if len(words) <= MAX_BYLINE_WORDS and _BYLINE.match(p) and not re.search(r"[.!?][\"”’']?$", p):
        return True
    if _POST_CREDIT.match(p) or _BRACKET_TEASER.match(p) or _SYNDICATION.match(p):
        return True
    if len(words) <= MAX_PROMO_WORDS and _READER_PROMO.search(p):
        return True
    if len(words) <= 12 and not re.search(r"[\"“@]|https?://", p) and _WATCH_TEASER.search(p):
        return True  # a video teaser: "Watch the highlights from last night!" (a quote or a post with links stays)
    if len(words) <= MAX_CAPTION_WORDS and _CAPTION_PHRASE.search(p):
        return True
    # Each ciphered word holds a digit or symbol, so too few of those in the
    # whole paragraph settles it without looking at every word.
    if (len(words) >= 5 and len(_CIPHER_CHAR.findall(p)) >= 0.4 * len(words)
            and sum(bool(_CIPHER_WORD.match(w.strip(".,;:!?\"'()"))) and not re.match(r"[@#]|https?:|pic\.", w) for w in words) >= 0.4 * len(words)):
        return True  # ciphered text
    if len(words) <= 8 and _PHOTO_CREDIT.match(p):
        return True
    if _CAPTION_CREDIT_TAIL.search(p) and not re.search(r"[.!?\"”]\s*[-–—|(]", p):
        return True
    if _CAPTION_DATE_TAIL.search(p) and len(words) <= 40:
        return True
    if _SOURCE_LINK.match(p) or _RELATED.match(p) or _LIVEBLOG_TEMPLATE.search(p):
        return True
    letters = [c for c in p if c.isalpha()] if len(words) <= 12 else None
    if letters and sum(c.isupper() for c in letters) / len(letters) > 0.8:
        return True  # all-caps section heading
    if len(words) <= 6 and not re.search(r"[.!?…][\"”’']?$", _TRAILING_LINKS.sub("", p)):
        return True  # a short line with no sentence end (a trailing link or hashtag aside): a sub-heading
    return False


def clean_paragraphs(paragraphs: Iterable[str]) -> list[str]:
    """Drop boilerplate paragraphs; everything after a 'Related' heading goes too.

    A paragraph over :data:`~pipeline.corpus.split.MAX_PIECE_CHARS` (a whole article
    on one line) is cut into pieces first (:func:`~pipeline.corpus.split.cut_spans`),
    each judged and kept as a paragraph of its own.
    """
    out: list[str] = []
    pieces = (para[s:e] for para in paragraphs for s, e in cut_spans(para, MAX_PIECE_CHARS))
    for piece in pieces:
        p = clean_inline(piece)
        if _RELATED.match(p):
            break  # the rest of the page is link lists and prompts
        if not is_boilerplate(p):
            out.append(p)
    # A gallery or page template: a short line without a sentence end that
    # repeats 3+ times in one article (a gallery title before every caption).
    counts: dict[str, int] = {}
    for p in out:
        if len(p.split()) <= 12 and not re.search(r"[.!?…][\"”’']?$", p):
            counts[p] = counts.get(p, 0) + 1
    out = [p for p in out if counts.get(p, 0) < 3]
    # A closing author bio among the last paragraphs.
    tail = max(0, len(out) - BIO_TAIL)
    return out[:tail] + [p for p in out[tail:] if not (len(p.split()) <= 80 and _AUTHOR_BIO.match(p))]
