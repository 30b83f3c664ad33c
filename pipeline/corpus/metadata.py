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


def dateline_outlet(paragraphs: list[str]) -> str | None:
    """The agency named in a dateline of the first paragraphs."""
    # "GENEVA (AFP) - ..." or "Reuters: The United Nations ..."
    for p in paragraphs:
        m = re.match(r"^[A-Z][A-Z ,/.'-]+\(([A-Z][A-Za-z]+)\)\s*[-—–]", p) or re.match(r"^([A-Z][a-z]+):\s", p)
        if m and m.group(1).isalpha() and len(m.group(1)) <= 12:
            return m.group(1)
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
