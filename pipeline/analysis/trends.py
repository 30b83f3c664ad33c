"""Stage 7: what the tagged coverage says over time and by outlet.

Reads a tags file (the output of ``talks tag``, whose rows carry the
article's date and outlet) and computes, per outlet and per period (ISO week,
day or month), the share of sentences carrying each label with sentence and
article counts and a 95% interval; the biggest period-on-period rise of each
label and the sentences behind it; and the per-article relevance that tells
coverage of Syria from the rest of a general news feed.  Rendering (plots,
the HTML page) is :mod:`pipeline.analysis.coverage`.

A share is pooled over sentences (tagged sentences / sentences), but the
sentences of one article are not independent draws, so its interval comes
from resampling whole articles (:func:`pipeline.metrics.article_bootstrap`,
the resampling every interval in the project uses).
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np

from pipeline.errors import PipelineError
from pipeline.metrics import N_BOOT, article_bootstrap, ci95, error_interval, error_rates
from pipeline.records import LABELS
from pipeline.analysis.periods import PERIODS, next_start, article_table, period_name, period_start

ALL = "(all)"  # the outlet (or period) value of rows over all outlets (or periods)
UNKNOWN_OUTLET = "(unknown)"
MIN_ARTICLES = 5  # a period with fewer articles is too noisy to call a rise from or to
MIN_OUTLET_ARTICLES = 5  # an outlet with fewer articles gets no panel of its own: its few dots say nothing
OTHER = "(other outlets)"
FIRST_YEAR, LAST_YEAR = 1900, 2100
TOP_SENTENCES = 5
TOP_ARTICLES = 20
TABLE_COLUMNS = ["outlet", "period", "start", "label", "articles", "sentences", "tagged", "share", "ci_low", "ci_high",
                 "err_low", "err_high", "corrected", "change", "change_low", "change_high"]


# --------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------
def load_tags(path: str | Path):
    """A tags file (CSV, JSONL or Parquet from ``talks tag``), checked for what trends need."""
    from pipeline.store import read_table

    df = read_table(path)
    labels = [lab for lab in LABELS if lab in df.columns and f"p_{lab}" in df.columns]
    missing = [c for c in ("article_id", "text", "date") if c not in df.columns]
    if missing or not labels:
        what = ", ".join(missing) if missing else "label and p_ columns"
        raise PipelineError(f"not a tags file with dates (no {what}); make one with 'talks tag ARTICLES --out FILE' "
                            "(article files give every row its date and outlet)", path)
    for lab in labels:
        df[lab] = _checked(df[lab], lab, path, "0 or 1", lambda v: v.isin([0, 1]))
        df[f"p_{lab}"] = _checked(df[f"p_{lab}"], f"p_{lab}", path, "a probability between 0 and 1", lambda v: v.between(0, 1))
    return df


def _checked(col, name: str, path, what: str, ok):
    """The column as numbers, or a PipelineError naming the first row whose value is not ``what``."""
    import pandas as pd

    v = pd.to_numeric(col, errors="coerce")
    bad = ~(ok(v).fillna(False).astype(bool))
    if bad.any():
        i = int(bad.to_numpy().argmax())
        csv = Path(path).suffix.lower() == ".csv"  # a CSV row is a line (after the header); other formats by row number
        raise PipelineError(f"column {name} has {str(col.iloc[i])[:40]!r}{'' if csv else f' in row {i + 1}'} where it needs {what}; "
                            "write the labels as 'talks tag' does (0/1, and p_ columns as probabilities)", path, i + 2 if csv else None)
    return v


# --------------------------------------------------------------------------
# The trends
# --------------------------------------------------------------------------
def trends(tags, by: str = "week", on_topic: bool = False, outlets: int = 6, n_boot: int = N_BOOT,
           top: int = TOP_SENTENCES, heldout=None, corrections: dict[str, str] | None = None) -> dict:
    """Label shares per outlet and period with 95% article-bootstrap intervals, spikes, and what the coverage page shows.

    ``tags`` is a tags table (:func:`load_tags`).  Articles without a usable
    date (its first 10 characters as YYYY-MM-DD) are left out and counted;
    ``on_topic`` also leaves out the articles not flagged on topic.  Returns
    a dict: ``table`` (tidy DataFrame, :data:`TABLE_COLUMNS`; outlet or period
    ``(all)`` for rows over all of them; ``change`` is the share minus the
    previous period's, empty when the outlet had no articles in it),
    ``err_low``/``err_high`` is the 95% interval that also carries the model's error, when ``heldout`` (the tagging
    model's :class:`~pipeline.analysis.share_error.HeldoutTags`) is given: each article resample's share is taken
    through the error rates of one resample of the held-out articles, the interval of those joined with the
    article interval (:func:`pipeline.metrics.error_interval`), else empty; ``corrected`` is the share corrected by ``corrections[label]``, a method of
    :func:`pipeline.analysis.share_error.corrected_share` that ``talks share-error`` adopted for the label, fitted
    on ``heldout``; empty for the other labels), ``outlets`` (the ``outlets`` largest by sentences among those of at least :data:`MIN_OUTLET_ARTICLES` articles: the
    plot's panels), ``other`` (the rows of the other outlets taken together, or None), ``missing_labels``, ``overall``,
    ``spikes``, ``examples``, ``articles``, ``sentences``, ``counts`` and ``ties`` (who blames whom by period
    and outlet, :func:`pipeline.analysis.ties.tie_table`, when the tags carry blame ties; else None).
    """
    import pandas as pd

    if by not in PERIODS:
        raise PipelineError(f"--by {by}: use one of {', '.join(PERIODS)}")
    labels = [lab for lab in LABELS if lab in tags.columns and f"p_{lab}" in tags.columns]
    arts = article_table(tags, labels)
    counts = {"articles_in_file": len(arts), "sentences_in_file": len(tags)}
    arts["day"] = pd.to_datetime(arts["date"].astype("string").str[:10], format="%Y-%m-%d", errors="coerce")
    counts["undated"] = int(arts["day"].isna().sum())
    # Plots and period arithmetic need dates in pandas' and matplotlib's range; news outside these years is a typo.
    far = arts["day"].notna() & ~arts["day"].between(pd.Timestamp(FIRST_YEAR, 1, 1), pd.Timestamp(LAST_YEAR, 12, 31))
    counts["out_of_range"] = int(far.sum())
    arts = arts[arts["day"].notna() & ~far]
    counts["off_topic_left_out"] = int((~arts["on_topic"]).sum()) if on_topic else 0
    if on_topic:
        arts = arts[arts["on_topic"]]
    if arts.empty:
        why = "no article is on topic" if on_topic else f"no article has a date from {FIRST_YEAR} to {LAST_YEAR}"
        raise PipelineError(f"nothing to count: {why} among the {counts['articles_in_file']} articles of the tags file")
    arts = arts.assign(outlet=arts["outlet"].fillna("").astype(str).replace("", UNKNOWN_OUTLET) if "outlet" in arts else UNKNOWN_OUTLET,
                       start=period_start(arts["day"], by))
    arts["period"] = [period_name(s, by) for s in arts["start"]]
    arts = arts.rename(columns={f"n_{lab}": lab for lab in labels})

    rates = None if heldout is None else error_rates(heldout.Y[:, [LABELS.index(lab) for lab in labels]],
                                                     heldout.Yhat[:, [LABELS.index(lab) for lab in labels]], heldout.article_ids, n_boot)[2:]
    correct = None
    if corrections:
        if heldout is None:
            raise PipelineError("a corrected share needs the held-out tags of the model that tagged the file")
        from pipeline.analysis.share_error import corrected_share

        def correct(lab, tagged, n, p_sum):
            return None if lab not in corrections else round(corrected_share(heldout, lab, corrections[lab], tagged, n, p_sum), 4)
    adjust = (rates, correct)
    cells = []
    for outlet, a in [(ALL, arts), *arts.groupby("outlet", sort=True)]:
        cells += _cells(a, outlet, ALL, None, labels, n_boot, adjust)[0]
        prev = None
        for start, p in a.groupby("start", sort=True):
            rows, shares_b = _cells(p, outlet, p["period"].iloc[0], start, labels, n_boot, adjust)
            if prev is not None and start == next_start(prev[0], by):
                for j, r in enumerate(rows):
                    lo, hi = ci95(shares_b[:, j] - prev[1][:, j])
                    r.update(change=round(r["share"] - prev[2][j]["share"], 4), change_low=round(lo, 4), change_high=round(hi, 4))
            cells += rows
            prev = (start, shares_b, rows)
    table = pd.DataFrame(cells, columns=TABLE_COLUMNS)
    by_outlet = arts.groupby("outlet")["sentences"].sum().sort_values(ascending=False, kind="stable")
    n_arts = arts.groupby("outlet").size()
    panels = [o for o in by_outlet.index if o != UNKNOWN_OUTLET and n_arts[o] >= MIN_OUTLET_ARTICLES][:outlets]
    rest = arts[~arts["outlet"].isin(panels)]
    other = None
    if len(panels) and len(rest):
        other = []
        for start, p in rest.groupby("start", sort=True):
            other += _cells(p, OTHER, p["period"].iloc[0], start, labels, n_boot, adjust)[0]
        other = pd.DataFrame(other + _cells(rest, OTHER, ALL, None, labels, n_boot, adjust)[0], columns=TABLE_COLUMNS)

    sent = tags[tags["article_id"].isin(arts.index)].merge(arts[["outlet", "period", "start"]], left_on="article_id",
                                                           right_index=True, suffixes=("_row", ""))
    overall = table[(table.outlet == ALL) & (table.period == ALL)].set_index("label")
    counts.update(articles=len(arts), sentences=int(arts["sentences"].sum()), outlets=len(by_outlet),
                  periods=int(arts["period"].nunique()), first=str(arts["day"].min().date()), last=str(arts["day"].max().date()))
    ties = None
    if "blame_ties" in tags.columns and tags["blame_ties"].fillna("").astype(str).str.contains("->").any():
        from pipeline.analysis.ties import tie_table

        ties = tie_table(tags, by=by, on_topic=on_topic, n_boot=n_boot)
    return {
        "by": by, "labels": labels, "on_topic_only": on_topic, "counts": counts, "table": table, "ties": ties,
        "model_ids": sorted(tags["model_id"].dropna().astype(str).unique()) if "model_id" in tags else [],
        "outlets": panels, "other": other, "other_outlets": int(rest["outlet"].nunique()) if other is not None else 0,
        "missing_labels": [lab for lab in LABELS if lab not in labels],
        "overall": {lab: {"share": float(overall.loc[lab, "share"]), "ci": [float(overall.loc[lab, "ci_low"]), float(overall.loc[lab, "ci_high"])],
                          "tagged": int(overall.loc[lab, "tagged"]),
                          "err": None if heldout is None else [float(overall.loc[lab, "err_low"]), float(overall.loc[lab, "err_high"])]}
                    for lab in labels},
        "error_note": None if heldout is None else f"error rates of {heldout.model_id} on {len(set(heldout.article_ids))} "
                                                   f"held-out articles ({heldout.note})",
        "spikes": _spikes(table, sent, labels, top),
        "examples": {lab: _top_sentences(sent[sent[lab] > 0], lab, top) for lab in labels},
        "articles": _most_tagged(arts, labels),
        "sentences": _table_sentences(sent, labels),
    }


def _cells(a, outlet: str, period: str, start, labels, n_boot: int, adjust=(None, None)):
    """The rows of one cell (its articles ``a``), one per label, and the resampled shares (n_boot, labels);
    ``adjust``: the held-out resamples of precision and false omission rate, (n_boot, labels) each, or None; and the
    function giving a label's corrected share, or None."""
    rates, correct = adjust
    # A seed per cell from its name: a cell's interval does not depend on what other cells the file has,
    # and two periods' resamples are independent, so a difference between them has an honest interval.
    seed = int(hashlib.sha1(f"{outlet}\x1f{period}".encode()).hexdigest()[:8], 16)
    ids, W = article_bootstrap(a.index, n_boot, seed)
    a = a.set_axis(a.index.astype(str)).loc[ids]  # in the order of W's columns
    n = a["sentences"].to_numpy(dtype=float)
    t = a[labels].to_numpy(dtype=float)
    shares_b = (W @ t) / (W @ n)[:, None]
    share = t.sum(axis=0) / n.sum()
    rows = []
    for j, lab in enumerate(labels):
        lo, hi = ci95(shares_b[:, j])
        # Resample b of the cell meets resample b of the held-out set: drawn independently, so the interval carries both.
        elo, ehi = (None, None) if rates is None else (round(v, 4) for v in error_interval(shares_b[:, j], rates[0][:, j], rates[1][:, j]))
        rows.append({"outlet": outlet, "period": period, "start": None if start is None else start.date().isoformat(), "label": lab,
                     "articles": len(a), "sentences": int(n.sum()), "tagged": int(t[:, j].sum()), "share": round(float(share[j]), 4),
                     "ci_low": round(lo, 4), "ci_high": round(hi, 4), "err_low": elo, "err_high": ehi,
                     "corrected": None if correct is None else correct(lab, int(t[:, j].sum()), int(n.sum()), float(a[f"psum_{lab}"].sum()))})
    return rows, shares_b


def _spikes(table, sent, labels, top: int) -> list[dict]:
    """Per label, the biggest rise from one period to the next, both of at least MIN_ARTICLES articles."""
    series = table[(table.outlet == ALL) & (table.period != ALL)].sort_values("start", kind="stable")
    out = []
    for lab in labels:
        s = series[series.label == lab].reset_index(drop=True)
        ok = s["change"].notna() & (s["articles"] >= MIN_ARTICLES) & (s["articles"].shift() >= MIN_ARTICLES) & (s["change"] > 0)
        if not ok.any():
            continue
        i = int(s.loc[ok, "change"].idxmax())
        a, b = s.loc[i - 1], s.loc[i]
        out.append({"label": lab, "from": a["period"], "to": b["period"], "share_from": float(a["share"]), "share_to": float(b["share"]),
                    "rise": float(b["change"]), "rise_ci": [float(b["change_low"]), float(b["change_high"])],
                    "articles_from": int(a["articles"]), "articles_to": int(b["articles"]),
                    "sentences": _top_sentences(sent[(sent.period == b["period"]) & (sent[lab] > 0)], lab, top)})
    return out


def _top_sentences(s, lab: str, top: int) -> list[dict]:
    """The ``top`` most probable sentences for a label, one per article."""
    s = s.sort_values([f"p_{lab}", "article_id"], ascending=[False, True], kind="stable").drop_duplicates("article_id").head(top)
    return [_sentence(r, p=float(r[f"p_{lab}"])) for _, r in s.iterrows()]


def _sentence(r, **extra) -> dict:
    return {"text": str(r["text"]), "article_id": str(r["article_id"]), "title": _text(r.get("title")),
            "outlet": str(r["outlet"]), "date": _text(r.get("date"))[:10], "period": str(r["period"]), **extra}


def _text(v) -> str:
    return "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)


def _most_tagged(arts, labels) -> list[dict]:
    a = arts.sort_values(["labelled", "relevance"], ascending=False, kind="stable").head(TOP_ARTICLES)
    return [{"article_id": str(i), "title": _text(r.get("title")), "outlet": r["outlet"], "date": r["day"].date().isoformat(),
             "url": _text(r.get("url")), "sentences": int(r["sentences"]), "labelled": int(r["labelled"]),
             "relevance": float(r["relevance"]), "on_topic": bool(r["on_topic"]),
             "shares": {lab: round(float(r[lab]) / r["sentences"], 4) for lab in labels}} for i, r in a.iterrows()]


def _table_sentences(sent, labels) -> list[dict]:
    """Every tagged sentence (carrying a label), most confident first (by the highest probability among its labels),
    with who blames whom where the tags carry it."""
    tagged = sent[(sent[labels] > 0).any(axis=1)]
    p = tagged[[f"p_{lab}" for lab in labels]].to_numpy() * (tagged[labels].to_numpy() > 0)
    tagged = tagged.assign(_p=p.max(axis=1)).sort_values(["_p", "article_id"], ascending=[False, True], kind="stable")
    ties = tagged["blame_ties"].fillna("").astype(str) if "blame_ties" in tagged.columns else None
    return [_sentence(r, labels=[lab for lab in labels if r[lab] > 0], p={lab: float(r[f"p_{lab}"]) for lab in labels if r[lab] > 0},
                      ties="" if ties is None else ties.iloc[k]) for k, (_, r) in enumerate(tagged.iterrows())]
