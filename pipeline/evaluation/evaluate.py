"""Stage 6: how good is the model?  Gold labels (or a held-out file) -> metrics dict.

Sits after ``train`` (it reuses the model's parameters or the model itself)
and before ``report`` (which turns the dict into HTML, JSON and Markdown).

Two modes:

* **Cross-validation** (default, :mod:`pipeline.evaluation.crossval`).
  Grouped by article with the same folds as ``train``, a fresh pipeline with
  the current model's features and C is fitted in every fold, thresholds
  tuned inside each training fold (nested).  Features and C themselves were
  chosen by ``train`` on the same labels, which leaves a small optimism we
  document rather than remove.
* **Held-out file** (``data=FILE``).  The given (or current) model is scored
  as it is, with its stored thresholds, on a label-store CSV it never saw.

Either mode can compare several models on the same sentences
(:func:`evaluate_compare`).  Everything comes with 95% bootstrap confidence
intervals that resample whole *articles* (sentences of one article are not
independent), baselines scored on the same sentences (majority class and a
keyword rule list), precision-recall and reliability curves, informative
terms, worst errors and, in CV mode, a learning curve
(:mod:`pipeline.evaluation.result`).  The result is a JSON-serialisable dict:
numbers are Python floats/ints and curves are lists.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from pipeline.errors import ModelError
from pipeline.evaluation.crossval import FRACTIONS, cv_evaluation, cv_predictions, evaluate_frame, learning_curve
from pipeline.evaluation.diagnostics import informative_terms, keyword_predict
from pipeline.evaluation.result import Evaluation, assemble
from pipeline.labels.heldout import read_heldout
from pipeline.metrics import N_BOOT, compare_predictions
from pipeline.model.cost import comparison_text, install_footprint, tagging_speed
from pipeline.model.features import make_pipeline
from pipeline.model.loading import load_model
from pipeline.model.selection import apply_thresholds, predict_proba
from pipeline.project import Project
from pipeline.records import LABELS, SEED


# --------------------------------------------------------------------------
# The entry point
# --------------------------------------------------------------------------
def evaluate(
    project: Project = Project(),
    model: str | Path | None = None,
    data: str | Path | None = None,
    progress: Callable[[int], None] | None = None,
    n_boot: int = N_BOOT,
    fractions: tuple[float, ...] | None = FRACTIONS,
    jobs: int | None = None,
    compare: list[str | Path] | tuple[str | Path, ...] | None = None,
) -> Evaluation:
    """Evaluate ``model`` (None: the project's current model) by grouped cross-validation on the
    project's gold labels, or as it is on a held-out file ``data``; returns the result dict.

    ``fractions=None`` (or an empty tuple) skips the learning curve.  ``jobs``
    spreads the cross-validation fits over processes (default: all cores);
    the results do not depend on it.  ``compare`` (model ids or folders)
    evaluates those models too, on the same folds or file, and adds a
    ``comparison`` section (see :func:`evaluate_compare`): in cross-validation
    each is refitted with its own features and C, so it compares settings,
    not trained models (``talks evaluate --compare-settings``; trained models
    are :func:`pipeline.evaluation.compare.compare_models`).
    """
    if compare:
        return evaluate_compare([model, *compare], project=project, data=data, progress=progress, n_boot=n_boot,
                                fractions=fractions, jobs=jobs)
    if data is not None:
        return evaluate_heldout(data, model=model, project=project, n_boot=n_boot)

    from pipeline.model.selection import training_data

    params, model_info, warn = _model_params(model, project.models)
    gold, _, _, _ = training_data(project)
    res = evaluate_frame(gold, params["features"], params["C"], n_boot=n_boot, fractions=fractions, progress=progress, jobs=jobs)
    res["model"] = model_info
    res["data"]["source"] = f"gold labels in {project.labels} (corpus {project.corpus})"
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
# Held-out file
# --------------------------------------------------------------------------
def evaluate_heldout(
    data: str | Path,
    model: str | Path | None = None,
    project: Project = Project(),
    n_boot: int = N_BOOT,
) -> Evaluation:
    """Score a trained model (None: the project's current one) as it is, with its stored thresholds,
    on a held-out label file; warns when the file's sentences are among the project's gold labels."""
    m = load_model(model, project.models)
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

    res = assemble(df, Y, P, Yhat, T, groups, labels, n_boot, Ymaj, Ykw)
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
    res["warnings"] += _overlap_warning(df, project)
    return res


def _float_or_none(v):
    return None if v is None else float(v)


def _overlap_warning(df, project: Project) -> list[str]:
    """Held-out sentences that are also gold training labels make the scores optimistic; say so."""
    from pipeline.evaluation.compare import gold_overlap

    n = gold_overlap(df["sentence_id"], project)["gold"]
    if not n:
        return []
    return [f"{n} of {len(df)} held-out sentences are also in the gold labels in {project.labels}; "
            "if the model was trained on them these scores are optimistic"]


# --------------------------------------------------------------------------
# Comparing models on the same folds (or the same held-out file)
# --------------------------------------------------------------------------
def evaluate_compare(
    models: list[str | Path | None],
    project: Project = Project(),
    data: str | Path | None = None,
    progress: Callable[[int], None] | None = None,
    n_boot: int = N_BOOT,
    fractions: tuple[float, ...] | None = FRACTIONS,
    jobs: int | None = None,
) -> Evaluation:
    """Evaluate ``models[0]`` (None: the project's current model) as :func:`evaluate` does and compare ``models[1:]`` with it.

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
    loaded = [load_model(m, project.models) for m in models]
    for m in loaded:
        if tuple(m["labels"]) != tuple(LABELS):
            raise ModelError(f"model labels {', '.join(m['labels'])} differ from {', '.join(LABELS)}; cannot compare", m["path"])
    infos = [_loaded_info(m) for m in loaded]
    if data is not None:
        df, _ = read_heldout(data, LABELS)
        where = f"the {len(df)} sentences of the held-out file {data}"
    else:
        from pipeline.model.selection import training_data

        df, _, _, _ = training_data(project)
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
        res = evaluate_heldout(data, model=loaded[0]["path"], project=project, n_boot=n_boot)
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
        res, inner = cv_evaluation(gold, main["features"], main["C"], n_boot, fractions, progress, jobs, LABELS)
        res["model"] = {k: main[k] for k in ("model_id", "features", "C", "thresholds", "path")}
        res["data"]["source"] = f"gold labels in {project.labels} (corpus {project.corpus})"
        texts, Y, groups, folds, fr = inner["texts"], inner["Y"], inner["groups"], inner["folds"], inner["fractions"]
        entries.append({"info": main, "Yhat": inner["Yhat"], "learning_curve": res["learning_curve"]})
        for info in infos[1:]:
            P, T, _, by_cell = cv_predictions(texts, Y, groups, folds, info["features"], info["C"], fr, progress, jobs, LABELS)
            lc = learning_curve(by_cell, folds, groups, Y, LABELS, fr) if fr else None
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
