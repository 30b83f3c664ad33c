"""Nested grouped cross-validation of a gold frame (the default mode of ``evaluate``).

Grouped by story (articles sharing their text, :mod:`pipeline.labels.stories`) with the same folds as ``train``
(:func:`pipeline.model.selection.grouped_folds`), a fresh pipeline is fitted
in every fold; thresholds are tuned *inside* each training fold on an inner
grouped split, so the test fold never sets its own cut-off.  The same fits on
training folds grown by whole articles give the learning curve.
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from pipeline.evaluation.diagnostics import informative_terms, keyword_predict
from pipeline.evaluation.result import assemble
from pipeline.metrics import N_BOOT, counts, prf
from pipeline.model.features import make_pipeline
from pipeline.model.selection import apply_thresholds, grouped_folds, oof_proba, predict_proba, tune_thresholds
from pipeline.records import LABELS, SEED

if TYPE_CHECKING:  # pandas is imported lazily: the CLI starts faster without it
    import pandas as pd

INNER_SPLITS = 3
FRACTIONS: tuple[float, ...] = (0.2, 0.4, 0.6, 0.8, 1.0)


def evaluate_frame(
    gold: pd.DataFrame,
    features: str = "word",
    C: float = 4.0,
    n_boot: int = N_BOOT,
    fractions: tuple[float, ...] | None = FRACTIONS,
    progress: Callable[[int], None] | None = None,
    jobs: int | None = None,
    labels: tuple[str, ...] = LABELS,
) -> dict:
    """Nested grouped cross-validation of ``make_pipeline(features, C)`` on a gold frame.

    ``gold`` has sentence_id, article_id, text and one 0/1 column per label
    (``n_annotators`` is carried into the error lists when present).
    """
    return cv_evaluation(gold, features, C, n_boot, fractions, progress, jobs, labels)[0]


def cv_evaluation(gold: pd.DataFrame, features: str, C: float, n_boot: int, fractions: tuple[float, ...] | None,
                  progress: Callable[[int], None] | None, jobs: int | None, labels: tuple[str, ...]) -> tuple[dict, dict]:
    """:func:`evaluate_frame` plus what a comparison reuses (texts, Y, groups, folds, Yhat, fractions)."""
    gold = gold.reset_index(drop=True)
    texts = np.asarray(gold["text"].astype(str).tolist(), dtype=object)
    Y = gold[list(labels)].to_numpy(dtype=int)
    groups = gold["story_id" if "story_id" in gold.columns else "article_id"].astype(str).to_numpy()
    folds = grouped_folds(groups)
    fractions = _norm_fractions(fractions)
    P, T, fold_thresholds, by_cell = cv_predictions(texts, Y, groups, folds, features, C, fractions, progress, jobs, labels)
    Yhat = (P >= T).astype(int)

    # Baselines on the same sentences: majority value of each training fold, and keyword rules.
    Ymaj = np.zeros_like(Y)
    for tr, te in folds:
        Ymaj[te] = (Y[tr].mean(axis=0) > 0.5).astype(int)
    Ykw = keyword_predict(texts, labels)

    res = assemble(gold, Y, P, Yhat, T, groups, labels, n_boot, Ymaj, Ykw)
    res["mode"] = "cv"
    res["thresholds"] = {"per_fold": fold_thresholds,
                         "median": {lab: float(np.median(v)) for lab, v in fold_thresholds.items()}}
    res["method"] = {
        "summary": f"GroupKFold({len(folds)}) by story (seed {SEED}, the folds train uses); "
        f"a fresh pipeline (features={features}, C={C:g}) is fitted in each training fold.",
        "thresholds": f"tuned per label inside each training fold on the out-of-fold probabilities of an inner "
        f"GroupKFold({INNER_SPLITS}) (nested), so the test fold never sets its own cut-off.",
        "optimism": "features and C were selected by 'talks train' on these same labels; with 6 candidate "
        "settings that leaves a small optimistic bias.",
        "bootstrap": f"{n_boot} resamples of whole articles with replacement (seed {SEED}); 95% percentile intervals.",
        "baselines": "majority: each label's majority value in the training fold; keywords: a hand-written cue-word "
        "list per label (baseline only, never used for labels).",
        "learning_curve": "training folds grown by whole articles (same outer folds, same nested thresholds).",
    }
    res["parameters"] = {"features": features, "C": float(C), "n_splits": len(folds), "inner_splits": INNER_SPLITS, "seed": SEED}
    res["terms"] = informative_terms(make_pipeline(features, C).fit(texts, Y), labels)
    if progress:
        progress(1)
    res["learning_curve"] = learning_curve(by_cell, folds, groups, Y, labels, fractions) if fractions else None
    return res, {"texts": texts, "Y": Y, "groups": groups, "folds": folds, "Yhat": Yhat, "fractions": fractions}


def _norm_fractions(fractions) -> tuple[float, ...]:
    return tuple(sorted(set(fractions or ()) | ({1.0} if fractions else set())))


def cv_predictions(texts: np.ndarray, Y: np.ndarray, groups: np.ndarray, folds: list[tuple[np.ndarray, np.ndarray]], features: str,
                   C: float, fractions: tuple[float, ...], progress: Callable[[int], None] | None, jobs: int | None,
                   labels: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, dict[str, list[float]], dict]:
    """Nested fits of ``make_pipeline(features, C)`` on ``folds``: (P, T, fold thresholds, by_cell).

    P are the pooled out-of-fold probabilities, T the threshold each sentence
    was cut at (its own fold's); ``by_cell[(fraction, fold)]`` holds each
    cell's (probabilities, thresholds) for the learning curve.
    """
    # Every (fraction, fold) cell is one independent nested fit; the full-size
    # cells are the main evaluation, the smaller ones the learning curve.
    cells = [(1.0, k) for k in range(len(folds))] + [(f, k) for f in fractions if f < 1.0 for k in range(len(folds))]
    tasks = [(_subsample(folds[k][0], groups, f, k), folds[k][1]) for f, k in cells]
    outs = _run_cells(tasks, texts, Y, groups, features, C, progress, jobs)
    by_cell = dict(zip(cells, outs))

    # Main evaluation: pooled out-of-fold probabilities, each fold cut at its own thresholds.
    P = np.zeros(Y.shape, dtype=float)
    T = np.zeros(Y.shape, dtype=float)  # the threshold each sentence was cut at
    fold_thresholds = {lab: [] for lab in labels}
    for k, (_, te) in enumerate(folds):
        p_te, th = by_cell[(1.0, k)]
        P[te] = p_te
        T[te] = np.array([th[lab] for lab in labels])
        for lab in labels:
            fold_thresholds[lab].append(float(th[lab]))
    return P, T, fold_thresholds, by_cell


def _subsample(tr: np.ndarray, groups: np.ndarray, fraction: float, fold: int) -> np.ndarray:
    """The first ``fraction`` of the fold's training articles in a fixed shuffled order.

    Growing by whole articles keeps the learning curve honest (a sentence's
    neighbours are near-duplicates in topic), and taking prefixes of one
    order makes the subsets nested: 20% is inside 40%, and so on.
    """
    if fraction >= 1.0:
        return tr
    arts = np.unique(groups[tr])
    order = np.random.default_rng(SEED + fold).permutation(arts)
    n = max(2, int(math.ceil(fraction * len(arts))))  # the inner split needs two articles
    keep = set(order[:n])
    return tr[np.isin(groups[tr], list(keep))]


def _run_cells(tasks, texts, Y, groups, features, C, progress, jobs):
    """Run the nested fits, in worker processes when there is more than one core to use."""
    import os

    n_jobs = min(len(tasks), jobs or os.cpu_count() or 1)
    if n_jobs <= 1:
        outs = []
        for tr, te in tasks:
            outs.append(_nested_cell(texts, Y, groups, tr, te, features, C))
            if progress:
                progress(1)
        return outs
    from joblib import Parallel, delayed

    gen = Parallel(n_jobs=n_jobs, return_as="generator")(
        delayed(_nested_cell)(texts, Y, groups, tr, te, features, C) for tr, te in tasks
    )
    outs = []
    for out in gen:  # generator keeps task order; tick as each finishes
        outs.append(out)
        if progress:
            progress(1)
    return outs


def _nested_cell(texts, Y, groups, tr, te, features, C) -> tuple[np.ndarray, dict]:
    """Thresholds from an inner grouped split of ``tr``; probabilities for ``te`` from a fit on all of ``tr``."""
    factory = lambda: make_pipeline(features, C)  # noqa: E731
    with warnings.catch_warnings():
        # a label with no positives in a small training set is expected on the learning curve
        warnings.simplefilter("ignore", UserWarning)
        inner = grouped_folds(groups[tr], n_splits=INNER_SPLITS)
        P_in = oof_proba(factory, texts[tr], Y[tr], inner)
        th = tune_thresholds(Y[tr], P_in)
        model = factory()
        model.fit(texts[tr], Y[tr])
        return predict_proba(model, texts[te]), th


def learning_curve(by_cell: dict, folds: list[tuple[np.ndarray, np.ndarray]], groups: np.ndarray, Y: np.ndarray,
                   labels: tuple[str, ...], fractions: tuple[float, ...]) -> Evaluation:
    """Macro-F1 and macro AP per training fraction (mean and sd over the folds), from the cells of :func:`cv_predictions`."""
    from sklearn.metrics import average_precision_score

    points = []
    for f in fractions:
        f1s, aps, n_sent, n_art = [], [], [], []
        for k, (tr, te) in enumerate(folds):
            sub = _subsample(tr, groups, f, k)
            p_te, th = by_cell[(f, k)]
            yhat = apply_thresholds(p_te, th, labels)
            c = counts(Y[te], yhat)
            f1s.append(float(np.mean(prf(c["tp"], c["fp"], c["fn"])[2])))
            aps.append(float(np.mean([average_precision_score(Y[te][:, j], p_te[:, j]) for j in range(len(labels)) if Y[te][:, j].any()] or [0.0])))
            n_sent.append(len(sub))
            n_art.append(len(np.unique(groups[sub])))
        points.append({
            "fraction": float(f),
            "train_sentences": float(np.mean(n_sent)),
            "train_articles": float(np.mean(n_art)),
            "macro_f1": float(np.mean(f1s)),
            "macro_f1_sd": float(np.std(f1s)),
            "macro_ap": float(np.mean(aps)),
            "fold_macro_f1": f1s,
        })
    return {"points": points, **_verdict(points)}


def _verdict(points: list[dict]) -> dict:
    """Does the last step of the curve still climb?  Judged per 10% more articles."""
    if len(points) < 2:
        return {"gain_last_step": None, "verdict": "not enough points for a verdict"}
    a, b = points[-2], points[-1]
    gain = b["macro_f1"] - a["macro_f1"]
    gain_ap = b["macro_ap"] - a["macro_ap"]
    step = max(b["fraction"] - a["fraction"], 1e-9)
    # Per 10% more articles; macro AP (no thresholds) is the steadier of the two, so either climbing counts.
    per10 = max(gain, gain_ap) / step * 0.1
    tail = f"macro-F1 {gain:+.3f}, macro AP {gain_ap:+.3f} over the last {step:.0%} of training articles"
    if per10 >= 0.005:
        v = f"still rising ({tail}): more labelled articles are likely to pay off"
    elif per10 > -0.005:
        v = f"flattening ({tail}): more labels of the same kind will help little"
    else:
        v = f"noisy ({tail}): the last step is within fold-to-fold noise"
    return {"gain_last_step": float(gain), "gain_last_step_ap": float(gain_ap), "verdict": v}
