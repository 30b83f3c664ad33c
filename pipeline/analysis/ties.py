"""Who blames whom over time: the blame ties of a tags file by period and outlet (``talks trends --ties``).

Every row of a tags file tagged blame carries its ties (``blame_ties``,
``SOURCE -> TARGET`` joined by ``; ``).  Per period (and per outlet, and over
all outlets as ``(all)``), each tie gets the number of sentences and articles
that carry it and its share of the period's blame sentences, with a 95%
interval from resampling the period's articles (the same article bootstrap as
the label shares).  Articles are dated and filtered (``on_topic``) as in
:func:`pipeline.analysis.trends.trends`.
"""
from __future__ import annotations

import numpy as np

from pipeline.errors import PipelineError
from pipeline.metrics import N_BOOT, article_bootstrap, ci95
from pipeline.records import SEED

TIE_COLUMNS = ("period", "outlet", "source", "target", "sentences", "articles", "blame_sentences", "share", "ci_low", "ci_high")
ALL = "(all)"


def parse_ties(cell) -> list[tuple[str, str]]:
    """``"A -> B; C -> D"`` as [("A", "B"), ("C", "D")]; anything else in a cell is skipped."""
    out = []
    for part in str(cell or "").split(";"):
        src, sep, tgt = part.partition("->")
        if sep and src.strip() and tgt.strip():
            out.append((src.strip(), tgt.strip()))
    return out


def tie_table(tags, by: str = "week", on_topic: bool = False, n_boot: int = N_BOOT, min_sentences: int = 1):
    """The who-blames-whom table (:data:`TIE_COLUMNS`), most frequent ties first within each period and outlet;
    ties carried by fewer than ``min_sentences`` sentences in a cell are left out."""
    import pandas as pd

    from pipeline.analysis.periods import PERIODS, article_table, period_name, period_start

    if "blame_ties" not in tags.columns or "blame" not in tags.columns:
        raise PipelineError("the tags file has no blame_ties column; tag the articles again with a tie extractor in "
                            "models/ties/ ('talks ties train')")
    if by not in PERIODS:
        raise PipelineError(f"--by {by}: use one of {', '.join(PERIODS)}")
    arts = article_table(tags, ["blame"])
    arts["day"] = pd.to_datetime(arts["date"].astype("string").str[:10], format="%Y-%m-%d", errors="coerce")
    arts = arts[arts["day"].notna() & (arts["on_topic"] if on_topic else True)]
    if arts.empty:
        raise PipelineError("nothing to count: no dated" + (" on-topic" if on_topic else "") + " article in the tags file")
    arts["period"] = [period_name(s, by) for s in period_start(arts["day"], by)]
    outlet = arts["outlet"].fillna("").astype(str).replace("", "(unknown outlet)") if "outlet" in arts else "(unknown outlet)"
    arts["outlet"] = outlet
    rows = tags[(tags["blame"] == 1) & tags["article_id"].isin(arts.index)]
    long = [(r.article_id, s, t) for r in rows[["article_id", "blame_ties"]].itertuples() for s, t in parse_ties(r.blame_ties)]
    ties = pd.DataFrame(long, columns=["article_id", "source", "target"])
    blame_per_article = rows.groupby("article_id").size()
    out = []
    for (period, out_name), a in [((p, ALL), g) for p, g in arts.groupby("period")] + \
                                 [((p, o), g) for (p, o), g in arts.groupby(["period", "outlet"])]:
        ids = list(a.index)
        n_blame = blame_per_article.reindex(ids).fillna(0).to_numpy()
        if n_blame.sum() == 0:
            continue
        cell = ties[ties["article_id"].isin(ids)]
        _, W = article_bootstrap(np.array(ids), n_boot, SEED)
        denom = W @ n_blame
        for (src, tgt), g in cell.groupby(["source", "target"]):
            if len(g) < min_sentences:
                continue
            per = g.groupby("article_id").size().reindex(ids).fillna(0).to_numpy()
            share_b = np.divide(W @ per, denom, out=np.zeros(len(denom)), where=denom > 0)
            lo, hi = ci95(share_b)
            out.append({"period": period, "outlet": out_name, "source": src, "target": tgt, "sentences": int(len(g)),
                        "articles": int(g["article_id"].nunique()), "blame_sentences": int(n_blame.sum()),
                        "share": round(len(g) / n_blame.sum(), 4), "ci_low": round(lo, 4), "ci_high": round(hi, 4)})
    table = pd.DataFrame(out, columns=list(TIE_COLUMNS))
    return table.sort_values(["period", "outlet", "sentences", "source", "target"], ascending=[True, True, False, True, True],
                             kind="stable").reset_index(drop=True)
