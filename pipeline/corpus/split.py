"""Stage 2: :class:`Article` -> :class:`Sentence` records (the only NLTK import).

NLTK's Punkt needs trained parameters, and ``nltk.download()`` is not an
option (no network here or on many users' machines).  So the repo ships its
own: ``pipeline/data/punkt_news.json``, learnt by ``PunktTrainer`` from the
de-duplicated corpus (``talks corpus build-punkt`` writes a new one outside the
package, :func:`train_punkt`, to review and copy over it) and merged with a
hand-kept list of news abbreviations, which Punkt cannot learn from a corpus
this small.  The headline is sentence 0; each paragraph is split on its own,
so a sentence never spans paragraphs.

Work is bounded whatever the text: Punkt costs up to ~50 microseconds a
character on dense punctuation and NLTK stops a regex after 5 s of wall time,
so text over :data:`MAX_PIECE_CHARS` is first cut on a simple rule
(:func:`cut_spans`) into pieces Punkt handles quickly, and a sentence over
:data:`MAX_SENTENCE_CHARS` is cut the same way.  Real paragraphs and
sentences are far shorter, so the cuts never touch ordinary news text.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from pipeline.errors import blame_file
from pipeline.records import Article, Sentence, sentence_ids_for

PUNKT_PATH = Path(__file__).parents[1] / "data" / "punkt_news.json"

# Abbreviations (lower case, no final dot) that end in "." mid-sentence in
# news text: titles, months, places and organisations, units.
NEWS_ABBREVIATIONS: frozenset[str] = frozenset(
    """
    mr mrs ms dr prof gen brig lt col maj capt cmdr adm sgt cpl pvt sen rep gov pres
    st sr jr rev hon amb supt insp
    jan feb mar apr jun jul aug sep sept oct nov dec
    mon tue tues wed thu thur thurs fri sat sun
    u.s u.n u.k e.u u.s.a u.a.e d.c n.y l.a a.f.p
    inc ltd corp co bros dept univ assn est govt
    no nos vol pp approx vs etc al cf
    a.m p.m
    mt ft km sq
    ala ariz ark calif colo conn del fla ga ill ind kan ky la md mass mich minn miss mo mont neb nev okla ore pa tenn tex va vt wash wis wyo
    """.split()
)


@lru_cache(maxsize=1)
def _tokenizer():
    from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

    params = PunktParameters()
    learnt = json.loads(PUNKT_PATH.read_text(encoding="utf-8")) if PUNKT_PATH.exists() else {}
    # From a small corpus Punkt also learns junk ("yes", "hot" as
    # abbreviations; "hope we" as a collocation): keep only learnt
    # abbreviations with an inner dot and collocations after an abbreviation.
    learnt_abbrevs = {a for a in learnt.get("abbrev_types", []) if "." in a}
    params.abbrev_types = learnt_abbrevs | NEWS_ABBREVIATIONS
    params.collocations = {
        tuple(c) for c in learnt.get("collocations", []) if c[0] in params.abbrev_types or c[0] == "##number##"
    }
    params.sent_starters = set(learnt.get("sent_starters", []))
    # No orthographic context: with it, "the U.S. Central Intelligence Agency"
    # splits after "U.S." because "central" was only seen in lower case.
    return PunktSentenceTokenizer(params)


def warm_up() -> None:
    """Load the sentence tokenizer (and NLTK) now: worker processes forked
    afterwards start with it instead of each loading it again."""
    _tokenizer()


# The corpus's longest paragraph is 2,247 characters and its longest sentence
# 669: the caps sit well above both, so they only ever cut runaway text (a
# whole file on one line, a megabyte without a full stop).
MAX_PIECE_CHARS = 10_000
MAX_SENTENCE_CHARS = 2_000

# A sentence end a simple rule can see: . ! or ? (closing quotes and brackets
# after it) then white space.
_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*\s")
_SPACE = re.compile(r"\s")


def cut_spans(text: str, limit: int) -> list[tuple[int, int]]:
    """Spans of at most ``limit`` characters that cover ``text``, in order.

    Each cut falls after the last sentence end in the second half of the
    window, else after its last white space, else at the limit itself.
    Looking only in the second half keeps every piece at least ``limit / 2``
    long, so the work is linear in the length of the text.
    """
    spans = []
    start = 0
    while len(text) - start > limit:
        cut = _cut_point(text, start, limit)
        spans.append((start, cut))
        start = cut
    spans.append((start, len(text)))
    return spans


def _cut_point(text: str, start: int, limit: int) -> int:
    for rule in (_SENTENCE_END, _SPACE):
        ends = [m.end() for m in rule.finditer(text, start + limit // 2, start + limit)]
        if ends:
            return ends[-1]
    return start + limit


def split_paragraph(text: str) -> list[tuple[int, int]]:
    """Sentence spans of one paragraph.  Spans cover every non-space character."""
    out = []
    for ps, pe in cut_spans(text, MAX_PIECE_CHARS):
        for s, e in _punkt_spans(text[ps:pe]):
            if e - s <= MAX_SENTENCE_CHARS:
                out.append((ps + s, ps + e))
            else:
                out.extend(_trimmed(text, ps + s + cs, ps + s + ce) for cs, ce in cut_spans(text[ps + s : ps + e], MAX_SENTENCE_CHARS))
    return [(s, e) for s, e in out if e > s]


def _punkt_spans(text: str) -> list[tuple[int, int]]:
    spans = list(_tokenizer().span_tokenize(text))
    if not spans:
        return [_trimmed(text, 0, len(text))] if text.strip() else []
    # Punkt may leave leading text or whitespace-adjacent characters outside
    # spans; stretch each span to the next one so no character is lost.
    out = []
    for i, (s, e) in enumerate(spans):
        start = 0 if i == 0 else s
        end = spans[i + 1][0] if i + 1 < len(spans) else len(text)
        if text[start:end].strip():
            out.append(_trimmed(text, start, end))
    return _merge_fragments(text, out)


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    """``(start, end)`` without the white space at either end."""
    seg = text[start:end]
    return start + len(seg) - len(seg.lstrip()), end - len(seg) + len(seg.rstrip())


_ATTRIBUTION = re.compile(r"^([A-Z][\w'’-]*\s){0,3}(said|says|added|asked|told [A-Z]?\w+|wrote|insisted|stressed)\.$")
_QUOTE_END = re.compile(r"[?!.,]?[\"”’']\s*$|[?!]\s*$")


def _merge_fragments(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Rejoin what Punkt cuts after a closing quote or a "?"/"!" mid-sentence:
    a piece starting in lower case ('..." he said.') or a bare attribution
    after a quote ('...?" Hijab said.') belongs to the sentence before it."""
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        piece = text[s:e]
        if merged and (piece[:1].islower() or (_ATTRIBUTION.match(piece) and _QUOTE_END.search(text[merged[-1][0] : merged[-1][1]]))):
            merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return merged


def split_article(article: Article) -> list[Sentence]:
    """The article's sentences in reading order: headline first, then each paragraph's.

    Raises only CorpusError (naming the article's file), so one article never
    ends a batch.
    """
    pieces: list[tuple[int, int, int]] = []  # (paragraph index, start, end) in article.body
    offset = 0
    blocks = ([article.title] if article.title else []) + list(article.paragraphs)
    with blame_file(article.source):
        for p_idx, block in enumerate(blocks):
            for s, e in split_paragraph(block):
                pieces.append((p_idx, offset + s, offset + e))
            offset += len(block) + 2  # "\n\n" between blocks, as in Article.body
    body = article.body
    texts = [body[s:e] for _, s, e in pieces]
    ids = sentence_ids_for(article.article_id, texts)
    return [
        Sentence(sentence_id=sid, article_id=article.article_id, position=i, text=t, start=s, end=e, paragraph=p)
        for i, (sid, t, (p, s, e)) in enumerate(zip(ids, texts, pieces))
    ]


def default_punkt_out() -> Path:
    """Where :func:`train_punkt` writes when given no path: ``out/punkt_news.json`` in the project
    folder (:func:`pipeline.project.find_root`), beside the project's other generated files."""
    from pipeline.project import find_root

    return find_root().path / "out" / PUNKT_PATH.name


def train_punkt(texts: Iterable[str], out: str | Path | None = None) -> dict:
    """Learn Punkt parameters from news text and save them as JSON at ``out``.

    Texts are de-duplicated first: Punkt trained on repeated text learns junk
    abbreviations.  Returns what was learnt and ``path``, the file written,
    for the CLI to report.

    ``out`` defaults to :func:`default_punkt_out`.  The shipped parameters
    (:data:`PUNKT_PATH`, inside the installed package) are read-only here: an
    installed package may not be writable, and the sentence ids of every
    label depend on that file, so it changes only by a reviewed commit that
    copies a learnt file over it.  Asking to write there (or anywhere in the
    package) raises PipelineError before any training.
    """
    from nltk.tokenize.punkt import PunktTrainer

    from pipeline.errors import PipelineError
    from pipeline.store import atomic_write_text

    out = default_punkt_out() if out is None else Path(out)
    package = PUNKT_PATH.parents[1].resolve()
    if out.resolve().is_relative_to(package):
        raise PipelineError(f"the shipped Punkt parameters are read-only; write the learnt ones elsewhere "
                            f"(default {default_punkt_out()}) and copy them over {PUNKT_PATH} in a reviewed commit", out)
    seen: set[str] = set()
    unique = []
    for t in texts:
        key = " ".join(t.split())
        if key and key not in seen:
            seen.add(key)
            unique.append(t)
    trainer = PunktTrainer()
    trainer.train("\n\n".join(unique), finalize=True)
    p = trainer.get_params()
    data = {
        "abbrev_types": sorted(p.abbrev_types),
        "collocations": sorted([list(c) for c in p.collocations]),
        "sent_starters": sorted(p.sent_starters),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, json.dumps(data, indent=0, sort_keys=True) + "\n")
    # Nothing to clear: the tokenizer reads only the shipped file, which this never changes.
    return {"texts": len(unique), "abbreviations": len(p.abbrev_types), "collocations": len(p.collocations), "path": str(out)}
