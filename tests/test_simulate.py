"""The queue-vs-random simulation: curve structure, determinism, the test split, the report and the CLI."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from pipeline.errors import LabelError
from pipeline.labelling.simulate import STEP_UNIT, simulate
from pipeline.project import Project

SMALL = dict(seeds=(1, 2), start=20, step=10, rounds=3)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> dict:
    from conftest import make_labelled_project

    return make_labelled_project(tmp_path_factory.mktemp("sim"))


@pytest.fixture(scope="module")
def result(project) -> dict:
    return simulate(project["project"], **SMALL)


def test_curves_for_both_strategies(result):
    assert set(result["strategies"]) == {"queue", "random"}
    for st in result["strategies"].values():
        assert [p["labelled"] for p in st["points"]] == [20, 30, 40, 50]
        assert len(st["runs"]) == 2 and [r["seed"] for r in st["runs"]] == [1, 2]
        for run in st["runs"]:
            assert run["labelled"] == [20, 30, 40, 50] and len(run["macro_f1"]) == 4
        for k, p in enumerate(st["points"]):
            seeds = [r["macro_f1"][k] for r in st["runs"]]
            assert p["macro_f1_min"] == min(seeds) and p["macro_f1_max"] == max(seeds)
            assert p["macro_f1"] == pytest.approx(sum(seeds) / 2, abs=1e-4)
            assert set(p["f1"]) == {"diplomacy", "violence", "humanitarian", "blame"}
        assert len(st["labels_to_target_per_seed"]) == 2
    # both strategies start from the same random sentences, so their first points agree
    assert result["strategies"]["queue"]["runs"][0]["macro_f1"][0] == result["strategies"]["random"]["runs"][0]["macro_f1"][0]
    json.dumps(result, allow_nan=False)  # goes into metrics.json as it is


def test_without_heldout_set_a_fifth_of_the_articles_is_the_test(project, result):
    n_articles = pd.read_csv(project["corpus"] / "sentences.csv")["article_id"].nunique()
    assert "no held-out set" in result["test"]["source"]
    assert result["test"]["articles"] + result["pool"]["articles"] == n_articles
    assert 1 <= result["test"]["articles"] <= n_articles // 4 + 1


def test_target_is_a_share_of_the_full_pool_score(result):
    assert result["target"]["macro_f1"] == pytest.approx(0.95 * result["full"]["macro_f1"], abs=1e-4)
    for st in result["strategies"].values():
        reached = [p["labelled"] for p in st["points"] if p["macro_f1"] >= result["target"]["macro_f1"]]
        assert st["labels_to_target"] == (reached[0] if reached else None)


def test_deterministic_for_a_seed(project, result):
    # the result was made by one worker per core; one process in task order gives the same curves
    assert simulate(project["project"], **SMALL, jobs=1) == result


def test_heldout_articles_are_the_test(project, tmp_path):
    import shutil

    labels = tmp_path / "labels"
    shutil.copytree(project["labels"], labels)
    held = ["art00", "art01", "art02"]
    pd.DataFrame({"article_id": held, "outlet": "", "date": "", "added": "test"}).to_csv(labels / "heldout.csv", index=False)
    res = simulate(Project(corpus=project["corpus"], labels=labels), seeds=(1,), start=20, step=10, rounds=1)
    sents = pd.read_csv(project["corpus"] / "sentences.csv")
    assert "held-out" in res["test"]["source"] and res["test"]["articles"] == 3
    assert res["test"]["sentences"] == int(sents["article_id"].isin(held).sum())
    assert res["pool"]["sentences"] == len(sents) - res["test"]["sentences"]


def test_default_step_covers_the_pool(project):
    from pipeline.labelling.simulate import _covering_step

    assert _covering_step(3959, 100, 25) == 150  # 154 down to a multiple of 50: the last point is 3,850 of 3,959
    assert _covering_step(4000, 100, 25) == 150 and _covering_step(4100, 100, 25) == 150
    assert _covering_step(130, 20, 2) == 50 and _covering_step(60, 20, 3) == 13  # under 50: left as it is
    res = simulate(project["project"], seeds=(1,), start=20, rounds=2)
    step, pool = res["parameters"]["step"], res["pool"]["sentences"]
    assert step == _covering_step(pool, 20, 2)
    assert step < STEP_UNIT and res["strategies"]["random"]["points"][-1]["labelled"] == 20 + 2 * step >= pool - 1


def test_too_few_sentences_is_an_error(project):
    with pytest.raises(LabelError, match="--start"):
        simulate(project["project"], seeds=(1,), start=500, step=10, rounds=1)


def test_report_and_cli(project, result, tmp_path, capsys):
    from pipeline.cli import main
    from pipeline.evaluation.report_html import report_html
    from pipeline.evaluation.report_text import simulation_text, summary_markdown

    text = simulation_text(result)
    assert "queue" in text and "random" in text and result["verdict"] in text
    out = tmp_path / "sim.json"
    assert main(["simulate", "--seeds", "1", "--start", "20", "--step", "10", "--rounds", "2", "--out", str(out),
                 "--labels", str(project["labels"]), "--root", str(project["corpus"])]) == 0
    printed = capsys.readouterr().out
    assert "labels to reach" in printed and str(out) in printed
    saved = json.loads(out.read_text())
    assert saved["parameters"]["seeds"] == [13] and len(saved["strategies"]["queue"]["points"]) == 3

    from test_evaluate import synthetic_gold

    from pipeline.evaluation.crossval import evaluate_frame

    ev = evaluate_frame(synthetic_gold(), "word", 4.0, n_boot=50, jobs=1)
    html_without = report_html(ev)
    ev["simulation"] = result
    html = report_html(ev)
    assert "id='simulation'" in html and "id='simulation'" not in html_without
    assert html.count("<img") == html_without.count("<img") + 1
    assert "queue vs random order" in summary_markdown(ev)


# --------------------------------------------------------------------------
# A project where uncertainty obviously helps: 88% filler, a few clear positives
# --------------------------------------------------------------------------
_CUES = {
    "diplomacy": ["envoy", "negotiators", "delegation", "talks"],
    "violence": ["airstrikes", "shelling", "bombing", "clashes"],
    "humanitarian": ["convoy", "refugees", "medicine", "evacuation"],
    "blame": ["accused", "blamed", "condemned", "denounced"],
}
_FILLER = ["Markets in {p} were quiet on {d}", "The weather in {p} was mild on {d}", "Shops in {p} opened late on {d}",
           "Traffic in {p} was light on {d}"]
_PLACES = ["Aleppo", "Homs", "Madaya", "Idlib", "Daraa", "Raqqa", "Palmyra", "Latakia", "Hama", "Deir"]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]


def _sparse_project(root, n_articles: int = 20, per_article: int = 20, share: float = 0.12, seed: int = 5) -> dict:
    """Random order spends most labels on filler the model is already sure of; the queue goes for the positives."""
    import random

    from pipeline.corpus.store import build_corpus, load_sentences

    rng = random.Random(seed)
    raw = root / "raw"
    raw.mkdir(parents=True)
    truth = {}
    for a in range(n_articles):
        lines = [f"Bulletin {a} of the week", ""]
        for i in range(per_article):
            y = {lab: 0 for lab in _CUES}
            if rng.random() < share:
                lab = rng.choice(list(_CUES))
                c1, c2 = rng.sample(_CUES[lab], 2)
                text = f"Officials in {rng.choice(_PLACES)} spoke of {c1} and {c2} on {rng.choice(_DAYS)}, case {a}-{i}."
                y[lab] = 1
            else:
                text = rng.choice(_FILLER).format(p=rng.choice(_PLACES), d=rng.choice(_DAYS)) + f", case {a}-{i}."
            truth[text] = y
            lines += [text, ""]
        (raw / f"b{a:02d}.txt").write_text("\n".join(lines), encoding="utf-8")
    corpus = root / "corpus"
    build_corpus([raw], corpus)
    rows = [{"sentence_id": r.sentence_id, "article_id": r.article_id, "text": r.text,
             **truth.get(r.text, {lab: 0 for lab in _CUES}), "junk": 0, "annotator": "t", "timestamp": "2026-01-01T00:00:00Z"}
            for r in load_sentences(corpus).itertuples()]
    labels = root / "labels"
    labels.mkdir()
    pd.DataFrame(rows).sort_values("sentence_id").to_csv(labels / "t.csv", index=False)
    return {"labels": labels, "corpus": corpus, "project": Project(corpus=corpus, labels=labels)}


def test_queue_beats_random_when_positives_are_rare(tmp_path):
    p = _sparse_project(tmp_path)
    res = simulate(p["project"], seeds=(1, 2, 3), start=20, step=20, rounds=5)
    queue, random_ = res["strategies"]["queue"], res["strategies"]["random"]
    assert queue["area"] >= random_["area"] + 0.1
    assert all(q["macro_f1"] >= r["macro_f1"] for q, r in zip(queue["points"], random_["points"]))
    assert queue["labels_to_target"] is not None
    assert random_["labels_to_target"] is None or queue["labels_to_target"] < random_["labels_to_target"]
