"""File plumbing shared by every stage: atomic writes and table I/O.

Every file the pipeline writes goes through :func:`atomic_open`, so a crash or
a full disk never leaves a half-written corpus, label file, model card or
report: data is written to a temporary file in the same folder, fsynced, then
renamed over the target.  Tables are read and written by extension
(``.csv``, ``.jsonl``, ``.parquet``) with pandas.
"""
from __future__ import annotations

import errno
import json
import os
import re
import secrets
import shutil
import stat
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.errors import PipelineError

# A temp file older than this whose writer is gone was left by a killed run.
_STARTED = time.time()

TABLE_FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}

# Cells a spreadsheet would evaluate (OWASP "CSV injection"; ASVS 1.2.10 adds
# NUL; full-width forms are read as the ASCII ones by some spreadsheets).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\0", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# A plain number ("-3", "+1.5e3") is a value, not a formula: left as it is.
_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


# --------------------------------------------------------------------------
# Atomic writes
# --------------------------------------------------------------------------
@contextmanager
def atomic_open(path: str | Path, mode: str = "w", **kw):
    """Open a temp file beside ``path``; on success fsync and rename it over ``path``.

    Refused with a PipelineError before anything is written: a folder, a path
    under a file, a folder that cannot be written.  A replaced file keeps its
    permission bits, a new one gets the umask's (as ``open`` would).  A
    symlink is followed: the file it points to is replaced and the link kept.
    A device or FIFO (``/dev/null``, ``/dev/stdout`` on a pipe), or any path
    under ``/dev/`` (``/dev/stdout`` redirected to a file), is written
    directly, since renaming over it would put a regular file in its place
    or leave the shell's redirection writing to the replaced one.
    """
    path = Path(path)
    st = _stat_target(path)
    if st is not None and (not stat.S_ISREG(st.st_mode) or _under_dev(path)):
        # a regular file behind /dev/stdout is the shell's redirection: appended to, so `>>` keeps what it holds
        mode = mode.replace("w", "a") if stat.S_ISREG(st.st_mode) else mode
        try:
            f = open(path, mode, **kw)  # noqa: SIM115 -- only open's own error becomes a PipelineError, not the caller's
        except OSError as e:
            raise _write_error(e, path) from None
        with f:
            yield f
        return
    if path.is_symlink():
        path = Path(os.path.realpath(path))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise _write_error(e, path) from None
    _remove_stale(path)
    tmp = _temp_name(path)
    # Created with the target's bits (or 0666 less the umask for a new file),
    # so the data is never readable by more people than the result will be.
    perms = stat.S_IMODE(st.st_mode) if st is not None else 0o666
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, perms)
    except OSError as e:
        raise _write_error(e, path) from None
    try:
        with os.fdopen(fd, mode, **kw) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        if st is not None:
            os.chmod(tmp, perms)  # the umask may have dropped some of the old bits
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _stat_target(path: Path) -> os.stat_result | None:
    """The target's stat (following symlinks), None if it does not exist yet;
    a PipelineError for a folder or a path under a file."""
    check_parents(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise _write_error(e, path) from None
    if stat.S_ISDIR(st.st_mode):
        raise PipelineError("is a folder; give a file name", path)
    return st


def _under_dev(path: Path) -> bool:
    """A path the system hands out for a stream (``/dev/stdout``, ``/dev/fd/3``), judged as typed: it may link to a regular file."""
    return Path(os.path.abspath(path)).parts[:2] == ("/", "dev")


def is_stream(path: str | Path) -> bool:
    """Whether ``path`` is written as a stream (see :func:`atomic_open`): an existing
    device, FIFO or socket, or a path under ``/dev/``."""
    path = Path(path)
    try:
        return _under_dev(path) or not stat.S_ISREG(path.stat().st_mode) and not path.is_dir()
    except OSError:
        return False


def check_parents(path: Path) -> None:
    """A PipelineError when ``path`` lies under a file, which no write there could fix."""
    for parent in path.parents:  # nearest first; exists() is False under a file
        if parent.exists():
            if not parent.is_dir():
                raise PipelineError(f"{parent} is a file, not a folder; choose another path", path)
            break


def _write_error(e: OSError, path: Path) -> PipelineError:
    fix = {errno.EACCES: "check the folder's permissions or write somewhere else",
           errno.EPERM: "check the folder's permissions or write somewhere else",
           errno.EROFS: "the file system is read-only; write somewhere else",
           errno.ENOSPC: "free some disk space"}.get(e.errno, "check the path")
    return PipelineError(f"cannot write ({e.strerror or e}); {fix}", path)


def _remove_stale(path: Path) -> None:
    """Delete what killed writers of ``path`` left behind: temp files and
    staging folders (``.NAME.PID.HEX.tmp``), and a replaced folder
    (``.NAME.PID.HEX.old``) once its successor is in place (before that it is
    the only copy of the last output).

    Only those of a process that no longer exists and that date from before
    this one started: a concurrent writer's temp file is never touched.  (A
    writer in another pid namespace sharing the folder looks dead; the age
    test keeps its temp file unless it is older than this process.)
    """
    name = re.compile(re.escape(f".{path.name}.") + r"(\d+)\.[0-9a-f]{8}\.(tmp|old)")
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return  # creating the temp file next reports the problem
    for entry in entries:
        m = name.fullmatch(entry.name)
        if not m or _alive(int(m.group(1))) or (m.group(2) == "old" and not path.exists()):
            continue
        try:
            if entry.stat(follow_symlinks=False).st_mtime < _STARTED:
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path)
                else:
                    os.unlink(entry.path)
        except OSError:
            pass  # gone already, or not ours to delete: it only costs disk space


def _temp_name(path: Path, kind: str = "tmp") -> Path:
    return path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.{kind}"


@contextmanager
def atomic_folder(path: str | Path) -> Iterator[Path]:
    """A new, empty staging folder beside ``path``; on success it takes the
    place of ``path`` whole (an old folder there is renamed away, the new one
    in, then the old one deleted), on an error it is deleted and ``path`` is
    left as it was.

    The staging folder gets the replaced folder's permission bits, or the
    umask's for a new one.  Killed between the two renames, the old folder is
    left complete as ``.NAME.PID.HEX.old`` beside the new one's staging
    folder; the next writer of ``path`` deletes what dead writers left (an
    old copy once a new folder is in place).
    """
    out = Path(path)
    _remove_stale(out)
    staging = _temp_name(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging.mkdir(mode=stat.S_IMODE(out.stat().st_mode) if out.is_dir() else 0o777)
    except OSError as e:
        raise _write_error(e, out) from None
    try:
        yield staging
        _fsync_folder(staging)
        old = None
        if out.exists():
            old = _temp_name(out, "old")
            os.rename(out, old)
        try:
            os.rename(staging, out)
        except OSError:
            if old is not None:
                os.rename(old, out)
            raise
        _fsync_folder(out.parent)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        _remove_stale(out)  # an old copy a killed run kept is no longer the only one
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # gone already after a successful rename


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def atomic_write_text(path: str | Path, text: str) -> None:
    with atomic_open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)


def table_format(path: str | Path) -> str:
    """``csv``, ``jsonl`` or ``parquet`` from the file name; ``csv`` for a stream
    without one (``/dev/stdout``, a named pipe), as for ``-``; PipelineError otherwise."""
    fmt = TABLE_FORMATS.get(Path(path).suffix.lower())
    if fmt is None and is_stream(path):
        return "csv"
    if fmt is None:
        raise PipelineError("unknown output format; use a .csv, .jsonl or .parquet file name, or '-' for CSV on stdout", path)
    return fmt


def open_args(fmt: str) -> dict:
    """``open`` arguments for writing a table of this format."""
    return {"mode": "wb"} if fmt == "parquet" else {"mode": "w", "encoding": "utf-8", "newline": ""}


def write_frame(df, f, fmt: str, header: bool = True) -> None:
    """Write a DataFrame to an open file (CSV rows, JSON lines or one Parquet file)."""
    if fmt == "csv":
        df.to_csv(f, index=False, header=header, lineterminator="\n")
    elif fmt == "jsonl":
        if len(df):
            df.to_json(f, orient="records", lines=True, force_ascii=False)
    else:
        df.to_parquet(f, index=False)


def write_table(df, path: str | Path, spreadsheet: bool = False) -> None:
    """Write a DataFrame atomically as CSV, JSONL or Parquet by extension.

    ``spreadsheet``: a CSV meant to be opened in a spreadsheet gets its
    formula-like cells neutralised (:func:`neutralise_formulas`).  Data the
    pipeline reads back (corpus, label stores) is written as it is.
    """
    fmt = table_format(path)
    if spreadsheet and fmt == "csv":
        df = neutralise_formulas(df)
    with atomic_open(path, **open_args(fmt)) as f:
        write_frame(df, f, fmt)


def neutralise_formulas(df):
    """Prefix with ``'`` every text cell (and column name) a spreadsheet would
    run as a formula: one starting with ``= + - @``, a tab, CR or NUL (OWASP's
    advice against CSV injection).  Plain numbers such as ``-3`` are kept."""
    out = df.rename(columns={c: _neutral(c) for c in df.columns if isinstance(c, str)})
    for c in out.columns:
        if out[c].dtype.kind == "O":  # object and pandas string columns
            out[c] = out[c].map(_neutral)
    return out


def _neutral(v):
    if isinstance(v, str) and v.startswith(_FORMULA_START) and not _NUMBER.fullmatch(v):
        return "'" + v
    return v


# A folder of Parquet parts (what `talks tag --engine dask` writes), read in name order.
PARQUET_PART = re.compile(r"part-\d{5,}\.parquet")


def read_table(path: str | Path, dtype=None):
    """Read a CSV, JSONL or Parquet table by extension, or a folder of
    Parquet parts (``part-00000.parquet``, ...) as one table, with a clear error."""
    import pandas as pd

    path = Path(path)
    ext = path.suffix.lower()
    if not path.exists():
        raise PipelineError("file not found; check the path", path)
    if path.is_dir():
        parts = sorted(p for p in path.iterdir() if PARQUET_PART.fullmatch(p.name))
        if not parts:
            raise PipelineError("is a folder without part-*.parquet files; give a .csv, .jsonl or .parquet table, "
                                "or a folder written by 'talks tag --engine dask'", path)
        return pd.concat([read_table(p) for p in parts], ignore_index=True)
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


# --------------------------------------------------------------------------
# Append-only JSON-lines logs (the labellers' journals, the model history)
# --------------------------------------------------------------------------
def append_log(path: str | Path, record: dict) -> None:
    """Append one JSON object as a line and fsync it before returning, so an
    acknowledged entry is on disk.  A last line without its newline was torn
    by a kill mid-append and never acknowledged: it is cut first, so the new
    line does not run into it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as f:
        end = f.seek(0, os.SEEK_END)
        if end:
            f.seek(end - 1)
            if f.read(1) != b"\n":  # rare: only after a kill, so reading the whole file here is fine
                f.seek(0)
                f.truncate(f.read().rfind(b"\n") + 1)
        f.write((json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8"))
        f.flush()
        os.fsync(f.fileno())


def read_log(path: str | Path, valid: Callable[[object], bool] = lambda rec: isinstance(rec, dict)) -> tuple[list[tuple[int, dict]], int | None]:
    """The (line number, record) pairs of a JSON-lines log, and the number of
    the first line that is not a valid record (None when there is none).  The
    last line may be torn by a kill mid-append and is then left out."""
    path = Path(path)
    if not path.exists():
        return [], None
    lines = path.read_text(encoding="utf-8", errors="replace").split("\n")
    out = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            if not valid(rec):
                raise ValueError
        except (ValueError, RecursionError):  # RecursionError: absurdly nested JSON
            if n >= len(lines) - 1:  # the last line (the file ends in "\n", so it may be last-but-one)
                continue
            return out, n
        out.append((n, rec))
    return out, None


def sha256_file(path: str | Path, what: str = "the file", fix: str = "restore it from the commit that added it",
                error: type[PipelineError] = PipelineError) -> str:
    """The hex sha256 of a file, read in 1 MiB blocks.

    ``error`` (a PipelineError) naming the file when it cannot be read, with
    ``what`` it is and the ``fix`` the caller knows.
    """
    import hashlib

    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    except OSError as e:
        raise error(f"cannot read {what} ({e.strerror}); {fix}", path) from None
    return h.hexdigest()
