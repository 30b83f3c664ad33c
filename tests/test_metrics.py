"""metrics: one shape for every set of scores, checked against scikit-learn; intervals from whole-article resamples."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score, precision_recall_fscore_support

from pipeline.metrics import format_interval, metric_block, scores
from pipeline.records import LABELS


@pytest.fixture
def predictions():
    rng = np.random.default_rng(3)
    Y = (rng.random((300, 4)) < [0.4, 0.3, 0.2, 0.1]).astype(int)
    Yhat = np.where(rng.random(Y.shape) < 0.8, Y, 1 - Y)
    groups = np.repeat([f"a{i}" for i in range(30)], 10)
    return Y, Yhat, groups


def test_scores_agree_with_scikit_learn(predictions):
    Y, Yhat, _ = predictions
    sc = scores(Y, Yhat)
    p, r, f, s = precision_recall_fscore_support(Y, Yhat, average=None, zero_division=0)
    for j, lab in enumerate(LABELS):
        assert sc["per_label"][lab] == pytest.approx({"precision": p[j], "recall": r[j], "f1": f[j], "support": s[j]})
    assert sc["macro"]["f1"] == pytest.approx(f1_score(Y, Yhat, average="macro", zero_division=0))
    assert sc["micro"]["f1"] == pytest.approx(f1_score(Y, Yhat, average="micro", zero_division=0))


def test_metric_block_is_the_same_shape_with_intervals_around_the_point(predictions):
    Y, Yhat, groups = predictions
    block, point = metric_block(Y, Yhat, groups, n_boot=200), scores(Y, Yhat)
    assert block.keys() == point.keys() == {"per_label", "micro", "macro"}
    assert block["macro"]["f1"] == pytest.approx(f1_score(Y, Yhat, average="macro", zero_division=0))
    for lab in LABELS:
        m = block["per_label"][lab]
        assert m["f1_ci"][0] <= m["f1"] <= m["f1_ci"][1] and m["tp"] + m["fn"] == m["support"]
    lo, hi = block["macro"]["f1_ci"]
    assert lo < block["macro"]["f1"] < hi and hi - lo < 0.3


def test_intervals_resample_articles_not_sentences():
    """Ten copies of each of 4 articles' sentences: as wide as 4 articles allow, not as narrow as 40 sentences."""
    Y = np.array([[1, 0, 0, 0], [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]] * 10)
    Yhat = np.array([[1, 0, 0, 0], [0, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]] * 10)
    by_article = metric_block(Y, Yhat, np.tile(["a", "b", "c", "d"], 10), n_boot=500)
    by_sentence = metric_block(Y, Yhat, np.arange(40).astype(str), n_boot=500)
    width = lambda m: m["per_label"]["diplomacy"]["f1_ci"][1] - m["per_label"]["diplomacy"]["f1_ci"][0]  # noqa: E731
    assert width(by_article) > 2 * width(by_sentence)


def test_format_interval():
    assert format_interval([0.6123, 0.7789]) == "[0.61, 0.78]" and format_interval(None) == ""
