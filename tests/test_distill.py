"""Distillation (``talks train --teacher``): soft labels from the unlabelled pool, never from held-out stories,
pull the fast model towards the teacher, and the card says how it was taught."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline.errors import ModelError
from pipeline.labels.heldout import heldout_articles
from pipeline.model.distill import fit_distilled, soft_labels
from pipeline.model.features import make_pipeline
from pipeline.model.selection import predict_proba, train


@pytest.fixture
def pool_project(heldout_project) -> dict:
    """30 generated articles, 6 held out; the labels of 8 training articles removed, so their sentences form the pool."""
    p = heldout_project
    store = p["labels"] / "tester.csv"
    df = pd.read_csv(store, dtype=str, keep_default_na=False)
    held = heldout_articles(p["labels"])
    unlabel = sorted(set(df["article_id"]) - held)[:8]
    df[~df["article_id"].isin(unlabel)].to_csv(store, index=False)
    return {**p, "unlabelled": unlabel}


def test_soft_labels_cover_the_pool_and_never_a_heldout_story(pool_project):
    p = pool_project
    teacher = train(p["project"], grid=[{"features": "word", "C": 4.0}])
    soft = soft_labels(p["project"], teacher["model_id"])
    sents = pd.read_csv(p["corpus"] / "sentences.csv", dtype=str, keep_default_na=False)
    by_text = sents.set_index("text")["article_id"]
    arts = {by_text[t] for t in soft.texts}
    assert arts <= set(p["unlabelled"]) and arts  # only unlabelled articles' sentences
    assert not arts & heldout_articles(p["labels"])
    assert soft.P.shape == (len(soft.texts), 4) and ((soft.P >= 0) & (soft.P <= 1)).all()
    with pytest.raises(Exception):
        soft_labels(p["project"], "no-such-model")


def test_a_student_moves_towards_its_teacher_and_its_card_says_so(pool_project):
    """A teacher that calls every pool sentence blame (p = 1) pulls the student's blame probabilities on those
    sentences up, against the same pipeline fitted on the gold alone; the card records the teaching."""
    p = pool_project
    gold_only = train(p["project"], grid=[{"features": "word", "C": 4.0}], set_current=False)
    soft = soft_labels(p["project"], gold_only["model_id"])
    texts = pd.read_csv(p["labels"] / "tester.csv", dtype=str, keep_default_na=False)
    labels = ["diplomacy", "violence", "humanitarian", "blame"]
    Y = texts[labels].astype(int).to_numpy()
    P = soft.P.copy()
    P[:, 3] = 1.0
    student = fit_distilled(make_pipeline("word", 4.0), texts["text"].tolist(), Y, soft.texts, P, soft_weight=1.0)
    plain = make_pipeline("word", 4.0).fit(np.asarray(texts["text"].tolist(), dtype=object), Y)
    assert predict_proba(student, list(soft.texts))[:, 3].mean() > predict_proba(plain, list(soft.texts))[:, 3].mean() + 0.1
    with pytest.raises(ModelError, match="soft weight"):
        fit_distilled(make_pipeline("word", 4.0), texts["text"].tolist(), Y, soft.texts, P, soft_weight=0)
    card = train(p["project"], grid=[{"features": "word", "C": 4.0}], set_current=False, teacher=gold_only["model_id"],
                 soft_weight=0.3)
    assert card["model_id"].startswith("dist-") and card["model_id"] != gold_only["model_id"]
    assert card["distillation"]["teacher"] == gold_only["model_id"] and card["distillation"]["soft_weight"] == 0.3
    assert card["distillation"]["pool_sentences"] == len(soft.texts) > 0
    from pipeline.model.loading import load_model

    loaded = load_model(card["model_id"], p["models"])  # an ordinary model folder: loads, checked, tags
    assert predict_proba(loaded["pipeline"], ["The envoy met the delegation in Geneva."]).shape == (1, 4)


def test_only_the_taught_labels_learn_from_the_teacher(pool_project):
    p = pool_project
    gold_only = train(p["project"], grid=[{"features": "word", "C": 4.0}], set_current=False)
    soft = soft_labels(p["project"], gold_only["model_id"])
    texts = pd.read_csv(p["labels"] / "tester.csv", dtype=str, keep_default_na=False)
    Y = texts[["diplomacy", "violence", "humanitarian", "blame"]].astype(int).to_numpy()
    P = soft.P.copy()
    P[:, :] = 1.0
    none = fit_distilled(make_pipeline("word", 4.0), texts["text"].tolist(), Y, soft.texts, P, 1.0, taught=())
    blame = fit_distilled(make_pipeline("word", 4.0), texts["text"].tolist(), Y, soft.texts, P, 1.0, taught=("blame",))
    a, b = predict_proba(none, list(soft.texts)), predict_proba(blame, list(soft.texts))
    assert np.allclose(a[:, :3], b[:, :3]) and b[:, 3].mean() > a[:, 3].mean() + 0.1
    with pytest.raises(ModelError, match="unknown label"):
        fit_distilled(make_pipeline("word", 4.0), texts["text"].tolist(), Y, soft.texts, P, 1.0, taught=("joy",))
