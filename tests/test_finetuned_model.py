"""A fine-tuned encoder at tagging time: only the embeddings extra (onnxruntime + tokenizers), no PyTorch.

The committed fine-tuned model (``models/ft-*``, made by
``scripts/finetune.py``) must load, tag, explain by its nearest labelled
sentences, and keep the held-out score its card records.  Those tests skip
without the embeddings extra; the checks on what a model file may name as
its encoder run everywhere.
"""
from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest
from conftest import REPO, make_labelled_project

from pipeline.model import artefact
from pipeline.model.embed import SentenceEncoder
from pipeline.errors import ModelError
from pipeline.project import Project
from pipeline.records import LABELS

MODELS, LABELS_DIR = REPO / "models", REPO / "labels"
FINETUNED = sorted(f for f in MODELS.glob("ft-*") if (f / "card.json").is_file())
RUNTIME = all(importlib.util.find_spec(m) is not None for m in ("onnxruntime", "tokenizers"))
needs_runtime = pytest.mark.skipif(not RUNTIME, reason="the embeddings extra is not installed: pip install 'talks[embeddings]'")
needs_model = pytest.mark.skipif(not FINETUNED, reason="no fine-tuned model committed under models/ft-*")

PROBES = ["The UN envoy met both delegations in Geneva to restart the peace talks.",
          "Air strikes killed twelve civilians in Aleppo on Tuesday.",
          "An aid convoy with food and medicine reached the besieged town of Madaya.",
          "The opposition accused the government of sabotaging the talks with its bombing."]


# --------------------------------------------------------------------------
# What a model file may name as its encoder (no extra needed)
# --------------------------------------------------------------------------
@pytest.mark.parametrize("onnx_path, sha", [("/etc/hostname", "0" * 64), ("../other/encoder.onnx", "0" * 64),
                                             ("encoder.onnx", None), ("encoder.onnx", "short")])
def test_model_file_names_its_encoder_only_inside_its_folder(tmp_path, onnx_path, sha):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    clf = LogisticRegression().fit(np.eye(2), [0, 1])  # model files hold fitted estimators
    pipe = Pipeline([("features", SentenceEncoder(onnx_path=onnx_path, onnx_sha256=sha)), ("clf", clf)])
    path = tmp_path / "model.skops"
    artefact.save({"schema": 2, "labels": list(LABELS), "thresholds": {lab: 0.5 for lab in LABELS}, "pipeline": pipe}, path)
    with pytest.raises(ModelError, match="may only name a file in its own folder") as e:
        artefact.load(path)
    assert str(path) in str(e.value)


def test_saved_encoder_forgets_its_folder(tmp_path):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    enc = SentenceEncoder(onnx_path="encoder.onnx", onnx_sha256="0" * 64)
    enc.set_onnx_root(tmp_path / "where-it-was")
    assert enc.onnx_file() == tmp_path / "where-it-was" / "encoder.onnx"
    pipe = Pipeline([("features", enc), ("clf", LogisticRegression().fit(np.eye(2), [0, 1]))])
    path = tmp_path / "model.skops"
    artefact.save({"schema": 2, "labels": list(LABELS), "thresholds": {lab: 0.5 for lab in LABELS}, "pipeline": pipe}, path)
    import zipfile

    with zipfile.ZipFile(path) as z:
        assert "where-it-was" not in z.read("schema.json").decode()
    assert enc.onnx_file() == tmp_path / "where-it-was" / "encoder.onnx"  # saving changed nothing in memory


# --------------------------------------------------------------------------
# The committed fine-tuned model
# --------------------------------------------------------------------------
@needs_runtime
@needs_model
@pytest.mark.parametrize("folder", FINETUNED, ids=lambda f: f.name)
def test_committed_model_loads_and_tags(folder):
    import pandas as pd

    from pipeline.tagging.tag import tag_frame
    from pipeline.model.loading import load_model

    model = load_model(folder)
    card = model["card"]
    assert card["parameters"]["encoder"]["file"] == "encoder.onnx" and (folder / "encoder.onnx").stat().st_size < 30e6
    out = tag_frame(model, pd.DataFrame({"text": PROBES, "article_id": "probe"}))
    assert out[[f"p_{lab}" for lab in LABELS]].to_numpy().shape == (4, 4)
    # one plain sentence per label: a fine-tuned model that misses these is broken, not weak
    for i, lab in enumerate(LABELS):
        assert out.loc[i, lab] == 1, (PROBES[i], out.loc[i, [f"p_{x}" for x in LABELS]].to_dict())


@needs_runtime
@needs_model
@pytest.mark.parametrize("folder", FINETUNED, ids=lambda f: f.name)
def test_committed_model_explains_by_nearest_labelled_sentences(folder, tmp_path, monkeypatch):
    from pipeline.evaluation.explain import explain
    from pipeline.model.loading import load_model

    project = make_labelled_project(tmp_path, n_articles=4, per_article=8)
    monkeypatch.setenv("TALKS_EMBED_CACHE", str(tmp_path / "cache"))
    out = explain(load_model(folder), PROBES[1], top=3, project=project["project"])
    assert len(out["nearest"]) == 3
    assert out["nearest"][0]["labels"] == ["violence"]  # the generated project's air-strike sentences are its nearest
    assert any(t["term"] == "[sentence embedding]" for e in out["labels"] for t in e["up"] + e["down"])


@needs_runtime
@needs_model
@pytest.mark.parametrize("folder", FINETUNED, ids=lambda f: f.name)
def test_committed_model_scores_its_card_on_the_heldout_set(folder, project_corpus):
    from pipeline.evaluation.compare import compare_models

    card = json.loads((folder / "card.json").read_text())
    assert card["heldout"], "a fine-tuned model is scored on the held-out set when trained"
    c = compare_models(folder.name, folder.name, Project(corpus=project_corpus["root"], labels=LABELS_DIR, models=MODELS), n_boot=200)
    m = c["models"][0]["metrics"]
    if c["heldout"]["sha256"] == card["heldout"]["sha256"]:
        # onnxruntime's int8 kernels differ a little between versions and CPUs: a small tolerance
        assert m["macro"]["f1"] >= card["heldout"]["metrics"]["macro"]["f1"] - 0.01
        for lab in LABELS:
            assert m["per_label"][lab]["f1"] >= card["heldout"]["metrics"]["per_label"][lab]["f1"] - 0.03
    assert np.isfinite(m["macro"]["f1"])
