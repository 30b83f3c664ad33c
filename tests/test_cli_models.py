"""The command line names models the same way everywhere, and compares them honestly."""
from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from conftest import make_labelled_project

from pipeline.cli import main
from pipeline.evaluation.compare import compare_models
from pipeline.labels.heldout import heldout_articles
from pipeline.model.registry import current_id
from pipeline.model.selection import train

SHIPPED = Path(__file__).parent.parent / "models"


@pytest.fixture(scope="module")
def two_models(tmp_path_factory) -> dict:
    """A project with a held-out set and two models: A trained first, then B made current (so 'previous' is A)."""
    p = make_labelled_project(tmp_path_factory.mktemp("two"), n_articles=20)
    assert main(["heldout", "init", "--labels", str(p["labels"]), "--root", str(p["corpus"])]) == 0
    a = train(p["project"], grid=[{"features": "word", "C": 4.0}])["model_id"]
    b = train(p["project"], grid=[{"features": "word+char", "C": 1.0}])["model_id"]
    assert a != b and current_id(p["models"]) == b
    return {**p, "a": a, "b": b}


def _copy(p: dict, tmp_path: Path) -> dict:
    """The project's models folder copied, for commands that change which model is current."""
    shutil.copytree(p["models"], tmp_path / "models")
    return {**p, "models": tmp_path / "models", "project": replace(p["project"], models=tmp_path / "models")}


def test_previous_and_current_are_accepted_wherever_a_model_is_named(two_models, tmp_path, capsys):
    p = two_models
    m = ["--models", str(p["models"])]
    common = ["--labels", str(p["labels"]), "--root", str(p["corpus"]), *m]
    assert main(["models", "show", "previous", "--json", *m]) == 0
    assert json.loads(capsys.readouterr().out)["model_id"] == p["a"]
    assert main(["models", "show", "current", "--json", *m]) == 0
    assert json.loads(capsys.readouterr().out)["model_id"] == p["b"]
    assert main(["explain", "Air strikes killed 30 people in Homs.", "--model", "previous", "--json", *common]) == 0
    assert json.loads(capsys.readouterr().out)["model_id"] == p["a"]
    out = tmp_path / "tags.csv"
    assert main(["tag", str(p["raw"]), "--out", str(out), "--model", "previous", *m]) == 0
    assert set(pd.read_csv(out)["model_id"]) == {p["a"]}
    held = tmp_path / "held.csv"
    gold = pd.read_csv(p["labels"] / "tester.csv", dtype={"sentence_id": str})
    gold[gold["article_id"].isin(heldout_articles(p["labels"]))].to_csv(held, index=False)
    assert main(["evaluate", "--model", "previous", "--data", str(held), "--report", str(tmp_path / "rep"), *common]) == 0
    assert json.loads((tmp_path / "rep" / "metrics.json").read_text())["model"]["model_id"] == p["a"]
    capsys.readouterr()
    assert main(["compare", "previous", "current", "--json", str(tmp_path / "c.json"), *common]) == 0
    saved = json.loads((tmp_path / "c.json").read_text())
    assert (saved["a"], saved["b"]) == (p["a"], p["b"])


def test_promote_previous_then_rollback_steps_back(two_models, tmp_path, capsys):
    p = _copy(two_models, tmp_path)
    m = ["--models", str(p["models"])]
    assert main(["models", "promote", "previous", *m]) == 0
    assert current_id(p["models"]) == p["a"] and f"{p['a']} is now current (was {p['b']})" in capsys.readouterr().out
    assert main(["models", "rollback", *m]) == 0
    assert current_id(p["models"]) == p["b"]
    assert main(["models", "rollback", *m]) == 0  # further back, not forward to the promotion again
    assert current_id(p["models"]) == p["a"]
    assert main(["models", "rollback", *m]) == 1  # A replaced nothing
    assert "does not say which model" in capsys.readouterr().err and current_id(p["models"]) == p["a"]


def test_shipped_models_by_alias_and_typo(tmp_path, monkeypatch, capsys):
    """On a copy of the shipped models folder, found through TALKS_ROOT."""
    shutil.copytree(SHIPPED, tmp_path / "models")
    (tmp_path / "labels").mkdir()
    monkeypatch.setenv("TALKS_ROOT", str(tmp_path))
    cur = (SHIPPED / "current").read_text().strip()
    assert main(["models", "show", "cues-5dcf29887"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "did you mean cues-5dcf298875?" in err
    assert main(["models", "show", "previous", "--json"]) == 0
    prev = json.loads(capsys.readouterr().out)["model_id"]
    assert prev != cur
    assert main(["models", "promote", "previous"]) == 0
    assert (tmp_path / "models" / "current").read_text().strip() == prev
    assert (SHIPPED / "current").read_text().strip() == cur  # the shipped folder is untouched


def test_compare_draws_no_verdict_on_training_sentences(two_models, tmp_path, capsys):
    p = two_models
    common = ["--labels", str(p["labels"]), "--root", str(p["corpus"]), "--models", str(p["models"])]
    gold = pd.read_csv(p["labels"] / "tester.csv", dtype={"sentence_id": str})
    held = gold["article_id"].isin(heldout_articles(p["labels"]))
    leaky = tmp_path / "leaky.csv"
    pd.concat([gold[held], gold[~held].head(25)]).to_csv(leaky, index=False)
    c = compare_models(p["a"], p["b"], p["project"], data=leaky)
    assert c["overlap"] == {p["a"]: 25, p["b"]: 25} and c["difference"]["verdict"].startswith("no verdict")
    assert main(["compare", p["a"], p["b"], "--data", str(leaky), *common]) == 0
    out = capsys.readouterr()
    warning = [line for line in out.err.splitlines() if line.startswith("warning:") and "training sentences" in line]
    assert len(warning) == 1 and "25 of" in warning[0]
    assert "real gain" not in out.out and "real loss" not in out.out and "no clear difference" not in out.out
    assert "no verdict" in out.out
    # only sentences neither model learnt: a verdict, no warning
    clean = tmp_path / "clean.csv"
    gold[held].to_csv(clean, index=False)
    c = compare_models(p["a"], p["b"], p["project"], data=clean)
    assert not any(c["overlap"].values()) and not c["difference"]["verdict"].startswith("no verdict")
    assert not any("training sentences" in w for w in c["warnings"])


def test_evaluate_compare_is_renamed(two_models, tmp_path, capsys):
    p = two_models
    rc = main(["evaluate", "--compare", p["a"], "--labels", str(p["labels"]), "--root", str(p["corpus"]),
               "--models", str(p["models"]), "--report", str(tmp_path / "rep")])
    err = capsys.readouterr().err
    assert rc == 1 and err.count("\n") == 1 and "talks compare A B" in err and "--compare-settings" in err
    assert not (tmp_path / "rep").exists()  # before any work
