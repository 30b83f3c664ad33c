"""What tagging writes: one schema, streamed to CSV, JSON lines or Parquet, and the per-article summary.

Both engines (``tag.py`` on this machine, ``distributed.py`` on a Dask
cluster) write through :class:`Writer` and summarise through
:class:`SummaryAccumulator`, so their outputs have the same columns, types
and bytes.
"""
from __future__ import annotations

import numpy as np

from pipeline.errors import PipelineError
from pipeline.records import BIDI_CONTROLS, C1_CONTROLS, CONTROL_PICTURES, LABELS
from pipeline.store import neutralise_formulas, write_frame

ID_COLUMNS = ("article_id", "sentence_id", "position", "text")
# Provenance: from the article file, or a table's own columns of these names.
PROVENANCE = ("title", "date", "outlet", "url", "source")

# C0 controls but tab and newline (NUL, CR, ESC, which starts terminal escape
# sequences), DEL and the C1 controls: shown as Unicode control pictures
# (NUL -> U+2400, ESC -> U+241B, DEL -> U+2421), C1 and bidi controls as U+FFFD.
_VISIBLE = {c: v for c, v in CONTROL_PICTURES.items() if c not in (9, 10)} | {c: 0xFFFD for c in (*C1_CONTROLS, *BIDI_CONTROLS)}
# The same characters as an RE2 class, made from the table so the two never disagree.
_VISIBLE_CLASS = "[" + "".join(f"\\x{{{c:x}}}" for c in sorted(_VISIBLE)) + "]"


def output_columns(labels=LABELS) -> list[str]:
    """The columns every tag output starts with, in this order."""
    return [*ID_COLUMNS, *labels, *(f"p_{lab}" for lab in labels), "blame_ties", "on_topic", "model_id", *PROVENANCE]


# --------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------
def conform(df, columns: list[str]):
    """The frame in the run's output schema, with control characters made visible.

    Cells are looked at a column at a time (one Arrow regex match over the
    column finds the rare cells with a control character); only those are
    rewritten, cell by cell.
    """
    out = df.reindex(columns=columns)
    for c in out.columns:
        if out[c].dtype.kind == "O":  # object and pandas string columns
            hit = _with_controls(out[c])
            if hit is None:
                out[c] = out[c].map(visible)
            elif hit.any():
                col = out[c].copy()
                col[hit] = col[hit].map(visible)
                out[c] = col
    return out


def _with_controls(col):
    """Which cells of a text column hold a character :func:`visible` replaces (a boolean array),
    or None when the column holds something other than text and missing values."""
    import pyarrow.compute as pc

    arr = _text_column(col)
    if arr is None:
        return None
    return pc.fill_null(pc.match_substring_regex(arr, _VISIBLE_CLASS), False).to_numpy(zero_copy_only=False)


def _text_column(col):
    """The column as an Arrow string array when every cell is text or missing, else None."""
    import pyarrow as pa

    try:
        return pa.array(col.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None


def visible(v):
    """Text with its control characters shown as control pictures; anything else as it is."""
    return v.translate(_VISIBLE) if isinstance(v, str) else v


class Writer:
    """Streams frames of one schema to an open file as CSV, JSON lines or Parquet."""

    def __init__(self, f, fmt: str, columns: list[str], labels, carried_types: dict, spreadsheet: bool):
        self.f, self.fmt, self.columns, self.spreadsheet = f, fmt, columns, spreadsheet
        self.schema = _parquet_schema(columns, labels, carried_types) if fmt == "parquet" else None
        self.rows = 0
        self._pq = None

    def write(self, df) -> None:
        # Empty frames are skipped, so a run that tags nothing writes nothing (not even a header) to stdout.
        if len(df):
            self._emit(df)
            self.rows += len(df)

    def finish(self) -> None:
        """The header (CSV) or schema (Parquet) even when no row was written; close Parquet."""
        import pandas as pd

        if self.rows == 0 and self.fmt != "jsonl":
            self._emit(pd.DataFrame(columns=self.columns))
        if self._pq is not None:
            self._pq.close()

    def _emit(self, df) -> None:
        if self.fmt != "parquet":
            write_frame(neutralise_formulas(df) if self.spreadsheet and self.fmt == "csv" else df, self.f, self.fmt, header=self.rows == 0)
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        df = df.copy()
        for field in self.schema:
            if field.type == pa.string() and _text_column(df[field.name]) is None:
                # missing stays missing, anything else becomes its text (cell by cell: only where not all text)
                df[field.name] = df[field.name].map(str).where(df[field.name].notna(), None)
        try:
            table = pa.Table.from_pandas(df, schema=self.schema, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
            raise PipelineError(f"cannot store the carried columns in Parquet ({e}); write .csv or .jsonl instead") from None
        if self._pq is None:
            self._pq = pq.ParquetWriter(self.f, self.schema)
        self._pq.write_table(table)


def _parquet_schema(columns: list[str], labels, carried_types: dict):
    import pyarrow as pa

    fixed = {"article_id": pa.string(), "sentence_id": pa.string(), "position": pa.int64(), "text": pa.string(), "model_id": pa.string(),
             "blame_ties": pa.string(), "on_topic": pa.bool_(),
             **{lab: pa.int64() for lab in labels}, **{f"p_{lab}": pa.float64() for lab in labels}, **{c: pa.string() for c in PROVENANCE}}
    return pa.schema([(c, fixed[c] if c in fixed else carried_types[c]) for c in columns])


# --------------------------------------------------------------------------
# The per-article summary
# --------------------------------------------------------------------------
class SummaryAccumulator:
    """Per article: sentence count, relevance, share per label, top sentence
    per label, the model id and where the article comes from.

    Keeps one small record per article, not the sentences, so it streams.
    """

    def __init__(self, labels):
        self.labels = labels
        self.arts: dict[str, dict] = {}

    @property
    def n_articles(self) -> int:
        return len(self.arts)

    def add(self, df) -> None:
        from pipeline.model.relevance import sentence_flags

        labelled, syria = sentence_flags(df, self.labels)
        df = df.assign(_labelled=labelled, _syria=syria)
        for aid, g in df.groupby("article_id", sort=False):
            a = self.arts.get(aid)
            if a is None:  # where it comes from: its first row says
                first = g.iloc[0]
                a = self.arts[aid] = {"article_id": aid, "sentences": 0, "labelled": 0, "syria": 0,
                                      **{f"n_{l}": 0 for l in self.labels}, **{f"top_{l}": (-1.0, "") for l in self.labels},
                                      **{c: first[c] for c in ("model_id", *PROVENANCE)}}
            a["sentences"] += len(g)
            a["labelled"] += int(g["_labelled"].sum())
            a["syria"] += int(g["_syria"].sum())
            for lab in self.labels:
                a[f"n_{lab}"] += int(g[lab].sum())
                k = int(np.argmax(g[f"p_{lab}"].to_numpy()))
                p = float(g[f"p_{lab}"].iloc[k])
                if p > a[f"top_{lab}"][0]:
                    a[f"top_{lab}"] = (p, str(g["text"].iloc[k]))

    def frame(self):
        import pandas as pd

        from pipeline.model.relevance import is_on_topic

        rows = []
        for a in self.arts.values():
            n = a["sentences"]
            r = {"article_id": a["article_id"], "sentences": n,
                 "relevance": round(a["labelled"] / n, 4) if n else 0.0, "syria_share": round(a["syria"] / n, 4) if n else 0.0}
            r["on_topic"] = bool(is_on_topic(r["relevance"], r["syria_share"]))
            for lab in self.labels:
                r[f"share_{lab}"] = round(a[f"n_{lab}"] / n, 4) if n else 0.0
            for lab in self.labels:
                p, text = a[f"top_{lab}"]
                r[f"top_{lab}"] = text if a[f"n_{lab}"] else ""
                r[f"top_p_{lab}"] = round(p, 4)
            rows.append({**r, **{c: a[c] for c in ("model_id", *PROVENANCE)}})
        return pd.DataFrame(rows, columns=summary_columns(self.labels))  # the header even for a run without articles


def summary_columns(labels=LABELS) -> list[str]:
    """The columns of the per-article summary, in this order."""
    return ["article_id", "sentences", "relevance", "syria_share", "on_topic", *(f"share_{lab}" for lab in labels),
            *(c for lab in labels for c in (f"top_{lab}", f"top_p_{lab}")), "model_id", *PROVENANCE]
