"""Records that flow between stages, and the ids that tie them together.

Articles come out of ``ingest``, sentences out of ``split``; labels and tags
refer to sentences by ``sentence_id``.  Ids are derived from content, never
from positions or run order, so labels survive a re-ingest or a re-split.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field

LABELS: tuple[str, ...] = ("diplomacy", "violence", "humanitarian", "blame")
SEED = 13  # every seeded draw of the project: folds, bootstrap, classifiers

# C0 controls and DEL as their Unicode control pictures (NUL -> U+2400, ESC ->
# U+241B, DEL -> U+2421), for str.translate: text that reaches a screen or an
# output shows them instead of acting on them (ESC starts terminal sequences).
CONTROL_PICTURES: dict[int, int] = {c: 0x2400 + c for c in range(0x20)} | {0x7F: 0x2421}
# C1 controls, and the bidirectional embeddings, overrides and isolates (U+202E shows "evil\u202etxt.exe" as
# "evilexe.txt"): shown as U+FFFD wherever text reaches a screen or an output.
C1_CONTROLS = tuple(range(0x80, 0xA0))
BIDI_CONTROLS = (*range(0x202A, 0x202F), *range(0x2066, 0x206A))


@dataclass(frozen=True)
class Article:
    """One article: metadata and body paragraphs (the headline is ``title``)."""

    article_id: str
    source: str
    title: str
    paragraphs: tuple[str, ...]
    date: str | None = None
    outlet: str | None = None
    url: str | None = None
    format: str = "text"

    @property
    def body(self) -> str:
        """The text sentence offsets point into: title, then paragraphs, blank-line separated."""
        return "\n\n".join((self.title, *self.paragraphs)) if self.title else "\n\n".join(self.paragraphs)

    def to_dict(self) -> dict:
        return {
            "article_id": self.article_id,
            "source": self.source,
            "title": self.title,
            "date": self.date,
            "outlet": self.outlet,
            "url": self.url,
            "format": self.format,
            "paragraphs": list(self.paragraphs),
        }

    @classmethod
    def from_dict(cls, d: dict) -> "Article":
        return cls(
            article_id=d["article_id"],
            source=d["source"],
            title=d["title"],
            paragraphs=tuple(d["paragraphs"]),
            date=d.get("date"),
            outlet=d.get("outlet"),
            url=d.get("url"),
            format=d.get("format", "text"),
        )


@dataclass(frozen=True)
class Sentence:
    """One sentence; ``start``/``end`` are character offsets into ``Article.body``."""

    sentence_id: str
    article_id: str
    position: int
    text: str
    start: int
    end: int
    paragraph: int = 0
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    def to_dict(self) -> dict:
        return {
            "sentence_id": self.sentence_id,
            "article_id": self.article_id,
            "position": self.position,
            "paragraph": self.paragraph,
            "start": self.start,
            "end": self.end,
            "text": self.text,
        }


SENTENCE_FIELDS: tuple[str, ...] = ("sentence_id", "article_id", "position", "paragraph", "start", "end", "text")

_WS = re.compile(r"\s+")


def normalise_text(text: str) -> str:
    """Text as ids see it: NFKC, curly quotes straightened, whitespace collapsed, lower case.

    Typographic changes a re-scrape can bring (quote style, spacing) must not
    change a sentence's id.
    """
    text = unicodedata.normalize("NFKC", text)
    text = text.translate(_QUOTES)
    return _WS.sub(" ", text).strip().lower()


_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"})


def _digest(*parts: str, n: int = 12) -> str:
    return hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()[:n]


def article_id_for(source_name: str) -> str:
    """A readable, stable id: the slug of the file name without its extension.

    The file name is what users see and what scrapers keep; editing the text
    of an article must not orphan the labels of its other sentences.
    """
    stem = re.sub(r"\.[A-Za-z0-9]+$", "", source_name)
    return re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")[:80].strip("-") or "article"


def sentence_ids_for(article_id: str, texts: list[str]) -> list[str]:
    """Ids for an article's sentences in order: hash of article + normalised text.

    A sentence that repeats inside an article gets ``-2``, ``-3``... by order
    of appearance, so ids stay unique and stable.
    """
    seen: dict[str, int] = {}
    ids = []
    for text in texts:
        base = f"s{_digest(article_id, normalise_text(text))}"
        seen[base] = seen.get(base, 0) + 1
        ids.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return ids
