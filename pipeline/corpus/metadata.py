"""Stage 1b: an article's metadata -- YAML front matter parsed safely, dates, outlet and address.

The front matter is read with a loader that refuses aliases and impossible
dates; a value in the wrong shape is an error naming its line.  Where no
field gives the date or outlet, the text does: a date in the first
paragraphs, a dateline ("GENEVA (AFP) -"), a headline suffix ("... - Reuters")
or the address's host.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import yaml
from yaml.constructor import ConstructorError

from pipeline.errors import CorpusError

# Front matter is a few lines of metadata (the corpus's longest is 1.4 KB); the limit
# is checked before YAML parses it.
MAX_FRONT_MATTER_CHARS = 64 * 1024
# A plain-text first line longer than this is a paragraph, not a headline
# (the corpus's longest headline is 110 characters).
MAX_TITLE_CHARS = 500


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


def parse_front_matter(fm_text: str, path: Path) -> dict:
    """The front matter between the '---' lines as a mapping, or a CorpusError naming the line."""
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


URL_KEYS = ("url", "original_link", "canonical_url", "permalink", "link")


def meta_value(meta: dict, fm_text: str, path: Path, *keys: str) -> object:
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
            raise CorpusError(f"front matter '{k}' is {kind}, where text belongs; write it as one line of text", path, key_line(fm_text, k))
        if v not in (None, ""):
            return v.strip() if isinstance(v, str) else v
    return None


def key_line(fm_text: str, *keys: str) -> int | None:
    """The file line of the first of ``keys`` written at the top level of the front matter."""
    for k in keys:
        m = re.search(rf"^{re.escape(k)}[ \t]*:", fm_text, flags=re.M)
        if m:
            return fm_text.count("\n", 0, m.start()) + 2  # line 1 is the opening '---'
    return None


def iso_date(value: object) -> str | None:
    """A date field (a date, or text starting YYYY-MM-DD) as YYYY-MM-DD; None when it is neither."""
    if value in (None, ""):
        return None
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d")
    m = re.match(r"\s*(\d{4})-(\d{2})-(\d{2})", str(value))
    return "-".join(m.groups()) if m else None


_DATE_FORMATS = ("%d %B %Y", "%B %d, %Y", "%b. %d, %Y", "%b %d, %Y", "%d %b %Y")


def date_in(paragraphs: list[str]) -> str | None:
    """The first written-out date ("4 February 2016", "Feb. 4, 2016") in ``paragraphs``, as YYYY-MM-DD."""
    for p in paragraphs:
        for m in re.finditer(r"(\d{1,2} [A-Z][a-z]+ \d{4}|[A-Z][a-z]{2,8}\.? \d{1,2}, \d{4})", p):
            for fmt in _DATE_FORMATS:
                try:
                    return datetime.strptime(m.group(1), fmt).strftime("%Y-%m-%d")
                except ValueError:
                    pass
    return None


@dataclass(frozen=True)
class Dateline:
    """A dateline opening a paragraph: ``paragraph[:end]`` is the dateline (and the space after it), the rest the
    text; ``agency`` is the one it names in parentheses ("GENEVA (AFP) -")."""

    end: int
    agency: str | None = None


# One upper-case place word: "WASHINGTON", "ST.", "D.C.", "O'HARE" (lengths bounded: the match is linear).
_CAPS_WORD = r"[A-Z][A-Z'’.&-]{0,30}[A-Z.]"
_PLACES = rf"{_CAPS_WORD}(?:[ /]{_CAPS_WORD}){{0,7}}"  # "NEW YORK", "BEIRUT/GENEVA", "WASHINGTON/NEW YORK"
# After a comma: the state or country, in capitals or not ("SEOUL, SOUTH KOREA", "AMMAN, Jordan", "ROMULUS, Mich.").
_REGION = r"[A-Z][A-Za-z'’.-]{0,20}(?: [A-Z][A-Za-z'’.-]{0,20}){0,2}"
_AGENCY = r"\s*\((?P<agency>[^()\n]{1,40})\)"
# A dash: an en or em dash, "--", or a hyphen with a space beside it ("U.S.-Israeli" is one word).
_DASH = r"(?:\s*(?:[–—]|--)\s*|\s+-\s*|-\s+)"
# Where the sentence begins: a capitalised word, "A"/"I", an initialism ("U.S."), a quote or a number.
_TEXT_START = r"(?=[A-Z][a-z]|[AI]\s|[A-Z]\.[A-Z]|[\"“‘'(]|\d)"
# "SEOUL, SOUTH KOREA —", "AMMAN, Jordan (AP) —", "GENEVA (AFP) -": the dash (or the agency) ends the dateline.
_DASHED = re.compile(rf"(?P<places>{_PLACES}(?:, {_REGION})?)(?:{_AGENCY}(?:{_DASH})?|{_DASH}){_TEXT_START}")
# "NEW DELHI: India's ...": a colon ends a dateline of one or two words ("CRUZ CATCHES MITT:" is a kicker).
_COLON = re.compile(rf"(?P<places>{_CAPS_WORD}(?: {_CAPS_WORD})?)(?:{_AGENCY})?:\s+{_TEXT_START}")
# Reuters' glued form: "WASHINGTON The ...", "BEIRUT/GENEVA A ...", "PARIS, Calif. U.S. ...".
_BARE = re.compile(rf"(?P<places>{_PLACES}(?:, {_CAPS_WORD}(?: {_CAPS_WORD}){{0,2}})?(?:, [A-Z][a-z]{{1,12}}\.)?)\s+{_TEXT_START}")
# With no space at all: "WASHINGTONThe Supreme Court ..." (the last capital starts the text).
_GLUED = re.compile(r"(?P<places>[A-Z]{3,30}(?:[ /][A-Z]{2,30}){0,7})(?=[A-Z][a-z]+\b)")
# Reuters' form with the country in title case and no dash: "NEUBRANDENBURG, Germany German Chancellor ...",
# "CAMP TARIQ, Iraq Islamic State ...".  The region is one word, or two or three after the first words
# of English region names ("South Korea", "United Arab Emirates"): what follows is the text.  A month is
# a date, not a region ("WASHINGTON, March 17 The ..." stays as it is).
_REGION_PREFIX = r"(?:United Arab|United|New|North|South|West|East|Saudi|Sri|Hong|El|Costa|Puerto|Rhode|Ivory|Czech|Sierra)"
_MONTH_NAME = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)\b"
_TITLE_REGION = re.compile(rf"(?P<places>{_PLACES}), (?!{_MONTH_NAME})(?:{_REGION_PREFIX} )?[A-Z][a-z]{{2,20}}\s+{_TEXT_START}")
_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9&]*[A-Z0-9]\b")
_DOTTED = re.compile(r"^(?:[A-Z]\.){2,}$")  # "U.S.", "U.N."
# A sentence has a lower-case word of some length early on; a title-case headline
# ("NYPD Has Used Stingrays More Than 1,000 Times") has none but short function words.
_LOWER_WORD = re.compile(r"^[a-z][a-z'’-]{3,}")
HEADLINE_WORDS = 12
MIN_TEXT_WORDS = 3


def find_dateline(paragraph: str, elsewhere: str = "") -> Dateline | None:
    """The dateline opening ``paragraph``, or None.

    A dateline is upper-case place names (joined by "/" or ",", a region after
    a comma), optionally the agency in parentheses, then a dash, a colon or the
    text itself.  Upper-case words at its end that ``elsewhere`` (the rest of
    the article) also writes in capitals are the text's acronyms, not places:
    "LONDON ARM Holdings ..." keeps "ARM Holdings", "NATO Secretary-General ..."
    keeps all.  No dateline is found when what follows is not a sentence (a
    title-case headline, a credit, a few words).
    """
    m = _DASHED.match(paragraph) or _COLON.match(paragraph)
    if m is None and (m := _TITLE_REGION.match(paragraph)) is not None:
        # "IBM, Google and ..." opens a sentence the same way: its "places" are written in capitals elsewhere
        if set(_ACRONYM.findall(m["places"])) & set(_ACRONYM.findall(elsewhere + " " + paragraph[m.end():])):
            return None
        end = m.end()
    elif m is None:
        m = _BARE.match(paragraph) or _GLUED.match(paragraph)
        if m is None:
            return None
        end = _trim_acronyms(paragraph, m, elsewhere)
        if end is None:
            return None
    else:
        end = m.end()
    rest = paragraph[end:].lstrip()
    words = rest.split()
    if len(words) < MIN_TEXT_WORDS or not any(_LOWER_WORD.match(w) for w in words[:HEADLINE_WORDS]):
        return None
    return Dateline(end=len(paragraph) - len(rest), agency=m.groupdict().get("agency"))


def _trim_acronyms(paragraph: str, m: re.Match, elsewhere: str) -> int | None:
    """Where a bare dateline ends once the text's own acronyms are given back; None when nothing is left.

    Its last words are the text's when the article writes them in capitals
    elsewhere ("LONDON ARM Holdings", with "ARM" in the headline), when they
    are initialisms ("U.S.") or two letters ("SEOUL LG Electronics", "LA
    Times"): no place ends a dateline that way.  A word after a comma is the
    region ("PARIS, Calif.") and stays.
    """
    head = paragraph[: m.end("places")]
    known = set(_ACRONYM.findall(elsewhere + " " + paragraph[m.end("places"):]))
    words = list(re.finditer(r"[^\s/,]+", head))
    while words and not head[: words[-1].start()].rstrip().endswith(","):
        w = words[-1].group()
        if not (w in known or _DOTTED.match(w) or len(w) <= 2):
            break
        words.pop()
    return words[-1].end() if words else None


def dateline_outlet(paragraphs: list[str]) -> str | None:
    """The agency named in a dateline of the first paragraphs ("GENEVA (AFP) - ..."), or an outlet
    opening one ("Reuters: The United Nations ...")."""
    for p in paragraphs:
        d = find_dateline(p)
        name = d.agency if d else (m.group(1) if (m := re.match(r"^([A-Z][a-z]+):\s", p)) else None)
        if name and name.isalpha() and len(name) <= 12:
            return name
    return None


def split_outlet(title: str) -> tuple[str, str | None]:
    """'Headline - Reuters' -> ('Headline', 'Reuters'): the outlet suffix is not headline text."""
    m = re.match(r"^(.{20,}?)\s+[-–—|]\s+([A-Z][\w.&' ]{1,40})$", title) if len(title) <= MAX_TITLE_CHARS else None
    if m and len(m.group(2).split()) <= 5:
        return m.group(1).strip(), m.group(2).strip()
    return title, None


def article_url(raw: object, path: Path, line: int | None) -> str:
    """The article's address from a front matter value."""
    url = checked_url(html.unescape(str(raw)), path, line)
    # Aggregator redirect links carry the article's own address in ?url=
    inner = parse_qs(urlparse(url).query).get("url")
    return checked_url(inner[0], path, line) if inner else url


def checked_url(url: str | None, path: Path, line: int | None = None) -> str | None:
    """``url`` as it is, or a CorpusError when it does not parse (a broken [IPv6] host)."""
    try:
        urlparse(url or "")
    except ValueError as e:
        raise CorpusError(f"url {url[:100]!r} is not a valid address ({e}); correct it or remove it", path, line) from None
    return url


def outlet_from_url(url: str | None) -> str | None:
    """The outlet named by an address's host."""
    if not url:
        return None
    host = urlparse(url).netloc.lower()
    host = re.sub(r"^(www|feeds|rss|m|mobile|edition)\.", "", host)
    # "reuters.com" -> "Reuters", to match outlets named in headline suffixes.
    name = host.split(".")[0] if host else ""
    return name.capitalize() if name else None
