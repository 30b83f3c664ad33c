"""Why a model tags a sentence as it does: each label's probability and the features that pushed it.

Used by ``talks explain``; the model is linear in its features, so the
explanation is exact, not an approximation.
"""
from __future__ import annotations

import numpy as np

from pipeline.model.features import encoders, feature_term
from pipeline.model.selection import predict_proba
from pipeline.project import Project

# What a dimension of a dense vector is summed into, by the feature part that made it.
LUMPS = {"emb": "[sentence embedding]", "static": "[word vectors]"}


def explain(model: dict, text: str, top: int = 8, project: Project | None = None) -> dict:
    """Each label's probability and what pushed it up or down.

    The model is linear in its features, so a feature's contribution to the
    log-odds is exactly coefficient x feature value.  TF-IDF features are
    shown as terms; the 384 dimensions of a sentence embedding mean nothing
    one by one, so they are summed into one "[sentence embedding]" entry (and
    the static word vectors' into one "[word vectors]" entry) and, when
    ``project`` is given and the model has a sentence encoder, the most
    similar of its gold-labelled sentences are listed instead.  Returns
    ``text``, ``model_id``, ``labels`` (per label: probability, threshold,
    tagged, intercept, up, down) and ``nearest``.
    """
    pipe = model["pipeline"]
    vec = pipe.named_steps["features"]
    clf = pipe.named_steps["clf"]
    x = vec.transform([text])
    row = x.tocsr() if hasattr(x, "tocsr") else _sparse_row(x)
    names = np.asarray(vec.get_feature_names_out())
    P = predict_proba(pipe, [text])[0]
    out = {"text": text, "model_id": model["card"]["model_id"], "labels": [], "nearest": []}
    idx, vals = row.indices, row.data
    terms_of = [feature_term(n) for n in names[idx]]
    # Dimensions that mean nothing one by one are summed per kind of vector.
    lump_of = np.array([LUMPS["static" if n.startswith("static__") else "emb"] if t is None else ""
                        for n, t in zip(names[idx], terms_of)], dtype=object)
    is_emb = lump_of != ""
    for j, lab in enumerate(model["labels"]):
        est = clf.estimators_[j]
        entry = {"label": lab, "probability": round(float(P[j]), 4), "threshold": model["thresholds"][lab],
                 "tagged": bool(P[j] >= model["thresholds"][lab]), "intercept": None, "up": [], "down": []}
        if hasattr(est, "coef_"):  # else: a label constant in training
            contrib = est.coef_[0][idx] * vals
            terms = [(terms_of[k], float(contrib[k])) for k in np.flatnonzero(~is_emb)]
            for lump in sorted(set(lump_of[is_emb])):
                terms.append((lump, float(contrib[lump_of == lump].sum())))
            terms.sort(key=lambda t: t[1])
            entry["intercept"] = round(float(est.intercept_[0]), 4)
            entry["up"] = [{"term": t, "weight": round(w, 4)} for t, w in reversed(terms[-top:]) if w > 0]
            entry["down"] = [{"term": t, "weight": round(w, 4)} for t, w in terms[:top] if w < 0]
        out["labels"].append(entry)
    encoder = next(iter(encoders(vec)), None)
    if encoder is not None and project is not None:
        from pipeline.model.embed import nearest
        from pipeline.labels.gold import gold_labels

        gold = gold_labels(project)
        near = nearest(encoder.transform(gold["text"].tolist()), gold, encoder.transform([text])[0], k=top)
        out["nearest"] = [
            {"text": r["text"], "similarity": round(float(r["similarity"]), 4), "labels": [l for l in model["labels"] if r[l]]}
            for _, r in near.iterrows()
        ]
    return out


def _sparse_row(x):
    from scipy.sparse import csr_matrix

    return csr_matrix(x)


# --------------------------------------------------------------------------
# Reading inputs
# --------------------------------------------------------------------------
