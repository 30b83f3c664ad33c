"""The label store: hand labels, one CSV per annotator under ``labels/``.

Flow: the corpus (``corpus.py``) gives sentence ids and texts -> people label
them (``labeltool``, ``weblabel``, or Label Studio / doccano) into
``labels/<annotator>.csv`` -> ``check_labels`` validates every store against
the corpus -> ``gold_labels`` merges annotators (majority vote, ties say no)
and adjudications into the one table ``train`` learns from.  Statistics and
agreement are in ``label_stats.py``; Label Studio / doccano in ``interop.py``.

Store layout (``labels/``):

* ``<annotator>.csv`` -- columns :data:`STORE_COLUMNS`, 0/1 values, sorted
  by ``sentence_id``, always written atomically; plus the optional
  ``suggested`` column (:data:`OPTIONAL_COLUMNS`) once a row records a model
  suggestion, so stores labelled without suggestions never change shape.
* ``adjudications.csv`` -- same columns, ``annotator`` is the adjudicator;
  its decisions override the annotators'.
* ``disagreements*.csv``, ``GUIDELINES.md`` and dot-files are not stores.
* ``.journal/<annotator>.jsonl`` -- the labelling tool's write-ahead log:
  one fsynced line per decision, folded into the CSV at the end of a session
  (or at the next start after a crash).  Readers here fold pending journal
  lines in memory, so a killed session loses nothing and no reader waits
  for a compaction.
* ``.journal/<annotator>.lock`` -- held by a labelling session or an import
  (:func:`annotator_lock`): one writer of an annotator's journal at a time.
"""
from __future__ import annotations

import csv
import fcntl
import hashlib
import io
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.errors import LabelError
from pipeline.records import LABELS
from pipeline.store import append_log, atomic_open, read_log

if TYPE_CHECKING:  # pandas is imported lazily: the CLI starts faster without it
    import pandas as pd

STORE_COLUMNS: tuple[str, ...] = ("sentence_id", "article_id", "text", *LABELS, "junk", "annotator", "timestamp")
VALUE_COLUMNS: tuple[str, ...] = (*LABELS, "junk")
# Optional: what the labelling tool's model pre-ticked ('' = no suggestion
# shown, 'none' = it ticked none, else labels joined by '|').  Whether the
# annotator changed it follows from the row's labels, so it is not stored.
OPTIONAL_COLUMNS: tuple[str, ...] = ("suggested",)
ALL_COLUMNS: tuple[str, ...] = (*STORE_COLUMNS, *OPTIONAL_COLUMNS)
GOLD_COLUMNS: tuple[str, ...] = ("sentence_id", "article_id", "text", *LABELS, "n_annotators")
ADJUDICATIONS = "adjudications.csv"
JOURNAL_DIR = ".journal"

# Annotator names become file names; keep them to a safe, portable alphabet.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


# --------------------------------------------------------------------------
# Problems
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class Problem:
    """One thing wrong in a label file; ``str()`` gives ``path:line: message; fix``."""

    path: str
    line: int | None
    message: str
    fix: str
    warning: bool = False

    def __str__(self) -> str:
        where = self.path + (f":{self.line}" if self.line is not None else "")
        return f"{where}: {'warning: ' if self.warning else ''}{self.message}; {self.fix}"

    def error(self) -> LabelError:
        return LabelError(f"{self.message}; {self.fix}", self.path, self.line)


# --------------------------------------------------------------------------
# Paths
# --------------------------------------------------------------------------
def check_annotator(name: str) -> str:
    """An annotator name usable as a file name, or LabelError."""
    if not _NAME.match(name or "") or name.startswith(NOT_STORE_PREFIXES):
        raise LabelError(
            f"annotator name {name!r} cannot be a store file name; use letters, digits, '-' and '_' "
            f"(not starting with {', '.join(NOT_STORE_PREFIXES)})"
        )
    return name


def store_path(labels_dir: str | Path, annotator: str) -> Path:
    """``labels/<annotator>.csv`` (``adjudications`` gives the adjudication file)."""
    return Path(labels_dir) / f"{check_annotator(annotator)}.csv"


def journal_path(labels_dir: str | Path, annotator: str) -> Path:
    return Path(labels_dir) / JOURNAL_DIR / f"{check_annotator(annotator)}.jsonl"


# Files under labels/ that are not annotator stores: the adjudications, the
# held-out article list, and the working files of agreement and the queue.
NOT_STORE_PREFIXES: tuple[str, ...] = ("disagreements", "queue", "heldout", "audit")


def is_store_name(name: str) -> bool:
    """True for an annotator store file name (``adjudications.csv`` excluded)."""
    return (name.endswith(".csv") and not name.startswith(".") and name != ADJUDICATIONS
            and not name.startswith(NOT_STORE_PREFIXES))


def store_files(labels_dir: str | Path) -> list[Path]:
    """Annotator stores in ``labels_dir``, sorted by name."""
    d = Path(labels_dir)
    if not d.is_dir():
        return []
    return sorted(p for p in d.iterdir() if p.is_file() and is_store_name(p.name))


def _all_store_paths(labels_dir: str | Path) -> list[tuple[Path, str]]:
    """(path, kind) for every annotator store and the adjudication file,
    including stores that so far exist only as a pending journal."""
    d = Path(labels_dir)
    paths = {p: "annotator" for p in store_files(d)}
    adj = d / ADJUDICATIONS
    if adj.is_file():
        paths[adj] = "adjudication"
    jdir = d / JOURNAL_DIR
    if jdir.is_dir():
        for j in jdir.glob("*.jsonl"):
            p = d / f"{j.stem}.csv"
            if p.name == ADJUDICATIONS:
                paths.setdefault(p, "adjudication")
            elif is_store_name(p.name) and j.stat().st_size > 0:
                paths.setdefault(p, "annotator")
    return sorted(paths.items(), key=lambda kv: (kv[1] == "adjudication", kv[0].name))


def now_utc() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_utc(value) -> str | None:
    """An ISO 8601 timestamp from a tool's export, as UTC ``...Z``; None if unparsable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ws(text: str) -> str:
    return " ".join(str(text).split())


def format_suggested(values: dict | None) -> str:
    """The ``suggested`` cell for the decision a model pre-ticked (None: none shown)."""
    if values is None:
        return ""
    return "|".join(lab for lab in LABELS if values.get(lab)) or "none"


def parse_suggested(cell: str) -> set[str] | None:
    """The labels a ``suggested`` cell names; None when no suggestion was shown."""
    cell = str(cell).strip()
    if not cell:
        return None
    return set() if cell == "none" else set(cell.split("|"))


# --------------------------------------------------------------------------
# Reading one store (raw rows, line numbers, row-level problems)
# --------------------------------------------------------------------------
def _read_store_csv(path: Path, kind: str) -> tuple[list[dict], list[Problem]]:
    """Raw rows (string values) with their line numbers, and file problems.

    Read with the csv module rather than pandas because problems must name
    the physical line, and a quoted text may span lines.  A byte order mark
    (Excel's "CSV UTF-8") and CRLF line ends are read as they are; the next
    write by a tool gives the file plain LF lines again.
    """
    if not path.exists():
        return [], []
    p = str(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [Problem(p, None, "not UTF-8 text", "re-save the file as UTF-8 CSV")]
    except OSError as e:
        return [], [Problem(p, None, f"cannot read the file ({e.strerror})", "check it is a readable file")]
    reader = csv.reader(io.StringIO(text, newline=""))
    records: list[tuple[int, list[str]]] = []
    try:
        header = next(reader, None)
        line = reader.line_num + 1
        for rec in reader:
            records.append((line, rec))
            line = reader.line_num + 1
    except csv.Error as e:
        return [], [Problem(p, None, f"not a valid CSV file ({e})", "fix the quoting or re-export it")]
    if header is None:
        return [], [Problem(p, 1, "empty file", f"write the header {','.join(STORE_COLUMNS)} or delete the file")]
    header = [h.strip() for h in header]
    problems = _header_problems(p, header)
    missing = frozenset(c for c in STORE_COLUMNS if c not in header)
    rows: list[dict] = []
    for i, (start, rec) in enumerate(records):
        if not rec or all(not v.strip() for v in rec):
            continue
        row = {c: "" for c in ALL_COLUMNS}
        for h, v in zip(header, rec):
            if h in row:
                row[h] = v
        cut = _cut_off(p, start, len(rec), len(header), text) if i == len(records) - 1 else None
        if cut is not None:
            problems.append(cut)
            if not cut.warning:
                continue  # the half a row is no decision: one problem, not one per missing value
        if len(rec) != len(header):
            fix = "quote text that contains commas" if len(rec) > len(header) else "fill in the missing fields"
            problems.append(Problem(p, start, f"{len(rec)} fields but the header has {len(header)}", fix))
        row.update(file=p, line=start, kind=kind, missing=missing)
        if not row["annotator"] and kind == "annotator":
            row["annotator"] = path.stem
        rows.append(row)
    return rows, problems


def _header_problems(p: str, header: list[str]) -> list[Problem]:
    out = [Problem(p, 1, f"unknown column {h!r}", f"rename it to one of {', '.join(ALL_COLUMNS)} or remove it")
           for h in header if h not in ALL_COLUMNS]
    out += [Problem(p, 1, f"column {h!r} appears {header.count(h)} times", "keep one")
            for h in sorted(set(header)) if header.count(h) > 1]
    missing = [c for c in STORE_COLUMNS if c not in header]
    if missing:
        out.append(Problem(p, 1, f"missing column(s) {', '.join(missing)}", f"the header must be {','.join(STORE_COLUMNS)}"))
    return out


def _cut_off(p: str, line: int, fields: int, expected: int, text: str) -> Problem | None:
    """Whether the file's last row (``fields`` fields, from ``line``) was cut off.

    A file a tool wrote ends with a line break outside any quote.  A short
    last row without that final line break, or inside a quote left open (an
    odd number of quote characters: CSV doubles quotes within quotes), lost
    the end of the file -- a truncated copy, a full disk.  A complete row
    without the final line break (some editors save that) only may have.
    """
    ends_clean = text.endswith(("\n", "\r"))
    open_quote = text.count('"') % 2 == 1
    if fields < expected and (open_quote or not ends_clean):
        inside = ", inside a quoted text" if open_quote else ""
        return Problem(p, line, f"the last row is cut off ({fields} of {expected} fields{inside})",
                       "the file may have been truncated — restore it from git, or complete the row")
    if not ends_clean:
        return Problem(p, line, "the file does not end with a line break, so its last row may be cut off",
                       "check that row, then end the file with a line break", warning=True)
    return None


def _row_problems(row: dict) -> list[Problem]:
    """Value problems of one row: id present, 0/1 values, junk without labels."""
    p, line = row["file"], row["line"]
    out = []
    if not row["sentence_id"].strip():
        out.append(Problem(p, line, "empty sentence_id", "fill it in from corpus/sentences.csv or delete the row"))
    for c in VALUE_COLUMNS:
        if c in row.get("missing", ()):
            continue  # already reported once, on the header line
        if row[c].strip() not in ("0", "1"):
            out.append(Problem(p, line, f"{c} is {row[c]!r}, not 0 or 1", f"set {c} to 0 or 1"))
    if row["junk"].strip() == "1":
        on = [c for c in LABELS if row[c].strip() == "1"]
        if on:
            out.append(Problem(p, line, f"junk row with label(s) {', '.join(on)} set", "set those labels to 0, or junk to 0"))
    named = parse_suggested(row.get("suggested", ""))
    if named is not None and not named <= set(LABELS):
        out.append(Problem(p, line, f"suggested is {row['suggested']!r}", f"leave it empty, or write 'none' or labels joined by '|' ({', '.join(LABELS)})"))
    return out


def _duplicate_problems(rows: list[dict]) -> list[Problem]:
    """A sentence id twice in one file: an error when the values differ,
    a warning when the rows are identical (harmless, but noise)."""
    first: dict[str, dict] = {}
    out = []
    for row in rows:
        sid = row["sentence_id"].strip()
        if not sid:
            continue
        if sid in first:
            prev = first[sid]
            same = all(prev[c].strip() == row[c].strip() for c in VALUE_COLUMNS)
            if same:
                out.append(Problem(row["file"], row["line"], f"sentence {sid} repeats line {prev['line']} with the same values", "delete one of the two rows", warning=True))
            else:
                out.append(Problem(row["file"], row["line"], f"sentence {sid} is also on line {prev['line']} with different values", "keep the row you mean and delete the other"))
        else:
            first[sid] = row
    return out


# --------------------------------------------------------------------------
# The journal (write-ahead log of the labelling tool)
# --------------------------------------------------------------------------
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
    return {"op": "undo", "sentence_id": sentence_id, "annotator": annotator, "timestamp": now_utc()}


def _read_journal(path: Path) -> list[tuple[int, dict]]:
    """(line, record) pairs.  A torn last line (killed mid-write, never
    acknowledged on screen) is dropped; a bad line elsewhere is an error."""
    records, bad = read_log(path, lambda rec: isinstance(rec, dict) and rec.get("op") in ("save", "undo") and bool(rec.get("sentence_id")))
    if bad is not None:
        raise LabelError("unreadable journal line; delete that line (the decision on it is lost)", path, bad)
    return records


def _fold_journal(rows: list[dict], jpath: Path, kind: str) -> list[dict]:
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


def _store_table(rows: list[dict]):
    import pandas as pd

    df = pd.DataFrame([{c: r[c] for c in ALL_COLUMNS} for r in rows], columns=list(ALL_COLUMNS))
    for c in VALUE_COLUMNS:
        df[c] = df[c].astype(str).str.strip().astype(int)
    return df.sort_values("sentence_id", kind="stable").reset_index(drop=True)


def write_store(df: pd.DataFrame, path: str | Path) -> None:
    """Write a store atomically, sorted by sentence id: :data:`STORE_COLUMNS`,
    plus each optional column only if some row fills it (so a store labelled
    without suggestions keeps its old header and an empty ``git diff``).

    The same bytes pandas' CSV writer gives (minimal quoting, LF lines), with
    one difference: a cell holding a carriage return is quoted too.  The csv
    module quotes only the line terminator's characters, and an unquoted CR
    reads back as a line break, so text would not survive the round trip.
    """
    optional = [c for c in OPTIONAL_COLUMNS if c in df and df[c].fillna("").astype(str).str.strip().ne("").any()]
    cols = [*STORE_COLUMNS, *optional]
    df = df[cols].sort_values("sentence_id", kind="stable").fillna("").astype(str)
    with atomic_open(path, "w", encoding="utf-8", newline="") as f:
        for cells in (cols, *df.itertuples(index=False)):
            f.write(",".join(_csv_cell(c) for c in cells) + "\n")


def _csv_cell(cell: str) -> str:
    return '"' + cell.replace('"', '""') + '"' if any(ch in cell for ch in ',"\r\n') else cell


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
    kind = "adjudication" if spath.name == ADJUDICATIONS else "annotator"
    rows, problems = _read_store_csv(spath, kind)
    errors = [pr for pr in problems + [q for r in rows for q in _row_problems(r)] if not pr.warning]
    if errors:
        raise LabelError(f"cannot fold the journal into a broken store ({errors[0]}); fix it and run again", spath)
    rows = _fold_journal(rows, jpath, kind)
    if rows or spath.exists():
        write_store(_store_table(rows), spath)
    with open(jpath, "w", encoding="utf-8") as f:
        f.flush()
        os.fsync(f.fileno())
    return len(records)


# --------------------------------------------------------------------------
# Loading and checking all stores against the corpus
# --------------------------------------------------------------------------
def collect_labels(labels_dir: str | Path, corpus_root: str | Path) -> tuple[list[dict], list[Problem], pd.DataFrame]:
    """Every store's effective rows (journal folded in) and every problem.

    Rows carry ``ok`` = no error-level problem, so tolerant readers (stats)
    can skip bad rows while strict ones (gold) stop at the first problem.
    """
    from pipeline.corpus.store import load_sentences

    sents = load_sentences(corpus_root)
    corpus = {sid: (aid, text) for sid, aid, text in zip(sents["sentence_id"], sents["article_id"], sents["text"])}
    rows_out: list[dict] = []
    problems: list[Problem] = []
    for path, kind in _all_store_paths(labels_dir):
        rows, file_problems = _read_store_csv(path, kind)
        problems += file_problems + _duplicate_problems(rows)
        bad_header = any(not pr.warning and pr.line == 1 and "column" in pr.message for pr in file_problems)
        jpath = Path(labels_dir) / JOURNAL_DIR / f"{path.stem}.jsonl"
        folded = _fold_journal(rows, jpath, kind)
        if not folded and path.exists() and not file_problems:
            # a warning, not an error: an empty store holds no wrong label and training is
            # unaffected, but a store wiped by accident must not pass unnoticed
            problems.append(Problem(str(path), None, "no rows: the store holds only its header",
                                    "restore it from git if rows were lost, or delete it if it is not needed", warning=True))
        live = {id(r) for r in folded}
        # rows superseded by a duplicate or a journal decision are still in the file: report them
        problems += [q for r in rows if id(r) not in live for q in _row_problems(r)]
        for r in folded:
            rp = _row_problems(r) + _corpus_problems(r, corpus)
            r["ok"] = not bad_header and not any(not q.warning for q in rp)
            problems += rp
            rows_out.append(r)
    problems = sorted(set(problems), key=lambda q: (q.path, q.line or 0, q.message))
    return rows_out, problems, sents


def _corpus_problems(r: dict, corpus: dict) -> list[Problem]:
    """Orphan ids, moved sentences and edited texts: the store against the corpus."""
    sid = r["sentence_id"].strip()
    if not sid:
        return []
    if sid not in corpus:
        return [Problem(r["file"], r["line"], f"sentence {sid} is not in the corpus (orphan: its article was removed or its text changed)", "delete the row, or label the sentence again under its new id")]
    out = []
    aid, text = corpus[sid]
    if r["article_id"].strip() != aid:
        out.append(Problem(r["file"], r["line"], f"article_id {r['article_id']!r} but the corpus has {aid!r} for sentence {sid}", f"set article_id to {aid}"))
    if _ws(r["text"]) != _ws(text):
        out.append(Problem(r["file"], r["line"], f"text no longer matches the corpus text of sentence {sid}", f"check the label still fits and copy the corpus text: {text!r}"))
    return out


def find_problems(labels_dir: str | Path, corpus_root: str | Path) -> list[Problem]:
    """Every problem in every store, sorted by file and line (warnings included)."""
    return collect_labels(labels_dir, corpus_root)[1]


def check_labels(labels_dir: str | Path, corpus_root: str | Path) -> list[str]:
    """Every problem as ``path:line: message; fix`` (empty list: all good)."""
    return [str(p) for p in find_problems(labels_dir, corpus_root)]


def rows_frame(rows: list[dict]):
    import pandas as pd

    cols = [*ALL_COLUMNS, "file", "line", "kind"]
    df = pd.DataFrame([{c: r[c] for c in cols} for r in rows], columns=cols)
    for c in VALUE_COLUMNS:
        df[c] = df[c].astype(str).str.strip().astype(int)
    df["sentence_id"] = df["sentence_id"].astype(str).str.strip()
    df["line"] = df["line"].astype(int)
    return df.reset_index(drop=True)


def load_labels(labels_dir: str | Path, corpus_root: str | Path) -> pd.DataFrame:
    """All stores' rows (pending journal decisions included) as a DataFrame with
    :data:`ALL_COLUMNS` (``suggested`` is '' where a store has no such column)
    plus ``file``, ``line`` and ``kind`` (annotator or adjudication).  Raises
    LabelError on the first error-level problem."""
    rows, problems, _ = collect_labels(labels_dir, corpus_root)
    for p in problems:
        if not p.warning:
            raise p.error()
    return rows_frame(rows)


# --------------------------------------------------------------------------
# Gold labels
# --------------------------------------------------------------------------
def resolve_gold(df):
    """One decision per sentence: adjudication, else majority vote (ties -> 0).

    Junk is decided by the same rule.  Returns sentence_id, the labels, junk,
    n_annotators, sorted by sentence id.
    """
    import pandas as pd

    cols = ["sentence_id", *VALUE_COLUMNS, "n_annotators"]
    if df.empty:
        return pd.DataFrame(columns=cols)
    ann = df[df["kind"] == "annotator"]
    g = ann.groupby("sentence_id")
    n = g.size()
    votes = g[list(VALUE_COLUMNS)].sum()
    # strict majority: a tie means annotators were torn, and the guidelines say "when torn, say no"
    decided = (votes.mul(2).gt(n, axis=0)).astype(int)
    decided["n_annotators"] = n
    adj = df[df["kind"] == "adjudication"].drop_duplicates("sentence_id", keep="last").set_index("sentence_id")
    if not adj.empty:
        a = adj[list(VALUE_COLUMNS)].astype(int)
        a["n_annotators"] = n.reindex(a.index).fillna(0).astype(int)
        decided = pd.concat([decided.drop(index=a.index, errors="ignore"), a])
    out = decided.reset_index().rename(columns={"index": "sentence_id"})
    out = out[cols].sort_values("sentence_id").reset_index(drop=True)
    for c in cols[1:]:
        out[c] = out[c].astype(int)
    # a junk decision wins over any label votes: a junk sentence carries no labels
    for c in LABELS:
        out.loc[out["junk"] == 1, c] = 0
    return out


def gold_with_junk(labels_dir: str | Path, corpus_root: str | Path) -> pd.DataFrame:
    from pipeline.corpus.store import load_sentences

    resolved = resolve_gold(load_labels(labels_dir, corpus_root))
    sents = load_sentences(corpus_root)[["sentence_id", "article_id", "text"]]
    out = resolved.merge(sents, on="sentence_id", how="left")
    return out[["sentence_id", "article_id", "text", *VALUE_COLUMNS, "n_annotators"]]


def gold_labels(labels_dir: str | Path, corpus_root: str | Path) -> pd.DataFrame:
    """The training table: one row per non-junk labelled sentence, columns
    :data:`GOLD_COLUMNS`, sorted by sentence id.  Raises LabelError (file and
    line) on the first problem in any store."""
    g = gold_with_junk(labels_dir, corpus_root)
    return g[g["junk"] == 0][list(GOLD_COLUMNS)].reset_index(drop=True)


def labels_hash(df: pd.DataFrame) -> str:
    """sha256 over the gold rows (sentence id + labels), for the model card."""
    h = hashlib.sha256()
    for row in df.sort_values("sentence_id")[["sentence_id", *LABELS]].itertuples(index=False):
        h.update((",".join(str(v) for v in row) + "\n").encode("utf-8"))
    return h.hexdigest()


# --------------------------------------------------------------------------
# One store file on its own
# --------------------------------------------------------------------------
def read_store(path: str | Path) -> pd.DataFrame:
    """One store file (its pending journal folded in) as a DataFrame; raises
    LabelError on the first row problem.  No corpus needed."""
    path = Path(path)
    if not path.exists():
        raise LabelError("label file not found; check the path", path)
    kind = "adjudication" if path.name == ADJUDICATIONS else "annotator"
    rows, problems = _read_store_csv(path, kind)
    problems += [q for r in rows for q in _row_problems(r)] + _duplicate_problems(rows)
    rows = _fold_journal(rows, path.parent / JOURNAL_DIR / f"{path.stem}.jsonl", kind)
    problems += [q for r in rows if str(r["file"]) != str(path) for q in _row_problems(r)]
    for p in sorted(problems, key=lambda q: (q.path, q.line or 0)):
        if not p.warning:
            raise p.error()
    return rows_frame(rows)
