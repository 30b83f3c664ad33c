"""Stage 6: how good is the model?  Gold labels (or a held-out file) -> metrics dict.

Sits after ``train`` (it reuses the model's parameters or the model itself)
and before ``report`` (which turns the dict into HTML, JSON and Markdown).

Two modes:

* **Cross-validation** (default).  Grouped by article with the same folds as
  ``train`` (:func:`pipeline.train.grouped_folds`), a fresh pipeline with the
  current model's features and C is fitted in every fold.  Thresholds are
  tuned *inside* each training fold, on out-of-fold probabilities of an inner
  3-fold grouped split, so the test fold never influences its own cut-off
  (nested; tuning on the outer out-of-fold probabilities would be slightly
  optimistic).  Features and C themselves were chosen by ``train`` on the same
  labels, which leaves a small optimism we document rather than remove.
* **Held-out file** (``data=FILE``).  The given (or current) model is scored
  as it is, with its stored thresholds, on a label-store CSV it never saw.

Everything comes with 95% bootstrap confidence intervals that resample whole
*articles* (sentences of one article are not independent), baselines scored
on the same sentences (majority class and a keyword rule list), precision-
recall and reliability curves, informative terms, worst errors and, in CV
mode, a learning curve.  The result is a JSON-serialisable dict: numbers are
Python floats/ints and curves are lists.
"""
from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from .errors import LabelError, ModelError, PipelineError
from .records import LABELS
from .train import (
    SEED,
    apply_thresholds,
    grouped_folds,
    load_model,
    make_pipeline,
    oof_proba,
    predict_proba,
    tune_thresholds,
)

SCHEMA_VERSION = 1
N_BOOT = 1000
INNER_SPLITS = 3
FRACTIONS: tuple[float, ...] = (0.2, 0.4, 0.6, 0.8, 1.0)
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


# --------------------------------------------------------------------------
# The entry point
# --------------------------------------------------------------------------
def evaluate(
    labels_dir: str | Path = "labels",
    corpus_root: str | Path = "corpus",
    model: str | Path | None = None,
    models_dir: str | Path = "models",
    data: str | Path | None = None,
    progress: Callable[[int], None] | None = None,
    n_boot: int = N_BOOT,
    fractions: tuple[float, ...] | None = FRACTIONS,
    jobs: int | None = None,
) -> dict:
    """Evaluate by grouped cross-validation on the gold labels, or on a held-out file.

    ``fractions=None`` (or an empty tuple) skips the learning curve.  ``jobs``
    spreads the cross-validation fits over processes (default: all cores);
    the results do not depend on it.
    """
    if data is not None:
        return evaluate_heldout(data, model=model, models_dir=models_dir, labels_dir=labels_dir, corpus_root=corpus_root, n_boot=n_boot)

    from .train import training_data

    params, model_info, warn = _model_params(model, models_dir)
    gold, _, _, _ = training_data(labels_dir, corpus_root)
    res = evaluate_frame(gold, params["features"], params["C"], n_boot=n_boot, fractions=fractions, progress=progress, jobs=jobs)
    res["model"] = model_info
    res["data"]["source"] = f"gold labels in {labels_dir} (corpus {corpus_root})"
    res["warnings"] = warn + res["warnings"]
    return res


def _model_params(model, models_dir) -> tuple[dict, dict, list[str]]:
    """Features and C of the named/current model; train's defaults when there is no model yet.

    Evaluating the labels before any model exists is legitimate (how far do
    the labels get us?), so a missing ``models/current`` only warns.
    """
    if model is None and not (Path(models_dir) / "current").exists():
        import inspect

        defaults = {k: v.default for k, v in inspect.signature(make_pipeline).parameters.items()}
        params = {"features": defaults["features"], "C": float(defaults["C"])}
        info = {"model_id": None, "features": params["features"], "C": params["C"], "thresholds": None}
        return params, info, [f"no current model in {models_dir}; evaluated train's default parameters ({params['features']}, C={params['C']:g})"]
    m = load_model(model, models_dir)
    card = m["card"]
    p = card.get("parameters", {})
    if "features" not in p or "C" not in p:
        raise ModelError("model card has no parameters.features / parameters.C; re-train with 'talks train'", Path(m["path"]) / "card.json")
    params = {"features": str(p["features"]), "C": float(p["C"])}
    info = {"model_id": card.get("model_id"), "features": params["features"], "C": params["C"],
            "thresholds": {k: float(v) for k, v in m["thresholds"].items()}, "path": str(m["path"])}
    return params, info, []


# --------------------------------------------------------------------------
# Cross-validation on a gold frame
# --------------------------------------------------------------------------
def evaluate_frame(
    gold,
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
    gold = gold.reset_index(drop=True)
    texts = np.asarray(gold["text"].astype(str).tolist(), dtype=object)
    Y = gold[list(labels)].to_numpy(dtype=int)
    groups = gold["article_id"].astype(str).to_numpy()
    folds = grouped_folds(groups)
    fractions = tuple(sorted(set(fractions or ()) | ({1.0} if fractions else set())))

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
    Yhat = (P >= T).astype(int)

    # Baselines on the same sentences: majority value of each training fold, and keyword rules.
    Ymaj = np.zeros_like(Y)
    for tr, te in folds:
        Ymaj[te] = (Y[tr].mean(axis=0) > 0.5).astype(int)
    Ykw = keyword_predict(texts, labels)

    res = _assemble(gold, texts, Y, P, Yhat, T, groups, labels, n_boot, Ymaj, Ykw)
    res["mode"] = "cv"
    res["thresholds"] = {"per_fold": fold_thresholds,
                         "median": {lab: float(np.median(v)) for lab, v in fold_thresholds.items()}}
    res["method"] = {
        "summary": f"GroupKFold({len(folds)}) by article (seed {SEED}, the folds train uses); "
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
    res["learning_curve"] = _learning_curve(by_cell, folds, groups, Y, labels, fractions) if fractions else None
    return res


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


def _learning_curve(by_cell, folds, groups, Y, labels, fractions) -> dict:
    from sklearn.metrics import average_precision_score

    points = []
    for f in fractions:
        f1s, aps, n_sent, n_art = [], [], [], []
        for k, (tr, te) in enumerate(folds):
            sub = _subsample(tr, groups, f, k)
            p_te, th = by_cell[(f, k)]
            yhat = apply_thresholds(p_te, th, labels)
            c = _counts(Y[te], yhat)
            f1s.append(float(np.mean(_prf(c["tp"], c["fp"], c["fn"])[2])))
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


# --------------------------------------------------------------------------
# Held-out file
# --------------------------------------------------------------------------
def evaluate_heldout(
    data: str | Path,
    model: str | Path | None = None,
    models_dir: str | Path = "models",
    labels_dir: str | Path | None = "labels",
    corpus_root: str | Path | None = "corpus",
    n_boot: int = N_BOOT,
) -> dict:
    """Score a trained model as it is, with its stored thresholds, on a held-out label file."""
    m = load_model(model, models_dir)
    labels = tuple(m["labels"])
    df, dropped = read_heldout(data, labels)
    texts = np.asarray(df["text"].tolist(), dtype=object)
    Y = df[list(labels)].to_numpy(dtype=int)
    groups = df["article_id"].to_numpy()
    P = predict_proba(m["pipeline"], texts)
    th = {lab: float(m["thresholds"][lab]) for lab in labels}
    T = np.tile(np.array([th[lab] for lab in labels]), (len(df), 1))
    Yhat = (P >= T).astype(int)

    # majority baseline: the majority value in the model's training labels (from its card)
    card = m["card"]
    tr = card.get("training", {})
    if tr.get("sentences") and tr.get("positives"):
        maj = np.array([int(tr["positives"].get(lab, 0) * 2 > tr["sentences"]) for lab in labels])
        maj_src = "majority value in the model's training labels"
    else:
        maj = (Y.mean(axis=0) > 0.5).astype(int)
        maj_src = "majority value in the held-out file (the model card has no training counts)"
    Ymaj = np.tile(maj, (len(df), 1))
    Ykw = keyword_predict(texts, labels)

    res = _assemble(df, texts, Y, P, Yhat, T, groups, labels, n_boot, Ymaj, Ykw)
    res["mode"] = "heldout"
    res["data"]["source"] = str(data)
    res["data"]["junk_dropped"] = int(dropped)
    res["model"] = {"model_id": card.get("model_id"), "features": card.get("parameters", {}).get("features"),
                    "C": _float_or_none(card.get("parameters", {}).get("C")), "thresholds": th, "path": str(m["path"])}
    res["thresholds"] = {"stored": th}
    res["method"] = {
        "summary": f"model {card.get('model_id')} scored as it is on the held-out file {data}.",
        "thresholds": "the model's stored thresholds (tuned when it was trained).",
        "bootstrap": f"{n_boot} resamples of whole articles with replacement (seed {SEED}); 95% percentile intervals.",
        "baselines": f"majority: {maj_src}; keywords: a hand-written cue-word list per label (baseline only, never used for labels).",
        "learning_curve": "not computed for a held-out file (it needs refitting on gold labels; run without --data).",
    }
    res["terms"] = informative_terms(m["pipeline"], labels)
    res["learning_curve"] = None
    res["warnings"] += _overlap_warning(df, labels_dir, corpus_root)
    return res


def _float_or_none(v):
    return None if v is None else float(v)


def _overlap_warning(df, labels_dir, corpus_root) -> list[str]:
    """Held-out sentences that are also gold training labels make the scores optimistic; say so."""
    if labels_dir is None or corpus_root is None or not Path(labels_dir).is_dir():
        return []
    try:
        from .labels import gold_labels

        gold = gold_labels(labels_dir, corpus_root)
    except PipelineError:
        return []  # no usable gold labels, so nothing to overlap with
    n = int(df["sentence_id"].isin(set(gold["sentence_id"])).sum())
    if not n:
        return []
    return [f"{n} of {len(df)} held-out sentences are also in the gold labels in {labels_dir}; "
            "if the model was trained on them these scores are optimistic"]


def read_heldout(path: str | Path, labels: tuple[str, ...] = LABELS):
    """Read and validate a label-store CSV; return (non-junk rows, number of junk rows dropped).

    Every problem names the file and line (line 1 is the header).
    """
    from .store import read_table

    path = Path(path)
    if path.suffix.lower() != ".csv":
        raise LabelError("a held-out file must be a label-store CSV (sentence_id, article_id, text, labels, junk)", path)
    df = read_table(path, dtype=str)
    need = ["sentence_id", "article_id", "text", *labels]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise LabelError(f"missing column(s) {', '.join(missing)}; a label-store CSV has {', '.join(need)}, junk", path, 1)
    value_cols = [*labels, *(["junk"] if "junk" in df.columns else [])]
    seen: dict[str, int] = {}
    for i, row in enumerate(df.itertuples(index=False)):
        line = i + 2
        r = dict(zip(df.columns, row))
        for c in ("sentence_id", "article_id", "text"):
            if not str(r[c]).strip():
                raise LabelError(f"empty {c}; every row needs a sentence id, article id and text", path, line)
        for c in value_cols:
            if str(r[c]).strip() not in ("0", "1"):
                raise LabelError(f"{c} is {r[c]!r}; label and junk cells must be 0 or 1", path, line)
        sid = str(r["sentence_id"])
        if sid in seen:
            raise LabelError(f"sentence {sid} appears twice (first on line {seen[sid]}); keep one decision per sentence", path, line)
        seen[sid] = line
    for c in value_cols:
        df[c] = df[c].str.strip().astype(int)
    dropped = int(df["junk"].sum()) if "junk" in df.columns else 0
    if "junk" in df.columns:
        df = df[df["junk"] == 0]
    if df.empty:
        raise LabelError("no non-junk labelled sentences to evaluate on", path)
    return df.reset_index(drop=True), dropped


# --------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------
def _counts(Y: np.ndarray, Yhat: np.ndarray) -> dict[str, np.ndarray]:
    Y, Yhat = np.asarray(Y, dtype=int), np.asarray(Yhat, dtype=int)
    return {
        "tp": ((Y == 1) & (Yhat == 1)).sum(axis=0).astype(float),
        "fp": ((Y == 0) & (Yhat == 1)).sum(axis=0).astype(float),
        "fn": ((Y == 1) & (Yhat == 0)).sum(axis=0).astype(float),
        "tn": ((Y == 0) & (Yhat == 0)).sum(axis=0).astype(float),
    }


def _prf(tp, fp, fn):
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


def metric_block(Y, Yhat, groups, labels: tuple[str, ...] = LABELS, n_boot: int = N_BOOT, seed: int = SEED) -> dict:
    """Per-label P/R/F1/support/confusion, micro and macro averages, with article-bootstrap 95% CIs."""
    Y, Yhat = np.asarray(Y, dtype=int), np.asarray(Yhat, dtype=int)
    c = _counts(Y, Yhat)
    p, r, f = _prf(c["tp"], c["fp"], c["fn"])
    mp, mr, mf = _prf(c["tp"].sum(), c["fp"].sum(), c["fn"].sum())

    # Bootstrap on per-article counts: a resample's counts are W @ counts_per_article.
    arts, W = article_bootstrap(groups, n_boot, seed)
    _, codes = np.unique(np.asarray(groups).astype(str), return_inverse=True)
    per_art = {}
    for k, (yv, hv) in {"tp": (1, 1), "fp": (0, 1), "fn": (1, 0)}.items():
        m = np.zeros((len(arts), Y.shape[1]))
        np.add.at(m, codes, ((Y == yv) & (Yhat == hv)).astype(float))
        per_art[k] = m
    B = {k: W @ v for k, v in per_art.items()}  # (n_boot, labels)
    bp, br, bf = _prf(B["tp"], B["fp"], B["fn"])
    bmp, bmr, bmf = _prf(B["tp"].sum(1), B["fp"].sum(1), B["fn"].sum(1))

    def ci(x) -> list[float]:
        lo, hi = np.percentile(x, [2.5, 97.5])
        return [float(lo), float(hi)]

    per = {}
    for j, lab in enumerate(labels):
        per[lab] = {
            "precision": float(p[j]), "recall": float(r[j]), "f1": float(f[j]), "support": int(c["tp"][j] + c["fn"][j]),
            "precision_ci": ci(bp[:, j]), "recall_ci": ci(br[:, j]), "f1_ci": ci(bf[:, j]),
            "tp": int(c["tp"][j]), "fp": int(c["fp"][j]), "fn": int(c["fn"][j]), "tn": int(c["tn"][j]),
        }
    return {
        "per_label": per,
        "micro": {"precision": float(mp), "recall": float(mr), "f1": float(mf), "f1_ci": ci(bmf),
                  "precision_ci": ci(bmp), "recall_ci": ci(bmr)},
        "macro": {"precision": float(np.mean(p)), "recall": float(np.mean(r)), "f1": float(np.mean(f)),
                  "f1_ci": ci(bf.mean(1)), "precision_ci": ci(bp.mean(1)), "recall_ci": ci(br.mean(1))},
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
    names = np.asarray(vec.get_feature_names_out())
    out = {}
    for j, lab in enumerate(labels):
        est = clf.estimators_[j]
        if not hasattr(est, "coef_"):  # a label constant in training has no coefficients
            out[lab] = {"positive": [], "negative": []}
            continue
        w = est.coef_[0]
        order = np.argsort(w)
        out[lab] = {
            "positive": [{"term": _term(names[i]), "weight": float(w[i])} for i in order[::-1][:top] if w[i] > 0],
            "negative": [{"term": _term(names[i]), "weight": float(w[i])} for i in order[:top] if w[i] < 0],
        }
    return out


def _term(name: str) -> str:
    # FeatureUnion prefixes names ("word__cease fire", "char__ fire"); mark character n-grams.
    kind, sep, term = name.partition("__")
    if not sep:
        return name
    return f"[{term}]" if kind == "char" else term


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


def _assemble(gold, texts, Y, P, Yhat, T, groups, labels, n_boot, Ymaj, Ykw) -> dict:
    """The parts both modes share: metrics, baselines, curves, errors, data description."""
    metrics = metric_block(Y, Yhat, groups, labels, n_boot)
    pr, cal = {}, {}
    for j, lab in enumerate(labels):
        m = metrics["per_label"][lab]
        thr = np.unique(T[:, j])
        # In CV each fold has its own cut-off; the marker is the pooled operating point they produce.
        pr[lab] = pr_curve(Y[:, j], P[:, j], (m["precision"], m["recall"], float(thr[0]) if len(thr) == 1 else float(np.median(T[:, j]))))
        cal[lab] = calibration(Y[:, j], P[:, j])
        m["average_precision"] = pr[lab]["average_precision"]
        m["brier"] = cal[lab]["brier"]
    baselines = {
        "majority": {**metric_block(Y, Ymaj, groups, labels, n_boot), "description": "each label's majority value"},
        "keywords": {**metric_block(Y, Ykw, groups, labels, n_boot), "description": "hand-written cue words per label (baseline only)",
                     "rules": {lab: list(KEYWORDS.get(lab, [])) for lab in labels}},
    }
    return {
        "schema": SCHEMA_VERSION,
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "labels": list(labels),
        "data": {"sentences": int(len(Y)), "articles": int(len(np.unique(groups))),
                 "positives": {lab: int(Y[:, j].sum()) for j, lab in enumerate(labels)}},
        "metrics": metrics,
        "confusion": {lab: {k: metrics["per_label"][lab][k] for k in ("tp", "fp", "fn", "tn")} for lab in labels},
        "baselines": baselines,
        "curves": {"pr": pr, "calibration": cal},
        "errors": worst_errors(gold, P, Yhat, T, labels),
        "warnings": [] if len(np.unique(groups)) >= 10 else
        [f"only {len(np.unique(groups))} articles: the bootstrap intervals are rough"],
    }
