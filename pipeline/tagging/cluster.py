"""Tag on a Dask cluster: ``talks tag --engine dask [--scheduler ADDRESS]``.

The same job as :func:`pipeline.tagging.tag.tag` on article files, spread over the
workers of a Dask cluster (a ``LocalCluster`` of one process per core when no
scheduler address is given), written as a folder of Parquet files.

What a run guarantees, beyond the local engine's:

* The same rows, in the same order, with the same values and types as
  ``talks tag ... --out x.parquet``: files are chunked exactly as the local
  engine chunks them (:data:`pipeline.tagging.tag.CHUNK_FILES`, the unit inside which
  two files of one name get ``-2`` ids), each chunk is tagged by the local
  engine's own function, and a partition is a run of whole chunks.
  ``part-00000.parquet``, ``part-00001.parquet``, ... hold the rows in input
  order, so reading the folder in file-name order (pandas, pyarrow, Dask)
  gives the local engine's table.
* The model file travels once to each worker (its bytes broadcast by the
  scheduler), is checked against the sha256 of its card there and loaded
  once per worker process.  Workers need ``talks`` installed, not the model
  folder; they do need the input files, at the same paths (a shared file
  system), which is checked before any work.
* Workers send back encoded Parquet; only this process writes, into a
  hidden folder beside the output, renamed into place at the end of a run
  that tagged at least one file.  A failed run leaves the old folder as it
  was.  An output folder holding anything but ``part-*.parquet`` is refused:
  replacing the folder would delete it.
"""
from __future__ import annotations

import hashlib
import io
import logging
import os
import secrets
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from pipeline.errors import ModelError, PipelineError
from pipeline.store import (
    PARQUET_PART,
    TABLE_FORMATS,
    atomic_folder,
    atomic_open,
    check_parents,
    neutralise_formulas,
    open_args,
    table_format,
    write_frame,
)
from pipeline.tagging.tag import CHUNK_FILES, is_table, resolve_jobs, tag_model_id, with_thresholds
from pipeline.tagging.output import output_columns

INSTALL_HINT = "pip install 'talks[dask]'"
# A partition is a run of whole tag chunks (see the module docstring).  Eight
# chunks, about 5 s of work on one core: a task's scheduling cost (a few ms)
# is lost in it, and a few thousand files still make enough partitions to
# keep every worker busy until near the end.
PARTITION_FILES = 8 * CHUNK_FILES


def tag_dask(
    inputs: Iterable[str | Path],
    out_dir: str | Path,
    summary: str | Path | None = None,
    model: str | Path | None = None,
    models_dir: str | Path = "models",
    scheduler: str | None = None,
    workers: int | None = None,
    thresholds: dict[str, float] | None = None,
    progress: Callable[..., None] | None = None,
    raw_csv: bool = False,
    files_per_partition: int = PARTITION_FILES,
) -> dict:
    """Tag every sentence of the article files on a Dask cluster; write ``out_dir`` (and ``summary``).

    ``scheduler`` is the address of a running scheduler (``tcp://host:8786``);
    without it a ``LocalCluster`` of ``workers`` processes (default: one per
    core), one thread each, is started and closed at the end.  Bad article
    files are skipped and listed in ``errors``, as by :func:`pipeline.tagging.tag.tag`;
    ``written`` is False when every input failed and the old outputs were
    kept.  Sentence tables are refused: they are read whole by the process
    that tags them, so the local engine is the place for them.
    ``progress(n, total=None)`` is called once with the number of files as
    ``total``, then with the files of each partition done.
    """
    from pipeline.corpus.discover import expand_inputs
    from pipeline.model.loading import load_model

    _require_dask()
    inputs = [str(i) for i in inputs]
    tables = [i for i in inputs if is_table(i)]
    if tables:
        raise PipelineError("sentence tables are tagged by the local engine only; tag them without --engine dask "
                            "(--jobs N spreads them over cores), or give article files and folders", tables[0])
    if files_per_partition < 1 or files_per_partition % CHUNK_FILES:
        raise PipelineError(f"files_per_partition {files_per_partition}: give a multiple of {CHUNK_FILES}, "
                            "the tag chunk, so that rows are identical to the local engine's")
    if workers is not None and workers < 1:
        raise PipelineError(f"{workers} workers: give 1 or more")
    out = _check_out_dir(out_dir)
    sum_fmt = table_format(summary) if summary else None
    if summary and _inside(Path(summary), out):
        raise PipelineError(f"the summary would be inside the output folder {out}, which is replaced whole; write it elsewhere", summary)

    errors: list = []
    warnings: list[str] = []
    res = {"engine": "dask", "sentences": 0, "articles": None, "files": 0, "tables": 0, "partitions": 0, "warnings": warnings,
           "out": str(out), "model_id": None, "written": False, "workers": None, "scheduler": scheduler,
           "cluster_seconds": None, "tag_seconds": None}
    try:
        with ExitStack() as stack:
            # Made before any work: an unwritable place stops the run at once.
            staging = stack.enter_context(atomic_folder(out))
            sf = stack.enter_context(atomic_open(summary, **open_args(sum_fmt))) if summary else None
            m = with_thresholds(load_model(model, models_dir), thresholds)
            warnings += m["warnings"]
            data = Path(m["file"]).read_bytes()
            sha = hashlib.sha256(data).hexdigest()
            if sha != m["card"].get("sha256"):  # changed since load_model checked it
                raise ModelError("the model file changed while it was being read; run again", m["file"])
            files = [p for p in expand_inputs(inputs, errors) if p.suffix.lower() not in TABLE_FORMATS]
            chunks = [[str(f) for f in files[i : i + CHUNK_FILES]] for i in range(0, len(files), CHUNK_FILES)]
            per = files_per_partition // CHUNK_FILES
            parts = [chunks[i : i + per] for i in range(0, len(chunks), per)]
            width = max(5, len(str(len(parts) - 1)))
            names = [f"part-{i:0{width}d}.parquet" for i in range(len(parts))]
            if progress:
                progress(0, total=len(files))
            results: list = [None] * len(parts)
            if parts:
                started = time.monotonic()
                with _client(scheduler, workers) as client:
                    res["cluster_seconds"] = round(time.monotonic() - started, 2)
                    res["workers"] = len(client.nthreads())
                    _check_inputs_visible(client, files[0])
                    started = time.monotonic()
                    for i, (blob, errs, n, rows) in _run(client, data, sha, m, parts, tie_folder_bytes(models_dir)):
                        with atomic_open(staging / names[i], "wb") as f:
                            f.write(blob)
                        results[i] = (errs, n, rows)
                        if progress:
                            progress(sum(map(len, parts[i])))
                    res["tag_seconds"] = round(time.monotonic() - started, 2)
            for errs, _, _ in results:
                errors.extend(errs)
            tagged = sum(n for _, n, _ in results)
            res.update(files=len(files), partitions=len(parts), sentences=sum(r for _, _, r in results), model_id=tag_model_id(m))
            if errors and not tagged:
                raise _NothingTagged
            if not parts:  # no file at all: still a folder that reads as an empty table of the right schema
                names = ["part-00000.parquet"]
                _write_empty(staging / names[0], m["labels"])
            if sf is not None:
                summ = _summary([staging / n for n in names], m["labels"])
                res["articles"] = len(summ)
                write_frame(neutralise_formulas(summ) if sum_fmt == "csv" and not raw_csv else summ, sf, sum_fmt)
                res["summary"] = str(summary)
        res["written"] = True
    except _NothingTagged:
        pass
    res["errors"] = [str(e) for e in errors]
    return res


class _NothingTagged(Exception):
    """Every input failed: leave the outputs as they were."""


def _require_dask() -> None:
    try:
        import dask  # noqa: F401
        import distributed  # noqa: F401
    except ImportError as e:
        raise PipelineError(f"--engine dask needs Dask ({e.name or 'dask'} is not installed); install it with {INSTALL_HINT}") from None


# --------------------------------------------------------------------------
# The cluster
# --------------------------------------------------------------------------
@contextmanager
def _client(scheduler: str | None, workers: int | None) -> Iterator[object]:
    """A client of the cluster at ``scheduler``, or of a LocalCluster started (and closed) here."""
    from distributed import Client, LocalCluster

    if scheduler:
        if workers is not None:
            raise PipelineError("a number of workers is for the LocalCluster; an existing cluster has its own workers")
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError, ValueError) as e:
            raise PipelineError(f"cannot reach the Dask scheduler at {scheduler} ({type(e).__name__}: {e}); check the address "
                                "(tcp://HOST:8786, as `dask scheduler` prints it) and that the scheduler is running") from None
        try:
            try:
                client.wait_for_workers(1, timeout=60)
            except TimeoutError:
                raise PipelineError(f"the Dask scheduler at {scheduler} has no workers; start some with "
                                    f"`dask worker {scheduler}`") from None
            yield client
        finally:
            client.close()
        return
    # One thread per process: tagging is pure Python for the most part (the GIL), so
    # threads would not add speed; processes do.  Logs below errors are the
    # cluster's business, not the user's: this function never prints.
    with LocalCluster(n_workers=workers or resolve_jobs(-1), threads_per_worker=1, processes=True,
                      dashboard_address=None, silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        yield client


def _check_inputs_visible(client, first: Path) -> None:
    """Workers open the input files themselves: check every one sees the first at its path."""
    seen = client.run(os.path.isfile, str(first))
    blind = sorted(w for w, ok in seen.items() if not ok)
    if blind:
        raise PipelineError(f"Dask worker {blind[0]} (and {len(blind) - 1} more) cannot see this file; the workers read the "
                            "inputs themselves: put them on a file system every worker mounts at the same path, "
                            "and give absolute paths", first)


def tie_folder_bytes(models_dir) -> dict[str, bytes] | None:
    """The tie extractor's files (``models/ties/``) as bytes, for the workers; None when there is none."""
    from pipeline.model.ties import TIES_FOLDER

    folder = Path(models_dir) / TIES_FOLDER
    if not folder.is_dir():
        return None
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def _run(client, data: bytes, sha: str, m: dict, parts: list, ties: dict | None = None) -> Iterator[tuple[int, tuple]]:
    """(partition index, result) as partitions finish, in any order."""
    from distributed import KilledWorker, as_completed

    # broadcast: every worker gets the bytes now, once, instead of fetching
    # them from one another when their first task starts.
    model_future = client.scatter(data, broadcast=True)
    card = {k: m["card"].get(k) for k in ("model_id", "features", "sha256")}
    run = secrets.token_hex(4)  # keys of their own: two runs on one cluster must not share results
    ties_future = client.scatter([ties], broadcast=True)[0] if ties else None  # a list: a dict would be scattered value by value
    futures = {client.submit(_tag_partition, model_future, sha, card, m.get("overrides"), part, ties_future,
                             key=f"talks-tag-{run}-{i}"): i for i, part in enumerate(parts)}
    try:
        for fut in as_completed(futures):
            i = futures[fut]
            try:
                result = fut.result()
            except KilledWorker:
                raise PipelineError(f"Dask workers died tagging partition {i} (files {parts[i][0][0]} ...): out of memory, or "
                                    "killed; run again, with fewer files per partition or more memory per worker") from None
            fut.release()
            yield i, result
    finally:
        client.cancel(list(futures))
        model_future.release()
        if ties_future is not None:
            ties_future.release()


# --------------------------------------------------------------------------
# On a worker
# --------------------------------------------------------------------------
# The model of this worker process: (sha256, model).  One at a time, so a
# long-lived cluster tagging with many models in turn holds one in memory.
_MODEL: tuple[str, dict] | None = None
_MODEL_LOCK = threading.Lock()  # a worker may run several tasks in threads


def _worker_model(data: bytes, sha: str, card: dict) -> dict:
    global _MODEL
    with _MODEL_LOCK:
        if _MODEL is None or _MODEL[0] != sha:
            _MODEL = (sha, _load_bytes(data, sha, card))
        return _MODEL[1]


def _load_bytes(data: bytes, sha: str, card: dict) -> dict:
    """The model from its file's bytes, checked and loaded as ``train.load_model`` does."""
    from pipeline.model.artefact import MODEL_FILE, load
    from pipeline.model.features import uses_embeddings

    if hashlib.sha256(data).hexdigest() != sha:
        raise ModelError("the model bytes a worker received do not match the model's sha256; run again")
    if uses_embeddings(str(card.get("features", ""))):
        from pipeline.model.embed import require_encoder

        require_encoder()  # the encoder package must be installed on every worker too
    # artefact.load audits a file; the bytes are ours, the folder private to this process.
    with tempfile.TemporaryDirectory(prefix="talks-model-") as d:
        path = Path(d) / MODEL_FILE
        path.write_bytes(data)
        art = load(path)
    return {"card": card, "pipeline": art["pipeline"], "thresholds": art["thresholds"], "labels": tuple(art["labels"])}


def _worker_ties(files: dict[str, bytes] | None):
    """The tie extractor from its folder's bytes, loaded (as data) from a folder private to this call."""
    if not files:
        return None
    from pipeline.model.ties import TIES_FOLDER, load_tie_model

    with tempfile.TemporaryDirectory(prefix="talks-ties-") as d:
        folder = Path(d) / TIES_FOLDER
        folder.mkdir()
        for name, blob in files.items():
            (folder / Path(name).name).write_bytes(blob)
        return load_tie_model(d)


def _tag_partition(data: bytes, sha: str, card: dict, overrides: dict | None, chunks: list[list[str]],
                   ties: dict[str, bytes] | None = None):
    """Tag a partition chunk by chunk with the local engine's function; its rows as Parquet bytes,
    with the errors, the article files read and the row count."""
    from pipeline.tagging.tag import tag_files
    from pipeline.tagging.output import Writer, conform

    m = {**with_thresholds(_worker_model(data, sha, card), overrides), "ties": _worker_ties(ties)}
    columns = output_columns(m["labels"])
    buf = io.BytesIO()
    writer = Writer(buf, "parquet", columns, m["labels"], {}, spreadsheet=False)
    errors: list[str] = []
    n = 0
    for chunk in chunks:
        df, errs, k = tag_files(m, chunk)
        errors += errs
        n += k
        writer.write(conform(df, columns))
    writer.finish()  # a partition of bad files still holds the schema
    return buf.getvalue(), errors, n, writer.rows


# --------------------------------------------------------------------------
# The output folder
# --------------------------------------------------------------------------
def _check_out_dir(out_dir: str | Path) -> Path:
    """The output folder, refused unless it is new (a name without suffix), empty, or a folder of parts."""
    if str(out_dir) in ("", "-"):
        raise PipelineError("--engine dask writes a folder of Parquet files, not to stdout; give a folder name, e.g. out/tags")
    out = Path(out_dir)
    if out.exists() or out.is_symlink():
        if not out.is_dir() or out.is_symlink():
            raise PipelineError("is a file (or a link); --engine dask writes a folder of Parquet files: give a folder name, "
                                "e.g. out/tags", out)
        try:
            other = sorted(e.name for e in os.scandir(out) if not (PARQUET_PART.fullmatch(e.name) and e.is_file(follow_symlinks=False)))
        except OSError as e:
            raise PipelineError(f"cannot read the output folder ({e.strerror}); check its permissions", out) from None
        if other:
            raise PipelineError(f"the output folder holds {other[0]!r}{f' and {len(other) - 1} more' if len(other) > 1 else ''}, "
                                "not written by --engine dask; the folder is replaced whole: give a new or empty folder", out)
    elif out.suffix:
        raise PipelineError(f"{out.suffix}: --engine dask writes a folder of Parquet files (part-00000.parquet, ...): "
                            "give a folder name without suffix, e.g. out/tags", out)
    check_parents(out)
    return out


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def _write_empty(path: Path, labels) -> None:
    from pipeline.tagging.output import Writer

    with atomic_open(path, "wb") as f:
        w = Writer(f, "parquet", output_columns(labels), labels, {}, spreadsheet=False)
        w.finish()


def _summary(parts: list[Path], labels):
    """The per-article summary, read back from the written parts in order (as the local engine builds it)."""
    import pyarrow.parquet as pq

    from pipeline.tagging.output import SummaryAccumulator

    acc = SummaryAccumulator(labels)
    for p in parts:
        f = pq.ParquetFile(p)
        for g in range(f.num_row_groups):  # a row group is a tag chunk: memory stays flat
            acc.add(f.read_row_group(g).to_pandas())
    return acc.frame()
