"""Stage 1e: the format readers -- one file's bytes -> text -> an :class:`Article`.

Plain text (headline on the first line), Markdown with YAML front matter
over a text or HTML body, and saved HTML pages; the main text of HTML comes
from :mod:`pipeline.corpus.extract`.  Every reader ends in the same
paragraph rules (:mod:`pipeline.corpus.boilerplate`).

No file can make the work unbounded: a file over :data:`MAX_FILE_BYTES` is
refused before it is read, and article text over :data:`MAX_TEXT_CHARS`
before it is cleaned.  Everything wrong with a file is a
:class:`CorpusError` naming it.
"""
from __future__ import annotations

import codecs
import html
import re
from pathlib import Path

from pipeline.corpus.boilerplate import clean_inline, clean_paragraphs, strip_dateline
from pipeline.corpus.discover import NOT_TEXT, SAVE_AS_TEXT
from pipeline.corpus.extract import MAX_HTML_DEPTH, body_text, page_text
from pipeline.corpus.metadata import (
    MAX_TITLE_CHARS,
    URL_KEYS,
    article_url,
    checked_url,
    date_in,
    dateline_outlet,
    iso_date,
    key_line,
    meta_value,
    outlet_from_url,
    parse_front_matter,
    split_outlet,
)
from pipeline.errors import CorpusError
from pipeline.records import Article, article_id_for

MARKDOWN_SUFFIXES = {".md", ".markdown"}

# Limits that keep the work and memory per file bounded.  The corpus's largest
# file is 63 KB and its longest front matter 1.4 KB; a saved news page with
# its scripts and inline data is rarely over 3 MB.
MAX_FILE_BYTES = 8 * 1024 * 1024
# Article text (a plain-text or Markdown body, or the text extracted from
# HTML): Punkt needs up to ~50 microseconds a character, so this bounds
# one file to about half a minute.  A long feature is 100,000 characters.
MAX_TEXT_CHARS = 500_000


def read_text(path: Path) -> str:
    """The file's text, or a CorpusError saying what is wrong with it.

    Line ends become ``\\n``, as do vertical tabs and form feeds; other
    control characters (a NUL in a scraped page, a cp1252 quote read as
    U+0092) are dropped, so they never reach the corpus, a CSV cell or a
    terminal.
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
        raise CorpusError(NOT_TEXT[".pdf"], path)
    if data.startswith(b"PK\x03\x04"):
        raise CorpusError(f"a ZIP archive or an office document (.docx, .odt, .epub), not text; {SAVE_AS_TEXT}", path)
    # Only a byte order mark makes a file UTF-16 or UTF-32: UTF-8 never starts with one, so no UTF-8 file reads otherwise.
    wide = next((enc for bom, enc in _WIDE_BOMS if data.startswith(bom)), None)
    if wide:
        try:
            data = data.decode(wide).encode("utf-8")  # then read like any UTF-8 file
        except UnicodeError:
            raise CorpusError(f"{wide.upper()} text (byte order mark) that does not decode; re-save the file as UTF-8, "
                              f"e.g. iconv -f {wide} -t utf-8", path) from None
    if b"\x00" in data[:4096]:
        head = data[:4096]
        for zeros, enc in ((head[1::2], "utf-16le"), (head[0::2], "utf-16be")):
            if zeros.count(0) > 0.9 * len(zeros):  # Latin text in UTF-16: every other byte is zero
                raise CorpusError(f"looks like {enc.upper()} text without a byte order mark; re-save the file as UTF-8, "
                                  f"e.g. iconv -f {enc} -t utf-8", path)
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


# UTF-32's marks first: the UTF-16 little-endian mark begins the UTF-32 one.
_WIDE_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
              (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # a quick look first: translate() is slow on long text
_CONTROLS = {c: None for c in (*range(0x00, 0x09), *range(0x0E, 0x20), *range(0x7F, 0xA0))} | {0x0B: "\n", 0x0C: "\n", 0x0D: "\n"}


def looks_like_html(path: Path, text: str) -> bool:
    """A saved page or a bare fragment: an .html name, or markup from the first character."""
    head = text.lstrip()[:5000].lower()
    if path.suffix.lower() in (".html", ".htm") and "<" in head:
        return True
    return head.startswith(("<!doctype html", "<html")) or "<body" in head or bool(
        head.startswith("<") and re.search(r"<(p|div|article|section)\b", head)
    )


def from_plain_text(path: Path, text: str) -> Article:
    """A plain-text article: the headline on the first line, then paragraphs."""
    lines = text.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    # The headline is the first non-empty line; one too long to be a headline
    # (a whole article on one line) is the first paragraph.
    if first < len(lines) and len(lines[first]) <= MAX_TITLE_CHARS:
        title, rest = clean_inline(lines[first]), lines[first + 1 :]
    else:
        title, rest = "", lines[first:]
    paragraphs = _text_paragraphs(rest)
    date = date_in(paragraphs[:3])
    outlet = dateline_outlet(paragraphs[:3])
    return _make(path, title, paragraphs, date=date, outlet=outlet, url=None, fmt="text")


def text_body(path: Path, text: str) -> str:
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


def from_front_matter(path: Path, text: str) -> Article:
    """An article under YAML front matter: its metadata from the fields, its body text or HTML."""
    end = re.search(r"^---\s*$", text[4:], flags=re.M)
    if end is None:
        raise CorpusError("front matter opens with '---' but never closes; add the closing '---' line", path, 1)
    fm_text = text[4 : 4 + end.start()]
    body = text[4 + end.end() :]
    meta = parse_front_matter(fm_text, path)

    def field(*keys: str):
        return meta_value(meta, fm_text, path, *keys)

    title = clean_inline(html.unescape(str(field("title", "post_title", "original_title", "headline") or "")))
    date = iso_date(field("date", "post_date", "published_date"))
    raw_url = field(*URL_KEYS)
    url = article_url(raw_url, path, key_line(fm_text, *URL_KEYS)) if raw_url else None
    if "<" in body and re.search(r"<(p|div|span|br|article|section)\b", body, flags=re.I):
        paragraphs = _html_paragraphs(body, path)
    else:
        paragraphs = _text_paragraphs(text_body(path, body).split("\n"))
    title, outlet = split_outlet(title)
    source = field("outlet", "source", "publisher")
    outlet = outlet or (str(source) if source is not None else None) or outlet_from_url(url)
    if not title and paragraphs:
        title, paragraphs = paragraphs[0], paragraphs[1:]
    return _make(path, title, paragraphs, date=date, outlet=outlet, url=url, fmt="markdown")


def from_html_page(path: Path, text: str) -> Article:
    """A saved page or an HTML fragment, its main text extracted by resiliparse (:mod:`pipeline.corpus.extract`)."""
    page = page_text(text)
    # A bare fragment (no <body>) can defeat whole-page extraction: read it as a body.
    paragraphs = clean_paragraphs(_lines(page.text, path)) or clean_paragraphs(_html_paragraphs(text, path))
    if not paragraphs:
        if page.too_deep:
            raise CorpusError(f"no article text found: the page nests its elements over {MAX_HTML_DEPTH:,} levels deep, "
                              "past what the HTML parser reads; save the article's text as a .txt file (headline on "
                              "the first line) and ingest that", path)
        raise CorpusError("no article text found in this HTML page; check it is an article, not an index page", path)
    title = clean_inline(html.unescape(page.title or ""))
    title, outlet = split_outlet(title)
    if not title and len(paragraphs) > 1 and not re.search(r"[.!?\"”]$", paragraphs[0]):
        title, paragraphs = paragraphs[0], paragraphs[1:]  # no <title>: a first line with no sentence end is the headline
    if paragraphs and title and _same_text(paragraphs[0], title):
        paragraphs = paragraphs[1:]  # the page repeats its <h1> in the body
    url = checked_url(page.url, path)
    outlet = outlet or page.sitename or outlet_from_url(url)
    return _make(path, title, paragraphs, date=iso_date(page.date), outlet=outlet, url=url, fmt="html", cleaned=True)


def _html_paragraphs(fragment: str, path: Path) -> list[str]:
    return _lines(body_text(re.sub(r"\[ad_\d+\]", " ", fragment)), path)


def _lines(text: str, path: Path) -> list[str]:
    """The non-empty lines of extracted text, within the size limit."""
    _check_size(len(text), path)
    return [ln.strip() for ln in text.split("\n") if ln.strip()]


def _make(path: Path, title: str, paragraphs: list[str], *, date, outlet, url, fmt, cleaned: bool = False) -> Article:
    paras = strip_dateline(paragraphs if cleaned else clean_paragraphs(paragraphs), title)
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
