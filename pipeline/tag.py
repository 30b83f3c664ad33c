"""Stage 5: tag new coverage with a trained model.

Input is article files (ingested and split on the fly by the corpus code) or
a table of sentences with a ``text`` column (other columns are carried
through).  Work is streamed in chunks, so memory stays flat however many
articles come in; ``jobs > 1`` spreads the chunks over worker processes, each
loading the model once.  Output rows: article id, sentence id, position,
text, one 0/1 column per label, one ``p_<label>`` column per label, model id.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np

from .errors import PipelineError
from .records import LABELS, sentence_ids_for
from .train import apply_thresholds, encoders, feature_term, load_model, predict_proba

TABLE_SUFFIXES = {".csv", ".jsonl", ".ndjson", ".parquet"}
CHUNK_FILES = 64
WORKER_CHUNK_FILES = 16
CHUNK_ROWS = 5000


# --------------------------------------------------------------------------
# Tagging a frame of sentences
# --------------------------------------------------------------------------
def tag_frame(model: dict, df):
    """Add label and probability columns (and the model id) to a frame with ``text``."""
    labels = model["labels"]
    P = predict_proba(model["pipeline"], df["text"].astype(str).tolist()) if len(df) else np.zeros((0, len(labels)))
    Yhat = apply_thresholds(P, model["thresholds"], labels)
    out = df.copy()
    for j, lab in enumerate(labels):
        out[lab] = Yhat[:, j]
    for j, lab in enumerate(labels):
        out[f"p_{lab}"] = np.round(P[:, j], 4)
    out["model_id"] = model["card"]["model_id"]
    return out


def explain(model: dict, text: str, top: int = 8, labels_dir: str | Path | None = None, corpus_root: str | Path | None = None) -> dict:
    """Each label's probability and what pushed it up or down.

    The model is linear in its features, so a feature's contribution to the
    log-odds is exactly coefficient x feature value.  TF-IDF features are
    shown as terms; the 384 dimensions of a sentence embedding mean nothing
    one by one, so they are summed into one "[sentence embedding]" entry and,
    when ``labels_dir`` is given, the most similar labelled sentences are
    listed instead.
    """
    pipe = model["pipeline"]
    vec = pipe.named_steps["features"]
    clf = pipe.named_steps["clf"]
    x = vec.transform([text])
    row = x.tocsr() if hasattr(x, "tocsr") else _sparse_row(x)
    names = np.asarray(vec.get_feature_names_out())
    P = predict_proba(pipe, [text])[0]
    out = {"text": text, "model_id": model["card"]["model_id"], "labels": [], "nearest": []}
    idx, vals = row.indices, row.data
    terms_of = [feature_term(n) for n in names[idx]]
    is_emb = np.array([t is None for t in terms_of], dtype=bool)
    for j, lab in enumerate(model["labels"]):
        est = clf.estimators_[j]
        entry = {"label": lab, "probability": round(float(P[j]), 4), "threshold": model["thresholds"][lab],
                 "tagged": bool(P[j] >= model["thresholds"][lab]), "intercept": None, "up": [], "down": []}
        if hasattr(est, "coef_"):  # else: a label constant in training
            contrib = est.coef_[0][idx] * vals
            terms = [(terms_of[k], float(contrib[k])) for k in np.flatnonzero(~is_emb)]
            if is_emb.any():
                terms.append(("[sentence embedding]", float(contrib[is_emb].sum())))
            terms.sort(key=lambda t: t[1])
            entry["intercept"] = round(float(est.intercept_[0]), 4)
            entry["up"] = [{"term": t, "weight": round(w, 4)} for t, w in reversed(terms[-top:]) if w > 0]
            entry["down"] = [{"term": t, "weight": round(w, 4)} for t, w in terms[:top] if w < 0]
        out["labels"].append(entry)
    encoder = next(iter(encoders(vec)), None)
    if encoder is not None and labels_dir is not None:
        from .embed import nearest
        from .labels import gold_labels

        gold = gold_labels(labels_dir, corpus_root or "corpus")
        near = nearest(encoder.transform(gold["text"].tolist()), gold, encoder.transform([text])[0], k=top)
        out["nearest"] = [
            {"text": r["text"], "similarity": round(float(r["similarity"]), 4), "labels": [l for l in model["labels"] if r[l]]}
            for _, r in near.iterrows()
        ]
    return out


def _sparse_row(x):
    from scipy.sparse import csr_matrix

    return csr_matrix(x)


# --------------------------------------------------------------------------
# Streaming inputs
# --------------------------------------------------------------------------
def is_table(path: str | Path) -> bool:
    return Path(path).suffix.lower() in TABLE_SUFFIXES and Path(path).is_file()


def _split_files(files: list[Path], errors: list):
    import pandas as pd

    from .ingest import iter_articles
    from .split import split_article

    rows = []
    for art in iter_articles(files, errors):
        for s in split_article(art):
            rows.append({"article_id": s.article_id, "sentence_id": s.sentence_id, "position": s.position, "text": s.text})
    return pd.DataFrame(rows, columns=["article_id", "sentence_id", "position", "text"])


def iter_table_chunks(path: Path) -> Iterator[object]:
    """DataFrames of a sentence table; ids are filled in where the table has none."""
    import pandas as pd

    ext = path.suffix.lower()
    try:
        if ext == ".csv":
            reader = pd.read_csv(path, dtype=str, keep_default_na=False, chunksize=CHUNK_ROWS)
        elif ext in (".jsonl", ".ndjson"):
            reader = pd.read_json(path, lines=True, dtype=False, chunksize=CHUNK_ROWS)
        else:
            reader = [pd.read_parquet(path)]
        first_row = 0
        for chunk in reader:
            if "text" not in chunk.columns:
                raise PipelineError("no 'text' column; a sentence table needs one sentence per row in 'text'", path, 1)
            yield _fill_ids(chunk.reset_index(drop=True), path, first_row)
            first_row += len(chunk)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as e:
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise PipelineError(f"cannot read sentence table ({msg}); check the file is valid {ext[1:]}", path) from None


def _fill_ids(df, path: Path, first_row: int):
    df = df.copy()
    df["text"] = df["text"].fillna("").astype(str)  # a null cell is an empty sentence, not "None"
    if "article_id" not in df.columns:
        df["article_id"] = path.stem
    if "position" not in df.columns:
        df["position"] = range(first_row, first_row + len(df))
    if "sentence_id" not in df.columns:
        # Ids per chunk: a text repeated across chunks still gets a distinct id.
        df["sentence_id"] = sentence_ids_for(path.stem if first_row == 0 else f"{path.stem}:{first_row}", df["text"].tolist())
    front = ["article_id", "sentence_id", "position", "text"]
    return df[front + [c for c in df.columns if c not in front]]


# --------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------
class _Writer:
    """Streams frames to CSV / JSONL / Parquet (or stdout), atomically for files."""

    def __init__(self, out: str):
        self.out = out
        self.ext = ".csv" if out == "-" else Path(out).suffix.lower()
        if self.ext not in (".csv", ".jsonl", ".ndjson", ".parquet"):
            raise PipelineError("unknown output format; name the output .csv, .jsonl or .parquet (or '-' for CSV on stdout)", out)
        if out == "-" and self.ext == ".parquet":
            raise PipelineError("Parquet cannot go to stdout; give a file name", out)
        self.rows = 0
        self._header = True
        self._pq = None
        if out == "-":
            self._f = sys.stdout
            self._tmp = None
        else:
            import tempfile

            path = Path(out)
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, self._tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            self._f = os.fdopen(fd, "wb" if self.ext == ".parquet" else "w", encoding=None if self.ext == ".parquet" else "utf-8", newline=None if self.ext == ".parquet" else "")

    def write(self, df) -> None:
        if self.ext == ".csv":
            df.to_csv(self._f, index=False, header=self._header, lineterminator="\n")
        elif self.ext in (".jsonl", ".ndjson"):
            if len(df):
                df.to_json(self._f, orient="records", lines=True, force_ascii=False)
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(df, preserve_index=False)
            if self._pq is None:
                self._pq = pq.ParquetWriter(self._f, table.schema)
            self._pq.write_table(table.cast(self._pq.schema) if table.schema != self._pq.schema else table)
        self._header = False
        self.rows += len(df)

    def close(self, ok: bool) -> None:
        if self._pq is not None:
            self._pq.close()
        if self._tmp is None:
            self._f.flush()
            return
        if ok:
            self._f.flush()
            os.fsync(self._f.fileno())
        self._f.close()
        if ok:
            os.replace(self._tmp, self.out)
        else:
            Path(self._tmp).unlink(missing_ok=True)


# --------------------------------------------------------------------------
# The tag job
# --------------------------------------------------------------------------
_WORKER_MODEL: dict | None = None


def _init_worker(model_path: str) -> None:
    global _WORKER_MODEL
    _WORKER_MODEL = load_model(model_path)


def _tag_files(model: dict, files: list[str]):
    errors: list = []
    df = _split_files([Path(f) for f in files], errors)
    return tag_frame(model, df), [str(e) for e in errors]


def _tag_files_in_worker(files: list[str]):
    return _tag_files(_WORKER_MODEL, files)


def tag(
    inputs: Iterable[str | Path],
    out: str,
    summary: str | None = None,
    model: str | Path | None = None,
    models_dir: str | Path = "models",
    jobs: int = 1,
    progress: Callable[[int], None] | None = None,
) -> dict:
    """Tag every sentence of the inputs; write ``out`` (and ``summary``); return counts.

    Bad article files are skipped and listed in ``errors``; the output is
    only put in place when the whole run succeeded.
    """
    from .ingest import expand_inputs

    m = load_model(model, models_dir)
    inputs = [str(i) for i in inputs]
    tables = [Path(i) for i in inputs if is_table(i)]
    others = [i for i in inputs if not is_table(i)]
    # A folder may hold tables too; they are sentence tables, not articles.
    files = [f for f in expand_inputs(others) if f.suffix.lower() not in TABLE_SUFFIXES] if others else []
    writer = _Writer(out)
    acc = _SummaryAccumulator(m["labels"]) if summary else None
    errors: list = []
    ok = False
    try:
        for df in _tagged_chunks(m, files, tables, jobs, errors, progress):
            writer.write(df)
            if acc:
                acc.add(df)
        ok = True
    finally:
        writer.close(ok)
    res = {"sentences": writer.rows, "articles": acc.n_articles if acc else None, "files": len(files), "tables": len(tables),
           "errors": [str(e) for e in errors], "out": out, "model_id": m["card"]["model_id"], "warnings": m["warnings"]}
    if summary:
        from .store import write_table

        write_table(acc.frame(), summary)
        res["summary"] = summary
        res["articles"] = acc.n_articles
    return res


def _tagged_chunks(m, files, tables, jobs, errors, progress):
    from contextlib import nullcontext

    # Workers get smaller chunks so both stay busy on a modest batch.
    size = CHUNK_FILES if jobs == 1 else WORKER_CHUNK_FILES
    chunks = [[str(f) for f in files[i : i + size]] for i in range(0, len(files), size)]
    if jobs > 1 and chunks:
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker, initargs=(str(m["path"]),))
    else:
        pool = nullcontext()
    with pool as ex:
        # map keeps input order, so the output is the same for any --jobs.
        results = ex.map(_tag_files_in_worker, chunks) if ex else (_tag_files(m, c) for c in chunks)
        for chunk, (df, errs) in zip(chunks, results):
            errors.extend(errs)
            if progress:
                progress(len(chunk))
            yield df
    for t in tables:
        for df in iter_table_chunks(t):
            yield tag_frame(m, df)


class _SummaryAccumulator:
    """Per article: sentence count, share per label, top sentence per label.

    Keeps one small record per article, not the sentences, so it streams.
    """

    def __init__(self, labels):
        self.labels = labels
        self.arts: dict[str, dict] = {}

    @property
    def n_articles(self) -> int:
        return len(self.arts)

    def add(self, df) -> None:
        for aid, g in df.groupby("article_id", sort=False):
            a = self.arts.setdefault(aid, {"article_id": aid, "sentences": 0, **{f"n_{l}": 0 for l in self.labels}, **{f"top_{l}": (-1.0, "") for l in self.labels}})
            a["sentences"] += len(g)
            for lab in self.labels:
                a[f"n_{lab}"] += int(g[lab].sum())
                k = int(np.argmax(g[f"p_{lab}"].to_numpy()))
                p = float(g[f"p_{lab}"].iloc[k])
                if p > a[f"top_{lab}"][0]:
                    a[f"top_{lab}"] = (p, str(g["text"].iloc[k]))

    def frame(self):
        import pandas as pd

        rows = []
        for a in self.arts.values():
            r = {"article_id": a["article_id"], "sentences": a["sentences"]}
            for lab in self.labels:
                r[f"share_{lab}"] = round(a[f"n_{lab}"] / a["sentences"], 4) if a["sentences"] else 0.0
            for lab in self.labels:
                p, text = a[f"top_{lab}"]
                r[f"top_{lab}"] = text if a[f"n_{lab}"] else ""
                r[f"top_p_{lab}"] = round(p, 4)
            rows.append(r)
        return pd.DataFrame(rows)
