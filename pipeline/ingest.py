"""Stage 1: raw article files -> :class:`Article` records.

Reads plain text (headline on the first line), Markdown with YAML front matter
over an HTML body, and saved HTML pages.  HTML bodies go through trafilatura
(the field's maintained main-text extractor); every format then passes the
same paragraph rules, which drop what is not article text: template and ad
markers, photo captions and credits, bylines and reporting credits,
share/newsletter prompts, "Related" blocks, comment-policy lines, all-caps
section headings and "Source" links.  The rules describe *kinds* of
boilerplate, not this corpus's strings, so they hold on unseen coverage.

Output of the corpus: ``corpus/articles.jsonl`` (one article per line) and
``corpus/sentences.csv`` (written by :func:`write_corpus`, after ``split``).
"""
from __future__ import annotations

import glob
import html
import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import yaml

from .errors import CorpusError
from .records import Article, article_id_for

# libyaml's loader when present: the pure-Python one is half of ingest time.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
ARTICLE_SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm", ""}


# --------------------------------------------------------------------------
# Finding files
# --------------------------------------------------------------------------
def expand_inputs(inputs: Iterable[str | Path]) -> list[Path]:
    """Files, folders (recursively) and globs -> sorted, de-duplicated article files.

    A path that matches nothing raises, so a typo is not a silent empty run.
    """
    found: set[Path] = set()
    for item in inputs:
        item = str(item)
        p = Path(item)
        if p.is_dir():
            inside = [f for f in p.rglob("*") if f.is_file() and _is_article_name(f)]
            if not inside:
                raise CorpusError("folder holds no article files (.txt, .md, .html); check the path", p)
            found.update(inside)
        elif p.is_file():
            found.add(p)
        else:
            matches = [Path(m) for m in glob.glob(item, recursive=True)]
            files = [m for m in matches if m.is_file() and _is_article_name(m)]
            for m in matches:
                if m.is_dir():
                    files.extend(f for f in m.rglob("*") if f.is_file() and _is_article_name(f))
            if not files:
                raise CorpusError("no such file, folder or glob match; check the path", item)
            found.update(files)
    return sorted(found)


def _is_article_name(p: Path) -> bool:
    return not p.name.startswith(".") and p.suffix.lower() in ARTICLE_SUFFIXES


# --------------------------------------------------------------------------
# Reading one file
# --------------------------------------------------------------------------
def read_text(path: Path) -> str:
    """The file's text, or a CorpusError saying what is wrong with it."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise CorpusError(f"cannot read file ({e.strerror}); check its permissions", path) from None
    if not data.strip():
        raise CorpusError("file is empty; remove it or re-download the article", path)
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
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_article(path: str | Path) -> Article:
    """Parse one article file of any supported format."""
    path = Path(path)
    text = read_text(path)
    if text.startswith("---\n"):
        return _from_front_matter(path, text)
    if _looks_like_html(path, text):
        return _from_html_page(path, text)
    return _from_plain_text(path, text)


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
    # The headline is the first non-empty line.
    while lines and not lines[0].strip():
        lines.pop(0)
    title = clean_inline(lines[0]) if lines else ""
    rest = lines[1:]
    paragraphs = _text_paragraphs(rest)
    date = _date_in(paragraphs[:3])
    outlet = _dateline_outlet(paragraphs[:3])
    return _make(path, title, paragraphs, date=date, outlet=outlet, url=None, fmt="text")


def _text_paragraphs(lines: list[str]) -> list[str]:
    """Lines -> paragraphs.  A line that ends mid-sentence and is long is a
    hard wrap and joins the next line; any other line is its own paragraph
    (scraped text puts one paragraph per line, captions and credits included)."""
    paras: list[str] = []
    cur = ""
    for raw in lines:
        line = raw.strip()
        if not line:
            if cur:
                paras.append(cur)
            cur = ""
            continue
        cur = f"{cur} {line}" if cur else line
        if not (len(raw.rstrip()) >= 60 and not re.search(r"[.!?:\"'”’)]$", line)):
            paras.append(cur)
            cur = ""
    if cur:
        paras.append(cur)
    return paras


def _from_front_matter(path: Path, text: str) -> Article:
    end = re.search(r"^---\s*$", text[4:], flags=re.M)
    if end is None:
        raise CorpusError("front matter opens with '---' but never closes; add the closing '---' line", path, 1)
    fm_text = text[4 : 4 + end.start()]
    body = text[4 + end.end() :]
    try:
        meta = yaml.load(fm_text, Loader=_YAML_LOADER) or {}
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(e, "problem", None) or "invalid YAML"
        raise CorpusError(f"front matter does not parse ({problem}); fix the YAML between the '---' lines", path, line) from None
    if not isinstance(meta, dict):
        raise CorpusError("front matter is not a key: value mapping; fix the YAML between the '---' lines", path, 2)
    title = _first(meta, "title", "post_title", "original_title", "headline") or ""
    title = clean_inline(html.unescape(str(title)))
    date = _iso_date(_first(meta, "date", "post_date", "published_date"))
    url = _article_url(meta)
    if "<" in body and re.search(r"<(p|div|span|br|article|section)\b", body, flags=re.I):
        paragraphs = _html_paragraphs(body)
    else:
        paragraphs = _text_paragraphs(body.split("\n"))
    title, outlet = _split_outlet(title)
    outlet = outlet or _first(meta, "outlet", "source", "publisher") or _outlet_from_url(url)
    if not title and paragraphs:
        title, paragraphs = paragraphs[0], paragraphs[1:]
    return _make(path, title, paragraphs, date=date, outlet=outlet, url=url, fmt="markdown")


def _from_html_page(path: Path, text: str) -> Article:
    import trafilatura

    doc = trafilatura.bare_extraction(_prune_link_lists(text), with_metadata=True, include_comments=False, include_tables=False, deduplicate=False)
    doc = {} if doc is None else doc if isinstance(doc, dict) else doc.as_dict()
    # A bare fragment (no <body>) can defeat whole-page extraction: read it as a body.
    paragraphs = clean_paragraphs(_lines(doc.get("text") or "")) or clean_paragraphs(_html_paragraphs(text))
    if not paragraphs:
        raise CorpusError("no article text found in this HTML page; check it is an article, not an index page", path)
    title = clean_inline(html.unescape(doc.get("title") or ""))
    title, outlet = _split_outlet(title)
    if not title and len(paragraphs) > 1 and not re.search(r"[.!?\"”]$", paragraphs[0]):
        title, paragraphs = paragraphs[0], paragraphs[1:]  # no <title>: a first line with no sentence end is the headline
    if paragraphs and title and _same_text(paragraphs[0], title):
        paragraphs = paragraphs[1:]  # the page repeats its <h1> in the body
    url = doc.get("url")
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
    return lxml.html.tostring(root, encoding="unicode")


def _html_paragraphs(fragment: str) -> list[str]:
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
    return _lines(out or "")


def _lines(text: str) -> list[str]:
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
def _first(meta: dict, *keys: str):
    for k in keys:
        v = meta.get(k)
        if isinstance(v, list):
            v = v[0] if v else None
        if v not in (None, ""):
            return v.strip() if isinstance(v, str) else v
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
    m = re.match(r"^(.{20,}?)\s+[-–—|]\s+([A-Z][\w.&' ]{1,40})$", title)
    if m and len(m.group(2).split()) <= 5:
        return m.group(1).strip(), m.group(2).strip()
    return title, None


def _article_url(meta: dict) -> str | None:
    url = _first(meta, "url", "original_link", "canonical_url", "permalink", "link")
    if not url:
        return None
    url = html.unescape(str(url))
    # Aggregator redirect links carry the article's own address in ?url=
    inner = parse_qs(urlparse(url).query).get("url")
    return inner[0] if inner else url


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
# Paragraph cleaning: general rules for what is not article text
# --------------------------------------------------------------------------
_TEMPLATE = re.compile(r"\{\{.*?\}\}|\[ad_\d+\]|\[/?[a-z_]+\]|\{%.*?%\}")
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
    r"(newsletter|telegram channel|whatsapp channel|on facebook|on twitter|delivered to your inbox|"
    r"all rights reserved|copyright ©|©\s*\d{4}|cookie|javascript)",
    re.I,
)
_COMMENT_POLICY = re.compile(r"comment(s|ing)? (guidelines|policy|are closed|section)|^comments\b|^leave a (comment|reply)", re.I)
_CREDIT_LINE = re.compile(
    r"^\(?\s*((additional )?reporting|writing|editing|compiled|produced|translated|edited) by\b|"
    r"^\(\s*(writing and )?(additional )?(reporting|writing|editing)\b|"
    r"contributed (to )?(this )?report|^by [A-Z][\w.'-]+( [A-Z][\w.'-]+){0,3}(,| and| in|$)|"
    r"^(photo|image|picture|video|file photo)( credit)?\s*[:|]",
    re.I,
)
# "Thaer Al Khalidiya/Reuters", "Safin Hamed/AFP/Getty Images": a name over an agency.
_PHOTO_CREDIT = re.compile(r"^[A-Z][\w.'-]*( [A-Z][\w.'-]*){0,4}\s*/\s*[A-Z][\w.&' -]*(/[A-Z][\w.&' -]*)*$")
# A caption that ends in its credit: "... in Geneva, Switzerland - Reuters"
_CAPTION_CREDIT_TAIL = re.compile(r"\s[-–—|]\s*(Reuters|AFP|AP|Getty Images|EPA|AP Photo|Photo|File)\s*$|\((Reuters|AFP|AP|EPA|Getty Images)( Photo)?\)\s*$", re.I)
# A caption that ends with the photo's date: "... in Homs, Feb. 9, 2014."
_CAPTION_DATE_TAIL = re.compile(rf",\s+{_MONTH}\s+\d{{1,2}},\s+\d{{4}}\.?$")
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
    if all(_DATE_TOKEN.match(w.strip(",;()")) or not w.strip(",;()") for w in words):
        return True  # a dateline or time stamp: "Thursday, 4 February 2016 00:00", "9:00 p.m."
    if _PROMPT.match(p) or _PROMPT_ANY.search(p) or _COMMENT_POLICY.search(p):
        return True
    if _CREDIT_LINE.search(p) and len(words) <= 80:
        return True
    if len(words) <= 8 and _PHOTO_CREDIT.match(p):
        return True
    if _CAPTION_CREDIT_TAIL.search(p) and not re.search(r"[.!?\"”]\s*[-–—|(]", p):
        return True
    if _CAPTION_DATE_TAIL.search(p) and len(words) <= 40:
        return True
    if _SOURCE_LINK.match(p) or _RELATED.match(p) or _LIVEBLOG_TEMPLATE.search(p):
        return True
    letters = [c for c in p if c.isalpha()]
    if letters and len(words) <= 12 and sum(c.isupper() for c in letters) / len(letters) > 0.8:
        return True  # all-caps section heading
    if len(words) <= 6 and not re.search(r"[.!?][\"”’']?$", p):
        return True  # a short line with no sentence end: a sub-heading or pull-quote heading
    return False


def clean_paragraphs(paragraphs: Iterable[str]) -> list[str]:
    """Drop boilerplate paragraphs; everything after a 'Related' heading goes too."""
    out: list[str] = []
    for para in paragraphs:
        p = clean_inline(para)
        if _RELATED.match(p):
            break  # the rest of the page is link lists and prompts
        if not is_boilerplate(p):
            out.append(p)
    return out
