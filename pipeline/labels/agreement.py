"""Statistics of the label store: counts, coverage and co-occurrence of the
gold decisions, and agreement between annotators (or passes).

The store itself (reading, validating, the gold view) is ``labels.py``;
this module only reads it.
"""
from __future__ import annotations

import warnings
from pathlib import Path

from pipeline.labels.gold import collect_labels, read_store, resolve_gold
from pipeline.labels.store import VALUE_COLUMNS, parse_suggested, rows_frame
from pipeline.project import Project
from pipeline.records import LABELS
from pipeline.store import write_table


# --------------------------------------------------------------------------
# Stats
# --------------------------------------------------------------------------
def label_stats(project: Project) -> dict:
    """Coverage, per-label counts, co-occurrence and per-article counts of the
    project's gold decisions.  Rows with problems are left out and counted in
    ``problems`` (see ``talks labels check``), so stats work mid-cleanup."""
    from pipeline.corpus.store import load_articles

    rows, problems, sents = collect_labels(project)
    df = rows_frame([r for r in rows if r["ok"]])
    res = resolve_gold(df)
    gold = res[res["junk"] == 0]
    n_gold = len(gold)
    per_label = [
        {"label": lab, "positive": int(gold[lab].sum()), "share": float(gold[lab].mean()) if n_gold else 0.0}
        for lab in LABELS
    ]
    co = {a: {b: int(((gold[a] == 1) & (gold[b] == 1)).sum()) for b in LABELS} for a in LABELS}
    art_of = dict(zip(sents["sentence_id"], sents["article_id"]))
    per_art_total = sents.groupby("article_id", sort=False).size()
    res = res.assign(article_id=res["sentence_id"].map(art_of))
    per_article = []
    for aid, grp in res.groupby("article_id", sort=False):
        ok = grp[grp["junk"] == 0]
        per_article.append({"article_id": aid, "labelled": int(len(grp)), "sentences": int(per_art_total.get(aid, 0)), **{lab: int(ok[lab].sum()) for lab in LABELS}})
    order = {aid: i for i, aid in enumerate(per_art_total.index)}
    per_article.sort(key=lambda r: order.get(r["article_id"], len(order)))
    n_articles = len(load_articles(project.corpus))
    return {
        "labelled": int(len(res)),
        "corpus_sentences": int(len(sents)),
        "corpus_articles": n_articles,
        "articles_labelled": len(per_article),
        "coverage": float(len(res) / len(sents)) if len(sents) else 0.0,
        "junk": int(res["junk"].sum()) if len(res) else 0,
        "annotators": sorted(set(df.loc[df["kind"] == "annotator", "annotator"])) if len(df) else [],
        "per_label": per_label,
        "cooccurrence": co,
        "per_article": per_article,
        "problems": sum(1 for p in problems if not p.warning),
        "suggestions": suggestion_stats([r for r in rows if r["ok"]]),
    }


def suggestion_stats(rows: list[dict]) -> dict:
    """How annotators treated the model's pre-ticked suggestions, over the rows
    that record one: shown, accepted as is, and per label (junk included) how
    often the annotator ticked it against the model (added) or unticked it
    (removed).  A high acceptance with few changes can mean anchoring."""
    shown = accepted = 0
    added = dict.fromkeys(VALUE_COLUMNS, 0)
    removed = dict.fromkeys(VALUE_COLUMNS, 0)
    for r in rows:
        suggested = parse_suggested(r["suggested"])
        if suggested is None:
            continue
        final = {c for c in VALUE_COLUMNS if str(r[c]).strip() == "1"}
        shown += 1
        accepted += final == suggested
        for c in final - suggested:
            added[c] += 1
        for c in suggested - final:
            removed[c] += 1
    return {"shown": shown, "accepted": accepted,
            "per_label": [{"label": c, "added": added[c], "removed": removed[c]} for c in VALUE_COLUMNS]}



# --------------------------------------------------------------------------
# Agreement between two annotators
# --------------------------------------------------------------------------
def _kappa(a, b) -> float:
    from sklearn.metrics import cohen_kappa_score

    if len(a) == 0:
        return float("nan")
    with warnings.catch_warnings():
        # one class in both columns: kappa is 0/0; sklearn warns and returns nan, which is the honest answer
        warnings.simplefilter("ignore")
        return float(cohen_kappa_score(a, b))


def _alpha(a, b) -> float:
    import krippendorff
    import numpy as np

    if len(a) == 0:
        return float("nan")
    try:
        return float(krippendorff.alpha(reliability_data=np.array([a, b], dtype=float), level_of_measurement="nominal"))
    except (ValueError, ZeroDivisionError):  # a single value in the domain: alpha is undefined
        return float("nan")


def _read_side(paths) -> tuple:
    import pandas as pd

    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    df = pd.concat([read_store(p) for p in paths], ignore_index=True).drop_duplicates("sentence_id", keep="first")
    return df, "+".join(Path(p).stem for p in paths)


def agreement(a_path: str | Path | list, b_path: str | Path | list, out_path: str | Path, articles: list[str] | None = None) -> dict:
    """Per-label agreement between two annotators' stores over the sentences
    both labelled as non-junk; junk disagreements are counted and listed too.

    ``articles`` limits the comparison to those article ids.  Each side may be a list of stores (say, the annotators of a first pass
    against those of a second); a sentence found in several stores of one
    side counts once, from the first.

    Writes one row per sentence the two disagree on (labels or junk) to
    ``out_path`` for adjudication: the sentence, which labels differ, both
    annotators' values.
    """
    import pandas as pd

    A, name_a = _read_side(a_path)
    B, name_b = _read_side(b_path)
    if articles:  # e.g. the articles labelled first, for a blind re-label check
        A = A[A["article_id"].isin(articles)]
    name_b = name_b if name_b != name_a else f"{name_a}_2"
    both = A.merge(B, on="sentence_id", suffixes=("_a", "_b"))
    common = both[(both["junk_a"] == 0) & (both["junk_b"] == 0)]
    per_label = []
    for lab in LABELS:
        a, b = common[f"{lab}_a"].to_numpy(), common[f"{lab}_b"].to_numpy()
        per_label.append({
            "label": lab,
            "agreement": float((a == b).mean()) if len(a) else float("nan"),
            "kappa": _kappa(a, b),
            "alpha": _alpha(a, b),
            "a_pos": int(a.sum()),
            "b_pos": int(b.sum()),
        })
    out_rows = []
    for r in both.itertuples(index=False):
        r = r._asdict()
        differ = [c for c in VALUE_COLUMNS if r[f"{c}_a"] != r[f"{c}_b"]]
        if r["junk_a"] != r["junk_b"]:
            differ = ["junk"]  # a junk dispute is about the sentence, not its labels
        if differ:
            out_rows.append({
                "sentence_id": r["sentence_id"],
                "article_id": r["article_id_a"],
                "text": r["text_a"],
                "label": " ".join(differ),
                "a": name_a,
                "b": name_b,
                **{f"a_{c}": r[f"{c}_a"] for c in VALUE_COLUMNS},
                **{f"b_{c}": r[f"{c}_b"] for c in VALUE_COLUMNS},
            })
    cols = ["sentence_id", "article_id", "text", "label", "a", "b", *(f"a_{c}" for c in VALUE_COLUMNS), *(f"b_{c}" for c in VALUE_COLUMNS)]
    # Read in a spreadsheet: formula-like text is neutralised (only sentence_id is read back, by `talks label --queue`).
    write_table(pd.DataFrame(out_rows, columns=cols), Path(out_path), spreadsheet=True)
    return {
        "n": int(len(common)),
        "a": name_a,
        "b": name_b,
        "per_label": per_label,
        "junk_disagreements": int((both["junk_a"] != both["junk_b"]).sum()),
        "disagreements": len(out_rows),
        "out": str(out_path),
    }
