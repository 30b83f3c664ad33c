"""Stage 1c: the main text of HTML -- a saved page, or an article body cut out of its page.

resiliparse takes the text (its rule-based main-content extraction on the
lexbor parser, a tenth of trafilatura's time on the feed).  Before it, lxml
parses the page and drops what the markup alone tells from article text:
paragraphs and list items that are all link ("Related" lists), captions,
galleries and slideshows, bylines, and what the page itself hides.  The text
comes back one paragraph (or list item, or heading) a line, for the
paragraph rules of :mod:`pipeline.corpus.boilerplate`.

A saved page's metadata (headline, date, address, site) is trafilatura's
(:func:`trafilatura.metadata.extract_metadata`, whose date search reads
JSON-LD, meta tags, the address and the visible text); an article body
has its metadata in its front matter and never loads trafilatura.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass

# libxml2 reads HTML at most this many elements deep even with ``huge_tree``
# and drops what lies deeper; news pages nest a few dozen levels.
MAX_HTML_DEPTH = 2047

# What resiliparse leaves out besides its own rules: a <title> or a layout
# table inside a body (a feed body that is a whole page; an aggregator's
# table of other outlets' headlines), as trafilatura left them out.
_SKIP = ["title"]


@dataclass(frozen=True)
class PageText:
    """A saved page's main text (one paragraph a line) and its metadata; None where the page has none."""

    text: str
    title: str | None
    date: str | None
    url: str | None
    sitename: str | None
    too_deep: bool  # the page nests its elements past MAX_HTML_DEPTH: the parser left out what lies deeper


def page_text(html_text: str) -> PageText:
    """A saved page: its main text and its metadata."""
    root = parse(html_text)
    if root is None:  # nothing lxml can read: the text as resiliparse reads it, no metadata
        return PageText(_main_text(html_text), None, None, None, None, False)
    from trafilatura.metadata import extract_metadata

    depth = _depth(root)
    prune(root)
    text = _drop_link_lines(_main_text(_serialise(root, len(html_text), depth)), root)  # before the metadata search, which may change the tree
    meta = extract_metadata(root)
    return PageText(text, meta.title, meta.date, meta.url, meta.sitename, depth > MAX_HTML_DEPTH)


def body_text(fragment: str) -> str:
    """An article body cut out of its page (the feed's HTML under front matter): its main text, one paragraph a line.

    resiliparse reads a list less than four levels below ``<body>`` as the
    page's navigation and a class naming a social network as a share
    button.  In a body cut out of its page, the lists are the article's own
    and such a class marks an embedded post the article quotes, so lists are
    read as numbered ones and quotations lose their class.
    """
    root = parse(f"<html><body>{fragment}</body></html>")
    if root is None:
        return _main_text(fragment)
    prune(root)
    for el in root.iter("ul"):
        el.tag = "ol"
    for el in root.iter("blockquote"):
        el.attrib.pop("class", None)
    return _drop_link_lines(_main_text(_serialise(root, len(fragment))), root)


def parse(html_text: str):
    """The page as an ``lxml.html`` tree (libxml2 reading up to MAX_HTML_DEPTH levels deep), or None if it cannot be read."""
    import lxml.html

    try:
        return lxml.html.document_fromstring(html_text, parser=_deep_parser())
    except Exception:  # lxml raises several kinds on unreadable input (empty document, parser errors)
        return None


def prune(root) -> None:
    """Drop from the tree what the markup tells is not article text.

    "Read more" and "Related" lists are headlines of other stories, each a
    link on its own; article paragraphs are text with, at most, links
    inside.  Photo captions and gallery slides read like prose ("Kim
    inspects a drill ..."), so only the markup tells them from article text:
    ``<figcaption>``, a class naming a caption, gallery, slideshow or byline
    ("wp-caption-text", "instant-gallery", "pb-byline"), a gallery's
    ``data-is-gallery`` and its slides' ``data-slidename``, and the class
    ``hide``, which pages give to what they hide (a stock quote's ticker, a
    paywall notice).
    """
    for el in list(root.iter("p", "li")):
        if el.find(".//a") is None:  # most paragraphs hold no link: no need to read their text
            continue
        text = " ".join(el.text_content().split())
        links = " ".join(" ".join(a.text_content().split()) for a in el.iter("a"))
        if text and links and " ".join(links.split()) == text:
            el.drop_tree()
    for el in list(root.iter()):
        if not isinstance(el.tag, str) or el.getparent() is None:
            continue
        classes = (el.get("class") or "").lower().split()
        if (el.tag == "figcaption" or "hide" in classes or any(_MARKUP_CLASS.search(c) for c in classes)
                or el.get("data-is-gallery") == "true" or el.get("data-slidename") is not None):
            el.drop_tree()


def _drop_link_lines(text: str, root) -> str:
    """``text`` without the lines that are links to other stories: two or more of the page's link texts in a row
    (joined by nothing, a space or a dash), or links with a source's name glued to the last.

    An aggregator's related coverage sets each headline as a link with its outlet
    beside it in an element of its own, "<a>IRS computer problems shut down e-file
    system</a><font>USA TODAY</font>", and a line of links to more outlets; a
    rail of related stories puts its links one after another.  resiliparse joins
    adjacent inline elements without a space, so such a line reads as one
    sentence ("... e-file systemUSA TODAY").  :func:`prune` drops a paragraph or
    list item that is all link; these lines sit in other elements.
    """
    starts: dict[str, list[str]] = {}
    for a in root.iter("a"):
        link = " ".join(a.text_content().split())
        if len(link) >= _LINK_KEY:
            starts.setdefault(link[:_LINK_KEY], []).append(link)
    if not starts:
        return text
    for texts in starts.values():
        texts.sort(key=len, reverse=True)  # the longest link text first
    return "\n".join(line for line in text.split("\n") if not _is_link_line(line.strip(), starts))


_LINK_KEY = 4  # link texts are looked up by their first characters; shorter ones are no headline
_LINK_GAP = re.compile(r"[\s\-–—|•·]*")
# A source named after a headline glued to it: a capital ("systemUSA TODAY", "OutageBloomberg") or a
# site's address ("tip overkwwl.com"), a few words and no sentence end.
_GLUED_SOURCE = re.compile(r"^(?:[A-Z]|[a-z0-9-]+\.[a-z]{2,}\b)(?!.*[.!?]$)\S*(?: \S+){0,5}$")


def _is_link_line(line: str, starts: dict[str, list[str]]) -> bool:
    pos, links, glued = 0, 0, False
    while pos < len(line):
        link = next((t for t in starts.get(line[pos:pos + _LINK_KEY], ()) if line.startswith(t, pos)), None)
        if link is None:
            break
        end = pos + len(link)
        pos, links = _LINK_GAP.match(line, end).end(), links + 1
        glued = pos == end
    rest = line[pos:]
    # One link alone is a heading's or a paragraph's (prune judged those), unless a source is glued to it.
    return (links >= 2 and not rest) or (links >= 1 and glued and bool(_GLUED_SOURCE.match(rest)))


# A class name that marks a caption, gallery, slideshow or byline: "caption", "media__caption",
# "instant-gallery", "slideshow-overlay", "pb-byline"; not "captioned-quote".
_MARKUP_CLASS = re.compile(r"(^|[-_])(caption|gallery|slideshow|byline)($|[-_])")


def _main_text(html_text: str) -> str:
    """resiliparse's main text, one paragraph a line, with only printable characters and single spaces."""
    from resiliparse.extract.html2text import extract_plain_text

    text = extract_plain_text(_LONE_CHARACTER.sub("\\1\u200b<", html_text), main_content=True, preserve_formatting=True,
                              list_bullets=False, alt_texts=False, comments=False, skip_elements=_SKIP)
    # resiliparse collapses runs of white space, so only a line with a character that does not print
    # (a tab, a Unicode space, a soft hyphen) needs more.
    return "\n".join(line if line.isprintable() else " ".join(_printable(line).split()) for line in text.split("\n"))


# resiliparse drops a text node that is one three-byte UTF-8 character, taking it
# for an icon font's glyph (its test for the private use area lets nearly every such
# character through): the dash in "<b>Kerry</b> – <b>Lavrov</b>" and the quote
# in "<em>El Pais</em>' <em>Tentaciones</em>" were lost.  A zero-width space
# after the character keeps the node; like every character that is not
# printable (soft hyphens, direction marks, private-use glyphs), it is
# removed from the text, as trafilatura removed them.
_LONE_CHARACTER = re.compile(r"(>\s*[\u0800-\uffff]\s*)<")


class _Unprintable(dict):
    """A ``str.translate`` table that deletes what neither prints nor is white space, learning each character once."""

    def __missing__(self, code: int) -> int | None:
        c = chr(code)
        self[code] = code if c.isprintable() or c.isspace() else None
        return self[code]


_UNPRINTABLE = _Unprintable()


def _printable(line: str) -> str:
    # translate, not a generator over the characters: every line holding the zero-width space above comes here
    return line.translate(_UNPRINTABLE)


# resiliparse's time grows with the text times how deep it lies (a 1.5 MB page of paragraphs 2,000 <div>s
# down took seconds, a 7 MB one 40): a large page nested past DEEP_NESTING levels is unwrapped first.
DEEP_NESTING = 128
LARGE_PAGE_CHARS = 100_000
_WRAPPERS = frozenset(("div", "section", "article", "main", "header", "footer", "aside", "center"))
# What may take a wrapper's place: a block like it, so the text's paragraphs stay as they were.
_BLOCKS = _WRAPPERS | {"p", "ul", "ol", "li", "dl", "table", "blockquote", "figure", "pre", "h1", "h2", "h3", "h4", "h5", "h6"}


def _serialise(root, html_chars: int, depth: int | None = None) -> str:
    """The tree as HTML for resiliparse, a large and deep one unwrapped first (:func:`_unwrap`); ``depth``:
    the tree's, when the caller has measured it."""
    import lxml.html

    if html_chars > LARGE_PAGE_CHARS and (depth if depth is not None else _depth(root)) > DEEP_NESTING:
        _unwrap(root)
    return lxml.html.tostring(root, encoding="unicode")


def _unwrap(root) -> None:
    """Put in the place of each chain of block wrappers (``<div>``, ``<section>``, ...) that each hold one block
    and no text of their own the block the chain wraps, so a page nested thousands of levels deep by
    wrappers alone becomes a shallow one with the same text.  One move per chain: moving a subtree costs
    its size, so unwrapping level by level would cost the depth times the text."""
    todo = [root]
    while todo:
        el = todo.pop()
        for child in list(el):
            inner = child
            while (inner.tag in _WRAPPERS and len(inner) == 1 and inner[0].tag in _BLOCKS
                   and not (inner.text or "").strip() and not (inner[0].tail or "").strip()):
                inner = inner[0]
            if inner is not child:
                inner.tail = child.tail
                el.replace(child, inner)
            todo.append(inner)


@functools.cache
def _deep_parser():
    """lxml's HTML parser without libxml2's default nesting limit.

    By default libxml2 stops at 256 nested elements and drops what lies
    deeper, so a page whose text sits 300 ``<div>`` levels down had no
    article text.  Comments and processing instructions are dropped.
    """
    import lxml.html

    return lxml.html.HTMLParser(huge_tree=True, collect_ids=False, default_doctype=False, remove_comments=True, remove_pis=True)


def _depth(root) -> int:
    """How many levels deep the tree's deepest element lies (the root is level 1)."""
    deepest, todo = 0, [(root, 1)]
    while todo:
        el, level = todo.pop()
        deepest = max(deepest, level)
        todo.extend((child, level + 1) for child in el)
    return deepest
