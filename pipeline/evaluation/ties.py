"""Blame ties scored end to end on the held-out set: ``talks ties evaluate``.

Every held-out gold sentence is tagged by the sentence model (blame or not)
and, where it is tagged blame, given ties by the tie extractor; the predicted
ties are matched with the gold ties of the held-out gold blame sentences
(:func:`pipeline.labels.ties.same_actor`: the same canonical name, or one
name's words within the other's, "Trump" and "Donald Trump").  So a missed
blame sentence costs its gold ties and a false blame sentence costs its
predicted ones, as in Liang et al.'s end-to-end figure.  Intervals resample
whole articles (:func:`pipeline.metrics.article_bootstrap`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.errors import ModelError
from pipeline.metrics import N_BOOT, article_bootstrap, ci95, prf
from pipeline.project import Project
from pipeline.records import SEED


@dataclass(frozen=True)
class TieEvaluation:
    """End-to-end tie precision, recall and F1 on the held-out set, with 95% article-bootstrap intervals,
    the counts, the extraction-only F1 on the gold blame sentences, and the models used."""

    precision: float
    recall: float
    f1: float
    f1_ci: list[float]
    gold_ties: int
    predicted_ties: int
    matched: int
    sentences: int
    articles: int
    extraction_only_f1: float
    model_id: str
    tie_model: dict


def evaluate_ties(project: Project = Project(), model: str | None = None, n_boot: int = N_BOOT) -> TieEvaluation:
    """Score the project's tie extractor end to end on its held-out set (module docstring)."""
    from pipeline.labels.ties import match_ties, tie_scores
    from pipeline.model.loading import load_model
    from pipeline.model.selection import apply_thresholds, predict_proba
    from pipeline.model.tie_training import in_context, tie_data
    from pipeline.model.ties import load_tie_model
    from pipeline.labels.heldout import heldout_gold

    tm = load_tie_model(project.models)
    if tm is None:
        raise ModelError("no tie extractor yet; train one with 'talks ties train'", project.models)
    m = load_model(model, project.models)
    _, held_ties = tie_data(project)
    gold = dict(zip(held_ties["sentence_id"], held_ties["ties"]))
    # the held-out articles read whole, as tagging reads them; only their gold sentences are scored
    ctx = in_context(project, heldout_gold(project)["sentence_id"].tolist())
    texts, ctx_arts, want = ctx["text"].astype(str).tolist(), ctx["article_id"].astype(str).tolist(), ctx["want"].to_numpy()
    blame = apply_thresholds(predict_proba(m["pipeline"], texts), m["thresholds"], m["labels"])[:, list(m["labels"]).index("blame")]
    found = tm.extract(texts, ctx_arts, want & (blame == 1))
    on_gold = tm.extract(texts, ctx_arts, ctx["sentence_id"].isin(gold).to_numpy())
    held = ctx[want]
    sids = held["sentence_id"].tolist()
    predicted = {sid: ties for sid, ties, w in zip(ctx["sentence_id"], found, want) if w and ties}
    sc = tie_scores(gold, predicted)
    # per-article counts for the bootstrap: gold ties, predicted ties, matched ties
    arts = held["article_id"].astype(str).to_numpy()
    per = {a: np.zeros(3) for a in np.unique(arts)}
    for sid, a in zip(sids, arts):
        g, p = gold.get(sid, []), predicted.get(sid, [])
        per[a] += [len(g), len(p), match_ties(g, p)]
    names, W = article_bootstrap(arts, n_boot, SEED)
    C = np.array([per[a] for a in names])  # (articles, 3)
    tot = W @ C                             # (n_boot, 3)
    f1 = prf(tot[:, 2], tot[:, 1] - tot[:, 2], tot[:, 0] - tot[:, 2])[2]
    only = tie_scores(gold, {sid: ties for sid, ties in zip(ctx["sentence_id"], on_gold) if sid in gold})
    return TieEvaluation(round(sc.precision, 4), round(sc.recall, 4), round(sc.f1, 4), [round(x, 4) for x in ci95(f1)],
                         sc.gold, sc.predicted, sc.matched, len(held), int(len(names)), round(only.f1, 4),
                         m["card"].get("model_id"), tm.card)
