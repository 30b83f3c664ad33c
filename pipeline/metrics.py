"""Metrics with article-bootstrap intervals, shared by ``evaluate`` (cross-
validation, held-out file) and ``compare`` (two trained models, paired).

Sentences of one article are not independent, so every interval resamples
whole articles: a resample's confusion counts are a weighted sum of per-
article counts (``W @ counts``), which makes 1,000 resamples cheap.  Models
compared on the same sentences share one set of resamples, so a difference
is taken within each resample (a paired interval).
"""
from __future__ import annotations

from typing import TypedDict

import numpy as np

from pipeline.records import LABELS
from pipeline.records import SEED

N_BOOT = 1000


class LabelScores(TypedDict, total=False):
    """One label's figures; the ``*_ci`` intervals and confusion counts only where bootstrapped."""

    precision: float
    recall: float
    f1: float
    support: int
    precision_ci: list[float]
    recall_ci: list[float]
    f1_ci: list[float]
    tp: int
    fp: int
    fn: int
    tn: int
    average_precision: float
    brier: float


class Average(TypedDict, total=False):
    """Micro or macro precision, recall and F1; the ``*_ci`` intervals only where bootstrapped."""

    precision: float
    recall: float
    f1: float
    precision_ci: list[float]
    recall_ci: list[float]
    f1_ci: list[float]


class Metrics(TypedDict):
    """The one shape of a set of scores, in cross-validation, on held-out text, on a model card: per label,
    then the micro and macro averages (``metrics["macro"]["f1"]`` is the macro-F1)."""

    per_label: dict[str, LabelScores]
    micro: Average
    macro: Average


class Difference(TypedDict):
    """A model's macro-F1 (and each label's F1) minus the reference model's, paired over the same resamples."""

    vs: str
    macro_f1: float
    macro_f1_ci: list[float]
    share_of_resamples_better: float
    per_label: dict[str, dict[str, object]]
    verdict: str


class Comparison(TypedDict, total=False):
    """Several models on the same sentences: each model's :class:`Metrics` and its :class:`Difference` from the first."""

    reference: str
    sentences: int
    articles: int
    n_boot: int
    seed: int
    models: list[dict]
    overlap: dict[str, int]
    warnings: list[str]
    text: str


def per_article_counts(Y, Yhat, codes, n_arts: int) -> dict[str, np.ndarray]:
    """(articles, labels) tp/fp/fn counts; ``codes`` maps each sentence to its article."""
    Y, Yhat = np.asarray(Y, dtype=int), np.asarray(Yhat, dtype=int)
    out = {}
    for k, (yv, hv) in {"tp": (1, 1), "fp": (0, 1), "fn": (1, 0)}.items():
        m = np.zeros((n_arts, Y.shape[1]))
        np.add.at(m, codes, ((Y == yv) & (Yhat == hv)).astype(float))
        out[k] = m
    return out


def boot_f1(Y, Yhat, codes, n_arts: int, W) -> np.ndarray:
    """(n_boot, labels) F1 in each article resample ``W`` (as :func:`metric_block` computes it)."""
    B = {k: W @ v for k, v in per_article_counts(Y, Yhat, codes, n_arts).items()}
    return prf(B["tp"], B["fp"], B["fn"])[2]


def compare_predictions(Y, groups, entries: list[dict], labels: tuple[str, ...] = LABELS, n_boot: int = N_BOOT,
                        seed: int = SEED) -> Comparison:
    """Metrics of several models' predictions on the same sentences, and paired differences from the first.

    ``entries`` are dicts with ``info`` (model_id, features, C, ...), ``Yhat``
    and ``learning_curve``.  All models share one set of article resamples
    (the one :func:`metric_block` draws for these groups), so every model's
    interval comes from the same resamples and a difference is taken within
    each resample.
    """
    groups = np.asarray(groups).astype(str)
    arts, W = article_bootstrap(groups, n_boot, seed)
    _, codes = np.unique(groups, return_inverse=True)

    boot = [boot_f1(Y, e["Yhat"], codes, len(arts), W) for e in entries]
    out = []
    for i, e in enumerate(entries):
        row = {**e["info"], "metrics": metric_block(Y, e["Yhat"], groups, labels, n_boot, seed),
               "learning_curve": e.get("learning_curve"), "difference": None}
        if i:
            ref = entries[0]["info"]["model_id"]
            f_ref = prf(*(counts(Y, entries[0]["Yhat"])[k] for k in ("tp", "fp", "fn")))[2]
            f_me = prf(*(counts(Y, e["Yhat"])[k] for k in ("tp", "fp", "fn")))[2]
            d_boot = boot[i] - boot[0]  # (n_boot, labels), paired: same resample
            dm = d_boot.mean(axis=1)
            d = float(np.mean(f_me) - np.mean(f_ref))
            lo, hi = ci95(dm)
            row["difference"] = {
                "vs": ref,
                "macro_f1": d, "macro_f1_ci": [lo, hi],
                "share_of_resamples_better": float(np.mean(dm > 0)),
                "per_label": {lab: {"f1": float(f_me[j] - f_ref[j]), "f1_ci": ci95(d_boot[:, j])} for j, lab in enumerate(labels)},
                "verdict": diff_verdict(d, lo, hi),
            }
        out.append(row)
    return {"reference": entries[0]["info"]["model_id"], "sentences": int(len(Y)), "articles": int(len(arts)),
            "n_boot": int(n_boot), "seed": int(seed), "models": out}


def format_interval(ci) -> str:
    """An interval as people read it, "[0.61, 0.78]"; "" when there is none."""
    return "" if ci is None or len(ci) != 2 else f"[{ci[0]:.2f}, {ci[1]:.2f}]"


def ci95(x) -> list[float]:
    """The 2.5th and 97.5th percentiles of bootstrap values: a 95% interval."""
    lo, hi = np.percentile(x, [2.5, 97.5])
    return [float(lo), float(hi)]


def diff_verdict(d: float, lo: float, hi: float) -> str:
    if lo > 0:
        return f"a real gain: macro-F1 {d:+.3f}, and the 95% interval [{lo:+.3f}, {hi:+.3f}] excludes 0"
    if hi < 0:
        return f"a real loss: macro-F1 {d:+.3f}, and the 95% interval [{lo:+.3f}, {hi:+.3f}] excludes 0"
    return f"no clear difference: macro-F1 {d:+.3f}, but the 95% interval [{lo:+.3f}, {hi:+.3f}] includes 0"


def counts(Y: np.ndarray, Yhat: np.ndarray) -> dict[str, np.ndarray]:
    Y, Yhat = np.asarray(Y, dtype=int), np.asarray(Yhat, dtype=int)
    return {
        "tp": ((Y == 1) & (Yhat == 1)).sum(axis=0).astype(float),
        "fp": ((Y == 0) & (Yhat == 1)).sum(axis=0).astype(float),
        "fn": ((Y == 1) & (Yhat == 0)).sum(axis=0).astype(float),
        "tn": ((Y == 0) & (Yhat == 0)).sum(axis=0).astype(float),
    }


def prf(tp, fp, fn):
    """Precision, recall, F1 from counts (any shape); 0 where undefined, as sklearn's zero_division=0."""
    tp, fp, fn = np.asarray(tp, float), np.asarray(fp, float), np.asarray(fn, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(tp + fp > 0, tp / (tp + fp), 0.0)
        r = np.where(tp + fn > 0, tp / (tp + fn), 0.0)
        f = np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), 0.0)
    return p, r, f


def article_bootstrap(groups, n_boot: int = N_BOOT, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """(articles, W): W[b, a] is how often article a is drawn in resample b.

    Each resample draws as many articles as there are, with replacement;
    every sentence of a drawn article comes along.
    """
    arts, codes = np.unique(np.asarray(groups).astype(str), return_inverse=True)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(arts), size=(n_boot, len(arts)))
    W = np.zeros((n_boot, len(arts)), dtype=float)
    np.add.at(W, (np.repeat(np.arange(n_boot), len(arts)), draws.ravel()), 1.0)
    return arts, W


def scores(Y, Yhat, labels: tuple[str, ...] = LABELS) -> Metrics:
    """Per-label precision, recall, F1 and support, and the micro and macro averages, without intervals
    (what model selection needs, many times over); :func:`metric_block` adds the intervals."""
    Y, Yhat = np.asarray(Y, dtype=int), np.asarray(Yhat, dtype=int)
    c = counts(Y, Yhat)
    p, r, f = prf(c["tp"], c["fp"], c["fn"])
    mp, mr, mf = prf(c["tp"].sum(), c["fp"].sum(), c["fn"].sum())
    return {
        "per_label": {lab: {"precision": float(p[j]), "recall": float(r[j]), "f1": float(f[j]),
                            "support": int(c["tp"][j] + c["fn"][j])} for j, lab in enumerate(labels)},
        "micro": {"precision": float(mp), "recall": float(mr), "f1": float(mf)},
        "macro": {"precision": float(np.mean(p)), "recall": float(np.mean(r)), "f1": float(np.mean(f))},
    }


def metric_block(Y, Yhat, groups, labels: tuple[str, ...] = LABELS, n_boot: int = N_BOOT, seed: int = SEED) -> Metrics:
    """:func:`scores` with article-bootstrap 95% intervals and each label's confusion counts."""
    Y, Yhat = np.asarray(Y, dtype=int), np.asarray(Yhat, dtype=int)
    c = counts(Y, Yhat)
    point = scores(Y, Yhat, labels)

    # Bootstrap on per-article counts: a resample's counts are W @ counts_per_article.
    arts, W = article_bootstrap(groups, n_boot, seed)
    _, codes = np.unique(np.asarray(groups).astype(str), return_inverse=True)
    B = {k: W @ v for k, v in per_article_counts(Y, Yhat, codes, len(arts)).items()}  # (n_boot, labels)
    bp, br, bf = prf(B["tp"], B["fp"], B["fn"])
    bmp, bmr, bmf = prf(B["tp"].sum(1), B["fp"].sum(1), B["fn"].sum(1))

    per: dict[str, LabelScores] = {}
    for j, lab in enumerate(labels):
        per[lab] = {**point["per_label"][lab], "precision_ci": ci95(bp[:, j]), "recall_ci": ci95(br[:, j]), "f1_ci": ci95(bf[:, j]),
                    "tp": int(c["tp"][j]), "fp": int(c["fp"][j]), "fn": int(c["fn"][j]), "tn": int(c["tn"][j])}
    return {
        "per_label": per,
        "micro": {**point["micro"], "f1_ci": ci95(bmf), "precision_ci": ci95(bmp), "recall_ci": ci95(bmr)},
        "macro": {**point["macro"], "f1_ci": ci95(bf.mean(1)), "precision_ci": ci95(bp.mean(1)), "recall_ci": ci95(br.mean(1))},
    }


def error_rates(Y, Yhat, groups, n_boot: int = N_BOOT, seed: int = SEED) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per label, the share of tagged sentences that are truly positive (precision) and of untagged ones that are
    (the false omission rate): ``(ppv, for_, ppv_b, for_b)``, the points of shape (labels,) and the article
    resamples of shape (n_boot, labels), drawn as :func:`metric_block` draws them.

    A resample without a tagged (or untagged) sentence for a label takes the point value there: the rate is
    unknown in it, not 0.
    """
    Y, Yhat = np.asarray(Y, dtype=int), np.asarray(Yhat, dtype=int)
    arts, W = article_bootstrap(groups, n_boot, seed)
    _, codes = np.unique(np.asarray(groups).astype(str), return_inverse=True)
    per = per_article_counts(Y, Yhat, codes, len(arts))
    per["tn"] = np.zeros_like(per["tp"])
    np.add.at(per["tn"], codes, ((Y == 0) & (Yhat == 0)).astype(float))

    def rates(tp, fp, fn, tn):
        with np.errstate(divide="ignore", invalid="ignore"):
            return tp / (tp + fp), fn / (fn + tn)

    c = {k: v.sum(axis=0) for k, v in per.items()}
    ppv, for_ = (np.nan_to_num(r, nan=0.0) for r in rates(c["tp"], c["fp"], c["fn"], c["tn"]))
    ppv_b, for_b = rates(*(W @ per[k] for k in ("tp", "fp", "fn", "tn")))
    return ppv, for_, np.where(np.isnan(ppv_b), ppv, ppv_b), np.where(np.isnan(for_b), for_, for_b)


def error_interval(shares_b, ppv_b, for_b) -> list[float]:
    """The 95% interval of a share that also carries the model's error: from the lower to the higher end of the
    article interval of the resampled ``shares_b`` (n_boot,) and of the interval of the shares the resampled error
    rates imply (:func:`with_error`).  The hull, not the implied interval alone: that one is centred on a
    correction, which held-out text has not shown to beat the model's share (``talks share-error``), so the
    model's share must stay inside."""
    lo, hi = ci95(shares_b)
    elo, ehi = ci95(with_error(shares_b, ppv_b, for_b))
    return [min(lo, elo), max(hi, ehi)]


def with_error(shares, ppv, for_):
    """The share of sentences truly carrying a label when ``shares`` of them are tagged with it and the tags have
    these rates (tagged * precision + untagged * false omission rate); any shapes that broadcast."""
    shares = np.asarray(shares, dtype=float)
    return shares * ppv + (1.0 - shares) * for_
