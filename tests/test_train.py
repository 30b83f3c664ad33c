"""train: grouped folds, thresholds, the model folder and its card, determinism, checked loading."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pipeline.errors import ModelError
from pipeline.records import LABELS
from pipeline.model.selection import apply_thresholds, grouped_folds, tune_thresholds
from pipeline.model.loading import load_model
from pipeline.store import sha256_file


def test_grouped_folds_never_split_an_article():
    groups = np.repeat(np.arange(10), 5)
    folds = grouped_folds(groups)
    assert len(folds) == 5
    for tr, te in folds:
        assert not set(groups[tr]) & set(groups[te])
    assert [list(te) for _, te in folds] == [list(te) for _, te in grouped_folds(groups)]


def test_tune_thresholds_maximises_f1_and_prefers_higher_cut():
    Y = np.array([[1], [1], [0], [0]])
    P = np.array([[0.9], [0.6], [0.4], [0.1]])
    th = tune_thresholds(Y, P, labels=("x",))
    assert 0.4 < th["x"] <= 0.6
    assert apply_thresholds(P, th, labels=("x",)).ravel().tolist() == [1, 1, 0, 0]


def test_thresholds_are_applied(trained_project):
    m = load_model(None, trained_project["models"])
    P = np.array([[m["thresholds"][lab] for lab in LABELS], [m["thresholds"][lab] - 1e-6 for lab in LABELS]])
    assert apply_thresholds(P, m["thresholds"]).tolist() == [[1, 1, 1, 1], [0, 0, 0, 0]]


def test_model_folder_and_card(trained_project):
    models = trained_project["models"]
    card = trained_project["card"]
    folder = models / card["model_id"]
    assert (models / "current").read_text().strip() == card["model_id"]
    assert {p.name for p in folder.iterdir()} == {"model.skops", "card.json", "card.md"}  # no pickle
    on_disk = json.loads((folder / "card.json").read_text())
    assert on_disk["sha256"] == sha256_file(folder / "model.skops")
    assert on_disk["format"] == "skops" and on_disk["file"] == "model.skops" and on_disk["schema"] == 2
    for key in ("labels", "thresholds", "parameters", "versions", "cv_metrics", "training"):
        assert key in on_disk
    assert on_disk["training"]["positives"]["diplomacy"] > 0
    assert len(on_disk["training"]["labels_sha256"]) == 64
    assert "scikit-learn" in on_disk["versions"]
    assert on_disk["cv_metrics"]["macro"]["f1"] > 0.8  # the generated labels are easy


def test_training_is_deterministic_across_processes(labelled_project, tmp_path):
    """Same labels, same bytes, even with a different hash seed per process."""
    code = (
        "import sys; from pathlib import Path; from pipeline.model.selection import train; from pipeline.project import Project; "
        "p = Project(labels=Path(sys.argv[1]), corpus=Path(sys.argv[2]), models=Path(sys.argv[3])); "
        "print(train(p, grid=[{'features': 'word', 'C': 4.0}])['model_id'])"
    )
    shas = []
    for i, seed in enumerate(("1", "2")):
        out = tmp_path / f"m{i}"
        env = {"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"}
        mid = subprocess.run([sys.executable, "-c", code, str(labelled_project["labels"]), str(labelled_project["corpus"]), str(out)],
                             check=True, capture_output=True, text=True, env=env, cwd=Path(__file__).parent.parent).stdout.strip()
        shas.append((mid, sha256_file(out / mid / "model.skops")))
    assert shas[0] == shas[1]


def test_load_checks_hash_and_schema(trained_project):
    folder = trained_project["models"] / trained_project["card"]["model_id"]
    with open(folder / "model.skops", "ab") as f:
        f.write(b"tampered")
    with pytest.raises(ModelError, match="sha256"):
        load_model(None, trained_project["models"])


def test_load_rejects_other_schema(trained_project):
    folder = trained_project["models"] / trained_project["card"]["model_id"]
    card = json.loads((folder / "card.json").read_text())
    card["schema"] = 99
    (folder / "card.json").write_text(json.dumps(card))
    with pytest.raises(ModelError, match="schema"):
        load_model(None, trained_project["models"])


def test_missing_model_says_what_to_do(tmp_path):
    with pytest.raises(ModelError, match="talks train"):
        load_model(None, tmp_path)
    with pytest.raises(ModelError, match="no model folder"):
        load_model("nope", tmp_path)


def test_load_warns_on_other_sklearn_version(trained_project):
    folder = trained_project["models"] / trained_project["card"]["model_id"]
    assert load_model(None, trained_project["models"])["warnings"] == []
    card = json.loads((folder / "card.json").read_text())
    card["versions"]["scikit-learn"] = "0.1.0"
    (folder / "card.json").write_text(json.dumps(card))
    (w,) = load_model(None, trained_project["models"])["warnings"]
    assert "0.1.0" in w and "talks train" in w
