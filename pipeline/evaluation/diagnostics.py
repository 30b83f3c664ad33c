"""Diagnostics beside the headline metrics: precision-recall and reliability
curves, the most informative terms, the worst errors for review, and the
keyword baseline.  Pure functions of labels, probabilities and a model.
"""
from __future__ import annotations

import re

import numpy as np

from pipeline.records import LABELS
from pipeline.model.features import feature_term

TOP_TERMS = 15
TOP_ERRORS = 10
PR_POINTS = 200  # curves are thinned to this many points; enough for a plot, small in JSON
CAL_BINS = 10

# A baseline only: a few obvious cue words per label, written by hand from the
# guidelines.  It shows what the model adds over keyword spotting; it is never
# used to make or suggest labels.
KEYWORDS: dict[str, list[str]] = {
    "diplomacy": [
        r"talks", r"negotiat\w*", r"envoy", r"mediat\w*", r"diplomat\w*", r"delegation\w*",
        r"cease-?fire agreement", r"truce", r"peace process", r"political transition",
        r"de mistura", r"security council", r"geneva", r"astana", r"summit", r"hnc",
    ],
    "violence": [
        r"kill\w*", r"bomb\w*", r"air ?strikes?", r"shell\w*", r"attack\w*", r"clash\w*",
        r"fighting", r"offensive", r"wounded", r"death toll", r"massacre\w*", r"rockets?",
        r"mortars?", r"battle\w*", r"troops", r"rebels? (?:seized|captured|advanced)",
    ],
    "humanitarian": [
        r"humanitarian", r"aid", r"refugee\w*", r"civilians?", r"besieged", r"sieges?",
        r"starv\w*", r"food", r"medic\w*", r"evacuat\w*", r"displaced", r"convoys?",
        r"detainees?", r"prisoners?", r"red crescent", r"red cross",
    ],
    "blame": [
        r"blam\w*", r"accus\w*", r"condemn\w*", r"responsib\w*", r"denounc\w*",
        r"criticis\w*", r"criticiz\w*", r"reproach\w*", r"sabotag\w*", r"unfounded", r"crimes?",
    ],
}


def pr_curve(y, p, threshold_points: tuple[float, float, float | None]) -> dict:
    """A thinned precision-recall curve with average precision and the operating point."""
    from sklearn.metrics import average_precision_score, precision_recall_curve

    prec_op, rec_op, thr = threshold_points
    if not np.any(y):
        return {"precision": [], "recall": [], "thresholds": [], "average_precision": None, "prevalence": 0.0,
                "operating_point": {"precision": float(prec_op), "recall": float(rec_op), "threshold": thr}}
    prec, rec, th = precision_recall_curve(y, p)
    idx = np.unique(np.linspace(0, len(prec) - 1, min(PR_POINTS, len(prec))).round().astype(int))
    return {
        "precision": [float(v) for v in prec[idx]],
        "recall": [float(v) for v in rec[idx]],
        "thresholds": [float(th[i]) if i < len(th) else 1.0 for i in idx],
        "average_precision": float(average_precision_score(y, p)),
        "prevalence": float(np.mean(y)),
        "operating_point": {"precision": float(prec_op), "recall": float(rec_op), "threshold": thr},
    }


def calibration(y, p, n_bins: int = CAL_BINS) -> dict:
    """Reliability curve (uniform bins, empty bins left out) with bin counts, and Brier scores."""
    from sklearn.calibration import calibration_curve

    y, p = np.asarray(y, dtype=int), np.asarray(p, dtype=float)
    out = {"brier": float(np.mean((p - y) ** 2)),
           # the Brier score of always predicting the base rate, for scale
           "brier_base_rate": float(np.mean((np.mean(y) - y) ** 2)),
           "prob_pred": [], "prob_true": [], "counts": []}
    if len(np.unique(y)) < 2:
        return out
    prob_true, prob_pred = calibration_curve(y, p, n_bins=n_bins, strategy="uniform")
    # same binning as calibration_curve, to report how many sentences each point stands for
    bins = np.linspace(0.0, 1.0, n_bins + 1)
    counts = np.bincount(np.searchsorted(bins[1:-1], p), minlength=n_bins)
    out.update(prob_pred=[float(v) for v in prob_pred], prob_true=[float(v) for v in prob_true],
               counts=[int(v) for v in counts[counts > 0]])
    return out


def informative_terms(pipeline, labels: tuple[str, ...] = LABELS, top: int = TOP_TERMS) -> dict:
    """The largest positive and negative coefficients per label of a fitted pipeline."""
    vec = pipeline.named_steps["features"]
    clf = pipeline.named_steps["clf"]
    terms = [feature_term(n) for n in vec.get_feature_names_out()]  # None: an embedding dimension, not a term
    out = {}
    for j, lab in enumerate(labels):
        est = clf.estimators_[j]
        if not hasattr(est, "coef_"):  # a label constant in training has no coefficients
            out[lab] = {"positive": [], "negative": []}
            continue
        w = est.coef_[0]
        order = np.argsort(w)
        out[lab] = {
            "positive": [{"term": terms[i], "weight": float(w[i])} for i in order[::-1] if w[i] > 0 and terms[i] is not None][:top],
            "negative": [{"term": terms[i], "weight": float(w[i])} for i in order if w[i] < 0 and terms[i] is not None][:top],
        }
    return out


def worst_errors(gold, P, Yhat, T, labels: tuple[str, ...] = LABELS, top: int = TOP_ERRORS) -> dict:
    """Most confident false positives and least confident false negatives per label."""
    Y = gold[list(labels)].to_numpy(dtype=int)
    out = {}
    for j, lab in enumerate(labels):
        fp = np.flatnonzero((Y[:, j] == 0) & (Yhat[:, j] == 1))
        fn = np.flatnonzero((Y[:, j] == 1) & (Yhat[:, j] == 0))
        fp = fp[np.argsort(-P[fp, j], kind="stable")][:top]
        fn = fn[np.argsort(P[fn, j], kind="stable")][:top]
        out[lab] = {"false_positives": [_error_row(gold, i, P[i, j], T[i, j]) for i in fp],
                    "false_negatives": [_error_row(gold, i, P[i, j], T[i, j]) for i in fn]}
    return out


def _error_row(gold, i: int, p: float, t: float) -> dict:
    row = gold.iloc[int(i)]
    out = {"sentence_id": str(row["sentence_id"]), "article_id": str(row["article_id"]), "text": str(row["text"]),
           "probability": float(p), "threshold": float(t)}
    if "n_annotators" in gold.columns:
        out["n_annotators"] = int(row["n_annotators"])
    return out


def keyword_predict(texts, labels: tuple[str, ...] = LABELS, keywords: dict[str, list[str]] | None = None) -> np.ndarray:
    """The keyword baseline: 1 where any of the label's cue words occurs (whole words, any case)."""
    keywords = keywords or KEYWORDS
    pats = {lab: re.compile(r"\b(?:" + "|".join(keywords.get(lab, [])) + r")\b", re.I) if keywords.get(lab) else None for lab in labels}
    out = np.zeros((len(texts), len(labels)), dtype=int)
    for i, t in enumerate(texts):
        for j, lab in enumerate(labels):
            if pats[lab] is not None and pats[lab].search(str(t)):
                out[i, j] = 1
    return out
