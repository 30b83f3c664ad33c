"""Where the project is: the folder that default paths (corpus, labels, models, out) resolve against,
and :class:`Project`, the one value the library passes around instead of three separate paths.

So ``talks`` works from any folder inside the project, or from anywhere with
``TALKS_ROOT`` set, instead of only from the folder holding ``corpus/``.
Paths the user types are left alone: they mean what the shell means.
"""
from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import PipelineError

ENV = "TALKS_ROOT"

# The [project] table's name, without a TOML parser (tomllib is Python 3.11+).
_NAME = re.compile(r'^\[project\][^\[]*?^name\s*=\s*["\']talks["\']', re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Root:
    """The project folder and how it was found (said in error messages)."""

    path: Path
    how: str

    def __str__(self) -> str:
        return f"{self.path} ({self.how})"


def is_project(folder: Path) -> bool:
    """A folder holding pyproject.toml of the ``talks`` project, or a labels/ + models/ pair."""
    try:
        if _NAME.search((folder / "pyproject.toml").read_text(encoding="utf-8", errors="replace")):
            return True
    except OSError:
        pass
    return (folder / "labels").is_dir() and (folder / "models").is_dir()


def find_root(cwd: str | Path | None = None, environ: Mapping[str, str] | None = None) -> Root:
    """``$TALKS_ROOT`` if set, else the nearest project folder from ``cwd`` upward, else ``cwd`` itself."""
    environ = os.environ if environ is None else environ
    cwd = Path.cwd() if cwd is None else Path(cwd)
    if environ.get(ENV):
        path = Path(environ[ENV]).expanduser()
        if not path.is_dir():
            raise PipelineError(f"{ENV} names no folder; point it at the project (the folder holding labels/ and models/) "
                                f"or unset it", path)
        return Root(path.resolve(), f"from {ENV}")
    cwd = cwd.resolve()
    for folder in (cwd, *cwd.parents):
        if is_project(folder):
            return Root(folder, "the current folder" if folder == cwd else f"found above {cwd}")
    return Root(cwd, f"no talks project found from {cwd} upward and {ENV} is not set, so the current folder")


@dataclass(frozen=True)
class Project:
    """A project's folders: the corpus (``articles.jsonl``, ``sentences.csv``), the labels and the models.

    Library functions take one ``Project`` instead of a corpus, a labels and a
    models path threaded separately; each folder may be pointed elsewhere
    (the command line's ``--root``, ``--labels``, ``--models``).
    """

    corpus: Path = Path("corpus")
    labels: Path = Path("labels")
    models: Path = Path("models")

    @classmethod
    def at(cls, root: str | Path, corpus: str | Path | None = None, labels: str | Path | None = None,
           models: str | Path | None = None) -> Project:
        """The project in folder ``root``: ``root/corpus``, ``root/labels``, ``root/models`` unless given."""
        root = Path(root)
        return cls(corpus=Path(corpus) if corpus is not None else root / "corpus",
                   labels=Path(labels) if labels is not None else root / "labels",
                   models=Path(models) if models is not None else root / "models")

    @classmethod
    def find(cls, cwd: str | Path | None = None, environ: Mapping[str, str] | None = None) -> Project:
        """The project of :func:`find_root` (``$TALKS_ROOT``, else the nearest project folder upward)."""
        return cls.at(find_root(cwd, environ).path)
