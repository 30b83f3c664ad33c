"""Stage 5: tag new coverage with a trained model.

Input is article files (ingested and split on the fly by the corpus code) or
tables of sentences with a ``text`` column (other columns are carried
through).  Work is streamed in chunks, so memory stays flat however many
articles come in; ``jobs > 1`` spreads the chunks over worker processes (fewer, or
none, when there are too few chunks to share), which start with this
process's loaded model where the platform forks (else load it once) and end
with the process that started them.

What a run guarantees:

* One output schema for the whole run (:func:`~pipeline.tagging.output.output_columns`, then the
  columns carried from the tables, in order of first appearance, empty where
  a row's input lacks them).  An input column named like an output column is
  carried as ``input_<name>`` (with a warning), never overwritten.
* Every row says where it comes from: the article's title, date, outlet, url
  and source file (a table's own columns of those names, else its path as
  the source), and the model that tagged it, with any threshold changed for
  the run (``tfidf-a5739769ea+blame=0.4``).
* Every table is read once before anything is written, so a table that
  cannot be tagged is skipped whole, as one error, like a bad article file.
* The outputs are checked before any work and replace their targets only at
  the end, and not at all when every input failed.
* Text never reaches an output with raw control characters (they are shown
  as Unicode control pictures), and CSV cells that a spreadsheet would run
  as formulas are prefixed with ``'`` unless ``raw_csv``.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack
from pathlib import Path

import numpy as np

from pipeline.errors import PipelineError
from pipeline.records import sentence_ids_for
from pipeline.store import TABLE_FORMATS, atomic_open, neutralise_formulas, open_args, table_format, write_frame
from pipeline.model.relevance import on_topic_rows
from pipeline.tagging.output import ID_COLUMNS, PROVENANCE, SummaryAccumulator, Writer, conform, output_columns, visible
from pipeline.model.selection import apply_thresholds, predict_proba
from pipeline.model.loading import load_model
from pipeline.model.ties import load_tie_model

# One chunk size for any --jobs: chunks are ingested independently, so equal
# chunks give byte-identical output.  48, not 16: each chunk pays a fixed
# cost (frames, the vectorisers' setup, the on-topic flag), 9% of the CPU
# time of 600 feed articles at 16; the feed still makes 38 chunks for two workers.
CHUNK_FILES = 48
CHUNK_ROWS = 5000
# A worker costs a process start; below this many chunks for each, fewer
# workers (down to none: the work runs in this process) finish sooner.
MIN_CHUNKS_PER_WORKER = 2
INPUT_PREFIX = "input_"


def worker_processes(jobs: int, files: int, chunk_files: int | None = None) -> int:
    """How many processes tag ``files`` article files with ``jobs`` asked for:
    1 (this process, no pool) unless each worker gets
    :data:`MIN_CHUNKS_PER_WORKER` chunks of ``chunk_files`` files
    (default :data:`CHUNK_FILES`)."""
    chunks = -(-files // _chunk_files(chunk_files))
    return max(1, min(resolve_jobs(jobs), chunks // MIN_CHUNKS_PER_WORKER))


def _chunk_files(chunk_files: int | None) -> int:
    # Read at call time, not bound as a default: a test may set CHUNK_FILES
    # for a whole CLI run, which has no chunk_files option.
    n = CHUNK_FILES if chunk_files is None else chunk_files
    if n < 1:
        raise PipelineError(f"chunk_files {n}: a chunk holds at least one article file")
    return n


def pool_context() -> multiprocessing.context.BaseContext:
    """The start method of the tagging pool, chosen here rather than left to Python's default.

    ``fork`` wherever the platform has it and it is safe (Linux, the BSDs):
    workers start with this process's loaded model and tokenizer.  Python
    3.14 makes ``forkserver`` the default on Linux, which would silently
    drop that and load the model again in every worker.  macOS has fork but
    its system libraries may crash in a forked child (why Python's default
    there is ``spawn``), and Windows has none: there the platform's default
    start method is used and each worker loads the model once from its folder
    (:func:`_init_worker`).
    """
    if sys.platform != "darwin" and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()


def resolve_jobs(jobs: int) -> int:
    """Worker processes for ``jobs``: -1 or 0 mean every core this process may use."""
    if jobs < -1:
        raise PipelineError(f"--jobs {jobs}: give a number of worker processes, or -1 (or 0) for all cores")
    if jobs > 0:
        return jobs
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def with_thresholds(model: dict, overrides: dict[str, float] | None) -> dict:
    """The model with some labels' decision thresholds replaced for this run.

    The change is recorded in the model id every row carries
    (:func:`tag_model_id`), so a tags file always says how it was tagged.
    """
    if not overrides:
        return model
    unknown = [lab for lab in overrides if lab not in model["labels"]]
    if unknown:
        raise PipelineError(f"--threshold: no label {', '.join(map(repr, unknown))}; the model's labels are {', '.join(model['labels'])}")
    bad = [lab for lab, v in overrides.items() if not 0.0 <= v <= 1.0]
    if bad:
        raise PipelineError(f"--threshold {bad[0]}={overrides[bad[0]]:g}: a threshold is a probability, between 0 and 1")
    return {**model, "thresholds": {**model["thresholds"], **overrides}, "overrides": dict(overrides)}


def tag_model_id(model: dict) -> str:
    """The model id, with ``+label=value`` for each threshold changed for the run."""
    changed = model.get("overrides") or {}
    return model["card"]["model_id"] + "".join(f"+{lab}={changed[lab]:g}" for lab in model["labels"] if lab in changed)


# --------------------------------------------------------------------------
# Tagging a frame of sentences
# --------------------------------------------------------------------------
def tag_frame(model: dict, df):
    """Add label and probability columns, the blame ties (empty without a tie model, or where blame is 0), the
    article's on-topic flag (of the article's rows in ``df``) and the model id to a frame with ``text`` and ``article_id`` (rows of one article in order: references look back)."""
    labels = model["labels"]
    P = predict_proba(model["pipeline"], df["text"].astype(str).tolist()) if len(df) else np.zeros((0, len(labels)))
    Yhat = apply_thresholds(P, model["thresholds"], labels)
    out = df.copy()
    for j, lab in enumerate(labels):
        out[lab] = Yhat[:, j]
    for j, lab in enumerate(labels):
        out[f"p_{lab}"] = np.round(P[:, j], 4)
    ties = model.get("ties")
    if ties is not None and len(df) and "blame" in labels:
        found = ties.extract(df["text"].astype(str).tolist(), df["article_id"].astype(str).tolist(), out["blame"].to_numpy() == 1)
        out["blame_ties"] = ["; ".join(f"{s} -> {t}" for s, t in tl) for tl in found]
    else:
        out["blame_ties"] = ""
    # The summary's flag on every row, so sentences of on-topic articles are one filter away (no join).
    out["on_topic"] = on_topic_rows(out, labels) if len(out) else False
    out["model_id"] = tag_model_id(model)
    return out


def is_table(path: str | Path) -> bool:
    return Path(path).suffix.lower() in TABLE_FORMATS and Path(path).is_file()


def _split_files(files: list[Path], errors: list):
    """The sentences of the files that could be read, and how many articles that was."""
    import pandas as pd

    from pipeline.corpus.ingest import iter_articles
    from pipeline.corpus.split import split_article

    rows, n = [], 0
    for art in iter_articles(files, errors):
        n += 1
        where = {"title": art.title, "date": art.date, "outlet": art.outlet, "url": art.url, "source": art.source}
        for s in split_article(art):
            rows.append({"article_id": s.article_id, "sentence_id": s.sentence_id, "position": s.position, "text": s.text, **where})
    return pd.DataFrame(rows, columns=[*ID_COLUMNS, *PROVENANCE]), n


def iter_table_chunks(path: Path, rename: dict[str, str] | None = None) -> Iterator[object]:
    """DataFrames of a sentence table, columns renamed by ``rename``; ids and
    provenance are filled in where the table has none."""
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
                raise PipelineError("no 'text' column; a sentence table needs one sentence per row in 'text'", path,
                                    1 if ext == ".csv" else first_row + 1)
            yield _fill_ids(chunk.reset_index(drop=True).rename(columns=rename or {}), path, first_row)
            first_row += len(chunk)
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError) as e:
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise PipelineError(f"cannot read sentence table ({msg}); check the file is valid, readable {ext[1:]}", path) from None


def _fill_ids(df, path: Path, first_row: int):
    df = df.copy()
    df["text"] = df["text"].fillna("").astype(str)  # a null cell is an empty sentence, not "None"
    if "article_id" not in df.columns:
        df["article_id"] = path.stem
    if "position" in df.columns:
        df["position"] = _whole_numbers(df["position"], path, first_row)
    else:
        df["position"] = range(first_row, first_row + len(df))
    if "sentence_id" not in df.columns:
        # Ids per chunk: a text repeated across chunks still gets a distinct id.
        df["sentence_id"] = sentence_ids_for(path.stem if first_row == 0 else f"{path.stem}:{first_row}", df["text"].tolist())
    for c in PROVENANCE:
        if c not in df.columns:
            df[c] = str(path) if c == "source" else None
    own = (*ID_COLUMNS, *PROVENANCE)
    return df[[*own, *(c for c in df.columns if c not in own)]]


def _whole_numbers(col, path: Path, first_row: int):
    """A table's ``position`` column as integers: every output has one type for it."""
    import pandas as pd

    pos = pd.to_numeric(col, errors="coerce")
    ok = (pos.notna() & np.isfinite(pos) & (pos % 1 == 0)).to_numpy()
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        raise PipelineError(f"row {first_row + i + 1}: position {col.iloc[i]!r} is not a whole number; "
                            "give each sentence's place in its article, or rename the column to carry it through", path)
    return pos.astype("int64")


def _scan_tables(tables: list[Path], labels, errors: list, warnings: list, with_types: bool):
    """Read every table once, before anything is written.

    A table that cannot be tagged (unreadable, no ``text``, bad positions) is
    skipped whole and recorded in ``errors``.  For the others: how to rename
    their columns, and the carried columns of the run in order of first
    appearance (with their Arrow types when ``with_types``, for Parquet).
    Returns ``[(path, rename)], carried, {column: type}``.
    """
    reserved = set(output_columns(labels))
    good, carried = [], {}
    for path in tables:
        cols: dict[str, set] = {}
        try:
            for chunk in iter_table_chunks(path):
                for c in chunk.columns[len(ID_COLUMNS) + len(PROVENANCE):]:
                    seen = cols.setdefault(c, set())
                    if with_types:
                        seen.add(_arrow_type(chunk[c]))
        except PipelineError as e:
            errors.append(e)
            continue
        rename, clashes = {}, []
        for c in cols:
            new = shown = visible(str(c))
            while new in reserved or (new != c and new in cols):
                new = INPUT_PREFIX + new
            if new != c:
                rename[c] = new
            if shown in reserved:
                clashes.append(f"{c} -> {new}")
        if clashes:
            warnings.append(f"{path}: input columns named like output columns are carried renamed: {', '.join(clashes)}")
        good.append((path, rename))
        for c, seen in cols.items():
            carried.setdefault(rename.get(c, c), set()).update(seen)
    return good, list(carried), {c: _unify(ts) for c, ts in carried.items()} if with_types else {}


def _arrow_type(col):
    import pyarrow as pa

    try:
        t = pa.Array.from_pandas(col).type
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return pa.string()  # mixed values: carried as text
    return pa.string() if t == pa.large_string() else t


def _unify(types: set):
    """One Arrow type for a column: the common one (ints and floats -> float), else text."""
    import pyarrow as pa

    known = [t for t in types if t != pa.null()]
    if not known:
        return pa.string()
    try:
        return pa.unify_schemas([pa.schema([("c", t)]) for t in known], promote_options="permissive").field("c").type
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.string()


# --------------------------------------------------------------------------
# The tag job
# --------------------------------------------------------------------------
_WORKER_MODEL: dict | None = None


class _NothingTagged(Exception):
    """Every input failed: leave the outputs as they were."""


def _init_worker(model: dict | str, parent: int, overrides: dict[str, float] | None) -> None:
    """``model`` is the parent's loaded model when the worker is forked (it
    arrives with the parent's memory, nothing to read or import again), else
    the model folder's path, loaded once here."""
    global _WORKER_MODEL
    _die_with_parent(parent)
    # Ctrl-C is the parent's to handle; a worker would only print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _WORKER_MODEL = model if isinstance(model, dict) else with_thresholds(load_model(model), overrides)


def _die_with_parent(parent: int) -> None:
    """End this worker when the tagging process ends, even by SIGKILL: nobody
    would read its results, and it would hold a core and the model's memory."""
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    else:  # no parent-death signal: watch for being handed to another parent
        import threading
        import time

        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(0.2)
            os._exit(1)

        threading.Thread(target=watch, daemon=True).start()
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)


def tag_files(model: dict, files: list[str]) -> tuple[object, list[str], int]:
    """One chunk of article files tagged: the frame, the files' error
    messages, and how many articles were read.  Both engines (the local pool
    and Dask) tag exactly this unit, so their rows are the same."""
    errors: list = []
    df, n = _split_files([Path(f) for f in files], errors)
    return tag_frame(model, df), [str(e) for e in errors], n


def _tag_files_in_worker(files: list[str]):
    return tag_files(_WORKER_MODEL, files)


def tag(
    inputs: Iterable[str | Path],
    out: str,
    summary: str | None = None,
    model: str | Path | None = None,
    models_dir: str | Path = "models",
    jobs: int = 1,
    progress: Callable[..., None] | None = None,
    raw_csv: bool = False,
    thresholds: dict[str, float] | None = None,
    chunk_files: int | None = None,
) -> dict:
    """Tag every sentence of the inputs; write ``out`` (and ``summary``); return counts.

    Bad article files and tables are skipped and listed in ``errors``.  The
    outputs are checked (format, folder, permissions, not the same file)
    before any work, and replace their targets only at the end of a run that
    tagged at least one input; ``written`` is False when every input failed
    and the old files were kept.  ``raw_csv`` leaves formula-like CSV cells
    as they are.  ``jobs`` -1 or 0 uses every core.  ``thresholds`` replaces
    some labels' thresholds ({"blame": 0.4}), recorded in the model id.
    ``progress(n, total=None)`` is called once with the number of inputs
    (article files and tables) as ``total``, then with each batch done.
    ``chunk_files`` is how many article files make one unit of work (default
    :data:`CHUNK_FILES`); the rows are the same for any value, but smaller
    chunks let a small input use the worker pool (a dozen files with
    ``chunk_files=1`` and ``jobs=2`` start two workers).  ``processes`` in
    the result is how many processes tagged (1: no pool was started).
    """
    from pipeline.corpus.discover import expand_inputs

    fmt = "csv" if out == "-" else table_format(out)
    sum_fmt = table_format(summary) if summary else None
    if summary and out != "-" and _same_file(out, summary):
        raise PipelineError("the summary would overwrite the tags; give it another file name", summary)
    errors: list = []
    warnings: list[str] = []
    res = {"sentences": 0, "articles": None, "files": 0, "tables": 0, "warnings": warnings, "out": out,
           "model_id": None, "written": False, "processes": 1}
    try:
        with ExitStack() as stack:
            # Opened before any work: an output that cannot be written stops the run at once.
            f = sys.stdout if out == "-" else stack.enter_context(atomic_open(out, **open_args(fmt)))
            sf = stack.enter_context(atomic_open(summary, **open_args(sum_fmt))) if summary else None
            m = with_thresholds(load_model(model, models_dir), thresholds)
            m = {**m, "ties": load_tie_model(models_dir)}
            warnings += m["warnings"]
            inputs = [str(i) for i in inputs]
            tables = [Path(i) for i in inputs if is_table(i)]
            others = [i for i in inputs if not is_table(i)]
            # A folder may hold tables too; they are sentence tables, not articles.
            files = [p for p in expand_inputs(others, errors) if p.suffix.lower() not in TABLE_FORMATS] if others else []
            chunk_files = _chunk_files(chunk_files)
            jobs = res["processes"] = worker_processes(jobs, len(files), chunk_files)
            good, carried, types = _scan_tables(tables, m["labels"], errors, warnings, with_types=fmt == "parquet")
            columns = [*output_columns(m["labels"]), *carried]
            if progress:
                progress(0, total=len(files) + len(tables))
            writer = Writer(f, fmt, columns, m["labels"], types, spreadsheet=not raw_csv)
            acc = SummaryAccumulator(m["labels"]) if summary else None
            tagged_inputs = len(good)
            for df, n in _tagged_chunks(m, files, good, jobs, errors, progress, chunk_files):
                df = conform(df, columns)
                writer.write(df)
                if acc:
                    acc.add(df)
                tagged_inputs += n
            res.update(sentences=writer.rows, files=len(files), tables=len(tables), model_id=tag_model_id(m),
                       articles=acc.n_articles if acc else None)
            if errors and not tagged_inputs:
                raise _NothingTagged
            writer.finish()
            if sf is not None:
                summ = acc.frame()
                write_frame(neutralise_formulas(summ) if sum_fmt == "csv" and not raw_csv else summ, sf, sum_fmt)
                res["summary"] = summary
        res["written"] = True
    except _NothingTagged:
        pass
    res["errors"] = [str(e) for e in errors]
    return res


def _same_file(a: str, b: str) -> bool:
    if Path(a).exists() and Path(b).exists():
        return os.path.samefile(a, b)
    return Path(a).resolve() == Path(b).resolve()


def _tagged_chunks(m, files, tables, jobs, errors, progress, chunk_files: int = CHUNK_FILES):
    """Tagged frames, with how many article files each read: the article files
    chunk by chunk (over ``jobs`` worker processes), then the tables."""
    chunks = [[str(f) for f in files[i : i + chunk_files]] for i in range(0, len(files), chunk_files)]
    pool = None
    if jobs > 1:
        ctx = pool_context()
        model = str(m["path"])
        if ctx.get_start_method() == "fork":
            from pipeline.corpus.split import warm_up

            warm_up()
            model = m
        pool = ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_init_worker,
                                   initargs=(model, os.getpid(), m.get("overrides")))
        # map keeps input order, so the output is the same for any --jobs.
        results = pool.map(_tag_files_in_worker, chunks)
    else:
        results = (tag_files(m, c) for c in chunks)
    try:
        for chunk, (df, errs, n) in zip(chunks, results):
            errors.extend(errs)
            if progress:
                progress(len(chunk))
            yield df, n
    except BrokenProcessPool:
        raise PipelineError("a worker process died (out of memory, or killed); run again, with fewer --jobs") from None
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)  # on an error, do not wait for the chunks not started
    for path, rename in tables:
        for df in iter_table_chunks(path, rename):
            yield tag_frame(m, df), 0
        if progress:
            progress(1)


