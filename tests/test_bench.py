"""benchmarks/bench.py end to end on tiny inputs: every run, the JSON's keys, positive rates, the README table.

The end-to-end run costs about a minute, so its tests carry the ``bench``
marker: deselected by the default run (pyproject's addopts), run by
``make test-bench`` (which CI calls).  The checks that the committed
bench.json is what the README shows, and the pure helpers, run by default.
"""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from conftest import doc_block

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))

import bench  # noqa: E402
import bench_table  # noqa: E402

HAS_PEER = all(importlib.util.find_spec(m) for m in ("nupunkt", "fasttext"))
HAS_PROFILER = importlib.util.find_spec("pyinstrument") is not None
RUNS = ("ingest", "tag_jobs1", "tag_all_cores", "small_jobs1", "small_all_cores", "plain")
RATES = ("seconds", "cpu_seconds", "sentences", "sentences_per_s", "mb_per_s", "peak_rss_mib", "peak_total_rss_mib")


@pytest.fixture(scope="module")
def result(tmp_path_factory) -> dict:
    """One benchmark of the three test articles (N=1) against a small labelled project with a held-out set."""
    from conftest import make_labelled_project

    from pipeline.corpus.store import load_articles
    from pipeline.labels.heldout import write_heldout
    from pipeline.model.selection import train

    root = tmp_path_factory.mktemp("bench-project")
    project = make_labelled_project(root)
    articles = load_articles(project["corpus"])
    write_heldout(project["labels"], [(a, "hand-picked", "test") for a in sorted(x.article_id for x in articles)[:3]], articles)
    train(project["project"], grid=[{"features": "word", "C": 4.0}])
    return bench.run(root / "bench", feed=REPO / "tests" / "data" / "articles", raw=project["raw"], labels=project["labels"],
                     models=project["models"], copies=1, small=2, profile_files=2, jobs=2, one_file_chars=(2_000,), train_sizes=(50,),
                     budget_s=600, peer=HAS_PEER, profile=HAS_PROFILER, log=lambda s: None)


@pytest.mark.bench
def test_project_and_plain_runs(result):
    assert result["input"]["files"] == 3 and result["input"]["small_files"] == 2
    for name in RUNS:
        run = result["runs"][name]
        for key in RATES:
            assert run[key] > 0, (name, key)
    assert [r["chars"] for r in result["runs"]["one_file"]] == [2_000]
    assert {"vs_plain", "jobs_small", "jobs_full", "memory_files", "memory_file_size", "one_article", "vs_baseline",
            "junk_removed", "text_kept"} <= set(result["checks"])
    assert all(isinstance(c["met"], bool) and (c.get("ratio") or c.get("seconds") or c.get("share")) > 0
               for c in result["checks"].values())
    one = result["runs"]["one_article"]
    assert one["files"] == 1 and one["repeats"] == 3 and sorted(one["all_seconds"])[1] == one["seconds"]
    # the baseline (the code before issue 21) tagged the same files
    assert result["runs"]["baseline_all_cores"]["files"] == result["runs"]["tag_all_cores"]["files"]
    assert result["baseline"]["commit"] == bench.BASELINE and "profile" in result["baseline"] or not HAS_PROFILER
    assert 0.9 < result["junk"]["junk_removed_rate"] <= 1 and result["junk"]["units"] > 1000
    for key in ("date", "cores", "python", "versions", "git_commit", "load_average_start", "load_average_end"):
        assert key in result["machine"]
    assert 0 <= result["quality"]["project"]["macro_f1"] <= 1
    fits = result["training"]["fits"]
    assert [f["sentences"] for f in fits] == [50] and fits[0]["fit_seconds"] > 0
    json.dumps(result)  # all of it goes to bench.json


@pytest.mark.bench
def test_fresh_results_render_as_the_readme_shows_them(result, tmp_path):
    """What bench.py writes has every key bench_table.py reads, through a JSON round trip,
    and the table shows the JSON's own figures."""
    res = json.loads(json.dumps(result))
    text = bench_table.render(res)
    for name in ("tag_jobs1", "tag_all_cores", "plain"):
        run = res["runs"][name]
        assert f"| {run['sentences']:,} | {run['sentences_per_s']:,} |" in text, name
        assert f"{run['peak_rss_mib']:,} MiB" in text, name


@pytest.mark.bench
@pytest.mark.skipif(not HAS_PEER, reason="the peer needs nupunkt and fasttext-numpy2 (installed by `make test-bench` and `make bench`)")
def test_peer_run_and_quality(result):
    for key in RATES:
        assert result["runs"]["peer"][key] > 0
    assert result["checks"]["vs_peer"]["ratio"] > 0
    assert 0 <= result["quality"]["peer"]["macro_f1"] <= 1 and result["quality"]["peer_train_sentences"] > 0


@pytest.mark.bench
@pytest.mark.skipif(not HAS_PROFILER, reason="the profile needs pyinstrument (installed by `make test-bench` and `make bench`)")
def test_profile_shares(result):
    shares, work = result["profile"]["shares"], result["profile"]["work_shares"]
    assert set(shares) == {*bench.STAGES, bench.TIES, bench.START_UP, bench.OTHER} and set(work) == {*bench.STAGES, bench.TIES, bench.OTHER}
    assert sum(shares.values()) == pytest.approx(1, abs=0.01) and sum(work.values()) == pytest.approx(1, abs=0.01)
    assert shares[bench.START_UP] > 0.5  # three tiny articles: nearly all of it is imports and the model load
    assert work["reading/cleaning"] > 0


def test_training_stops_at_the_budget(tmp_path):
    import pandas as pd

    gold = pd.DataFrame({"text": ["Talks resumed in Geneva.", "Shelling killed ten people."] * 10,
                         "diplomacy": [1, 0] * 10, "violence": [0, 1] * 10, "humanitarian": 0, "blame": 0})
    fits = bench.training_runs(gold, "word", 1.0, (100,), deadline=0, tmp=tmp_path)
    assert fits == [{"sentences": 100, "fit_seconds": None, "note": "not run: the time budget was spent"}]


def test_sized_replicates_and_samples_reproducibly():
    import numpy as np

    texts, Y = [f"s{i}" for i in range(10)], np.arange(10)[:, None]
    big, Ybig = bench.sized(texts, Y, 25)
    assert len(big) == 25 and Ybig.shape == (25, 1) and sorted(big[:20]) == sorted(texts * 2)
    again, Yagain = bench.sized(texts, Y, 25)
    assert again == big and (Yagain == Ybig).all()
    assert len(set(bench.sized(texts, Y, 4)[0])) == 4


@pytest.mark.bench
def test_table_renders_into_the_readme_block(result, tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# x\n\n<!-- figures:bench -->\nSTALE TABLE\n<!-- /figures -->\n\nafter\n", encoding="utf-8")
    bench_table.write(result, readme)
    text = readme.read_text(encoding="utf-8")
    assert "STALE TABLE" not in text and text.endswith("<!-- /figures -->\n\nafter\n")
    assert "`talks tag --jobs 1`" in text and "plain script" in text


def test_dask_estimate_is_start_up_plus_articles_at_the_measured_rate():
    run = {"files": 1_000, "tag_seconds": 10.0, "jobs": 2, "cluster_seconds": 36.0}  # 50 articles/s per worker
    e = bench.dask_estimate(run, articles=1_000_000, workers=(1, 10))
    assert e["articles_per_worker_s"] == 50.0
    assert e["hours"] == {"1": round((36 + 20_000) / 3600, 2), "10": round((36 + 2_000) / 3600, 2)}


@pytest.mark.bench
@pytest.mark.skipif(importlib.util.find_spec("distributed") is None, reason="needs the dask extra (installed by `make test-bench`, or make dask)")
def test_dask_run(result):
    d = result["runs"]["dask"]
    assert d["sentences"] == result["runs"]["tag_jobs1"]["sentences"] and d["jobs"] == 2
    assert d["cluster_seconds"] > 0 and d["tag_seconds"] > 0
    assert "Dask: the cluster started" in bench_table.render(result)


def test_speed_block_is_the_committed_bench_json():
    """The speed figures (docs/speed.md) are benchmarks/results/bench.json rendered, not edited by hand or stale:
    `make bench` rewrites both; editing one alone fails here (re-render: python benchmarks/bench_table.py)."""
    res = json.loads(bench_table.RESULTS.read_text(encoding="utf-8"))
    before = json.loads(bench_table.BEFORE.read_text(encoding="utf-8")) if bench_table.BEFORE.exists() else None
    block = doc_block("bench")
    assert block == bench_table.render(res, before)
    run = res["runs"]["tag_jobs1"]
    assert f"| {run['sentences_per_s']:,} |" in block  # the figure a reader quotes is the JSON's


def test_profile_stages_by_the_frames_on_the_stack():
    from types import SimpleNamespace

    def stack(*frames):  # outermost first; returns the leaf
        parent = None
        for path, function in frames:
            parent = SimpleNamespace(file_path=path, function=function, parent=parent)
        return parent

    tag = ("/x/pipeline/tagging/tag.py", "tag_frame")
    tfidf = ("/x/sklearn/feature_extraction/text.py", "transform")
    assert bench.stage_of(stack(tag, ("/x/pipeline/model/selection.py", "predict_proba"), tfidf)) == "vectorising"
    assert bench.stage_of(stack(tag, ("/x/pipeline/model/ties.py", "extract"), tfidf)) == bench.TIES
    assert bench.stage_of(stack(("/x/pipeline/model/loading.py", "load_model"), ("/x/pipeline/model/ties.py", "x"))) == bench.START_UP
    assert bench.stage_of(stack(tag, ("/x/pipeline/corpus/readers.py", "_html_paragraphs"), ("/x/resiliparse/extract.py", "f"))) == "reading/cleaning"
    assert bench.stage_of(stack(tag, ("/x/json/decoder.py", "decode"))) == bench.OTHER
