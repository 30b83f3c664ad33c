"""The error tree of the pipeline.

Every stage raises a subclass of :class:`PipelineError`; only ``cli.py`` turns
them into ``error: ...`` lines and exit codes.  Messages name the file (and
line, where there is one) and say what to do about it.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class PipelineError(Exception):
    """Base of every error the pipeline raises on purpose."""

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None):
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = self.path + (f":{self.line}" if self.line is not None else "") + ": "
        return where + self.message


class CorpusError(PipelineError):
    """An article file that cannot be read or parsed."""


class LabelError(PipelineError):
    """A label file that does not validate."""


class ModelError(PipelineError):
    """A model folder that is missing, incomplete or tampered with."""


@contextmanager
def blame_file(path: str | Path) -> Iterator[None]:
    """Make any unexpected exception inside the block a CorpusError naming ``path``.

    Reading, cleaning and splitting one article file must never end a batch
    of thousands: whatever a file triggers becomes that file's one-line
    warning.  MemoryError goes through (after it nothing can be trusted), as
    does KeyboardInterrupt, which is not an ``Exception``.
    """
    try:
        yield
    except (PipelineError, MemoryError):
        raise
    except Exception as e:
        what = " ".join(str(e).split())[:200] or "no message"
        raise CorpusError(f"unexpected {type(e).__name__} ({what}); the file was skipped: please report it as a bug, "
                          "with the file", path) from e
