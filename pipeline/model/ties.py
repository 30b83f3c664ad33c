"""The blame-tie extractor: who blames whom in a sentence the model tags blame.

**Mentions.**  Every alias of the actor list (``labels/ties/actors.csv``,
longest first, as written) is a mention of its canonical actor; other runs of
capitalised words (not a sentence's first function word, a month or a day)
are mentions of a named actor as written; a pronoun or a descriptor ("he",
"the ministry", "officials") is a *reference*, resolved to the latest mention
in the sentence before it or in the three sentences before it in the article.

**Candidates.**  Every ordered pair (source, target) of distinct mentions, and
UNKNOWN as a source for every target.

**Pair classifier.**  Each pair is a string of feature tokens: the kinds of
the two mentions, their order and distance, the words between them and the
three on either side of each, the accusing, denying and attributing cue words
between and around them, a passive "by" before the source, which mention
comes first.  A ``TfidfVectorizer`` splitting on whitespace (binary, so each
token is a 0/1 feature) and a logistic regression score it; as a scikit-learn
``Pipeline`` of trusted classes it is saved and loaded like every model (skops,
no code run on load).  A pair is a tie when its probability reaches the
threshold, tuned for tie F1 by cross-validation grouped by story; a blame
sentence with no such pair gets its most probable one (a blame sentence has
at least one tie); a named source for a target drops UNKNOWN for it.

The model folder (``models/ties/``) holds ``model.skops``, the actor list it
was trained with and ``ties.json`` (training counts, cross-validated and
held-out tie scores).  Liang, Nicol and Zhang (AAAI 2019) extract ties from
entity contexts with a BiLSTM at F1 0.70; this is the linear counterpart on
this project's data.
"""
from __future__ import annotations

import json
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path

import numpy as np

from pipeline.errors import ModelError
from pipeline.labels.ties import UNKNOWN, Tie, same_actor
from pipeline.records import SEED

TIES_FOLDER = "ties"
# Not card.json: the folder is not a sentence model, and the registry lists only folders with one.
TIE_CARD = "ties.json"
THRESHOLDS = tuple(np.round(np.arange(0.2, 0.91, 0.05), 2))
CONTEXT = 3  # sentences before, for references
MAX_BETWEEN = 10

_STOP = set("""a an the in on at of for from with and or but so if when after before while as by to into over under
he she it they we i you this that these those his her its their our my your there here some many most other others
mr mrs ms dr sen rep gov gen president monday tuesday wednesday thursday friday saturday sunday january february march
april may june july august september october november december reuters ap afp update exclusive breaking""".split())
_REFERENCE = re.compile(r"\b(?:he|she|they|it|his|her|its|their|the (?:ministry|group|official|officials|spokesman|"
                        r"spokeswoman|spokesperson|president|agency|government|statement|army|military|movement|"
                        r"prosecutors?|police|department|campaign|company|lawsuit|complaint|indictment|court|regime)|officials)\b",
                        re.IGNORECASE)
_NAME = re.compile(r"(?:(?<=\s)|(?<=^)|(?<=[\"'“‘(]))((?:[A-Z][\w'’.\-]*)(?:\s+(?:(?:of|de|al|bin|van|von|der|la|le|du)\s+)?"
                   r"[A-Z][\w'’.\-]*)*)")
# Actors named by a common noun ("prosecutors", "rights groups", "the government"): kept as written, which the
# tie matching (same_actor) pairs with a fuller gold name ("Montgomery County prosecutors", "Syrian government").
_COMMON = re.compile(r"(?<!['’])\b(?:(?:[a-z]{3,}|U\.S\.|US)\s+)?(?:prosecutors?|police|activists|critics|officials|lawmakers|"
                     r"diplomats|residents|investigators|authorities|government|regime|rebels|insurgents|militants|"
                     r"opposition|rights groups|campaigners|Democrats|Republicans|plaintiffs|lawsuit|jihadists|coalition)\b")
_QUOTED = re.compile(r"[\"“][^\"”]{0,80}[\"”]")
CUES = {
    "accuse": re.compile(r"accus|blam|condemn|charg|indict|\bsu(?:e|ed|es|ing)\b|lawsuit|alleg|fault|responsib|denounc|"
                         r"critici[sz]|slam|lambast|chastis|reproach|terroris|crime|violat|sham|sabotag|lie[sd]?\b|lying",
                         re.IGNORECASE),
    "deny": re.compile(r"\bden(?:y|ied|ies|ial)|reject|dismiss|refut|baseless|unfounded|false\b", re.IGNORECASE),
    "say": re.compile(r"\b(?:said|says|say|told|tells|according|statement|quoted)\b", re.IGNORECASE),
    "neg": re.compile(r"\b(?:not|no|never|n't)\b", re.IGNORECASE),
}



def _match_finder(rx: re.Pattern) -> re.Pattern | None:
    """A match of ``rx`` at every position of a sentence where it has one (a zero-width pattern, the match in group
    1).  A match of ``rx`` inside a stretch of the sentence is also one of the sentence, and one of the sentence is
    also one of a stretch that holds it, as long as no word boundary the match asserts falls on an edge of the stretch
    (where the stretch may see a boundary the sentence has not, or the other way round).  None for a pattern with any
    other assertion or escape, which is then searched in every stretch."""
    if "\\" in rx.pattern.replace(r"\b", "") or "^" in rx.pattern or "$" in rx.pattern or "(?" in rx.pattern.replace("(?:", ""):
        return None
    return re.compile(f"(?=({rx.pattern}))", rx.flags)


_CUE_MATCHES = {c: _match_finder(rx) for c, rx in CUES.items()}

@dataclass(frozen=True)
class Mention:
    """A mention: the actor's name, where it is in the sentence, and its kind (listed, name, common, reference, or
    context: an actor of the sentences before, placed at the sentence's end)."""

    name: str
    start: int
    end: int
    kind: str


def with_surnames(actors: dict[str, str]) -> dict[str, str]:
    """The aliases plus the last word of every two-word personal alias ("Samantha Power" -> "Power"), as articles
    name people by surname after the first mention; a surname that is itself a word of another alias is left out."""
    words = {w for a in actors for w in a.split()[:-1]}
    out = dict(actors)
    for alias, actor in actors.items():
        parts = alias.split()
        if len(parts) == 2 and all(p[:1].isupper() for p in parts) and parts[1] not in words and parts[1] not in out \
                and parts[1].lower() not in _STOP:
            out[parts[1]] = actor
    return out


def alias_pattern(actors: dict[str, str]) -> re.Pattern:
    """One regular expression of every alias, longest first, on word boundaries (an alias written in lower case
    also matches with a capital, as at the start of a sentence)."""
    aliases = sorted(set(actors) | {a[0].upper() + a[1:] for a in actors if a[:1].islower()}, key=len, reverse=True)
    return re.compile(r"(?<![\w])(" + "|".join(re.escape(a) for a in aliases) + r")(?![\w])")


_POSSESSIVE = re.compile(r"(?:'s|’s|')$")
_SPEAKS = re.compile(r"\s+(?:said|says|told|accused|blamed|denied)")
_WORD = re.compile(r"[a-z']+")
_WORD_CHAR = re.compile(r"\w")  # what a regular expression's word boundary takes for a word character


@dataclass(frozen=True)
class OwnMentions:
    """What a sentence says without the sentences before it: its listed, name and common mentions in the order they
    were found (listed, then names, then common nouns, each by position), and where its pronouns and descriptors
    are, as (start, end, whether it is a person's: "he", "his"), still to be resolved."""

    named: list[Mention]
    references: list[tuple[int, int, bool]]


def own_mentions(text: str, actors: dict[str, str], pattern: re.Pattern) -> OwnMentions:
    """The sentence's own mentions (:class:`OwnMentions`): found once per sentence, whatever reads them after."""
    found: list[Mention] = []
    # A bytearray, not a numpy array: thousands of tiny slices a feed, where numpy's per-call cost dominates.
    taken = bytearray(len(text) + 1)

    def take(start: int, end: int) -> None:
        end = min(end, len(taken))
        taken[start:end] = b"\x01" * max(end - start, 0)

    for m in pattern.finditer(text):
        alias = m.group(1)
        found.append(Mention(actors.get(alias) or actors[alias[0].lower() + alias[1:]], m.start(), m.end(), "listed"))
        take(m.start(), m.end())
    for q in _QUOTED.finditer(text):  # a capitalised word inside a short quote is not a name ("Victory or Martyr")
        if q.end() - q.start() < 40:
            take(q.start(), q.end())
    for m in _NAME.finditer(text):
        words = m.group(1).split()
        while words and words[0].lower().strip(".") in _STOP:
            words = words[1:]
        while words and words[-1].lower().strip(".") in _STOP:
            words = words[:-1]
        if not words:
            continue
        name = _POSSESSIVE.sub("", " ".join(words)).rstrip(".,")
        start = text.find(words[0], m.start())
        if not name or 1 in taken[start:start + len(name)] or len(name) < 2:
            continue
        opens = start == 0 or text[start - 1] in "\"“‘'(" or text[:start].rstrip().endswith((".", ":", "—"))
        if len(words) == 1 and opens and name not in actors and not _SPEAKS.match(text[start + len(name):]):
            continue  # a sentence's capitalised first word is usually not a name
        found.append(Mention(name, start, start + len(name), "name"))
        take(start, start + len(name))
    for m in _COMMON.finditer(text):
        if 1 not in taken[m.start():m.end()]:
            found.append(Mention(m.group(0), m.start(), m.end(), "common"))
            take(m.start(), m.end())
    refs = [(m.start(), m.end(), m.group(0).lower() in ("he", "she", "his", "her"))
            for m in _REFERENCE.finditer(text) if 1 not in taken[m.start():m.end()]]
    return OwnMentions(found, refs)


def resolve(text: str, own: OwnMentions, previous: list[list[Mention]]) -> list[Mention]:
    """The sentence's mentions in order: its ``own`` (:func:`own_mentions`) with the references resolved and the
    context actors added from ``previous``, the mentions of the sentences before it (latest last).  Of those only
    the listed, name and common mentions are read, so their ``OwnMentions.named`` by position give the same result."""
    found = list(own.named)
    earlier: dict[bool, Mention | None] = {}  # the fitting actor of the sentences before, once per kind of reference
    for start, end, person in own.references:
        # "he"/"she" look for a person (a name), the rest for an organisation or a country (a listed or common actor)
        kinds = ("name",) if person else ("listed", "common")
        ref = None
        for x in own.named:  # the last fitting one before the reference, in the order found
            if x.end <= start and x.kind in kinds:
                ref = x
        if ref is None:
            if person not in earlier:
                earlier[person] = next((x for ms in reversed(previous[-CONTEXT:]) for x in reversed(ms)
                                        if x.kind in kinds), None)
            ref = earlier[person]
        if ref is not None:
            found.append(Mention(ref.name, start, end, "reference"))
    # the latest actors of the sentences before: a denial or a quote often answers or comes from one of them
    seen = {x.name for x in found}
    for x in [x for ms in reversed(previous[-CONTEXT:]) for x in reversed(ms) if x.kind in ("listed", "name")][:4]:
        if x.name not in seen:
            found.append(Mention(x.name, len(text), len(text), "context"))
            seen.add(x.name)
    found.sort(key=lambda x: x.start)
    return found


def mentions(text: str, actors: dict[str, str], pattern: re.Pattern, previous: list[list[Mention]]) -> list[Mention]:
    """The sentence's mentions in order; ``previous`` are the mentions of the sentences before it (latest last)."""
    return resolve(text, own_mentions(text, actors, pattern), previous)


def _words(s: str) -> list[str]:
    return _WORD.findall(s.lower())


class PairFeatures:
    """The feature strings of one sentence's candidate pairs (:meth:`pairs`).  What a pair's string is made of (the
    words before, after and between mentions, the cues in those stretches) is read from the sentence's words and cue
    matches, found once, and built once per mention and per two mentions: n mentions make n² pairs."""

    def __init__(self, text: str, ms: list[Mention]):
        self.text, self.ms = text, ms
        lowered = text.lower()
        # A word of a slice is the part of a sentence word inside it, as long as lowering keeps every character one
        # character ("İ" becomes two): else the slices are lowered and split one by one, as they always could be.
        self._lowered = lowered if len(lowered) == len(text) else None
        spans = [m.span() for m in _WORD.finditer(lowered)] if self._lowered is not None else []
        self._starts, self._ends = [a for a, _ in spans], [b for _, b in spans]
        self._words = [lowered[a:b] for a, b in spans]
        self._cues: dict[tuple[int, int | None], list[str]] = {}
        self._cuts: dict[int, bool] = {}
        # One pass over the sentence per cue answers most stretches without a search of their own (_match_finder).
        self._cue_spans = {c: None if f is None else [m.span(1) for m in f.finditer(text)] for c, f in _CUE_MATCHES.items()}

    def words(self, start: int, end: int | None = None) -> list[str]:
        """The words of ``text[start:end]``, lower-cased (a word cut by either end is cut there too)."""
        if self._lowered is None:
            return _words(self.text[start:end])
        end = len(self.text) if end is None else min(end, len(self.text))
        if end <= start:
            return []
        first, last = bisect_right(self._ends, start), bisect_left(self._starts, end)
        out = self._words[first:last]
        if out and self._starts[first] < start:
            out[0] = self._lowered[start:self._ends[first]]
        if out and self._ends[last - 1] > end:
            out[-1] = self._lowered[max(self._starts[last - 1], start):end]
        return out

    def cues(self, start: int, end: int | None = None) -> list[str]:
        """The cue names (:data:`CUES`) found in ``text[start:end]``."""
        found = self._cues.get((start, end))
        if found is None:
            self._cues[start, end] = found = self._find_cues(start, end)
        return found

    def _find_cues(self, start: int, end: int | None) -> list[str]:
        """:meth:`cues`, read from the sentence's matches where they tell, else searched."""
        n = len(self.text)
        last = max(start, n if end is None else min(end, n))
        cut = None
        found = []
        for c, rx in CUES.items():
            spans = self._cue_spans[c]
            # True: a match of the sentence whose word boundaries, if any, fall inside the stretch, so the stretch
            # sees them too; False: no match of the sentence begins in the stretch and no edge cuts a word, so the
            # stretch has no match either (_match_finder); None: the stretch's own search tells.
            known = None if spans is None else False
            for i, j in spans or ():
                if start <= i <= last:
                    if j <= last and (start < i or start == 0) and (j < last or last == n):
                        known = True
                        break
                    known = None
            if known is False:
                if cut is None:
                    cut = self._cuts_word(start) or self._cuts_word(last)
                known = None if cut else False
            if known or (known is None and rx.search(self.text[start:last])):
                found.append(c)
        return found

    def _cuts_word(self, at: int) -> bool:
        cuts = self._cuts.get(at)
        if cuts is None:
            self._cuts[at] = cuts = 0 < at < len(self.text) and _WORD_CHAR.match(self.text, at - 1) is not None and \
                _WORD_CHAR.match(self.text, at) is not None
        return cuts

    def _as_target(self, tgt: Mention) -> tuple[list[str], bool]:
        """A mention's tokens as the target, and whether "by" comes just before it."""
        t_left, t_right = self.words(0, tgt.start)[-3:], self.words(tgt.end)[:3]
        toks = [f"tk={tgt.kind}", f"nm={min(len(self.ms), 5)}"] + [f"tl={w}" for w in t_left] + [f"tr={w}" for w in t_right]
        toks.append("t_first" if self.ms and self.ms[0].start == tgt.start else "t_later")
        return toks, bool(t_left) and t_left[-1] == "by"

    def _as_source(self, src: Mention) -> tuple[list[str], str]:
        """A mention's tokens as the source: the words around it (and "by" before it), then whether it comes first."""
        s_left, s_right = self.words(0, src.start)[-3:], self.words(src.end)[:3]
        toks = [f"sl={w}" for w in s_left] + [f"sr={w}" for w in s_right]
        if s_left and s_left[-1] == "by":
            toks.append("s_after_by")
        return toks, "s_first" if self.ms and self.ms[0].start == src.start else "s_later"

    def _between(self, a: tuple[int, int], b: tuple[int, int]) -> tuple[list[str], dict[str, list[str]], list[str]]:
        """For two mentions' spans (the earlier first), what is the same whichever is the source: the tokens of the
        words and cues between them, those cues' tokens for each order, and the tokens of the cues after both and
        before both."""
        bw, cues = self.words(a[1], b[0]), self.cues(a[1], b[0])
        return ([f"b={w}" for w in bw[:MAX_BETWEEN]] + [f"dist={min(len(bw) // 4, 5)}"] + [f"cb_{c}" for c in cues],
                {order: [f"{order}_cb_{c}" for c in cues] for order in ("s<t", "t<s")},
                [f"ca_{c}" for c in self.cues(b[1])] + [f"cf_{c}" for c in self.cues(0, a[0])])

    def pairs(self, firsts: list[Mention]) -> list[tuple[Mention | None, Mention, str]]:
        """(source, target, feature tokens joined by spaces) for each of ``firsts`` as the target: first with UNKNOWN
        (None) as the source, then with each of the others in turn."""
        # A mention's parts, and those of two mentions, are built once: of n mentions, each is in 2n - 1 pairs.
        targets = [self._as_target(m) for m in firsts]
        sources = [self._as_source(m) for m in firsts]
        between: dict[tuple[tuple[int, int], tuple[int, int]], tuple[list[str], dict[str, list[str]], list[str]]] = {}
        out: list[tuple[Mention | None, Mention, str]] = []
        for tgt, (head, t_after_by) in zip(firsts, targets):
            toks = head + ["sk=unknown", f"kinds=unknown>{tgt.kind}"] + [f"ub_{c}" for c in self.cues(0, tgt.start)] + \
                [f"ua_{c}" for c in self.cues(tgt.end)]
            toks.append("u_named_before" if any(m.end <= tgt.start for m in self.ms) else "u_nothing_before")
            out.append((None, tgt, " ".join(toks)))
            t_span, t_by = (tgt.start, tgt.end), ["t_after_by"] if t_after_by else []
            for src, (s_toks, s_first) in zip(firsts, sources):
                if src.name == tgt.name:
                    continue
                s_span = (src.start, src.end)
                key = (s_span, t_span) if s_span <= t_span else (t_span, s_span)
                if key not in between:
                    between[key] = self._between(*key)
                words, order_cues, around = between[key]
                order = "s<t" if src.start < tgt.start else "t<s"
                out.append((src, tgt, " ".join(head + [f"sk={src.kind}", order, f"kinds={src.kind}>{tgt.kind}"] + words +
                                                order_cues[order] + around + s_toks + t_by + [s_first])))
        return out


def candidates(text: str, ms: list[Mention]) -> list[tuple[str, str, str]]:
    """(source, target, feature string) for every candidate pair of a sentence, first mention of each name."""
    first: dict[str, Mention] = {}
    for m in ms:
        first.setdefault(m.name, m)
    return [(UNKNOWN if src is None else src.name, tgt.name, f)
            for src, tgt, f in PairFeatures(text, ms).pairs(list(first.values()))]


@dataclass(frozen=True)
class Aliases:
    """The actor list as the extractor reads it: aliases (surnames added) and their one compiled pattern."""

    actors: dict[str, str]
    pattern: re.Pattern

    @classmethod
    def of(cls, actors: dict[str, str]) -> "Aliases":
        expanded = with_surnames(actors)
        return cls(expanded, alias_pattern(expanded))


def article_candidates(texts: list[str], article_ids: list[str], aliases: Aliases, want=None) -> list[list[tuple[str, str, str]]]:
    """Candidates for every sentence (only where ``want`` is true, [] elsewhere), references resolved within each
    article from the rows before (rows of one article in order, a new article wherever the id changes)."""
    actors, pattern = aliases.actors, aliases.pattern
    texts = [str(t) for t in texts]
    wanted = [True] * len(texts) if want is None else [bool(w) for w in want]
    out: list[list[tuple[str, str, str]]] = [[] for _ in texts]
    # A sentence's references and context actors read only the named mentions of the CONTEXT sentences before it
    # (resolve), so those are found once per sentence, and only for a wanted sentence and the ones it looks back at.
    own: dict[int, OwnMentions] = {}
    by_start: dict[int, list[Mention]] = {}

    def own_of(i: int) -> OwnMentions:
        if i not in own:
            own[i] = own_mentions(texts[i], actors, pattern)
        return own[i]

    def sorted_named(i: int) -> list[Mention]:
        if i not in by_start:
            by_start[i] = sorted(own_of(i).named, key=lambda x: x.start)
        return by_start[i]

    i = 0
    for _, rows in groupby(article_ids):
        first, i = i, i + sum(1 for _ in rows)
        for k in range(first, i):
            if wanted[k]:
                previous = [sorted_named(j) for j in range(max(first, k - CONTEXT), k)]
                out[k] = candidates(texts[k], resolve(texts[k], own_of(k), previous))
    return out


def make_pair_model(C: float = 1.0):
    """The pair classifier: binary token features, then a balanced logistic regression."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    return Pipeline([("features", TfidfVectorizer(token_pattern=r"\S+", lowercase=False, binary=True, use_idf=False,
                                                  norm=None, dtype=np.float32)),
                     ("clf", LogisticRegression(C=C, class_weight="balanced", max_iter=2000, solver="liblinear",
                                                random_state=SEED))])


def decode(cands: list[tuple[str, str, str]], p: np.ndarray, threshold: float, is_blame: bool) -> list[Tie]:
    """The ties of one sentence from its candidates' probabilities (module docstring)."""
    if not is_blame or not cands:
        return []
    keep = [i for i in range(len(cands)) if p[i] >= threshold] or [int(np.argmax(p))]
    ties = [(cands[i][0], cands[i][1]) for i in keep]
    named = {t for s, t in ties if s != UNKNOWN}
    return sorted({(s, t) for s, t in ties if s != UNKNOWN or t not in named})


def labelled_pairs(cands: list[list[tuple[str, str, str]]], gold: list[list[Tie]]) -> tuple[list[str], list[int], list[int]]:
    """(feature strings, 0/1 labels, sentence index) of every candidate of the gold sentences."""
    X, y, idx = [], [], []
    for i, (cs, g) in enumerate(zip(cands, gold)):
        for s, t, f in cs:
            X.append(f)
            y.append(int(any(same_actor(s, gs) and same_actor(t, gt) for gs, gt in g)))
            idx.append(i)
    return X, y, idx


def predict_ties(model, threshold: float, cands: list[list[tuple[str, str, str]]], is_blame) -> list[list[Tie]]:
    """Ties for every sentence (empty where ``is_blame`` is false)."""
    flat = [f for cs in cands for _, _, f in cs]
    P = model.predict_proba(flat)[:, 1] if flat else np.zeros(0)
    out, k = [], 0
    for cs, b in zip(cands, is_blame):
        out.append(decode(cs, P[k:k + len(cs)], threshold, bool(b)))
        k += len(cs)
    return out


@dataclass(frozen=True)
class TieModel:
    """A loaded tie extractor: the pair classifier, its threshold, the actor list and the card."""

    pipeline: object
    threshold: float
    actors: dict[str, str]
    card: dict
    aliases: Aliases

    @classmethod
    def of(cls, pipeline, threshold: float, actors: dict[str, str], card: dict) -> "TieModel":
        return cls(pipeline, threshold, actors, card, Aliases.of(actors))

    def extract(self, texts: list[str], article_ids: list[str], is_blame) -> list[list[Tie]]:
        """Ties per sentence; rows of one article must come in article order (references look back).  Only the
        articles with a blame sentence are read: most of a feed has none, and costs nothing here."""
        is_blame = np.asarray(is_blame, dtype=bool)
        keep = np.isin(np.asarray(article_ids, dtype=object), np.unique(np.asarray(article_ids, dtype=object)[is_blame]))
        idx = np.flatnonzero(keep)
        cands = article_candidates([texts[i] for i in idx], [article_ids[i] for i in idx], self.aliases, is_blame[idx])
        found = predict_ties(self.pipeline, self.threshold, cands, is_blame[idx])
        out: list[list[Tie]] = [[] for _ in texts]
        for i, ties in zip(idx, found):
            out[i] = ties
        return out


def load_tie_model(models_dir: str | Path) -> TieModel | None:
    """The project's tie extractor (``models/ties/``), or None when there is none; ModelError if it is broken."""
    from pipeline.labels.ties import read_actors
    from pipeline.model.artefact import MODEL_FILE, load

    folder = Path(models_dir) / TIES_FOLDER
    if not (folder / MODEL_FILE).exists():
        return None
    art = load(folder / MODEL_FILE)
    try:
        card = json.loads((folder / TIE_CARD).read_text(encoding="utf-8"))
        threshold = float(art["thresholds"]["tie"])
    except (OSError, ValueError, KeyError, TypeError):
        raise ModelError("the tie model's card or threshold cannot be read; retrain it with 'talks ties train'", folder) from None
    if not 0 < threshold < 1:
        raise ModelError(f"tie threshold {threshold} is outside (0, 1); retrain it with 'talks ties train'", folder)
    return TieModel.of(art["pipeline"], threshold, read_actors(folder / "actors.csv"), card)
