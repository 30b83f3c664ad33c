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
from pipeline.labels.gold import find_problems
from pipeline.model.registry import current_id, read_card
from pipeline.project import Project

from conftest import REPO

LABELS_DIR, MODELS = REPO / "labels", REPO / "models"


@pytest.fixture
def built_corpus(project_corpus):
    return project_corpus["root"]


def test_shipped_labels_check_clean(built_corpus):
    problems = [p for p in find_problems(Project(corpus=built_corpus, labels=LABELS_DIR)) if not p.warning]
    assert problems == []


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
