"""The labels as they stand: every store with its pending journal folded in, checked against the
corpus (orphans, moved and edited sentences), and resolved into gold -- adjudication, else the
annotators' strict majority -- the one table ``train`` learns from.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.errors import LabelError
from pipeline.labels.journal import JOURNAL_DIR, fold_journal, journal_of
from pipeline.labels.store import (
    ADJUDICATIONS,
    GOLD_COLUMNS,
    VALUE_COLUMNS,
    Problem,
    duplicate_problems,
    is_store_name,
    read_store_csv,
    row_problems,
    rows_frame,
    store_files,
    store_kind,
)
from pipeline.project import Project
from pipeline.records import LABELS

if TYPE_CHECKING:  # pandas is imported lazily: the CLI starts faster without it
    import pandas as pd


# --------------------------------------------------------------------------
# Every store, checked against the corpus
# --------------------------------------------------------------------------
def _all_store_paths(labels_dir: str | Path) -> list[tuple[Path, str]]:
    """(path, kind) for every annotator store and the adjudication file,
    including stores that so far exist only as a pending journal."""
    d = Path(labels_dir)
    paths = {p: "annotator" for p in store_files(d)}
    adj = d / ADJUDICATIONS
    if adj.is_file():
        paths[adj] = "adjudication"
    jdir = d / JOURNAL_DIR
    if jdir.is_dir():
        for j in jdir.glob("*.jsonl"):
            p = d / f"{j.stem}.csv"
            if p.name == ADJUDICATIONS:
                paths.setdefault(p, "adjudication")
            elif is_store_name(p.name) and j.stat().st_size > 0:
                paths.setdefault(p, "annotator")
    return sorted(paths.items(), key=lambda kv: (kv[1] == "adjudication", kv[0].name))


def collect_labels(project: Project) -> tuple[list[dict], list[Problem], pd.DataFrame]:
    """Every store's effective rows (journal folded in) in ``project.labels``, every problem,
    and the corpus sentences of ``project.corpus`` they were checked against.

    Rows carry ``ok`` = no error-level problem, so tolerant readers (stats)
    can skip bad rows while strict ones (gold) stop at the first problem.
    """
    from pipeline.corpus.store import load_sentences

    sents = load_sentences(project.corpus)
    corpus = {sid: (aid, text) for sid, aid, text in zip(sents["sentence_id"], sents["article_id"], sents["text"])}
    rows_out: list[dict] = []
    problems: list[Problem] = []
    for path, kind in _all_store_paths(project.labels):
        rows, file_problems = read_store_csv(path, kind)
        problems += file_problems + duplicate_problems(rows)
        bad_header = any(not pr.warning and pr.line == 1 and "column" in pr.message for pr in file_problems)
        jpath = journal_of(path)
        folded = fold_journal(rows, jpath, kind)
        if not folded and path.exists() and not file_problems:
            # a warning, not an error: an empty store holds no wrong label and training is
            # unaffected, but a store wiped by accident must not pass unnoticed
            problems.append(Problem(str(path), None, "no rows: the store holds only its header",
                                    "restore it from git if rows were lost, or delete it if it is not needed", warning=True))
        live = {id(r) for r in folded}
        # rows superseded by a duplicate or a journal decision are still in the file: report them
        problems += [q for r in rows if id(r) not in live for q in row_problems(r)]
        for r in folded:
            rp = row_problems(r) + _corpus_problems(r, corpus)
            r["ok"] = not bad_header and not any(not q.warning for q in rp)
            problems += rp
            rows_out.append(r)
    problems = sorted(set(problems), key=lambda q: (q.path, q.line or 0, q.message))
    return rows_out, problems, sents


def _corpus_problems(r: dict, corpus: dict) -> list[Problem]:
    """Orphan ids, moved sentences and edited texts: the store against the corpus."""
    sid = r["sentence_id"].strip()
    if not sid:
        return []
    if sid not in corpus:
        return [Problem(r["file"], r["line"], f"sentence {sid} is not in the corpus (orphan: its article was removed or its text changed)", "delete the row, or label the sentence again under its new id")]
    out = []
    aid, text = corpus[sid]
    if r["article_id"].strip() != aid:
        out.append(Problem(r["file"], r["line"], f"article_id {r['article_id']!r} but the corpus has {aid!r} for sentence {sid}", f"set article_id to {aid}"))
    if _ws(r["text"]) != _ws(text):
        out.append(Problem(r["file"], r["line"], f"text no longer matches the corpus text of sentence {sid}", f"check the label still fits and copy the corpus text: {text!r}"))
    return out


def _ws(text: str) -> str:
    return " ".join(str(text).split())


def find_problems(project: Project) -> list[Problem]:
    """Every problem in every store of the project, sorted by file and line (warnings included)."""
    return collect_labels(project)[1]


def check_labels(project: Project) -> list[str]:
    """Every problem as ``path:line: message; fix`` (empty list: all good)."""
    return [str(p) for p in find_problems(project)]


def load_labels(project: Project) -> pd.DataFrame:
    """All of the project's stores' rows (pending journal decisions included) as a DataFrame with
    :data:`ALL_COLUMNS` (``suggested`` is '' where a store has no such column)
    plus ``file``, ``line`` and ``kind`` (annotator or adjudication).  Raises
    LabelError on the first error-level problem."""
    rows, problems, _ = collect_labels(project)
    for p in problems:
        if not p.warning:
            raise p.error()
    return rows_frame(rows)


def read_store(path: str | Path) -> pd.DataFrame:
    """One store file (its pending journal folded in) as a DataFrame; raises
    LabelError on the first row problem.  No corpus needed."""
    path = Path(path)
    if not path.exists():
        raise LabelError("label file not found; check the path", path)
    kind = store_kind(path)
    rows, problems = read_store_csv(path, kind)
    problems += [q for r in rows for q in row_problems(r)] + duplicate_problems(rows)
    rows = fold_journal(rows, journal_of(path), kind)
    problems += [q for r in rows if str(r["file"]) != str(path) for q in row_problems(r)]
    for p in sorted(problems, key=lambda q: (q.path, q.line or 0)):
        if not p.warning:
            raise p.error()
    return rows_frame(rows)


# --------------------------------------------------------------------------
# Gold labels
# --------------------------------------------------------------------------
def resolve_gold(df: pd.DataFrame) -> pd.DataFrame:
    """One decision per sentence: adjudication, else majority vote (ties -> 0).

    Junk is decided by the same rule.  Returns sentence_id, the labels, junk,
    n_annotators, sorted by sentence id.
    """
    import pandas as pd

    cols = ["sentence_id", *VALUE_COLUMNS, "n_annotators"]
    if df.empty:
        return pd.DataFrame(columns=cols)
    ann = df[df["kind"] == "annotator"]
    g = ann.groupby("sentence_id")
    n = g.size()
    votes = g[list(VALUE_COLUMNS)].sum()
    # strict majority: a tie means annotators were torn, and the guidelines say "when torn, say no"
    decided = (votes.mul(2).gt(n, axis=0)).astype(int)
    decided["n_annotators"] = n
    adj = df[df["kind"] == "adjudication"].drop_duplicates("sentence_id", keep="last").set_index("sentence_id")
    if not adj.empty:
        a = adj[list(VALUE_COLUMNS)].astype(int)
        a["n_annotators"] = n.reindex(a.index).fillna(0).astype(int)
        decided = pd.concat([decided.drop(index=a.index, errors="ignore"), a])
    out = decided.reset_index().rename(columns={"index": "sentence_id"})
    out = out[cols].sort_values("sentence_id").reset_index(drop=True)
    for c in cols[1:]:
        out[c] = out[c].astype(int)
    # a junk decision wins over any label votes: a junk sentence carries no labels
    for c in LABELS:
        out.loc[out["junk"] == 1, c] = 0
    return out


def gold_with_junk(project: Project) -> pd.DataFrame:
    """The project's gold decisions with junk sentences kept (``junk`` = 1), their article ids and texts beside them."""
    from pipeline.corpus.store import load_sentences

    resolved = resolve_gold(load_labels(project))
    sents = load_sentences(project.corpus)[["sentence_id", "article_id", "text"]]
    out = resolved.merge(sents, on="sentence_id", how="left")
    return out[["sentence_id", "article_id", "text", *VALUE_COLUMNS, "n_annotators"]]


def gold_labels(project: Project) -> pd.DataFrame:
    """The project's training table: one row per non-junk labelled sentence, columns
    :data:`GOLD_COLUMNS`, sorted by sentence id.  Raises LabelError (file and
    line) on the first problem in any store."""
    g = gold_with_junk(project)
    return g[g["junk"] == 0][list(GOLD_COLUMNS)].reset_index(drop=True)


def labels_hash(df: pd.DataFrame) -> str:
    """sha256 over the gold rows (sentence id + labels), for the model card."""
    h = hashlib.sha256()
    for row in df.sort_values("sentence_id")[["sentence_id", *LABELS]].itertuples(index=False):
        h.update((",".join(str(v) for v in row) + "\n").encode("utf-8"))
    return h.hexdigest()
