"""The active-learning queue: pool, scoring, diversity, random share, the CSV and the labeller reading it."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import make_labelled_project

from pipeline.errors import LabelError
from pipeline.labelling.queue import build_queue, select, uncertainty_scores
from pipeline.project import Project

LABELLED_ARTICLES = [f"art{a:02d}" for a in range(6)]
EXTRA = ("Extra report from Aleppo today\n\n"
         "Talks resumed. The envoy met the opposition delegation in Geneva on Monday.\n\n"
         "The envoy met the opposition delegation in Geneva on Monday!\n\nAid arrived.\n")


@pytest.fixture(scope="module")
def base_project(tmp_path_factory) -> dict:
    """12 template articles plus one with two short sentences; only art00-art05 labelled; a model trained on those."""
    from pipeline.corpus.store import build_corpus
    from pipeline.model.selection import train

    p = make_labelled_project(tmp_path_factory.mktemp("queue"))
    (p["raw"] / "extra.txt").write_text(EXTRA, encoding="utf-8")
    build_corpus([p["raw"]], p["corpus"])
    store = pd.read_csv(p["labels"] / "tester.csv", dtype=str, keep_default_na=False)
    store[store["article_id"].isin(LABELLED_ARTICLES)].to_csv(p["labels"] / "tester.csv", index=False)
    train(p["project"], grid=[{"features": "word", "C": 4.0}])
    return p


@pytest.fixture
def project(base_project, tmp_path) -> dict:
    """A private copy, so tests may add held-out sets and journals."""
    root = Path(shutil.copytree(base_project["corpus"].parent, tmp_path / "project"))
    return {"corpus": root / "corpus", "labels": root / "labels", "models": root / "models", "project": Project.at(root)}


def _queue(p: dict, **kw) -> dict:
    return build_queue(p["project"], **kw)


def _sentences(p: dict) -> pd.DataFrame:
    return pd.read_csv(p["corpus"] / "sentences.csv", dtype=str, keep_default_na=False)


def test_pool_leaves_out_labelled_heldout_and_short_sentences(project):
    pd.DataFrame({"article_id": ["art06"], "outlet": [""], "date": [""], "added": ["test"]}).to_csv(project["labels"] / "heldout.csv", index=False)
    res = _queue(project, size=1000)
    sents = _sentences(project)
    labelled = set(pd.read_csv(project["labels"] / "tester.csv", dtype=str)["sentence_id"])
    expected = sents[~sents["sentence_id"].isin(labelled) & (sents["article_id"] != "art06")
                     & (sents["text"].str.split().str.len() >= 4)]
    picked = {r["sentence_id"] for r in res["rows"]}
    assert picked == set(expected["sentence_id"])  # a queue as big as the pool takes all of it, and nothing else
    assert not {"Talks resumed.", "Aid arrived."} & {r["text"] for r in res["rows"]}
    c = res["counts"]
    assert c["pool"] == len(expected) and c["labelled"] == len(labelled)
    assert c["heldout"] == int((sents["article_id"] == "art06").sum()) and c["short"] == 2


def test_size_random_share_per_article_and_interleaving(project):
    res = _queue(project, size=20, random_share=0.25, per_article=3)
    rows = res["rows"]
    assert [r["rank"] for r in rows] == list(range(1, 21))
    assert [r["rank"] for r in rows if r["reason"] == "random"] == [4, 8, 12, 16, 20]  # spread out, not bunched at the end
    uncertain = [r for r in rows if r["reason"] == "uncertain"]
    assert len(uncertain) == 15 and res["counts"]["random"] == 5
    assert max(pd.Series([r["article_id"] for r in uncertain]).value_counts()) <= 3
    scores = [r["score"] for r in uncertain]
    assert scores == sorted(scores, reverse=True)
    table = pd.read_csv(res["path"], dtype={"sentence_id": str})
    assert list(table.columns) == ["rank", "sentence_id", "article_id", "reason", "score",
                                   "p_diplomacy", "p_violence", "p_humanitarian", "p_blame", "topic", "text"]
    assert table["sentence_id"].tolist() == [r["sentence_id"] for r in rows]
    assert Path(res["path"]) == project["labels"] / "queue.csv"


def test_same_seed_same_queue(project, tmp_path):
    a = _queue(project, size=20, out=tmp_path / "a.csv")
    b = _queue(project, size=20, out=tmp_path / "b.csv")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    c = _queue(project, size=20, seed=99, out=tmp_path / "c.csv")
    random_ids = lambda res: [r["sentence_id"] for r in res["rows"] if r["reason"] == "random"]  # noqa: E731
    assert random_ids(a) == random_ids(b) != random_ids(c)


def test_labeller_reads_the_queue_in_order(project):
    from pipeline.labelling.terminal import build_queue as labeller_queue

    res = _queue(project, size=12)
    items = labeller_queue("ana", project["project"], queue=res["path"])
    assert [it.sentence_id for it in items] == [r["sentence_id"] for r in res["rows"]]
    assert items[0].text == res["rows"][0]["text"]


def test_pending_journal_decision_leaves_the_pool(project):
    from pipeline.labels.journal import append_journal, save_record

    first = _queue(project, size=5)
    top = first["rows"][0]
    append_journal(project["labels"], "ana", save_record("ana", top["sentence_id"], top["article_id"], top["text"], {"violence": 1}))
    again = _queue(project, size=5)
    assert top["sentence_id"] not in {r["sentence_id"] for r in again["rows"]}
    assert again["counts"]["pool"] == first["counts"]["pool"] - 1
    assert again["counts"]["labelled"] == first["counts"]["labelled"] + 1


def test_refuses_to_write_a_store_name_into_labels(project):
    with pytest.raises(LabelError, match="label store"):
        _queue(project, out=project["labels"] / "next.csv")


def test_nothing_to_queue_is_an_error(labelled_project):
    with pytest.raises(LabelError, match="nothing to queue"):
        build_queue(labelled_project["project"])


def test_cli_queue(project, capsys):
    from pipeline.cli import main

    rc = main(["queue", "--size", "10", "--labels", str(project["labels"]), "--root", str(project["corpus"]),
               "--models", str(project["models"])])
    out = capsys.readouterr().out
    assert rc == 0
    assert "8 the model is least sure of, 2 drawn at random" in out
    assert f"talks label --annotator NAME --queue {project['labels'] / 'queue.csv'}" in out


# --------------------------------------------------------------------------
# The scoring and selection functions on hand-made inputs
# --------------------------------------------------------------------------
def test_uncertainty_score_weights_rare_labels():
    thresholds = {"diplomacy": 0.4, "violence": 0.4, "humanitarian": 0.4, "blame": 0.4}
    P = np.array([[0.4, 0.0, 1.0, 0.7],    # on the diplomacy threshold: 1; blame 0.5 x 1.5 = 0.75
                  [0.0, 0.0, 0.6, 0.4],    # on the blame threshold: 1 x 1.5 (humanitarian 0.6 passes the floor)
                  [0.0, 1.0, 1.0, 0.0]])   # sure of everything: diplomacy and blame 1 - 0.4/0.6
    assert uncertainty_scores(P, thresholds) == pytest.approx([1.0, 1.5, 0.5])


def test_relevance_floor_keeps_off_topic_text_out_of_the_uncertain_share():
    # A low blame threshold, as tuned on the real gold: off-topic text sits right on it
    thresholds = {"diplomacy": 0.5, "violence": 0.5, "humanitarian": 0.5, "blame": 0.3}
    P = np.array([[0.10, 0.10, 0.10, 0.30],   # off topic, on the blame threshold: 1.5 without the floor, 0 under it
                  [0.95, 0.00, 0.00, 0.30],   # sure of diplomacy, torn on blame: 1 x 1.5
                  [0.55, 0.00, 0.00, 0.00],   # torn on diplomacy: 1 - 0.05/0.5 = 0.9 (blame (1 - 0.3/0.7) x 1.5 = 0.857)
                  [1.00, 1.00, 0.00, 0.00],   # sure of all but blame at 0: 0.857
                  [0.49, 0.49, 0.49, 0.30]])  # torn everywhere, but no label reaches 0.5: 0
    assert uncertainty_scores(P, thresholds) == pytest.approx([0.0, 1.5, 0.9, 1.5 * (1 - 0.3 / 0.7), 0.0])
    texts = ["Shares of the carmaker rose in Tokyo trading today.", TEXTS[0], TEXTS[3], TEXTS[4], "The senator spoke at a rally."]
    picks = select(texts, [str(i) for i in range(5)], uncertainty_scores(P, thresholds), size=5, random_share=0, per_article=1,
                   rng=np.random.default_rng(0))
    # three candidates by score; the off-topic two only as the random fill, at evenly spread ranks 3 and 5
    assert [p for p in picks if p[1] == "uncertain"] == [(1, "uncertain"), (2, "uncertain"), (3, "uncertain")]
    assert [why for _, why in picks] == ["uncertain", "uncertain", "random", "uncertain", "random"]
    assert {i for i, why in picks if why == "random"} == {0, 4}


TEXTS = [
    "The envoy met the opposition delegation in Geneva on Monday.",
    "The envoy met the opposition delegation in Geneva on Monday!",   # near duplicate of 0
    "THE ENVOY MET THE OPPOSITION DELEGATION IN GENEVA ON MONDAY.",   # same normalised text as 0
    "Air strikes killed twelve people near Aleppo.",
    "An aid convoy reached the besieged town of Madaya.",
    "The ministry denied the accusations over the attack.",
    "Markets in Damascus were quiet on Tuesday.",
    "Refugees crossed the border into Turkey overnight.",
]


def test_select_skips_duplicates_and_near_duplicates():
    scores = np.array([0.9, 0.95, 0.99, 0.5, 0.4, 0.3, 0.2, 0.1])
    picks = select(TEXTS, [str(i) for i in range(8)], scores, size=3, random_share=0, per_article=3, rng=np.random.default_rng(0))
    assert picks == [(2, "uncertain"), (3, "uncertain"), (4, "uncertain")]


def test_select_caps_articles_and_fills_the_gap_at_random():
    scores = np.linspace(1, 0.1, 8)
    arts = ["a"] * 5 + ["b"] * 3
    picks = select(TEXTS[3:] + ["One more distinct sentence here.", "And another one about talks.", "A third about the siege."],
                   arts, scores, size=4, random_share=0, per_article=2, rng=np.random.default_rng(0))
    assert [i for i, _ in picks] == [0, 1, 5, 6]
    one_article = select(TEXTS[3:], ["a"] * 5, np.linspace(1, 0.1, 5), size=3, random_share=0, per_article=1, rng=np.random.default_rng(0))
    assert [why for _, why in one_article].count("uncertain") == 1 and len(one_article) == 3
    assert len({i for i, _ in one_article}) == 3


def test_select_bad_parameters():
    with pytest.raises(LabelError, match="random-share"):
        select(TEXTS, ["a"] * 8, np.zeros(8), size=3, random_share=1.5, per_article=1, rng=np.random.default_rng(0))


OFF_TOPIC = ("Markets report number {i} from London\n\n"
             "The central bank accused the treasury of lying about the budget for district {i}.\n\n"
             "Traders said shares fell sharply in the capital on Tuesday after the report {i}.\n\n"
             "Officials blamed the regulator and condemned the decision over the port {i}.\n\n"
             "Thousands of commuters fled the flooded station and need shelter tonight {i}.\n")


@pytest.fixture
def mixed_project(project) -> dict:
    """The copy plus six articles that never name Syria (the model has seen none of them)."""
    from pipeline.corpus.store import build_corpus

    raw = project["corpus"].parent / "raw"
    for i in range(6):
        (raw / f"markets{i}.txt").write_text(OFF_TOPIC.format(i=i), encoding="utf-8")
    build_corpus([raw], project["corpus"])
    return project


def test_the_topic_weight_keeps_uncertain_picks_on_the_war_and_reports_the_makeup(mixed_project):
    sents = _sentences(mixed_project)
    off = set(sents.loc[sents["article_id"].str.startswith("markets"), "sentence_id"])
    res = _queue(mixed_project, size=40, random_share=0.5, topic_weight=0.0, per_article=10, seed=3)
    uncertain = [r for r in res["rows"] if r["reason"] == "uncertain"]
    assert uncertain and not {r["sentence_id"] for r in uncertain} & off  # weight 0: only the random share reaches them
    assert {r["sentence_id"] for r in res["rows"] if r["reason"] == "random"} & off  # the random share stays uniform
    mk = res["makeup"]
    assert mk["uncertain"]["syria_coverage"] == mk["uncertain"]["sentences"] == len(uncertain)
    assert mk["all"]["sentences"] == 40 and mk["random"]["syria_coverage"] < mk["random"]["sentences"]
    assert all(r["topic"] == "other" for r in res["rows"] if r["sentence_id"] in off)
    even = _queue(mixed_project, size=40, random_share=0.0, topic_weight=1.0, per_article=10, seed=3)
    assert {r["sentence_id"] for r in even["rows"]} & off  # weight 1: no preference, the model's doubt decides
    with pytest.raises(LabelError, match="topic-weight"):
        _queue(mixed_project, topic_weight=1.5)


def test_a_positive_share_takes_the_likeliest_rare_label_sentences(project):
    res = _queue(project, size=20, random_share=0.2, positive_share=0.5, positive_labels=("humanitarian",), per_article=10)
    likely = [r for r in res["rows"] if r["reason"] == "likely"]
    assert len(likely) == 10 and res["counts"]["likely"] == 10 and res["makeup"]["likely"]["sentences"] == 10
    others = [r for r in res["rows"] if r["reason"] != "likely"]
    # every likely pick is at least as probable a humanitarian sentence as anything the other shares took
    assert min(r["p_humanitarian"] for r in likely) >= np.median([r["p_humanitarian"] for r in others])
    assert [i for i, r in enumerate(res["rows"]) if r["reason"] == "likely"] != list(range(10))  # spread, not a block
    with pytest.raises(LabelError, match="positive-share"):
        _queue(project, random_share=0.5, positive_share=0.6)
    with pytest.raises(LabelError, match="positive-labels"):
        _queue(project, positive_share=0.5, positive_labels=("joy",))
