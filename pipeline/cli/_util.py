"""What every command module shares: printing, progress, tables, default paths and the common options.

Only the ``pipeline.cli`` package prints, draws progress bars or sets exit
codes; the library returns values and raises :class:`PipelineError`.
"""
from __future__ import annotations

import argparse
import io
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.project import Project, Root, find_root


def say(*args) -> None:
    print(*args)


def warn(msg: str) -> None:
    print(f"warning: {msg}", file=sys.stderr)


def is_stdout(path: str | os.PathLike) -> bool:
    """Whether ``path`` is this process's standard output: ``-``, ``/dev/stdout``,
    or the file stdout is redirected to.  Then only the output goes there, not
    the command's own messages."""
    if str(path) == "-":
        return True
    try:
        out, target = os.fstat(sys.stdout.fileno()), os.stat(path)
    except (OSError, ValueError, io.UnsupportedOperation):  # no such file, or stdout is not a file (captured)
        return False
    return (out.st_dev, out.st_ino) == (target.st_dev, target.st_ino)


@contextmanager
def progress(total: int | None, desc: str, unit: str = "file") -> Iterator[Callable[..., None]]:
    """A tqdm bar (count, total, rate) on a terminal; elsewhere (CI, pipes, logs) a line every ``LOG_EVERY`` seconds.

    Yields ``tick(n=1, total=None)``: a stage may set the total once it knows it.
    """
    if not sys.stderr.isatty():
        yield ProgressLog(desc, unit, total).tick
        return
    from tqdm import tqdm

    bar = tqdm(total=total, desc=desc, unit=unit, leave=False)

    def tick(n: int = 1, total: int | None = None) -> None:
        if total is not None:
            bar.total = total
            bar.refresh()
        bar.update(n)

    try:
        yield tick
    finally:
        bar.close()


# Seconds between progress lines when stderr is not a terminal: a log or CI
# gets a line now and then instead of a bar's carriage returns.
LOG_EVERY = 30.0


class ProgressLog:
    """Progress as occasional stderr lines: ``tagging: 320/1803 files, 11.2 files/s``."""

    def __init__(self, desc: str, unit: str, total: int | None):
        self.every = LOG_EVERY  # read when a run starts, so a test can turn it down
        self.desc, self.unit, self.total, self.done = desc, unit, total, 0
        self.start = self.last = time.monotonic()

    def tick(self, n: int = 1, total: int | None = None) -> None:
        if total is not None:
            self.total = total
        self.done += n
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last = now
            of = f"/{self.total}" if self.total else ""
            print(f"{self.desc}: {self.done}{of} {self.unit}s, {self.done / (now - self.start):.1f} {self.unit}s/s",
                  file=sys.stderr, flush=True)


def table(rows: list[dict], columns: list[str]) -> str:
    """Rows as a plain-text table with a header and a rule; floats to 3 decimals."""
    widths = {c: max(len(c), *(len(fmt(r.get(c))) for r in rows)) if rows else len(c) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns), "  ".join("-" * widths[c] for c in columns)]
    for r in rows:
        lines.append("  ".join(fmt(r.get(c)).ljust(widths[c]) for c in columns))
    return "\n".join(lines)


def fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.3f}"
    return "" if v is None else str(v)


class Default(str):
    """A default path, relative to the project root: :func:`resolve_defaults` points it there, and it
    stays a ``Default`` so a command can tell a default from a path the user typed."""


def resolve_defaults(args: argparse.Namespace) -> Root | None:
    """Point every default path of ``args`` into the project root; return the root (None if no default is in play)."""
    defaults = {k: v for k, v in vars(args).items()
                if isinstance(v, Default) or (isinstance(v, list) and v and all(isinstance(x, Default) for x in v))}
    if not defaults:
        return None
    root = find_root()
    for k, v in defaults.items():
        setattr(args, k, [Default(root.path / x) for x in v] if isinstance(v, list) else Default(root.path / v))
    return root


def project_of(args: argparse.Namespace) -> Project:
    """The one :class:`Project` a command passes on: its ``--root`` (corpus), ``--labels`` and ``--models``.

    Call after :func:`resolve_defaults`, so defaults already point into the
    project root.  A folder the command has no option for keeps
    :class:`Project`'s relative default: that command's library call never
    reads it, and finding the root just for it could fail where the command
    itself would not.
    """
    unset = Project()
    return Project(corpus=_path(getattr(args, "root", None), unset.corpus),
                   labels=_path(getattr(args, "labels", None), unset.labels),
                   models=_path(getattr(args, "models", None), unset.models))


def _path(value, default: Path) -> Path:
    return default if value is None else Path(value)


def add_command(parent, name: str, func: Callable[[argparse.Namespace], int], help_: str) -> argparse.ArgumentParser:
    """A (sub)command whose ``--help`` and listing both show ``help_``, run by ``func``."""
    # argparse %-formats a help string (not a description): "95% article" would print its internals
    sp = parent.add_parser(name, help=help_.replace("%", "%%"), description=help_)
    sp.set_defaults(func=func)
    return sp


def add_group(parent, name: str, help_: str) -> argparse._SubParsersAction:
    """A command that only holds subcommands (``talks models ...``); returns where to add them."""
    group = parent.add_parser(name, help=help_.replace("%", "%%"), description=help_)
    return group.add_subparsers(dest=f"{name}_command", metavar="SUBCOMMAND", required=True)


def root_opt(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--root", default=Default("corpus"), help="corpus folder holding articles.jsonl and sentences.csv (default: corpus)")


def labels_opt(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--labels", default=Default("labels"), help="label store folder (default: labels)")


def models_opt(sp: argparse.ArgumentParser, help_: str = "models folder (default: models)") -> None:
    sp.add_argument("--models", default=Default("models"), help=help_)


# Wherever a model is named: the registry resolves the aliases (pipeline.model.registry.resolve_id).
MODEL_NAME = "model id or folder, or 'current' or 'previous' (the model current before it, per models/history.jsonl)"
