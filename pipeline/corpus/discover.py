"""Stage 1a: what the user named (files, folders, globs) -> the article files to read, each once.

Only the file names decide here; what is in a file is the readers' business
(:mod:`pipeline.corpus.readers`).  Nothing found is passed over in silence: a
document ingest cannot read (a PDF, an office file) and a hidden article file
are reported each, the other files a folder or glob holds (images, data) in
one line per folder or glob, with their count.
"""
from __future__ import annotations

import glob
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

from pipeline.errors import CorpusError

ARTICLE_SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm", ""}


def expand_inputs(inputs: Iterable[str | Path], problems: list[CorpusError] | None = None) -> list[Path]:
    """Files, folders (recursively) and globs -> sorted article files, each file once.

    A path that matches nothing raises, so a typo is not a silent empty run.
    What is found but cannot be ingested (a folder that cannot be read, a PDF
    or word-processor document, a hidden article file, files of other types)
    is added to ``problems``; without that list the first such problem raises.
    A file reached by two paths (a link, a glob through a symlink loop) is
    listed once.
    """
    found: dict[str, Path] = {}
    seen_problems: list[CorpusError] = []
    for item in map(str, inputs):
        p = Path(item)
        before = len(seen_problems)
        others: Counter[str] = Counter()
        if p.is_file():
            files = [p]
        elif p.is_dir():
            files = list(_folder_files(p, seen_problems, others))
            if not files and len(seen_problems) == before and not others:
                raise CorpusError("folder holds no article files (.txt, .md, .html); check the path", p)
        else:
            files = list(_glob_files(item, seen_problems, others))
            if not files and len(seen_problems) == before and not others:
                raise CorpusError("no such file, folder or glob match; check the path", item)
        if others:
            seen_problems.append(_ignored(others, item))
        for f in files:
            found.setdefault(os.path.realpath(f), f)
    if seen_problems and problems is None:
        raise seen_problems[0]
    if problems is not None:
        problems.extend(seen_problems)
    return sorted(found.values())


def _folder_files(folder: Path, problems: list[CorpusError], others: Counter[str]) -> Iterator[Path]:
    """The article files under ``folder``, following linked folders once each;
    the other files are counted in ``others`` by type."""

    def unreadable(e: OSError) -> None:
        problems.append(CorpusError(f"cannot read folder ({e.strerror}); check its permissions", e.filename))

    read: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(folder, onerror=unreadable, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in read:  # a symlink loop, or a second link to a folder already read
            dirnames.clear()
            continue
        read.add(real)
        dirnames.sort()
        yield from (f for f in (Path(dirpath, name) for name in sorted(filenames)) if _wanted(f, problems, others))


def _glob_files(pattern: str, problems: list[CorpusError], others: Counter[str]) -> Iterator[Path]:
    """Files matching a glob, and the article files in folders it matches.

    ``**`` goes through pathlib, whose recursive search does not follow links
    into folders, so a symlink loop cannot multiply the matches.
    """
    parts = Path(pattern).parts
    fixed = next((i for i, part in enumerate(parts) if glob.has_magic(part)), len(parts))
    base, rest = Path(*parts[:fixed]), parts[fixed:]
    if not rest:
        return
    for m in sorted(base.glob(str(Path(*rest)))):
        if m.is_dir():
            yield from _folder_files(m, problems, others)
        elif _wanted(m, problems, others):
            yield m


def _wanted(f: Path, problems: list[CorpusError], others: Counter[str]) -> bool:
    """Whether a file found in a folder or by a glob is an article file to read.

    A document ingest cannot read and a hidden file named like an article
    (``.draft.txt``, perhaps an editor's copy) are reported, one problem
    each; other files (images, scripts and style sheets beside saved pages,
    ``.DS_Store``) are counted in ``others`` by type, for one line per folder.
    """
    suffix = f.suffix.lower()
    if f.name.startswith("."):
        if suffix in ARTICLE_SUFFIXES and suffix:
            problems.append(CorpusError("hidden file (its name starts with '.'), not ingested; rename it without the dot "
                                        "to ingest it, or move it out of the folder", f))
        else:
            others["hidden"] += 1
        return False
    if suffix in NOT_TEXT:
        problems.append(CorpusError(NOT_TEXT[suffix], f))
        return False
    if suffix not in ARTICLE_SUFFIXES:
        others[suffix] += 1
        return False
    if not f.is_file():
        problems.append(CorpusError("not a regular file (a broken link, a pipe or a device); remove it or link it to an article", f))
        return False
    return True


SAVE_AS_TEXT = "ingest reads text only (.txt, .md, .html): save it as text first"
NOT_TEXT = {
    ".pdf": f"a PDF document, not text; {SAVE_AS_TEXT} (e.g. pdftotext FILE.pdf FILE.txt), or move it out of the folder",
    **{ext: f"a {ext[1:].upper()} document, not text; {SAVE_AS_TEXT}, or move it out of the folder"
       for ext in (".doc", ".docx", ".odt", ".rtf", ".epub")},
}


def _ignored(others: Counter[str], where: str) -> CorpusError:
    """One problem for the files of other types a folder or glob holds, counted by type."""
    kinds = ", ".join(f"{kind}: {n}" for kind, n in sorted(others.items(), key=lambda kv: (-kv[1], kv[0])))
    return CorpusError(f"{sum(others.values())} file(s) of other types ignored ({kinds}): only .txt, .md, .html and files "
                       "without an extension are read as articles; convert or rename those that are articles", where)
