"""Split a sample of the feed's raw article bodies into text units, for hand-marking.

The units are cut from the *raw* body, independently of the pipeline, so the
benchmark can measure what ``pipeline.corpus.ingest`` keeps and drops:

- an HTML body is parsed with ``lxml.html``; a unit is a run of text between
  block boundaries: the own text of every block element (``p``, ``li``,
  ``h1``-``h6``, ``blockquote``, ``figcaption``, ``td`` ...), and the loose text
  of containers (``div``, ``section``, ``aside``, the body itself ...) that is
  not inside a nested block.  A ``<br>`` and a blank line (a Markdown
  paragraph break, which the scraped bodies use between loose paragraphs)
  also end a unit.  ``script``/``style``/``noscript``/comments are not text
  a reader sees and make no unit;
- a body without markup is split at blank lines;
- whitespace is collapsed; a unit with no letter or digit (``&nbsp;``
  spacers, rules, stray punctuation) is left out;
- a dateline opening a unit (upper-case words of a place: "WASHINGTON",
  "BEIRUT/GENEVA", "AMMAN, Jordan", "FORT WORTH, Texas (AP)", then a dash, a
  colon, or the text itself: "WASHINGTON The ...", "WASHINGTONThe ...") is
  cut off as a unit of its own, so the dateline and the text it opens are
  marked each on its own.

Sample: articles grouped by outlet (the site the article comes from: the
feed's own host for the Reuters and Wired feeds, the target of the
aggregator's redirect link otherwise, named by the headline's outlet
suffix), then, with ``random.Random(13)`` over sorted inputs, 3 articles of
each outlet with >= 100 feed articles, 2 of each with 10-99, 1 of each with
3-9, and 1 article each of randomly chosen smaller outlets until the sample
holds ``--size`` articles; then the articles of :data:`ADDED`.

Writes ``benchmarks/junk/units.csv``: article_id, outlet, unit, text, label.
Re-running keeps the labels of units whose text did not change (matched by
article, text and its repeat number, not by position: a unit cut in two
renumbers the units after it), so a re-run never wipes hand marks.

    .venv/bin/python benchmarks/junk/units.py [--feed corpus/raw/feed-2016q1] [--size 60]
"""
from __future__ import annotations

import argparse
import csv
import html
import random
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from pipeline.records import article_id_for  # ids only: no pipeline logic

FEED = REPO / "corpus" / "raw" / "feed-2016q1"
OUT = Path(__file__).resolve().parent / "units.csv"
FIELDS = ("article_id", "outlet", "unit", "text", "label")
SEED = 13
# Articles added to the sample by hand, each for a kind of junk found kept
# after the sample was drawn: reporting credits and a blog feed's footer
# (issue 21: "X reported from Y.", "(Additional reporting by ...)", "The
# post ... appeared first on WIRED."), and the Reuters datelines glued to
# their text that the sample lacked ("WASHINGTONThe ...", "ISTANBUL/ANKARA Five ...").
ADDED = (
    "2016-01-14-1-6-billion-powerball-jackpot-split-3-ways-in-ca-fl-tn-abc-news",
    "2016-01-29-rip-political-lawn-signs-digital-ads-killed-them",
    "2016-02-02-the-2016-iowa-caucuses-liveblog-cruz-beats-trump",
    "2016-03-28-gunman-shot-and-captured-at-capitol-complex-police",
    "2016-03-22-u-s-top-court-backs-moose-hunter-in-alaska-hovercraft-case",
    "2016-03-19-suicide-bombing-kills-five-wounds-36-in-central-istanbul",
)

# Elements whose start and end break the text flow (HTML's block-level elements).
BLOCK = {
    "address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details", "dialog", "dir",
    "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "frameset", "h1", "h2", "h3", "h4",
    "h5", "h6", "header", "hgroup", "hr", "html", "legend", "li", "main", "menu", "nav", "ol", "p", "pre",
    "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
}
# Elements whose content a reader does not see as text.
SKIP = {"script", "style", "noscript", "template", "iframe", "svg", "object", "embed", "head", "title", "meta", "link"}

_BLANK_LINE = re.compile(r"\n[ \t\u00a0\u200b]*\n")
_WS = re.compile(r"\s+")
_ALNUM = re.compile(r"\w")


# --------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------
def split_file(text: str) -> tuple[dict, str]:
    """(front matter, body) of a Markdown file; ({}, text) without front matter."""
    text = text.replace("\r\n", "\n")
    if text.startswith("---\n"):
        end = re.search(r"^---\s*$", text[4:], flags=re.MULTILINE)
        if end:
            meta = yaml.safe_load(text[4 : 4 + end.start()]) or {}
            return (meta if isinstance(meta, dict) else {}), text[4 + end.end() :]
    return {}, text


def _one(value) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    return html.unescape(str(value or "")).strip()


def outlet_of(meta: dict) -> tuple[str, str | None]:
    """(host, outlet name in the headline suffix or None) of one feed article."""
    url = _one(meta.get("original_link") or meta.get("canonical_url") or meta.get("permalink"))
    inner = parse_qs(urlparse(url).query).get("url")
    if inner:
        url = inner[0]
    host = urlparse(url).netloc.lower()
    host = re.sub(r"^((www\d?|feeds|rss|m|mobile|edition|home|in|uk)\.)+", "", host)
    title = " ".join(_one(meta.get("post_title") or meta.get("title")).split())
    m = re.search(r"\s[-\u2013\u2014|]\s+([^-\u2013\u2014|]{2,60})$", title)
    return host, (m.group(1).strip() if m and inner else None)


# --------------------------------------------------------------------------
# Units
# --------------------------------------------------------------------------
def units_of_body(body: str) -> list[str]:
    """The text units of one raw body, in reading order."""
    if re.search(r"<[A-Za-z!/]", body):
        return _html_units(body)
    return _clean([html.unescape(p) for p in _BLANK_LINE.split(body)])


def _clean(parts: list[str]) -> list[str]:
    out = []
    for p in parts:
        p = _WS.sub(" ", p.replace("\u200b", " ")).strip()
        if p and _ALNUM.search(p):
            m = DATELINE.match(p)
            out += [m.group(1).strip(), p[m.end():]] if m and len(p[m.end():].split()) >= 3 else [p]
    return out


# A place word in capitals ("WASHINGTON", "ST.", "N.H."); places joined by "/" or a space; a region after a
# comma in any case ("Jordan", "Ariz.", "SOUTH KOREA"); an agency in parentheses; then the cut: after a dash or
# a colon, or before the first mixed-case word ("WASHINGTON The", "WASHINGTONThe", "WASHINGTON A").  U+0097 is
# cp1252's em dash read as Latin-1 ("PROCTOR \x97 Two ...").
_PLACE_WORD = r"[A-Z]{2,}[A-Z.'’-]*"
DATELINE = re.compile(
    rf"^({_PLACE_WORD}(?:[ /]{_PLACE_WORD})*(?:, [A-Z][A-Za-z.]*(?: [A-Z][A-Za-z.]*)?)?(?: ?\([A-Za-z ]+\))?"
    r"(?:\s*(?:--?|[–—\x97]|:)(?=\s|[A-Z])\s*|\s+(?=[A-Z][a-z]|[AI]\s)|(?=[A-Z][a-z])))"
)


def _html_units(body: str) -> list[str]:
    import lxml.html

    root = lxml.html.document_fromstring(f"<html><body>{body}</body></html>")
    units: list[str] = []
    buf: list[str] = []

    def flush() -> None:
        if buf:
            units.append("".join(buf))
            buf.clear()

    def add(text: str | None) -> None:
        if not text:
            return
        parts = _BLANK_LINE.split(text)
        for i, part in enumerate(parts):
            if i:
                flush()
            buf.append(part)

    def walk(el) -> None:
        tag = el.tag.lower() if isinstance(el.tag, str) else None  # comments, PIs: no text
        if tag is not None and tag not in SKIP:
            if tag == "br":
                flush()
            elif tag in BLOCK:
                flush()
                add(el.text)
                for child in el:
                    walk(child)
                flush()
            else:
                add(el.text)
                for child in el:
                    walk(child)
        add(el.tail)

    body_el = root.find("body")
    walk(body_el if body_el is not None else root)
    flush()
    return _clean(units)


# --------------------------------------------------------------------------
# Sample
# --------------------------------------------------------------------------
def feed_articles(feed: Path) -> list[dict]:
    """Every feed file with its id, host and outlet name, sorted by path."""
    rows = []
    for path in sorted(p for p in feed.iterdir() if p.is_file() and not p.name.startswith(".")):
        meta, body = split_file(path.read_text(encoding="utf-8-sig"))
        host, suffix = outlet_of(meta)
        rows.append({"path": path, "article_id": article_id_for(path.name), "host": host, "suffix": suffix, "body": body})
    # One name per host: the headline suffix it carries most often; the feed hosts by their domain.
    names: dict[str, Counter] = defaultdict(Counter)
    for r in rows:
        if r["suffix"]:
            names[r["host"]][r["suffix"]] += 1
    for r in rows:
        c = names.get(r["host"])
        if c:
            r["outlet"] = min(c.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        else:
            r["outlet"] = r["host"].split(".")[0].capitalize() or "unknown"
    return rows


def quota(n_feed: int) -> int:
    return 3 if n_feed >= 100 else 2 if n_feed >= 10 else 1 if n_feed >= 3 else 0


def sample(rows: list[dict], size: int, seed: int = SEED) -> list[dict]:
    rng = random.Random(seed)
    by_outlet: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_outlet[r["outlet"]].append(r)
    chosen: list[dict] = []
    small = []
    for outlet in sorted(by_outlet):
        arts = by_outlet[outlet]
        q = quota(len(arts))
        if q:
            chosen.extend(rng.sample(arts, q))
        else:
            small.append(outlet)
    rng.shuffle(small)
    for outlet in small[: max(0, size - len(chosen))]:
        chosen.append(rng.choice(by_outlet[outlet]))
    return sorted(chosen, key=lambda r: (r["outlet"].lower(), r["article_id"]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--feed", type=Path, default=FEED)
    ap.add_argument("--size", type=int, default=60, help="articles in the sample")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)

    old: dict[tuple[str, str, int], str] = {}
    if args.out.exists():
        with open(args.out, newline="", encoding="utf-8") as f:
            seen: Counter = Counter()
            for r in csv.DictReader(f):
                seen[(r["article_id"], r["text"])] += 1
                if r.get("label"):
                    old[(r["article_id"], r["text"], seen[(r["article_id"], r["text"])])] = r["label"]

    feed = feed_articles(args.feed)
    arts = sample(feed, args.size)
    arts += [r for r in feed if r["article_id"] in ADDED and r not in arts]
    rows = []
    for a in arts:
        repeats: Counter = Counter()
        for i, text in enumerate(units_of_body(a["body"])):
            repeats[text] += 1
            rows.append({"article_id": a["article_id"], "outlet": a["outlet"], "unit": i, "text": text,
                         "label": old.get((a["article_id"], text, repeats[text]), "")})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS)
        w.writeheader()
        w.writerows(rows)
    kept = sum(1 for r in rows if r["label"])
    print(f"{len(arts)} articles, {len({a['outlet'] for a in arts})} outlets, {len(rows)} units "
          f"({kept} labels carried over) -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
