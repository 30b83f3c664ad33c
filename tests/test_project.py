"""Working from anywhere: default paths resolve against the project root (cwd upward, or $TALKS_ROOT)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from pipeline.cli import main
from pipeline.errors import PipelineError
from pipeline.project import ENV, find_root

REPO = Path(__file__).parent.parent


def test_find_root(tmp_path):
    proj = tmp_path / "proj"
    (proj / "a" / "b").mkdir(parents=True)
    (proj / "pyproject.toml").write_text('[build-system]\nrequires = []\n\n[project]\nname = "talks"\nversion = "1"\n')
    assert find_root(proj / "a" / "b", {}).path == proj.resolve()
    assert "found above" in find_root(proj / "a" / "b", {}).how and find_root(proj, {}).how == "the current folder"
    # another project's pyproject.toml is not ours
    other = tmp_path / "other"
    other.mkdir()
    (other / "pyproject.toml").write_text('[project]\nname = "talks-helper"\n')
    assert find_root(other, {}).path == other.resolve() and "no talks project found" in find_root(other, {}).how
    # a labels/ + models/ pair is a project too (a data folder without the code)
    (other / "labels").mkdir()
    (other / "models").mkdir()
    assert find_root(other, {}).how == "the current folder"
    # the environment wins over the search
    assert find_root(proj / "a", {ENV: str(other)}).path == other.resolve()
    assert find_root(proj / "a", {ENV: str(other)}).how == f"from {ENV}"
    with pytest.raises(PipelineError, match=f"{ENV} names no folder"):
        find_root(proj, {ENV: str(tmp_path / "nowhere")})


def test_commands_run_from_a_subfolder(trained_project, tmp_path, monkeypatch, capsys):
    root = trained_project["labels"].parent  # holds labels/, models/, corpus/, raw/
    monkeypatch.delenv(ENV, raising=False)
    monkeypatch.chdir(trained_project["raw"])
    assert main(["corpus", "stats", "--json"]) == 0  # --root defaults to <project>/corpus
    assert '"articles": 12' in capsys.readouterr().out
    assert main(["tag", "art00.txt", "--out", "tags.csv"]) == 0  # --models defaults to <project>/models
    assert set(pd.read_csv("tags.csv").model_id) == {trained_project["card"]["model_id"]}
    assert main(["labels", "check"]) == 0  # --labels and --root
    # a path the user types keeps its usual meaning: relative to the current folder
    assert main(["corpus", "stats", "--root", "corpus"]) == 1
    err = capsys.readouterr().err
    assert "corpus not ingested yet" in err and "project root" not in err
    # something missing under a default path: the message says which root was used and how it was found
    (root / "corpus" / "articles.jsonl").rename(root / "articles.jsonl.bak")
    assert main(["corpus", "stats"]) == 1
    assert f"(project root: {root.resolve()} (found above {Path.cwd()}))" in capsys.readouterr().err


def test_commands_run_from_anywhere_with_talks_root(trained_project, tmp_path, monkeypatch):
    root = trained_project["labels"].parent
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    store = root / "labels" / "tester.csv"
    pd.read_csv(store).iloc[40:].to_csv(store, index=False)  # leave some sentences to queue
    env = {**os.environ, ENV: str(root)}
    run = subprocess.run([sys.executable, "-m", "pipeline", "queue", "--size", "5"], cwd=elsewhere, env=env,
                         capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr
    assert (root / "labels" / "queue.csv").exists() and not (elsewhere / "labels").exists()
    # the next step it prints needs no --labels or --root: they were the defaults
    assert "next: talks label --annotator NAME --queue " in run.stdout and "--labels" not in run.stdout
    run = subprocess.run([sys.executable, "-m", "pipeline", "corpus", "stats"], cwd=elsewhere, env={**env, ENV: str(elsewhere)},
                         capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 1 and f"(project root: {elsewhere.resolve()} (from {ENV}))" in run.stderr


def test_the_repo_is_found_from_its_subfolders():
    assert find_root(REPO / "pipeline" / "data", {}).path == REPO.resolve()


def test_project_folders_default_under_the_root_and_each_can_be_moved(tmp_path):
    from pipeline.project import Project

    p = Project.at(tmp_path)
    assert (p.corpus, p.labels, p.models) == (tmp_path / "corpus", tmp_path / "labels", tmp_path / "models")
    moved = Project.at(tmp_path, labels=tmp_path / "mine")
    assert moved.labels == tmp_path / "mine" and moved.corpus == tmp_path / "corpus"
    (tmp_path / "proj" / "labels").mkdir(parents=True)
    (tmp_path / "proj" / "models").mkdir()
    (tmp_path / "proj" / "deep").mkdir()
    assert Project.find(tmp_path / "proj" / "deep", {}).models == (tmp_path / "proj" / "models").resolve()
    assert Project.find(tmp_path, {ENV: str(tmp_path / "proj")}).labels == (tmp_path / "proj" / "labels").resolve()
