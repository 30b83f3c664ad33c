"""Carry hand labels across a change to cleaning: old sentence ids -> the ids of the sentences they became.

A sentence id hashes its text (:func:`pipeline.records.sentence_ids_for`), so a
cleaning change that edits a sentence (dropping the dateline that opened it,
"WASHINGTON The Senate ..." -> "The Senate ...") gives it a new id and orphans
its labels.  Given the corpus sentences from before the change (a copy of
``corpus/sentences.csv``) and the project's corpus after it, each id a label
file names that is no longer in the corpus goes to the sentence of the same
article whose normalised text equals the old one, or lies inside it and covers
more than half of it (:data:`MIN_COVER`).  Several such sentences, or several
old ids claiming one, is ambiguous and refused; no such sentence means the
cleaning removed the sentence.  Both are warnings naming the file and line,
and those rows stay as they were (or, with ``drop_removed``, rows of removed
sentences leave the label stores, each one reported).

Every table under ``labels/`` keyed by sentence id is rewritten: a CSV with a
``sentence_id`` column or JSON lines with a ``sentence_id`` field (annotator
stores, adjudications, tie labels, rounds, audits, queues), each atomically
and only where a row changed, its ``text`` becoming the new text.  These
tables are keyed by the current corpus and re-read against it (``talks labels
check``, the tie gold, ``scripts/import_round.py``), so they are rewritten
rather than patched by later entries; git keeps their history, and
``labels/migrations.jsonl`` (append-only) records every move.  The labelling
journals are not rewritten: the migration holds every annotator's lock and
first folds pending decisions into the stores (:func:`compact_journal`), so
no journal line names an old id.  The round sheets (``*.md``) and logs stay
as the record of what annotators were shown.
"""
from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Collection
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import LabelError
from pipeline.labels.journal import JOURNAL_DIR, annotator_lock, compact_journal, journal_of
from pipeline.labels.store import (ADJUDICATIONS, Problem, now_utc, read_store_csv, row_problems, store_files, store_kind,
                                   store_table, write_store)
from pipeline.project import Project
from pipeline.records import normalise_text
from pipeline.store import append_log, atomic_write_text, read_table, sha256_file

MIN_COVER = 0.5  # the new text must cover more than this share of the old (normalised characters)
MIGRATIONS = "migrations.jsonl"


@dataclass(frozen=True)
class IdMove:
    """One sentence id that moved: the old sentence and the sentence it became."""

    old_id: str
    new_id: str
    article_id: str
    old_text: str
    new_text: str


@dataclass(frozen=True)
class Migration:
    """What :func:`migrate_labels` did (or, with ``dry_run``, would do)."""

    moves: tuple[IdMove, ...]  # every labelled id that moved, once
    rewritten: dict[str, int]  # file -> rows changed (ids moved or rows dropped)
    dropped: int  # rows of removed sentences deleted from label stores
    tables: int  # label tables read
    warnings: tuple[Problem, ...]
    unmatched_in_stores: int  # store rows left naming a sentence not in the corpus
    dry_run: bool


def successors(old, new, ids: Collection[str]) -> tuple[dict[str, IdMove], dict[str, str]]:
    """(moves, unmatched) for ``ids`` absent from ``new``: the sentence of ``new`` each became, and for the
    rest why none was chosen ('removed', 'ambiguous: <candidates>', or 'unknown' when ``old`` lacks it too).

    ``old`` and ``new`` are sentence tables (``sentence_id``, ``article_id``, ``text``).
    """
    old_rows = {sid: (aid, text) for sid, aid, text in zip(old["sentence_id"], old["article_id"], old["text"])}
    old_ids, new_ids = set(old_rows), set(new["sentence_id"])
    born: dict[str, list[tuple[str, str, str]]] = defaultdict(list)  # article -> sentences new to it
    for sid, aid, text in zip(new["sentence_id"], new["article_id"], new["text"]):
        if sid not in old_ids:
            born[aid].append((sid, str(text), normalise_text(str(text))))
    chosen: dict[str, IdMove] = {}
    unmatched: dict[str, str] = {}
    for sid in sorted(set(ids) - new_ids):
        if sid not in old_rows:
            unmatched[sid] = "unknown"
            continue
        aid, text = old_rows[sid]
        norm = normalise_text(str(text))
        same = [c for c in born.get(aid, []) if c[2] == norm]
        inside = [c for c in born.get(aid, []) if c[2] and c[2] in norm and len(c[2]) > MIN_COVER * len(norm)]
        cands = same or inside
        if len(cands) == 1:
            chosen[sid] = IdMove(sid, cands[0][0], aid, str(text), cands[0][1])
        else:
            unmatched[sid] = f"ambiguous: {', '.join(c[0] for c in cands)}" if cands else "removed"
    claims: dict[str, list[str]] = defaultdict(list)
    for move in chosen.values():
        claims[move.new_id].append(move.old_id)
    for new_id, olds in claims.items():
        if len(olds) > 1:  # two old sentences became one: neither label set may take it over
            for sid in olds:
                unmatched[sid] = f"ambiguous: {', '.join(o for o in olds if o != sid)} also became {new_id}"
                del chosen[sid]
    return chosen, unmatched


def label_tables(labels_dir: str | Path) -> list[Path]:
    """Every table under ``labels_dir`` keyed by sentence id (a CSV with a ``sentence_id`` column, JSON lines
    with a ``sentence_id`` field), the journals left out, sorted by path."""
    out = []
    for path in sorted(Path(labels_dir).rglob("*")):
        if not path.is_file() or JOURNAL_DIR in path.relative_to(labels_dir).parts:
            continue
        try:
            if path.suffix == ".csv":
                with open(path, encoding="utf-8-sig", newline="") as f:
                    keyed = "sentence_id" in next(csv.reader(f), [])
            elif path.suffix == ".jsonl":
                with open(path, encoding="utf-8") as f:
                    keyed = '"sentence_id"' in f.readline()
            else:
                keyed = False
        except (UnicodeDecodeError, csv.Error) as e:
            raise LabelError(f"cannot read this label table ({e}); re-save it as UTF-8 or move it out of the labels folder",
                             path) from None
        if keyed:
            out.append(path)
    return out


def migrate_labels(project: Project, old_sentences: str | Path, *, drop_removed: bool = False,
                   dry_run: bool = False) -> Migration:
    """Move every label table of ``project`` from the ids of ``old_sentences`` to those of the project's corpus.

    Returns the :class:`Migration`; with ``dry_run`` nothing is written (pending
    journal decisions are then left out, with a warning).  LabelError when
    ``old_sentences`` is not a sentence table, a label store cannot be read, or
    a labelling session holds a store.
    """
    from pipeline.corpus.store import load_sentences

    old = read_table(old_sentences, dtype=str)
    if missing := {"sentence_id", "article_id", "text"} - set(old.columns):
        raise LabelError(f"not a corpus sentence table (no {', '.join(sorted(missing))} column); give the copy of "
                         "corpus/sentences.csv made before the cleaning changed", old_sentences, 1)
    new = load_sentences(project.corpus)
    labels = Path(project.labels)
    warnings: list[Problem] = []
    with ExitStack() as locks:
        journals = sorted((labels / JOURNAL_DIR).glob("*.jsonl"))
        if dry_run:
            warnings += [Problem(str(j), None, "pending labelling decisions are left out of this dry run",
                                 "the real run folds them into the store first", warning=True) for j in journals if j.stat().st_size]
        else:
            for name in sorted({p.stem for p in _stores(labels)} | {j.stem for j in journals}):
                locks.enter_context(annotator_lock(labels, name))  # no labelling session may write under the migration
                compact_journal(labels, name)
        stores = set(_stores(labels))
        tables = {path: _read(path, path in stores) for path in label_tables(labels)}
        moves, unmatched = successors(old, new, {r["sentence_id"] for rows in tables.values() for r in rows} - {""})
        old_text = dict(zip(old["sentence_id"], old["text"]))
        rewritten: dict[str, int] = {}
        dropped = left_in_stores = 0
        for path, rows in tables.items():
            is_store = path in stores
            unknown = [r for r in rows if unmatched.get(r["sentence_id"]) == "unknown"]
            if unknown:
                warnings.append(Problem(str(path), unknown[0]["line"], f"{len(unknown)} row(s) name sentences in neither "
                                        f"corpus (e.g. {unknown[0]['sentence_id']}): orphaned before this change",
                                        "left as they are; 'talks labels check' lists those in label stores", warning=True))
                left_in_stores += len(unknown) if is_store else 0
            changed, kept = 0, []
            for row in rows:
                sid = row["sentence_id"]
                if sid in moves:
                    row["sentence_id"], changed = moves[sid].new_id, changed + 1
                    if "text" in row["cells"]:
                        row["cells"]["text"] = moves[sid].new_text
                elif unmatched.get(sid, "unknown") != "unknown":
                    drop = drop_removed and is_store and unmatched[sid] == "removed"
                    warnings.append(_unmatched(path, row, unmatched[sid], old_text.get(sid, ""), is_store, drop))
                    if drop:
                        changed, dropped = changed + 1, dropped + 1
                        continue
                    left_in_stores += is_store
                kept.append(row)
            if changed:
                rewritten[str(path)] = changed
                if not dry_run:
                    _write(path, kept, is_store)
        if moves and not dry_run:
            append_log(labels / MIGRATIONS, {"op": "migrate", "timestamp": now_utc(), "from": str(old_sentences),
                                             "from_sha256": sha256_file(old_sentences), "dropped": dropped,
                                             "moves": {m.old_id: m.new_id for m in moves.values()}})
    return Migration(moves=tuple(moves[sid] for sid in sorted(moves)), rewritten=rewritten, dropped=dropped,
                     tables=len(tables), warnings=tuple(warnings), unmatched_in_stores=left_in_stores, dry_run=dry_run)


def _stores(labels: Path) -> list[Path]:
    return [*store_files(labels), *([labels / ADJUDICATIONS] if (labels / ADJUDICATIONS).is_file() else [])]


def _unmatched(path: Path, row: dict, why: str, text: str, store: bool, dropped: bool) -> Problem:
    sid, text = row["sentence_id"], str(text)[:80]
    if not store:
        fix = "row left as it is: this table is not a label store"
    elif why == "removed":
        fix = "row deleted" if dropped else "delete the row (or migrate with --drop-removed)"
    else:
        fix = f"row left as it is; label the sentence again (talks label --article {row['cells'].get('article_id') or 'ID'})"
    what = "was removed by the cleaning: no sentence of its article took its text" if why == "removed" else f"is {why}"
    return Problem(str(path), row["line"], f"sentence {sid} ({text!r}) {what}", fix, warning=True)


# --------------------------------------------------------------------------
# The tables: rows with their line, written back with the bytes of rows that did not change
# --------------------------------------------------------------------------
def _read(path: Path, store: bool) -> list[dict]:
    """The rows of one label table: ``sentence_id``, ``line``, and what writing it back needs."""
    if store:
        rows, problems = read_store_csv(path, store_kind(path))
        if errors := [p for p in problems + [q for r in rows for q in row_problems(r)] if not p.warning]:
            raise errors[0].error()
        return [{"sentence_id": r["sentence_id"].strip(), "line": r["line"], "cells": r} for r in rows]
    text = path.read_bytes().decode("utf-8-sig")  # as it is: read_text would turn CRLF line ends into LF
    if path.suffix == ".jsonl":
        out = []
        for n, line in enumerate(text.split("\n"), 1):
            try:
                rec = json.loads(line) if line.strip() else None
            except ValueError:
                raise LabelError("not a JSON line; fix or delete it", path, n) from None
            sid = rec.get("sentence_id") if isinstance(rec, dict) else None
            out.append({"sentence_id": str(sid).strip() if sid else "", "line": n, "raw": line, "cells": rec or {}})
        return out
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader)
    out, line = [{"sentence_id": "", "line": 1, "raw": header, "cells": {}}], 2
    try:
        for rec in reader:
            cells = dict(zip(header, rec))
            out.append({"sentence_id": cells.get("sentence_id", "").strip(), "line": line, "raw": rec, "cells": cells,
                        "header": header})
            line = reader.line_num + 1
    except csv.Error as e:
        raise LabelError(f"not a valid CSV file ({e}); fix the quoting or restore it from git", path, line) from None
    return out


def _write(path: Path, rows: list[dict], store: bool) -> None:
    if store:
        for r in rows:
            r["cells"]["sentence_id"] = r["sentence_id"]
        write_store(store_table([r["cells"] for r in rows]), path)
        return
    if path.suffix == ".jsonl":
        lines = [r["raw"] if r["cells"].get("sentence_id") in (None, r["sentence_id"])
                 else json.dumps({**r["cells"], "sentence_id": r["sentence_id"]}, ensure_ascii=False) for r in rows]
        atomic_write_text(path, "\n".join(lines))
        return
    raw = path.read_bytes().decode("utf-8-sig")
    out = io.StringIO(newline="")
    w = csv.writer(out, lineterminator="\r\n" if raw.split("\n", 1)[0].endswith("\r") else "\n")
    for r in rows:
        if "header" in r:
            r["raw"] = [r["sentence_id"] if h == "sentence_id" else r["cells"].get(h, v) for h, v in zip(r["header"], r["raw"])]
        w.writerow(r["raw"])
    atomic_write_text(path, out.getvalue())
