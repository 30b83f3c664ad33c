"""File plumbing shared by every stage: atomic writes and table I/O.

Every file the pipeline writes goes through here, so a crash or a full disk
never leaves a half-written corpus, label file, model card or report: data is
written to a temporary file in the same folder, fsynced, then renamed over
the target.  Tables are read and written by extension (``.csv``, ``.jsonl``,
``.parquet``) with pandas.
"""
from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path

from .errors import PipelineError


@contextmanager
def atomic_open(path: str | Path, mode: str = "w", **kw):
    """Open a temp file beside ``path``; on success fsync and rename it over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, **kw) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        # mkstemp makes 0600 files; give the result the usual umask-based mode.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    with atomic_open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)


def write_jsonl(path: str | Path, rows: Iterable[dict]) -> int:
    n = 0
    with atomic_open(path, "w", encoding="utf-8", newline="") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False, sort_keys=False) + "\n")
            n += 1
    return n


def write_table(df, path: str | Path) -> None:
    """Write a DataFrame atomically as CSV, JSONL or Parquet by extension."""
    path = Path(path)
    ext = path.suffix.lower()
    if ext == ".csv":
        with atomic_open(path, "w", encoding="utf-8", newline="") as f:
            df.to_csv(f, index=False, lineterminator="\n")
    elif ext in (".jsonl", ".ndjson"):
        with atomic_open(path, "w", encoding="utf-8", newline="") as f:
            df.to_json(f, orient="records", lines=True, force_ascii=False)
    elif ext == ".parquet":
        with atomic_open(path, "wb") as f:
            df.to_parquet(f, index=False)
    else:
        raise PipelineError("unknown output format; use a .csv, .jsonl or .parquet file name", path)


def read_table(path: str | Path, dtype=None):
    """Read a CSV, JSONL or Parquet table by extension, with a clear error."""
    import pandas as pd

    path = Path(path)
    ext = path.suffix.lower()
    if not path.exists():
        raise PipelineError("file not found; check the path", path)
    try:
        if ext == ".csv":
            return pd.read_csv(path, dtype=dtype, keep_default_na=False, na_values=[])
        if ext in (".jsonl", ".ndjson"):
            return pd.read_json(path, lines=True, dtype=dtype)
        if ext == ".parquet":
            return pd.read_parquet(path)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as e:
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise PipelineError(f"cannot read table ({msg}); check it is valid {ext[1:].upper()}", path) from None
    raise PipelineError("unknown table format; use .csv, .jsonl or .parquet", path)
