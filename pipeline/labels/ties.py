"""Blame ties (who blames whom): the actor list, the tie label files, the gold ties and their agreement.

The guidelines' section "Who blames whom" says what a tie is.  The actor list
``labels/ties/actors.csv`` (``actor,aliases``, aliases separated by ``|``)
gives every listed actor one canonical name.  Each annotator's ties live in
``labels/ties/<round>/pass<N>/batch-NN.jsonl`` (one line per blame sentence:
``{"sentence_id", "ties": [[source, target], ...]}``); a third reader's
decisions where two passes differ in ``labels/ties/<round>/adjudication.jsonl``.
:func:`gold_ties` resolves them into one tie set per sentence.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import LabelError
from pipeline.project import Project
from pipeline.store import read_table

TIES_DIR = "ties"
ACTORS_FILE = "actors.csv"
UNKNOWN = "UNKNOWN"
Tie = tuple[str, str]


def actors_path(labels_dir: str | Path) -> Path:
    return Path(labels_dir) / TIES_DIR / ACTORS_FILE


def load_actors(labels_dir: str | Path) -> dict[str, str]:
    """Alias -> canonical name for every listed actor of the project (:func:`read_actors` of its list)."""
    return read_actors(actors_path(labels_dir))


def read_actors(path: str | Path) -> dict[str, str]:
    """Alias -> canonical name for every actor of an actor list (each canonical name is its own alias)."""
    path = Path(path)
    if not path.exists():
        raise LabelError("no actor list; it is a CSV with the columns actor,aliases (aliases separated by |)", path)
    df = read_table(path, dtype=str)
    if list(df.columns[:2]) != ["actor", "aliases"]:
        raise LabelError("the header must be actor,aliases", path, 1)
    out: dict[str, str] = {}
    for i, r in enumerate(df.to_dict("records"), 2):
        actor = (r["actor"] or "").strip()
        if not actor:
            raise LabelError("empty actor name; give the canonical name first", path, i)
        for alias in [actor, *(a.strip() for a in (r["aliases"] or "").split("|"))]:
            if alias:
                out[alias] = actor
    return out


def read_tie_file(path: str | Path) -> dict[str, list[Tie]]:
    """Sentence id -> its ties, from one annotator's (or the adjudicator's) JSONL file."""
    path = Path(path)
    out: dict[str, list[Tie]] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            ties = [(str(s).strip(), str(t).strip()) for s, t in rec["ties"]]
            sid = str(rec["sentence_id"]).strip()
        except (ValueError, KeyError, TypeError):
            raise LabelError('not a tie record; each line is {"sentence_id": ..., "ties": [[source, target], ...]}',
                             path, n) from None
        if any(not s or not t for s, t in ties):
            raise LabelError("a tie with an empty source or target; write UNKNOWN for an unnamed source", path, n)
        out[sid] = sorted(set(ties))
    return out


def name_key(name: str) -> str:
    """A name as compared: lower case, without punctuation or a leading article."""
    key = re.sub(r"[^\w\s]", " ", name.lower())
    key = re.sub(r"^\s*the\s+", "", key)
    return " ".join(key.split())


def same_actor(a: str, b: str) -> bool:
    """Two names of one actor: the same key, or every word of the shorter one in the longer
    ("Trump" and "Donald Trump"), UNKNOWN only matching UNKNOWN."""
    ka, kb = name_key(a), name_key(b)
    if ka == kb:
        return True
    if UNKNOWN.lower() in (ka, kb) or not ka or not kb:
        return False
    wa, wb = set(ka.split()), set(kb.split())
    return wa <= wb or wb <= wa


def match_ties(gold: list[Tie], predicted: list[Tie]) -> int:
    """How many predicted ties match a gold tie (each gold tie matched once)."""
    left = list(gold)
    hits = 0
    for s, t in predicted:
        for i, (gs, gt) in enumerate(left):
            if same_actor(s, gs) and same_actor(t, gt):
                hits += 1
                del left[i]
                break
    return hits


@dataclass(frozen=True)
class TieScores:
    """Tie-level precision, recall and F1 of ``predicted`` against ``gold``, and the counts behind them."""

    precision: float
    recall: float
    f1: float
    gold: int
    predicted: int
    matched: int


def tie_scores(gold: dict[str, list[Tie]], predicted: dict[str, list[Tie]]) -> TieScores:
    """Micro-averaged over sentences: a predicted tie on a sentence with no gold ties is a false positive."""
    g = sum(len(v) for v in gold.values())
    p = sum(len(v) for v in predicted.values())
    m = sum(match_ties(gold.get(sid, []), ties) for sid, ties in predicted.items())
    prec = m / p if p else 0.0
    rec = m / g if g else 0.0
    return TieScores(prec, rec, 2 * prec * rec / (prec + rec) if prec + rec else 0.0, g, p, m)


def tie_rounds(labels_dir: str | Path) -> list[Path]:
    """The tie labelling rounds (folders with pass1/ and pass2/) under ``labels/ties``."""
    root = Path(labels_dir) / TIES_DIR
    return sorted(p for p in root.glob("*") if (p / "pass1").is_dir() and (p / "pass2").is_dir())


def pass_ties(labels_dir: str | Path) -> tuple[dict[str, list[Tie]], dict[str, list[Tie]], dict[str, list[Tie]]]:
    """(pass 1, pass 2, adjudication) ties of every round, by sentence id."""
    a: dict[str, list[Tie]] = {}
    b: dict[str, list[Tie]] = {}
    adj: dict[str, list[Tie]] = {}
    for rnd in tie_rounds(labels_dir):
        for f in sorted((rnd / "pass1").glob("*.jsonl")):
            a.update(read_tie_file(f))
        for f in sorted((rnd / "pass2").glob("*.jsonl")):
            b.update(read_tie_file(f))
        for f in sorted(rnd.glob("adjudication*.jsonl")):
            adj.update(read_tie_file(f))
    return a, b, adj


def differs(x: list[Tie], y: list[Tie]) -> bool:
    """Do two tie sets of one sentence differ (names compared by :func:`same_actor`)?"""
    return len(x) != len(y) or match_ties(x, y) != len(x)


def gold_ties(project: Project) -> dict[str, list[Tie]]:
    """Sentence id -> its gold ties: the two passes where they agree, the adjudication where they do not.

    LabelError naming a sentence whose passes differ and that no adjudication decides."""
    a, b, adj = pass_ties(project.labels)
    out: dict[str, list[Tie]] = {}
    for sid in sorted(set(a) & set(b)):
        if sid in adj:
            out[sid] = adj[sid]
        elif differs(a[sid], b[sid]):
            raise LabelError(f"the two passes give sentence {sid} different ties and no adjudication decides it; "
                             "add it to the round's adjudication.jsonl", Path(project.labels) / TIES_DIR)
        else:
            out[sid] = a[sid]
    return out
