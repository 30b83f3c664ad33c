"""Error-aware shares: the held-out error rates (pipeline.metrics.error_rates), the intervals of talks trends that
carry them, which held-out articles a model never trained on, and talks share-error against hand-labelled shares."""
from __future__ import annotations

import json

import numpy as np
import pytest
from test_trends import art, row, tags_table

from pipeline.analysis.share_error import HeldoutTags, _quapy, adopted_corrections, corrected_share, tagging_model
from pipeline.labels.heldout import untrained_heldout
from pipeline.analysis.trends import ALL, trends
from pipeline.cli import main
from pipeline.errors import LabelError
from pipeline.metrics import error_rates, with_error
from pipeline.project import Project
from pipeline.records import LABELS


def heldout(Y, Yhat, articles) -> HeldoutTags:
    Y, Yhat = np.asarray(Y), np.asarray(Yhat)
    return HeldoutTags(model_id="m-1", note="test", labels=LABELS, article_ids=np.asarray(articles), Y=Y, Yhat=Yhat,
                       P=Yhat.astype(float))


def test_error_rates_by_hand():
    # one label; article a: tagged 1,1 gold 1,0 ; article b: tagged 0,0,0 gold 1,0,0
    Y = [[1], [0], [1], [0], [0]]
    Yhat = [[1], [1], [0], [0], [0]]
    ppv, for_, ppv_b, for_b = error_rates(Y, Yhat, ["a", "a", "b", "b", "b"], n_boot=200)
    assert ppv[0] == 0.5 and for_[0] == pytest.approx(1 / 3)
    # a resample of b alone has no tagged sentence: its precision is unknown there, so the point value stands in
    assert ppv_b.shape == (200, 1) and set(np.round(ppv_b[:, 0], 6)) == {0.5}
    assert with_error(0.4, 0.5, 0.25) == pytest.approx(0.4 * 0.5 + 0.6 * 0.25)


def _feed(n: int = 12):
    return tags_table([art(f"a{i}", f"2016-02-0{1 + i % 5}", blame=2, n=4) for i in range(n)])  # blame share 0.5


def test_trends_intervals_carry_the_models_error():
    tags = _feed()
    plain = row(trends(tags, n_boot=300), ALL, ALL, "blame")
    assert plain.err_low is None and plain.err_high is None
    # A perfect model on the held-out set: the interval with its error is the article interval.
    ids = [f"h{i // 4}" for i in range(40)]
    Y = np.zeros((40, len(LABELS)), dtype=int)
    for k, positives in enumerate([1, 3, 2, 2, 1, 3, 2, 2, 1, 3]):  # half the sentences, unevenly over the articles
        Y[4 * k : 4 * k + positives] = 1
    perfect = row(trends(tags, n_boot=300, heldout=heldout(Y, Y, ids)), ALL, ALL, "blame")
    assert (perfect.err_low, perfect.err_high) == (perfect.ci_low, perfect.ci_high) == (0.5, 0.5)
    # A model that tags every sentence when half are positive: half its tags are wrong, none missed; the interval widens
    # down past the true share (0.5 * 0.5 = 0.25) and still holds the model's share, as no correction is adopted.
    sloppy = trends(tags, n_boot=300, heldout=heldout(Y, np.ones_like(Y), ids))
    r = row(sloppy, ALL, ALL, "blame")
    assert r.share == 0.5 and r.err_low < 0.25 and r.err_high >= 0.5 and (r.ci_low, r.ci_high) == (0.5, 0.5)
    assert sloppy["overall"]["blame"]["err"] == [r.err_low, r.err_high] and "held-out articles" in sloppy["error_note"]


def test_trends_finds_the_model_that_tagged_the_file(tmp_path):
    tags = _feed(2)
    assert tagging_model(Project(models=tmp_path), tags) == (None, f"model 'm-1' is not a folder of {tmp_path}")
    tags["model_id"] = ["a", "b"] * 4
    assert tagging_model(Project(models=tmp_path), tags)[1] == "the tags come from 2 models"
    tags["model_id"] = "cues-1+blame=high"
    assert "is not <model>+<label>=<threshold>" in tagging_model(Project(models=tmp_path), tags)[1]


def test_a_correction_only_for_the_labels_it_was_adopted_for(tmp_path, capsys):
    # held-out: 8 sentences in 4 articles; blame tagged on 4, of which 2 right; 2 of the 4 untagged are positive
    Y = np.zeros((8, len(LABELS)), dtype=int)
    Yhat = np.zeros_like(Y)
    j = LABELS.index("blame")
    Y[[0, 1, 4, 5], j] = 1
    Yhat[[0, 1, 2, 3], j] = 1
    ht = heldout(Y, Yhat, ["h0", "h0", "h1", "h1", "h2", "h2", "h3", "h3"])
    # precision 0.5, false omission rate 0.5: a share of 0.3 tagged implies 0.3 * 0.5 + 0.7 * 0.5
    assert corrected_share(ht, "blame", "rates", 3, 10, 3.0) == pytest.approx(0.5)
    # ACC: tpr 2/4 = fpr 2/4 cannot be inverted: the share stays as tagged rather than failing
    assert corrected_share(ht, "blame", "acc", 3, 10, 3.0) == pytest.approx(0.3)
    res = trends(_feed(), n_boot=100, heldout=ht, corrections={"blame": "rates"})
    t = res["table"]
    assert (t.loc[t.label == "blame", "corrected"] == 0.5).all()  # 0.5 tagged: 0.5 * 0.5 + 0.5 * 0.5
    assert t.loc[t.label != "blame", "corrected"].isna().all()
    with pytest.raises(Exception, match="needs the held-out tags"):
        trends(_feed(), n_boot=100, corrections={"blame": "rates"})
    # the adopted corrections come from a share-error file of the same model
    f = tmp_path / "share-error.json"
    f.write_text(json.dumps({"model_id": "m-1", "labels": {"blame": {"adopted": "acc"}, "violence": {"adopted": None}}}))
    assert adopted_corrections(f, "m-1") == {"blame": "acc"}
    with pytest.raises(Exception, match="measured for model m-1, but the tags are m-2's"):
        adopted_corrections(f, "m-2")
    f.write_text("[1, 2]")
    with pytest.raises(Exception, match="not a share-error file"):
        adopted_corrections(f, "m-1")
    src = tmp_path / "tags.csv"
    _feed().to_csv(src, index=False)
    assert main(["trends", str(src), "--share-error", str(f)]) == 1
    assert "--share-error: the corrections need the model that tagged the file" in capsys.readouterr().err


# --------------------------------------------------------------------------
# Which held-out articles a model never trained on (the shipped labels)
# --------------------------------------------------------------------------
def test_untrained_heldout_follows_the_card(project_corpus):
    project = Project(corpus=project_corpus["root"])
    df, note = untrained_heldout(project, {"model_id": "x", "heldout": {"articles": 26}})
    assert df["article_id"].nunique() == 26 and "hand-picked, stratified" in note
    some = sorted(set(df["article_id"]))[:3]
    df, note = untrained_heldout(project, {"model_id": "x", "heldout": {"articles": 26, "article_ids": some}})
    assert sorted(set(df["article_id"])) == some and note == "the held-out articles its card lists"
    with pytest.raises(LabelError, match="say which with --parts"):
        untrained_heldout(project, {"model_id": "x", "heldout": {"articles": 999}})
    df, _ = untrained_heldout(project, {"model_id": "x"}, parts=("random",))
    assert df["article_id"].nunique() == 12
    with pytest.raises(LabelError, match="unknown held-out part"):
        untrained_heldout(project, {"model_id": "x"}, parts=("newest",))


def test_quapy_adjusted_count_by_hand():
    y = np.array([1, 1, 1, 1, 0, 0, 0, 0])
    yhat = np.array([1, 1, 1, 0, 1, 0, 0, 0])  # tpr 0.75, fpr 0.25
    test = np.array([1] * 5 + [0] * 3)  # 0.625 tagged
    assert _quapy("acc", yhat, yhat.astype(float), y, test, test.astype(float)) == pytest.approx((0.625 - 0.25) / 0.5)


# --------------------------------------------------------------------------
# talks share-error on the shipped held-out set and current model
# --------------------------------------------------------------------------
def test_share_error_against_hand_labels(tmp_path, capsys, project_corpus):
    import pandas as pd

    from pipeline.corpus.store import load_articles
    from pipeline.labels.heldout import heldout_gold, heldout_methods

    out = tmp_path / "share-error.json"
    root = str(project_corpus["root"])
    assert main(["share-error", "--n-boot", "3", "--root", root, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "cues-5dcf298875 on 26 held-out articles" in printed
    res = json.loads(out.read_text())
    # the hand-labelled share of a month, counted here from the gold and the articles' dates
    project = Project(corpus=project_corpus["root"])
    gold = heldout_gold(project)
    gold = gold[gold["article_id"].map(heldout_methods(project.labels)).isin(["stratified", "hand-picked"]).to_numpy()]
    dates = {a.article_id: str(a.date or "")[:7] for a in load_articles(project.corpus)}
    feb = gold[gold["article_id"].map(dates) == "2016-02"]
    cell = next(c for c in res["cells"] if c["period"] == "2016-02" and c["label"] == "blame")
    assert cell["gold"] == round(feb["blame"].mean(), 4) and cell["sentences"] == len(feb)
    for lab, e in res["labels"].items():
        mine = [c for c in res["cells"] if c["label"] == lab]
        assert e["mae"]["raw"] == pytest.approx(np.mean([abs(c["raw"] - c["gold"]) for c in mine]), abs=1e-3)
        assert e["adopted"] is None or e["difference"][e["adopted"]][2] < 0  # only what beats raw in 97.5% of resamples
    assert main(["share-error", "--n-boot", "0", "--root", root]) == 1 and "--n-boot must be 1 or more" in capsys.readouterr().err
    assert main(["share-error", "--parts", "newest", "--root", root]) == 1 and "unknown held-out part" in capsys.readouterr().err
