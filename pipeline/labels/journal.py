"""The journal: the labelling tools' write-ahead log of decisions, one per annotator.

``labels/.journal/<annotator>.jsonl`` holds one fsynced line per decision
(a save or an undo), folded into the annotator's CSV at the end of a session
or at the next start after a crash (:func:`compact_journal`).  Readers fold
pending lines in memory (:func:`fold_journal`), so a killed session loses
nothing and no reader waits for a compaction.  ``.journal/<annotator>.lock``
is held by a labelling session or an import (:func:`annotator_lock`): one
writer of an annotator's journal at a time.
"""
from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.errors import LabelError
from pipeline.labels.store import (
    ALL_COLUMNS,
    VALUE_COLUMNS,
    check_annotator,
    now_utc,
    read_store_csv,
    row_problems,
    store_kind,
    store_path,
    store_table,
    write_store,
)
from pipeline.store import append_log, read_log

JOURNAL_DIR = ".journal"


def journal_path(labels_dir: str | Path, annotator: str) -> Path:
    """``labels/.journal/<annotator>.jsonl``."""
    return Path(labels_dir) / JOURNAL_DIR / f"{check_annotator(annotator)}.jsonl"


def journal_of(store: Path) -> Path:
    """The journal of the store file ``store`` (whatever its name)."""
    return store.parent / JOURNAL_DIR / f"{store.stem}.jsonl"


def append_journal(labels_dir: str | Path, annotator: str, record: dict) -> None:
    """Append one decision to the journal and fsync it before returning,
    so a decision on screen is a decision on disk."""
    append_log(journal_path(labels_dir, annotator), record)


def save_record(annotator: str, sentence_id: str, article_id: str, text: str, values: dict, suggested: str = "") -> dict:
    """A journal 'save' record (a store row plus ``op``); ``suggested`` is the
    store cell (:func:`format_suggested`) of what the model pre-ticked."""
    return {
        "op": "save",
        "sentence_id": sentence_id,
        "article_id": article_id,
        "text": text,
        **{c: int(bool(values.get(c, 0))) for c in VALUE_COLUMNS},
        "annotator": annotator,
        "timestamp": now_utc(),
        "suggested": suggested,
    }


def undo_record(annotator: str, sentence_id: str) -> dict:
    """A journal 'undo' record: it undoes the latest save of the sentence still standing."""
    return {"op": "undo", "sentence_id": sentence_id, "annotator": annotator, "timestamp": now_utc()}


def _read_journal(path: Path) -> list[tuple[int, dict]]:
    """(line, record) pairs.  A torn last line (killed mid-write, never
    acknowledged on screen) is dropped; a bad line elsewhere is an error."""
    records, bad = read_log(path, lambda rec: isinstance(rec, dict) and rec.get("op") in ("save", "undo") and bool(rec.get("sentence_id")))
    if bad is not None:
        raise LabelError("unreadable journal line; delete that line (the decision on it is lost)", path, bad)
    return records


def fold_journal(rows: list[dict], jpath: Path, kind: str) -> list[dict]:
    """Apply journal records to a store's rows: one row per sentence id.

    A save replaces the sentence's row; an undo restores the row as it was
    before the save it undoes.  Replaying a journal over a store it was
    already folded into gives the same store, so a crash between writing the
    CSV and truncating the journal does no harm.
    """
    current: dict[str, dict] = {}
    for row in rows:
        current[row["sentence_id"].strip()] = row  # duplicates: the last row wins (check_labels flags them)
    history: list[tuple[str, dict | None]] = []
    for n, rec in _read_journal(jpath):
        sid = str(rec["sentence_id"])
        if rec["op"] == "save":
            history.append((sid, current.get(sid)))
            row = {c: str(rec.get(c, "")) for c in ALL_COLUMNS}
            row.update(sentence_id=sid, file=str(jpath), line=n, kind=kind)
            current[sid] = row
        else:
            # an undo undoes the latest save of that sentence still standing
            for i in range(len(history) - 1, -1, -1):
                if history[i][0] == sid:
                    prev = history.pop(i)[1]
                    if prev is None:
                        current.pop(sid, None)
                    else:
                        current[sid] = prev
                    break
    return list(current.values())


@contextmanager
def annotator_lock(labels_dir: str | Path, annotator: str) -> Iterator[None]:
    """Hold ``.journal/<annotator>.lock``: one writer of an annotator's journal
    and store at a time -- a labelling session (terminal or web) or an import.
    Two sessions would interleave one journal, and an import compacting the
    journal under a live session would make the session's undo a no-op."""
    path = Path(labels_dir) / JOURNAL_DIR / f"{check_annotator(annotator)}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise LabelError(f"another 'talks label' session (or 'talks labels import') for {annotator} is running; "
                             "finish it first", path) from None
        yield


def compact_journal(labels_dir: str | Path, annotator: str) -> int:
    """Fold ``.journal/<annotator>.jsonl`` into ``<annotator>.csv`` and truncate it.

    Call it holding :func:`annotator_lock`: a live session's later undo must
    find its save still in the journal.  The CSV is replaced atomically
    first; only then is the journal emptied.  A journal whose decisions were
    all undone creates no store (an empty one would only be warned about).
    Returns the number of journal records folded in.
    """
    jpath = journal_path(labels_dir, annotator)
    records = _read_journal(jpath)
    if not records:
        return 0
    spath = store_path(labels_dir, annotator)
    kind = store_kind(spath)
    rows, problems = read_store_csv(spath, kind)
    errors = [pr for pr in problems + [q for r in rows for q in row_problems(r)] if not pr.warning]
    if errors:
        raise LabelError(f"cannot fold the journal into a broken store ({errors[0]}); fix it and run again", spath)
    rows = fold_journal(rows, jpath, kind)
    if rows or spath.exists():
        write_store(store_table(rows), spath)
    with open(jpath, "w", encoding="utf-8") as f:
        f.flush()
        os.fsync(f.fileno())
    return len(records)
