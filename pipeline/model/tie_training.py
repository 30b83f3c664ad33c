"""Training the blame-tie extractor (:mod:`pipeline.model.ties`) on the gold ties: ``talks ties train``.

The training sentences are the gold blame sentences with gold ties outside the
held-out articles.  The pair classifier's C and the tie threshold are chosen
by cross-validation grouped by story (tie F1 over the training sentences, each
fold's sentences decoded by a model fitted on the other folds); the final
model is fitted on all of them and written, with the actor list it knows and a
card, to ``models/ties/`` whole or not at all.  The card also scores the
extractor on the held-out gold blame sentences (extraction alone: the end-to-end
figure, with blame predicted by the sentence model, is ``talks ties evaluate``).
"""
from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import LabelError
from pipeline.project import Project

C_GRID = (0.25, 1.0, 4.0)


@dataclass(frozen=True)
class TieTraining:
    """What :func:`train_ties` wrote: the folder, and its card (C, threshold, counts, CV and held-out scores)."""

    path: Path
    card: dict


def tie_data(project: Project):
    """(training frame, held-out frame) of gold blame sentences with gold ties: sentence_id, article_id, text,
    story_id, ties."""
    from pipeline.labels.gold import gold_labels
    from pipeline.labels.heldout import split_gold
    from pipeline.labels.stories import with_stories
    from pipeline.labels.ties import gold_ties

    ties = gold_ties(project)
    gold = gold_labels(project)
    gold = gold[(gold["blame"] == 1) & gold["sentence_id"].isin(ties)].copy()
    if gold.empty:
        raise LabelError("no gold ties yet; label who blames whom first (labels/ties/, the guidelines' tie section)",
                         project.labels)
    gold["ties"] = gold["sentence_id"].map(ties)
    return split_gold(with_stories(project, gold), project.labels)


def in_context(project: Project, sentence_ids) -> "object":
    """The corpus sentences of the articles of ``sentence_ids``, in corpus order, with ``want`` marking those ids:
    what the extractor reads, as tagging reads whole articles (references look back at the sentences before)."""
    from pipeline.corpus.store import load_sentences

    sents = load_sentences(project.corpus)
    ids = set(sentence_ids)
    arts = set(sents.loc[sents["sentence_id"].isin(ids), "article_id"])
    out = sents[sents["article_id"].isin(arts)].reset_index(drop=True)
    return out.assign(want=out["sentence_id"].isin(ids))


def tie_candidates(project: Project, aliases, sentence_ids: list[str]) -> list:
    """Each sentence's candidate pairs (:func:`pipeline.model.ties.article_candidates`), read in its article."""
    from pipeline.model.ties import article_candidates

    ctx = in_context(project, sentence_ids)
    cands = article_candidates(ctx["text"].tolist(), ctx["article_id"].tolist(), aliases, ctx["want"].to_numpy())
    by_id = dict(zip(ctx["sentence_id"], cands))
    return [by_id[sid] for sid in sentence_ids]


def train_ties(project: Project = Project()) -> TieTraining:
    """Choose C and the threshold by grouped CV, fit on every training tie, write ``models/ties/`` (module docstring)."""
    from pipeline.labels.ties import actors_path, load_actors, tie_scores
    from pipeline.model.artefact import MODEL_FILE, save
    from pipeline.model.selection import grouped_folds
    from pipeline.model.ties import TIE_CARD, TIES_FOLDER, THRESHOLDS, Aliases, labelled_pairs, make_pair_model, predict_ties
    from pipeline.store import atomic_folder, atomic_write_text

    aliases = Aliases.of(load_actors(project.labels))
    train, held = tie_data(project)
    cands = tie_candidates(project, aliases, train["sentence_id"].tolist())
    gold = train["ties"].tolist()
    folds = grouped_folds(train["story_id"].to_numpy())
    trials, best = [], None
    for C in C_GRID:
        pred_by_t = {t: [None] * len(train) for t in THRESHOLDS}
        for tr, te in folds:
            X, y, _ = labelled_pairs([cands[i] for i in tr], [gold[i] for i in tr])
            model = make_pair_model(C).fit(X, y)
            for t in THRESHOLDS:
                for i, ties in zip(te, predict_ties(model, t, [cands[i] for i in te], [True] * len(te))):
                    pred_by_t[t][i] = ties
        for t in THRESHOLDS:
            sc = tie_scores(dict(zip(train["sentence_id"], gold)), dict(zip(train["sentence_id"], pred_by_t[t])))
            trials.append({"C": C, "threshold": float(t), "f1": round(sc.f1, 4)})
            if best is None or sc.f1 > best[0] + 1e-9:
                best = (sc.f1, C, float(t), sc)
    _, C, threshold, cv = best
    X, y, _ = labelled_pairs(cands, gold)
    model = make_pair_model(C).fit(X, y)
    held_scores = None
    if len(held):
        hp = predict_ties(model, threshold, tie_candidates(project, aliases, held["sentence_id"].tolist()), [True] * len(held))
        held_scores = tie_scores(dict(zip(held["sentence_id"], held["ties"])), dict(zip(held["sentence_id"], hp))).__dict__
    from pipeline.labels.ties import match_ties

    reachable = sum(match_ties(g, [(s, t) for s, t, _ in cs]) for cs, g in zip(cands, gold))
    card = {
        "model": "blame ties: mentions from the actor list and capitalised names, a logistic regression over "
                 "(source, target) pairs; pipeline/model/ties.py",
        "C": C, "threshold": threshold,
        "training": {"sentences": int(len(train)), "ties": int(sum(len(g) for g in gold)), "pairs": int(len(X)),
                     "positive_pairs": int(sum(y)),
                     "gold_ties_among_candidates": round(reachable / max(sum(len(g) for g in gold), 1), 4)},
        "cv": {"folds": len(folds), "grouped_by": "story", "tie_f1": round(cv.f1, 4), "precision": round(cv.precision, 4),
               "recall": round(cv.recall, 4), "trials": trials},
        "heldout_gold_blame": held_scores,
        "actors_sha256": hashlib.sha256(actors_path(project.labels).read_bytes()).hexdigest(),
    }
    path = Path(project.models) / TIES_FOLDER
    with atomic_folder(path) as staging:
        save({"labels": ["tie"], "thresholds": {"tie": threshold}, "pipeline": model}, staging / MODEL_FILE)
        shutil.copyfile(actors_path(project.labels), staging / "actors.csv")
        atomic_write_text(staging / TIE_CARD, json.dumps(card, indent=2) + "\n")
    return TieTraining(path, card)


def tie_agreement(project: Project) -> dict:
    """Tie-level agreement of the two passes (pass 1 as the reference): precision, recall, F1, and how many
    sentences differ and went to the third reader."""
    from pipeline.labels.ties import differs, pass_ties, tie_scores

    a, b, adj = pass_ties(project.labels)
    both = sorted(set(a) & set(b))
    sc = tie_scores({s: a[s] for s in both}, {s: b[s] for s in both})
    return {"sentences": len(both), "tie_f1": round(sc.f1, 4), "ties_pass1": sc.gold, "ties_pass2": sc.predicted,
            "differing_sentences": int(sum(differs(a[s], b[s]) for s in both)), "adjudicated": int(len(set(adj) & set(both)))}

