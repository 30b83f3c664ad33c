"""Stage 6: how good is the model?  Gold labels (or a held-out file) -> metrics dict.

Sits after ``train`` (it reuses the model's parameters or the model itself)
and before ``report`` (which turns the dict into HTML, JSON and Markdown).

Two modes:

* **Cross-validation** (default).  Grouped by article with the same folds as
  ``train`` (:func:`pipeline.model.selection.grouped_folds`), a fresh pipeline with the
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
import warnings
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from pipeline.model.cost import comparison_text, install_footprint, tagging_speed
from pipeline.evaluation.diagnostics import (
    KEYWORDS,
    calibration,
    informative_terms,
    keyword_predict,
    pr_curve,
    worst_errors,
)
from pipeline.errors import ModelError, PipelineError
from pipeline.labels.heldout import read_heldout
from pipeline.metrics import N_BOOT, compare_predictions, counts, metric_block, prf
from pipeline.records import LABELS
from pipeline.records import SEED
from pipeline.model.selection import apply_thresholds, grouped_folds, oof_proba, predict_proba, tune_thresholds
from pipeline.model.loading import load_model
from pipeline.model.features import make_pipeline

SCHEMA_VERSION = 1
INNER_SPLITS = 3
FRACTIONS: tuple[float, ...] = (0.2, 0.4, 0.6, 0.8, 1.0)
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
    compare: list[str | Path] | tuple[str | Path, ...] | None = None,
) -> dict:
    """Evaluate by grouped cross-validation on the gold labels, or on a held-out file.

    ``fractions=None`` (or an empty tuple) skips the learning curve.  ``jobs``
    spreads the cross-validation fits over processes (default: all cores);
    the results do not depend on it.  ``compare`` (model ids or folders)
    evaluates those models too, on the same folds or file, and adds a
    ``comparison`` section (see :func:`evaluate_compare`).
    """
    if compare:
        return evaluate_compare([model, *compare], labels_dir=labels_dir, corpus_root=corpus_root, models_dir=models_dir,
                                data=data, progress=progress, n_boot=n_boot, fractions=fractions, jobs=jobs)
    if data is not None:
        return evaluate_heldout(data, model=model, models_dir=models_dir, labels_dir=labels_dir, corpus_root=corpus_root, n_boot=n_boot)

    from pipeline.model.selection import training_data

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
    return _evaluate_frame(gold, features, C, n_boot, fractions, progress, jobs, labels)[0]


def _evaluate_frame(gold, features, C, n_boot, fractions, progress, jobs, labels) -> tuple[dict, dict]:
    """:func:`evaluate_frame` plus what a comparison reuses (texts, Y, groups, folds, Yhat, fractions)."""
    gold = gold.reset_index(drop=True)
    texts = np.asarray(gold["text"].astype(str).tolist(), dtype=object)
    Y = gold[list(labels)].to_numpy(dtype=int)
    groups = gold["article_id"].astype(str).to_numpy()
    folds = grouped_folds(groups)
    fractions = _norm_fractions(fractions)
    P, T, fold_thresholds, by_cell = _cv_predictions(texts, Y, groups, folds, features, C, fractions, progress, jobs, labels)
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
    return res, {"texts": texts, "Y": Y, "groups": groups, "folds": folds, "Yhat": Yhat, "fractions": fractions}


def _norm_fractions(fractions) -> tuple[float, ...]:
    return tuple(sorted(set(fractions or ()) | ({1.0} if fractions else set())))


def _cv_predictions(texts, Y, groups, folds, features, C, fractions, progress, jobs, labels):
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


def _learning_curve(by_cell, folds, groups, Y, labels, fractions) -> dict:
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
        from pipeline.labels.gold import gold_labels

        gold = gold_labels(labels_dir, corpus_root)
    except PipelineError:
        return []  # no usable gold labels, so nothing to overlap with
    n = int(df["sentence_id"].isin(set(gold["sentence_id"])).sum())
    if not n:
        return []
    return [f"{n} of {len(df)} held-out sentences are also in the gold labels in {labels_dir}; "
            "if the model was trained on them these scores are optimistic"]


# --------------------------------------------------------------------------
# Comparing models on the same folds (or the same held-out file)
# --------------------------------------------------------------------------
def evaluate_compare(
    models: list[str | Path | None],
    labels_dir: str | Path = "labels",
    corpus_root: str | Path = "corpus",
    models_dir: str | Path = "models",
    data: str | Path | None = None,
    progress: Callable[[int], None] | None = None,
    n_boot: int = N_BOOT,
    fractions: tuple[float, ...] | None = FRACTIONS,
    jobs: int | None = None,
) -> dict:
    """Evaluate ``models[0]`` (None: ``models/current``) as :func:`evaluate` does and compare ``models[1:]`` with it.

    Every model is scored on the same sentences: in cross-validation each is
    refitted with its own features and C on the same grouped folds (same
    nested threshold tuning); with ``data`` each is scored as it is, with its
    stored thresholds.  The bootstrap uses the same article resamples for all
    models, so their intervals are comparable and the difference in macro-F1
    gets a paired interval.  Speed and install size are measured on the
    loaded models in this run.  The result is the first model's evaluation
    plus a ``comparison`` section.
    """
    # Load everything first: a model that needs a missing extra fails here, before any fitting.
    loaded = [load_model(m, models_dir) for m in models]
    for m in loaded:
        if tuple(m["labels"]) != tuple(LABELS):
            raise ModelError(f"model labels {', '.join(m['labels'])} differ from {', '.join(LABELS)}; cannot compare", m["path"])
    infos = [_loaded_info(m) for m in loaded]
    if data is not None:
        df, _ = read_heldout(data, LABELS)
        where = f"the {len(df)} sentences of the held-out file {data}"
    else:
        from pipeline.model.selection import training_data

        df, _, _, _ = training_data(labels_dir, corpus_root)
        where = f"the {len(df)} gold sentences"
    # Speed first, while nothing else has run in this process (after the cross-validation
    # the same pass measured up to a third slower); one model after the other, each warm.
    speeds = []
    for m in loaded:
        speeds.append(tagging_speed(m["pipeline"], df["text"].astype(str).tolist(), on=where))
        if progress:
            progress(1)

    entries = []
    if data is not None:
        res = evaluate_heldout(data, model=loaded[0]["path"], models_dir=models_dir, labels_dir=labels_dir,
                               corpus_root=corpus_root, n_boot=n_boot)
        texts = np.asarray(df["text"].tolist(), dtype=object)
        Y = df[list(LABELS)].to_numpy(dtype=int)
        groups = df["article_id"].astype(str).to_numpy()
        for m, info in zip(loaded, infos):
            P = predict_proba(m["pipeline"], texts)
            entries.append({"info": info, "Yhat": apply_thresholds(P, info["thresholds"]), "learning_curve": None})
            if progress:
                progress(1)
        how = ("each model scored as it is, with its stored thresholds, on the same held-out sentences "
               "(models trained on different labels are compared as they are)")
    else:
        gold = df
        main = infos[0]
        res, inner = _evaluate_frame(gold, main["features"], main["C"], n_boot, fractions, progress, jobs, LABELS)
        res["model"] = {k: main[k] for k in ("model_id", "features", "C", "thresholds", "path")}
        res["data"]["source"] = f"gold labels in {labels_dir} (corpus {corpus_root})"
        texts, Y, groups, folds, fr = inner["texts"], inner["Y"], inner["groups"], inner["folds"], inner["fractions"]
        entries.append({"info": main, "Yhat": inner["Yhat"], "learning_curve": res["learning_curve"]})
        for info in infos[1:]:
            P, T, _, by_cell = _cv_predictions(texts, Y, groups, folds, info["features"], info["C"], fr, progress, jobs, LABELS)
            lc = _learning_curve(by_cell, folds, groups, Y, LABELS, fr) if fr else None
            entries.append({"info": info, "Yhat": (P >= T).astype(int), "learning_curve": lc})
        how = (f"each model refitted with its own features and C on the same GroupKFold({len(folds)}) folds by article "
               f"(train.grouped_folds, seed {SEED}), thresholds tuned inside each training fold as above")

    comp = compare_predictions(Y, groups, entries, LABELS, n_boot)
    comp["mode"] = res["mode"]
    comp["method"] = how
    if data is None:
        comp["folds"] = {"n_splits": len(folds), "seed": SEED, "test_articles_sha1": _folds_digest(folds, groups)}
    for e, m, sp in zip(comp["models"], loaded, speeds):
        e["speed"] = sp
        e["install"] = install_footprint(e["features"], m["pipeline"], m["file"])
    comp["text"] = comparison_text(comp)
    res["comparison"] = comp
    res["method"]["comparison"] = (f"{how}. Bootstrap: the same {n_boot} article resamples (seed {SEED}) for every model; the "
                                   "difference in macro-F1 is computed within each resample (paired), 95% percentile interval. "
                                   f"Speed: predict_proba of each loaded model on {where}, warm, median of repeated passes; "
                                   "embedding caches switched off so every sentence is encoded, as for new text.")
    return res


def _loaded_info(m: dict) -> dict:
    card = m["card"]
    p = card.get("parameters", {})
    if "features" not in p or "C" not in p:
        raise ModelError("model card has no parameters.features / parameters.C; re-train with 'talks train'", Path(m["path"]) / "card.json")
    return {"model_id": card.get("model_id") or Path(m["path"]).name, "features": str(p["features"]), "C": float(p["C"]),
            "thresholds": {lab: float(m["thresholds"][lab]) for lab in LABELS}, "path": str(m["path"])}


def _folds_digest(folds, groups) -> str:
    """A fingerprint of which articles are in which test fold (equal digests: the same folds)."""
    import hashlib

    parts = ["|".join(sorted(set(np.asarray(groups)[te].astype(str).tolist()))) for _, te in folds]
    return hashlib.sha1("\n".join(parts).encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------
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
