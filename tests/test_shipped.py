"""The shipped artefacts: the committed corpus sources, labels, held-out set and current model.

These guard quality from regressing: the labels must check clean against a
corpus built from ``corpus/raw`` in a fresh clone, and the current model must
score on the held-out set what its card says, above a floor.
"""
from __future__ import annotations

import json

import pytest

from pipeline.evaluation.compare import compare_models
from pipeline.labels.heldout import heldout_articles
from pipeline.corpus.store import load_sentences
from pipeline.labels.gold import find_problems
from pipeline.labels.migrate import label_tables
from pipeline.model.registry import current_id, read_card
from pipeline.project import Project
from pipeline.store import read_log, read_table

from conftest import REPO

LABELS_DIR, MODELS = REPO / "labels", REPO / "models"
# Junk lines the rounds queued that cleaning has since removed (see below): 24, and 5 more
# with the resiliparse extraction (a photo caption, a story-highlights bullet, a video-list
# item, a related-coverage link, "Go Back to Top.").
MISSING_FROM_ROUNDS = 29


@pytest.fixture
def built_corpus(project_corpus):
    return project_corpus["root"]


def test_shipped_labels_check_clean(built_corpus):
    problems = [p for p in find_problems(Project(corpus=built_corpus, labels=LABELS_DIR)) if not p.warning]
    assert problems == []


def test_no_label_table_names_a_sentence_missing_from_the_corpus(built_corpus):
    """After a cleaning change, `talks labels migrate` moved every table's ids (issue 21, the datelines): the tie
    labels, the audits and the disagreements name only corpus sentences, as the stores do (checked above).  The
    rounds' batches and queues, the record of what was queued, also name two dozen junk lines that cleaning
    removed later ("Go Back to Top.", reporting credits, the dateline line "BURNS, Ore."), whose labels left the
    stores then: no more than those."""
    ids = set(load_sentences(built_corpus)["sentence_id"])
    missing = {}
    for path in label_tables(LABELS_DIR):
        if path.suffix == ".jsonl":
            named = {str(rec["sentence_id"]) for _, rec in read_log(path)[0] if "sentence_id" in rec}
        else:
            named = set(read_table(path, dtype=str)["sentence_id"])
        if gone := named - ids:
            missing[str(path.relative_to(LABELS_DIR))] = gone
    assert [p for p in missing if not p.startswith(("round", "queue"))] == []
    assert len(set().union(*missing.values())) <= MISSING_FROM_ROUNDS


def test_current_model_scores_its_card_on_the_heldout_set(built_corpus):
    cur = current_id(MODELS)
    card = read_card(MODELS, cur)
    assert card["heldout"], "the current model must have been scored on the held-out set"
    c = compare_models(cur, cur, Project(corpus=built_corpus, labels=LABELS_DIR, models=MODELS), n_boot=200)
    macro = c["models"][0]["metrics"]["macro"]["f1"]
    # the held-out set may have grown since; when it has not, the figure must reproduce exactly
    if c["heldout"]["sha256"] == card["heldout"]["sha256"]:
        assert macro == pytest.approx(card["heldout"]["metrics"]["macro"]["f1"], abs=1e-9)
    # floors a retrained default must keep (issue 10's targets: macro 0.75, blame 0.60; 0.743 reached)
    assert macro >= 0.73
    assert c["models"][0]["metrics"]["per_label"]["blame"]["f1"] >= 0.60
    assert len(heldout_articles(LABELS_DIR)) >= 11


def test_history_names_the_current_model():
    hist = [json.loads(line) for line in (MODELS / "history.jsonl").read_text().splitlines() if line.strip()]
    assert hist[-1]["model_id"] == current_id(MODELS)
