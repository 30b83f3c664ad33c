"""Periods and articles of a tags file, shared by the label trends and the blame-tie trends.

An article's period is the day, the ISO week (from Monday) or the month of its
date; :func:`article_table` gives one row per article with its label counts,
relevance and on-topic flag.
"""
from __future__ import annotations

from pipeline.errors import PipelineError
from pipeline.model.relevance import is_on_topic, sentence_flags
from pipeline.records import LABELS

PERIODS = ("week", "day", "month")


def article_table(tags, labels=LABELS):
    """One row per article: counts (``n_<label>``), probability sums (``psum_<label>``), relevance, syria_share, on_topic,
    and its first row's provenance."""
    labelled, syria = sentence_flags(tags, labels)
    t = tags.assign(_labelled=labelled, _syria=syria)
    g = t.groupby("article_id", sort=True)
    arts = g.agg(sentences=("text", "size"), labelled=("_labelled", "sum"), syria=("_syria", "sum"),
                 **{f"n_{lab}": (lab, "sum") for lab in labels},
                 **{f"psum_{lab}": (f"p_{lab}", "sum") for lab in labels if f"p_{lab}" in tags.columns})
    first = g[[c for c in ("title", "date", "outlet", "url", "model_id") if c in tags.columns]].first()
    arts = arts.join(first)
    arts["relevance"] = (arts["labelled"] / arts["sentences"]).round(4)
    arts["syria_share"] = (arts["syria"] / arts["sentences"]).round(4)
    arts["on_topic"] = is_on_topic(arts["relevance"], arts["syria_share"])
    return arts


def period_start(dates, by: str):
    """The first day of each date's period: the day, the Monday of its ISO week, the first of its month."""
    import pandas as pd

    if by == "day":
        return dates
    if by == "week":
        return dates - pd.to_timedelta(dates.dt.day_of_week, unit="D")
    if by == "month":
        return dates.dt.to_period("M").dt.start_time
    raise PipelineError(f"--by {by}: use one of {', '.join(PERIODS)}")


def period_name(start, by: str) -> str:
    """``2016-02-03``, ``2016-W05`` (ISO week: 2016-01-01 is in 2015-W53) or ``2016-02``."""
    if by == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    return start.strftime("%Y-%m" if by == "month" else "%Y-%m-%d")


def next_start(start, by: str):
    import pandas as pd

    return start + (pd.DateOffset(months=1) if by == "month" else pd.Timedelta(days=7 if by == "week" else 1))
