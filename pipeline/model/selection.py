"""Model selection: gold labels -> the best configuration of a grid, fitted, with thresholds.

Features and regularisation are chosen by cross-validation grouped by article
(no article is on both sides of a fold), scored by macro average precision,
which does not depend on thresholds.  A decision threshold per label is then
tuned on the out-of-fold probabilities of the chosen configuration.  Articles
in the held-out set (``labels/heldout.csv``) are left out of training and
selection; the fitted model is scored on them and the figures go into the card.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

import numpy as np

from pipeline.errors import LabelError
from pipeline.model.features import make_pipeline, uses_embeddings
from pipeline.metrics import scores
from pipeline.model.folder import ModelCard, card_head, library_versions, training_facts, write_model_folder
from pipeline.project import Project
from pipeline.records import LABELS, SEED


N_SPLITS = 5


# The search spaces are small on purpose: with ~1,700 sentences a wide grid
# mostly fits the folds' noise.  `talks train --features` picks one.
GRIDS: dict[str, list[dict]] = {
    "tfidf": [{"features": f, "C": c} for f in ("word", "word+char") for c in (1.0, 4.0, 16.0)],
    "embeddings": [{"features": "embeddings", "C": c} for c in (0.5, 2.0, 8.0)],
    "both": [{"features": "word+char+embeddings", "C": c} for c in (0.5, 2.0, 8.0)],
    "cues": [{"features": f, "C": c} for f in ("word+cues", "word+cues+static") for c in (1.0, 4.0, 16.0)],
    # A fine-tuned encoder's embeddings (pipeline/finetune.py adds "encoder": its ONNX file to each).
    # word+cues+finetuned keeps the blame cues, where the encoder alone is weakest (issue 19's measurements).
    "finetuned": [{"features": f, "C": c} for f in ("finetuned", "word+finetuned", "word+cues+finetuned") for c in (0.5, 2.0, 8.0)],
}


# `talks train --quick`: one configuration per grid, the one the full grid usually picks.
QUICK: dict[str, dict] = {"tfidf": {"features": "word", "C": 4.0}, "cues": {"features": "word+cues+static", "C": 4.0},
                          "embeddings": {"features": "embeddings", "C": 2.0}, "both": {"features": "word+char+embeddings", "C": 2.0}}


GRID = GRIDS["cues"]  # the default: as fast as word n-grams alone, and blame moves most (README, models)


def grouped_folds(groups, n_splits: int = N_SPLITS) -> list[tuple[np.ndarray, np.ndarray]]:
    """Folds grouped by ``groups`` (stories or articles), shuffled with a fixed seed so they are the same on every run."""
    from sklearn.model_selection import GroupKFold

    groups = np.asarray(groups)
    n = min(n_splits, len(np.unique(groups)))
    if n < 2:
        raise LabelError("need labelled sentences from at least 2 articles to cross-validate")
    try:
        gkf = GroupKFold(n_splits=n, shuffle=True, random_state=SEED)
    except TypeError:  # scikit-learn < 1.6 has no shuffle for GroupKFold
        gkf = GroupKFold(n_splits=n)
    return list(gkf.split(np.zeros(len(groups)), groups=groups))


def oof_proba(
    factory: Callable[[], object], texts, Y: np.ndarray, folds, progress: Callable[[int], None] | None = None
) -> np.ndarray:
    """Out-of-fold probabilities of a fresh pipeline per fold."""
    texts = np.asarray(texts, dtype=object)
    P = np.zeros(Y.shape, dtype=float)
    for tr, te in folds:
        model = factory()
        model.fit(texts[tr], Y[tr])
        P[te] = predict_proba(model, texts[te])
        if progress:
            progress(1)
    return P


def predict_proba(model, texts) -> np.ndarray:
    """(n, labels) probabilities; a label constant in training yields its constant."""
    return np.asarray(model.predict_proba(list(texts)), dtype=float)


def tune_thresholds(Y: np.ndarray, P: np.ndarray, labels=LABELS) -> dict[str, float]:
    """Per label, the probability cut that maximises F1 on out-of-fold predictions.

    Ties go to the higher threshold (fewer false positives), since the
    guidelines value precision.
    """
    from sklearn.metrics import precision_recall_curve

    out = {}
    for j, lab in enumerate(labels):
        if Y[:, j].sum() == 0:
            out[lab] = 0.5
            continue
        prec, rec, thr = precision_recall_curve(Y[:, j], P[:, j])
        f1 = np.where(prec + rec > 0, 2 * prec * rec / np.maximum(prec + rec, 1e-12), 0)[:-1]
        best = np.flatnonzero(f1 >= f1.max() - 1e-12)[-1]
        out[lab] = float(round(thr[best], 6))
    return out


def apply_thresholds(P: np.ndarray, thresholds: dict[str, float], labels=LABELS) -> np.ndarray:
    return (P >= np.array([thresholds[lab] for lab in labels])).astype(int)


def training_data(project: Project):
    """The project's gold labels outside the held-out articles as (DataFrame with ``story_id``, texts, Y, groups):
    the groups are stories (:mod:`pipeline.labels.stories`), so no fold has a story on both sides."""
    from pipeline.labels.gold import gold_labels
    from pipeline.labels.heldout import split_gold
    from pipeline.labels.stories import with_stories

    gold = split_gold(gold_labels(project), project.labels)[0]
    if len(gold) == 0:
        raise LabelError("no labelled sentences outside the held-out set; label some with 'talks label' first", project.labels)
    gold = with_stories(project, gold)
    Y = gold[list(LABELS)].to_numpy(dtype=int)
    return gold, gold["text"].tolist(), Y, gold["story_id"].to_numpy()


def train(
    project: Project = Project(),
    grid: list[dict] | None = None,
    set_current: bool = True,
    progress: Callable[[int], None] | None = None,
    teacher: str | None = None,
    soft_weight: float | None = None,
    taught: tuple[str, ...] = LABELS,
) -> ModelCard:
    """Select, fit and save a model from ``project``'s gold labels into ``project.models``; return its card.

    ``teacher`` (a model name): also learn from that model's probabilities on the unlabelled pool, each
    pool sentence weighted ``soft_weight``, for the ``taught`` labels (:mod:`pipeline.model.distill`); the card
    records all three."""
    from sklearn.metrics import average_precision_score

    from pipeline.labels.gold import labels_hash
    from pipeline.model import distill

    gold, texts, Y, groups = training_data(project)
    folds = grouped_folds(groups)
    grid = grid or GRID
    soft = distill.soft_labels(project, teacher) if teacher is not None else None
    weight = distill.SOFT_WEIGHT if soft_weight is None else soft_weight

    trials = []
    best = None
    for params in grid:
        if soft is not None:
            P = distill.distilled_oof(params, texts, Y, groups, folds, soft, weight, progress, taught)
        else:
            P = oof_proba(lambda: make_pipeline(**params), texts, Y, folds, progress)
        ap = float(np.mean([average_precision_score(Y[:, j], P[:, j]) for j in range(len(LABELS)) if Y[:, j].any()]))
        th = tune_thresholds(Y, P)
        sc = scores(Y, apply_thresholds(P, th))
        trials.append({**params, "macro_ap": round(ap, 4), "macro_f1_tuned": round(sc["macro"]["f1"], 4)})
        if best is None or ap > best[0] + 1e-9:
            best = (ap, params, P, th, sc)
    _, params, P, thresholds, cv = best

    model = make_pipeline(**params)
    if soft is not None:
        distill.fit_distilled(model, texts, Y, soft.texts, soft.P, weight, taught)
    else:
        model.fit(np.asarray(texts, dtype=object), Y)
    versions = library_versions()
    lhash = labels_hash(gold)
    prefix = {"word": "tfidf", "word+char": "tfidf", "embeddings": "emb", "word+char+embeddings": "both",
              "word+cues": "cues", "word+cues+static": "cues"}[params["features"]]
    teaching = {"teacher": soft.teacher, "soft_weight": weight, "pool_sentences": int(len(soft.texts))} if soft is not None else None
    if teaching and tuple(taught) != tuple(LABELS):
        teaching["labels"] = list(taught)
    prefix = "dist" if teaching else prefix
    key = [lhash, params, versions["scikit-learn"]] + ([teaching] if teaching else [])
    model_id = f"{prefix}-" + hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:10]
    card = {
        **card_head(model_id, params, thresholds, _encoder_info() if uses_embeddings(params["features"]) else None),
        "selection": {"cv": f"GroupKFold({len(folds)}) by story, seed {SEED}", "criterion": "macro average precision", "trials": trials},
        "cv_metrics": cv,
        "training": training_facts(gold, Y, groups, project.labels, lhash),
        "versions": versions,
        "heldout": heldout_score(model, thresholds, project),
    }
    if teaching:
        card["distillation"] = {**teaching, "method": "gold plus the teacher's probabilities on the unlabelled pool "
                                "(held-out stories left out) as soft targets; pipeline/model/distill.py"}
    card = write_model_folder(project.models, model, card)
    if set_current:
        from pipeline.model.registry import set_current as make_current

        make_current(project.models, model_id, "train", "trained with set_current")
    return card


def heldout_score(model, thresholds: dict[str, float], project: Project) -> dict | None:
    """The fitted model scored as it is on the project's held-out gold, with its version; None without a held-out set.

    ``parts``: the same scores per way the articles joined the set (stratified draw, random draw,
    hand-picked, pulled in by story: :data:`pipeline.labels.heldout.METHODS`), point figures only."""
    from pipeline.labels.gold import gold_labels
    from pipeline.labels.heldout import heldout_articles, heldout_methods, heldout_version, split_gold
    from pipeline.metrics import metric_block, scores

    if not heldout_articles(project.labels):
        return None
    held = split_gold(gold_labels(project), project.labels)[1]
    if held.empty:
        return None
    Y = held[list(LABELS)].to_numpy(dtype=int)
    Yhat = apply_thresholds(predict_proba(model, held["text"].tolist()), thresholds)
    m = metric_block(Y, Yhat, held["article_id"].to_numpy())
    keep = ("precision", "recall", "f1", "f1_ci", "support")
    method = held["article_id"].map(heldout_methods(project.labels)).fillna("hand-picked").to_numpy()
    parts = {}
    for part in sorted(set(method)):
        sel = method == part
        point = scores(Y[sel], Yhat[sel])
        parts[part] = {"articles": int(held.loc[sel, "article_id"].nunique()), "sentences": int(sel.sum()),
                       "positives": {lab: int(Y[sel, j].sum()) for j, lab in enumerate(LABELS)},
                       "f1": {lab: point["per_label"][lab]["f1"] for lab in LABELS}, "macro_f1": point["macro"]["f1"]}
    return {**heldout_version(held), "parts": parts,
            "metrics": {"per_label": {lab: {k: m["per_label"][lab][k] for k in keep} for lab in LABELS},
                        "macro": {k: m["macro"][k] for k in ("precision", "recall", "f1", "f1_ci")},
                        "micro": {k: m["micro"][k] for k in ("precision", "recall", "f1", "f1_ci")}}}


def _encoder_info() -> dict:
    from pipeline.model.embed import DIM, MODEL_NAME, SentenceEncoder

    return {"model": MODEL_NAME, "id": SentenceEncoder().model_id, "dim": DIM, "requires": "pip install 'talks[embeddings]'"}
