"""tag: output columns and ids, pass-through columns, formats, summary, jobs, explain."""
from __future__ import annotations

import sys

import pandas as pd
import pytest

from pipeline.errors import PipelineError
from pipeline.records import LABELS
from pipeline.evaluation.explain import explain
from pipeline.tagging.tag import tag
from pipeline.model.loading import load_model

# The documented order (README, Tag): ids and text, labels, probabilities, model, provenance.
COLUMNS = ["article_id", "sentence_id", "position", "text", *LABELS, *(f"p_{l}" for l in LABELS), "blame_ties", "on_topic", "model_id",
           "title", "date", "outlet", "url", "source"]


def test_tag_articles_columns_and_ids(trained_project, tmp_path):
    out = tmp_path / "tags.csv"
    res = tag([trained_project["raw"]], str(out), models_dir=trained_project["models"])
    df = pd.read_csv(out)
    assert list(df.columns) == COLUMNS
    assert res["sentences"] == len(df) and res["errors"] == []
    corpus = pd.read_csv(trained_project["corpus"] / "sentences.csv")
    # the same ids as the corpus code gives, since tag ingests and splits with it
    assert sorted(df.sentence_id) == sorted(corpus.sentence_id)
    assert set(df.model_id) == {trained_project["card"]["model_id"]}
    # every row says where it comes from: the article's title (sentence 0 is the headline) and file
    heads = df[df.position == 0].set_index("article_id")
    assert (df.title == heads.loc[df.article_id, "text"].to_numpy()).all()
    assert (df.source == df.article_id.map(lambda a: str(trained_project["raw"] / f"{a}.txt"))).all()
    for lab in LABELS:
        assert set(df[lab]) <= {0, 1}
        assert df[f"p_{lab}"].between(0, 1).all()
    # labels follow probabilities and stored thresholds
    th = trained_project["card"]["thresholds"]
    for lab in LABELS:
        assert ((df[f"p_{lab}"] >= th[lab] - 1e-4) | (df[lab] == 0)).all()
    ok = df[df.text.str.contains("aid convoy", case=False)]
    assert ok.humanitarian.mean() > 0.5


def test_sentence_table_passes_columns_through(trained_project, tmp_path):
    src = tmp_path / "in.jsonl"
    pd.DataFrame({"text": ["Air strikes killed 40 people near Homs.", "The envoy met the delegation in Geneva for talks on a new constitution."], "source": ["x", "y"], "score": [1, 2]}).to_json(src, orient="records", lines=True)
    out = tmp_path / "out.parquet"
    tag([str(src)], str(out), models_dir=trained_project["models"])
    df = pd.read_parquet(out)
    assert df.source.tolist() == ["x", "y"] and df.score.tolist() == [1, 2]
    assert df.violence.tolist()[0] == 1 and df.diplomacy.tolist()[1] == 1
    assert df.sentence_id.is_unique


def test_summary_and_jsonl(trained_project, tmp_path):
    out, summ = tmp_path / "t.jsonl", tmp_path / "s.csv"
    res = tag([trained_project["raw"]], str(out), summary=str(summ), models_dir=trained_project["models"])
    s = pd.read_csv(summ, keep_default_na=False)
    assert len(s) == res["articles"] == 12
    assert list(s.columns) == ["article_id", "sentences", "relevance", "syria_share", "on_topic", *(f"share_{l}" for l in LABELS),
                               *(c for l in LABELS for c in (f"top_{l}", f"top_p_{l}")), "model_id", "title", "date", "outlet", "url",
                               "source"]  # the documented order (README, Tag)
    tags = pd.read_json(out, lines=True)
    assert s.sentences.sum() == len(tags)
    # one row per article with the provenance and model of its sentences
    first = tags.groupby("article_id").first()
    s = s.set_index("article_id")
    for c in ("title", "source", "model_id"):
        assert (s[c] == first.loc[s.index, c]).all(), c
    # relevance: the share of its sentences with any label (each template article has some "none" sentences)
    any_label = tags[list(LABELS)].max(axis=1).groupby(tags.article_id).mean()
    assert s.relevance.round(4).tolist() == any_label.loc[s.index].round(4).tolist()


def test_jobs_give_the_same_output(trained_project, tmp_path, monkeypatch):
    """A real pool of 2 (forked, with the parent's model) writes the bytes one process writes.

    Twelve files in the default chunks of 16 never start a pool, so the files
    go one per chunk: 12 chunks are enough work for two workers."""
    import multiprocessing

    from pipeline.tagging import tag as tag_module

    pools = []
    real_pool = tag_module.ProcessPoolExecutor

    def spy(*args, **kwargs):
        pools.append(kwargs)
        return real_pool(*args, **kwargs)

    monkeypatch.setattr(tag_module, "ProcessPoolExecutor", spy)
    a, b, c = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    one = tag([trained_project["raw"]], str(a), models_dir=trained_project["models"])
    per_file = tag([trained_project["raw"]], str(b), models_dir=trained_project["models"], chunk_files=1)
    assert one["processes"] == per_file["processes"] == 1 and pools == []
    pooled = tag([trained_project["raw"]], str(c), models_dir=trained_project["models"], jobs=2, chunk_files=1)
    assert pooled["processes"] == 2 and pooled["sentences"] == one["sentences"] > 100
    assert len(pools) == 1 and pools[0]["max_workers"] == 2
    # The start method is chosen, not Python's default (forkserver from 3.14): fork on Linux,
    # and the workers get the loaded model itself rather than its folder to load again.
    if "fork" in multiprocessing.get_all_start_methods() and not sys.platform == "darwin":
        assert pools[0]["mp_context"].get_start_method() == "fork"
        assert isinstance(pools[0]["initargs"][0], dict)
    assert a.read_bytes() == b.read_bytes() == c.read_bytes()
    with pytest.raises(PipelineError, match="at least one article file"):
        tag([trained_project["raw"]], str(tmp_path / "d.csv"), models_dir=trained_project["models"], chunk_files=0)


def test_pool_start_method_is_explicit(monkeypatch):
    """fork where the platform has it (not macOS), else the platform's default, whatever Python's default
    is (forkserver on Linux from Python 3.14 would load the model again in every worker)."""
    import multiprocessing

    from pipeline.tagging.tag import pool_context

    monkeypatch.setattr(multiprocessing, "get_context", lambda method=None: ("context", method))
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["forkserver", "fork", "spawn"])
    monkeypatch.setattr(sys, "platform", "linux")
    assert pool_context() == ("context", "fork")
    monkeypatch.setattr(sys, "platform", "darwin")  # fork exists, but is unsafe with its system libraries
    assert pool_context() == ("context", None)
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    assert pool_context() == ("context", None)


def test_bad_output_and_bad_table(trained_project, tmp_path):
    with pytest.raises(PipelineError, match="unknown output format"):
        tag([trained_project["raw"]], str(tmp_path / "x.xlsx"), models_dir=trained_project["models"])
    bad = tmp_path / "bad.csv"
    bad.write_text("sentence,other\nhello,1\n")
    res = tag([str(bad)], str(tmp_path / "o.csv"), models_dir=trained_project["models"])
    assert not res["written"] and "no 'text' column" in res["errors"][0]
    assert not (tmp_path / "o.csv").exists()  # nothing written when every input failed


def test_explain_is_exact_for_the_linear_model(trained_project):
    import numpy as np

    m = load_model(None, trained_project["models"])
    res = explain(m, "Air strikes killed 12 people near Homs.", top=100)
    vio = next(l for l in res["labels"] if l["label"] == "violence")
    logit = vio["intercept"] + sum(t["weight"] for t in vio["up"] + vio["down"])
    assert abs(1 / (1 + np.exp(-logit)) - vio["probability"]) < 1e-3
    assert vio["tagged"] and any("killed" in t["term"] for t in vio["up"])


def test_tagging_one_article_imports_neither_pytest_nor_all_of_scikit_learn(tmp_path):
    """Start-up: loading the model used to import every scikit-learn estimator and pytest (skops' default trust list)."""
    import json
    import subprocess

    from conftest import REPO

    article = sorted((REPO / "corpus" / "new").glob("*.md"))[0]
    script = ("import json, sys; from pipeline.cli import main; "
              f"code = main(['tag', {str(article)!r}, '--out', {str(tmp_path / 'tags.csv')!r}, '--models', {str(REPO / 'models')!r}]); "
              "print(json.dumps([code, sorted(sys.modules)]))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, check=True)
    code, modules = json.loads(out.stdout.splitlines()[-1])
    assert code == 0 and (tmp_path / "tags.csv").stat().st_size > 0
    loaded = set(modules)
    assert "skops.io" in loaded and "sklearn.linear_model" in loaded  # the model was loaded through skops
    for unneeded in ("pytest", "sklearn.utils._testing", "sklearn.utils.estimator_checks", "matplotlib"):
        assert unneeded not in loaded, unneeded


def test_skops_trusts_only_the_model_classes():
    """skops adds its default list to ours; the default is now the listed scikit-learn classes, not every estimator."""
    from pipeline.model.artefact import TRUSTED, _skops_io

    _skops_io()
    from skops.io._trusted_types import SKLEARN_ESTIMATOR_TYPE_NAMES

    assert SKLEARN_ESTIMATOR_TYPE_NAMES and set(SKLEARN_ESTIMATOR_TYPE_NAMES) <= set(TRUSTED)
