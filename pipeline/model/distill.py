"""Distillation: a fast model taught by an accurate one.

The accurate model (the *teacher*, e.g. a fine-tuned encoder that tagging
without PyTorch can still run, only slowly) labels every sentence of the
unlabelled pool (:mod:`pipeline.labels.pool`: held-out articles and their
stories left out) with probabilities.  The fast pipeline (word n-grams, blame
cues, static vectors: the default's features) then learns from the gold
labels and those soft labels together: for each label, one logistic
regression on the gold rows (hard 0/1) plus every pool sentence twice, as a
positive weighted ``soft_weight * p`` and as a negative weighted
``soft_weight * (1 - p)``, which is the cross-entropy against the teacher's
probability (Hinton et al. 2015, "Distilling the knowledge in a neural
network", with temperature 1).  Classes are balanced on those weighted
counts, as ``class_weight="balanced"`` balances the gold alone.

The result is an ordinary fitted ``Pipeline`` whose one-vs-rest classifier
holds the refitted binary estimators, so tagging, ``explain``, the model
folder and its checks treat it like any other model; its card records the
teacher, the soft weight and the pool.

Thresholds come from grouped cross-validation on the gold, each fold's model
fitted on that fold's training gold plus the soft labels of pool sentences
outside the fold's test stories.  The teacher itself was trained on all the
training gold, so those thresholds may be slightly optimistic; the held-out
score, which no model here saw, is the honest one.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.errors import ModelError
from pipeline.project import Project
from pipeline.records import LABELS

SOFT_WEIGHT = 0.5  # an unlabelled sentence counts half a gold one
CHUNK = 5_000      # sentences per teacher call: memory stays flat on a 40k-sentence pool


@dataclass(frozen=True)
class SoftLabels:
    """The teacher's probabilities ``P`` (one column per label) for the pool's ``texts`` and ``story_ids``."""

    teacher: str
    texts: np.ndarray
    story_ids: np.ndarray
    P: np.ndarray


def soft_labels(project: Project, teacher: str) -> SoftLabels:
    """The teacher model's probabilities for every sentence of the project's unlabelled pool."""
    from pipeline.labels.pool import unlabelled_pool
    from pipeline.model.loading import load_model
    from pipeline.model.selection import predict_proba

    m = load_model(teacher, project.models)
    if tuple(m["labels"]) != tuple(LABELS):
        raise ModelError(f"teacher labels {', '.join(m['labels'])} differ from {', '.join(LABELS)}", m["path"])
    masks = unlabelled_pool(project)
    pool = masks.pool
    texts = pool["text"].astype(str).tolist()
    P = np.vstack([predict_proba(m["pipeline"], texts[i:i + CHUNK]) for i in range(0, len(texts), CHUNK)]) if texts \
        else np.zeros((0, len(LABELS)))
    return SoftLabels(m["card"].get("model_id") or str(teacher), np.asarray(texts, dtype=object),
                      pool["article_id"].map(masks.stories).to_numpy(), P)


def fit_distilled(pipeline, texts, Y: np.ndarray, soft_texts, P: np.ndarray, soft_weight: float = SOFT_WEIGHT,
                  taught: tuple[str, ...] = LABELS):
    """Fit ``pipeline`` (a fresh ``make_pipeline``) on gold ``texts``/``Y`` and soft labels ``P`` for
    ``soft_texts`` (module docstring); only the ``taught`` labels learn from the teacher, the others from the
    gold alone (a teacher weaker than the gold on a label should not teach it).  Returns the fitted pipeline."""
    import scipy.sparse as sp
    from sklearn.base import clone

    if not 0 < soft_weight <= 1:
        raise ModelError(f"the soft weight must be in (0, 1], not {soft_weight}")
    texts, soft_texts = np.asarray(texts, dtype=object), np.asarray(soft_texts, dtype=object)
    features, clf = pipeline.named_steps["features"], pipeline.named_steps["clf"]
    F = features.fit_transform(np.concatenate([texts, soft_texts]))
    F = sp.csr_matrix(F) if not sp.issparse(F) else F.tocsr()
    n = len(texts)
    clf.fit(F[:n], Y)  # the label binarizer and one estimator per label, replaced below
    rows = sp.vstack([F[:n], F[n:], F[n:]], format="csr")
    unknown = sorted(set(taught) - set(LABELS))
    if unknown:
        raise ModelError(f"unknown label(s) {', '.join(unknown)} to teach; the labels are {', '.join(LABELS)}")
    for j in range(Y.shape[1]):
        if LABELS[j] not in taught:
            continue
        p = np.clip(P[:, j], 0.0, 1.0)
        y = np.concatenate([Y[:, j], np.ones(len(p), int), np.zeros(len(p), int)])
        w = np.concatenate([np.ones(n), soft_weight * p, soft_weight * (1 - p)])
        pos, neg = w[y == 1].sum(), w[y == 0].sum()
        if pos <= 0 or neg <= 0:
            continue  # a label with one class only keeps the gold-only estimator
        w = np.where(y == 1, w * (pos + neg) / (2 * pos), w * (pos + neg) / (2 * neg))
        est = clone(clf.estimator).set_params(class_weight=None)
        clf.estimators_[j] = est.fit(rows, y, sample_weight=w)
    return pipeline


def distilled_oof(params: dict, texts, Y: np.ndarray, groups, folds, soft: SoftLabels,
                  soft_weight: float = SOFT_WEIGHT, progress=None, taught: tuple[str, ...] = LABELS) -> np.ndarray:
    """Out-of-fold gold probabilities, each fold fitted on its training gold plus the soft labels of pool
    sentences outside its test stories."""
    from pipeline.model.features import make_pipeline
    from pipeline.model.selection import predict_proba

    texts, groups = np.asarray(texts, dtype=object), np.asarray(groups)
    out = np.zeros(Y.shape, dtype=float)
    for tr, te in folds:
        keep = ~np.isin(soft.story_ids, np.unique(groups[te]))
        model = fit_distilled(make_pipeline(**params), texts[tr], Y[tr], soft.texts[keep], soft.P[keep], soft_weight, taught)
        out[te] = predict_proba(model, texts[te])
        if progress:
            progress(1)
    return out
