"""The label store files: hand labels, one CSV per annotator under ``labels/``.

Flow: the corpus gives sentence ids and texts -> people label them (the
terminal or web labelling tool, or Label Studio / doccano via ``interop``)
into ``labels/<annotator>.csv`` -> ``gold`` checks every store against the
corpus and merges annotators (majority vote, ties say no) and adjudications
into the one table ``train`` learns from.  The labelling tools write through
the ``journal`` first.  This module is the files themselves: their names,
columns, reading with line-exact problems, and writing.

Store layout (``labels/``):

* ``<annotator>.csv`` -- columns :data:`STORE_COLUMNS`, 0/1 values, sorted
  by ``sentence_id``, always written atomically; plus the optional
  ``suggested`` column (:data:`OPTIONAL_COLUMNS`) once a row records a model
  suggestion, so stores labelled without suggestions never change shape.
* ``adjudications.csv`` -- same columns, ``annotator`` is the adjudicator;
  its decisions override the annotators'.
* ``disagreements*.csv``, ``GUIDELINES.md`` and dot-files are not stores.
* ``.journal/`` -- the labelling tool's write-ahead log and locks (:mod:`pipeline.labels.journal`).
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.errors import LabelError
from pipeline.records import LABELS
from pipeline.store import atomic_open

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


def store_kind(path: Path) -> str:
    """``adjudication`` for the adjudication file, else ``annotator``."""
    return "adjudication" if path.name == ADJUDICATIONS else "annotator"


def now_utc() -> str:
    """The time now as a store timestamp (UTC ``...Z``)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_utc(value: object) -> str | None:
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
def read_store_csv(path: Path, kind: str) -> tuple[list[dict], list[Problem]]:
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


def row_problems(row: dict) -> list[Problem]:
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


def duplicate_problems(rows: list[dict]) -> list[Problem]:
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


def store_table(rows: list[dict]) -> pd.DataFrame:
    """Rows -> the store's table (:data:`ALL_COLUMNS`, 0/1 integers) sorted by sentence id, for :func:`write_store`."""
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


def rows_frame(rows: list[dict]) -> pd.DataFrame:
    """Rows as read (strings, with ``file``, ``line`` and ``kind``) -> a DataFrame with 0/1 integer values."""
    import pandas as pd

    cols = [*ALL_COLUMNS, "file", "line", "kind"]
    df = pd.DataFrame([{c: r[c] for c in cols} for r in rows], columns=cols)
    for c in VALUE_COLUMNS:
        df[c] = df[c].astype(str).str.strip().astype(int)
    df["sentence_id"] = df["sentence_id"].astype(str).str.strip()
    df["line"] = df["line"].astype(int)
    return df.reset_index(drop=True)
