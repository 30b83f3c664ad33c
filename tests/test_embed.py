"""The optional sentence encoder (pipeline/embed.py).

Tests marked ``needs_backend`` run the real model and skip cleanly when the
embeddings extra is not installed; the rest use a fake backend (or none) and
run in every install, including the check of the install hint.
"""
from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap

import joblib
import numpy as np
import pytest

from pipeline.model import embed
from pipeline.model.embed import DIM, SentenceEncoder, encoder_available, nearest, require_encoder
from pipeline.errors import ModelError

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SENTS = [
    "The UN envoy met both delegations in Geneva.",
    "Air strikes killed twelve civilians in Aleppo.",
    "An aid convoy reached the besieged town of Madaya.",
    "The opposition accused the government of sabotaging the talks.",
]


class FakeBackend:
    """Deterministic stand-in for the model: counts the texts it encodes."""

    model_id = "fake-model"
    calls: list[str] = []

    def __init__(self, threads):
        self.threads = threads

    def encode(self, texts):
        FakeBackend.calls.extend(texts)
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for i, t in enumerate(texts):
            rng = np.random.default_rng(sum(map(ord, t)))
            out[i] = rng.normal(size=DIM)
        return out


@pytest.fixture
def fake(monkeypatch):
    FakeBackend.calls = []
    monkeypatch.setitem(embed._BACKEND_CLASSES, "onnx", FakeBackend)
    monkeypatch.setitem(embed.MODEL_IDS, "onnx", "fake-model")
    monkeypatch.setattr(embed, "backend_available", lambda b: b == "onnx")
    return FakeBackend


@pytest.fixture
def no_backend(monkeypatch):
    monkeypatch.setattr(embed, "backend_available", lambda b: False)


# --------------------------------------------------------------------------
# Without the extra
# --------------------------------------------------------------------------
def test_missing_backend_gives_install_hint(no_backend, tmp_path):
    assert not encoder_available()
    with pytest.raises(ModelError) as e:
        require_encoder()
    assert "pip install 'talks[embeddings]'" in str(e.value) and "make embeddings" in str(e.value)
    enc = SentenceEncoder(cache_dir=tmp_path)
    enc.fit(SENTS)  # fitting needs nothing
    with pytest.raises(ModelError, match=r"optional extra: pip install 'talks\[embeddings\]'"):
        enc.transform(SENTS)


def test_unknown_backend_is_a_model_error():
    with pytest.raises(ModelError, match="unknown embedding backend"):
        encoder_available("tensorflow")


def test_importing_sets_offline_env():
    assert os.environ["HF_HUB_OFFLINE"] == "1" and os.environ["TRANSFORMERS_OFFLINE"] == "1"


# --------------------------------------------------------------------------
# Batching, normalisation, cache, pickling (fake backend)
# --------------------------------------------------------------------------
def test_shape_normalised_and_batched(fake, tmp_path):
    enc = SentenceEncoder(batch_size=3, cache_dir=False)
    X = enc.transform(SENTS * 2)
    assert X.shape == (8, DIM) and X.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(X[:4], X[4:])
    assert len(fake.calls) == 4  # duplicates encoded once
    assert SentenceEncoder(cache_dir=False).transform([]).shape == (0, DIM)


def test_cache_hit_does_not_call_the_model(fake, tmp_path, monkeypatch):
    X1 = SentenceEncoder(cache_dir=tmp_path).transform(SENTS)
    assert len(fake.calls) == 4
    assert list((tmp_path / "fake-model").glob("*.npz"))
    # A new encoder (as after retraining or in another process) reads the disk cache.
    enc = SentenceEncoder(cache_dir=tmp_path)
    monkeypatch.setattr(SentenceEncoder, "_load", lambda self: pytest.fail("model loaded on a cache hit"))
    # Typographic variants share the normalised text, hence the key.
    variants = [s.replace("'", "\u2019").upper() + "  " for s in SENTS]
    np.testing.assert_array_equal(enc.transform(variants), X1)
    assert len(fake.calls) == 4


def test_cache_adds_only_new_sentences_and_compacts(fake, tmp_path, monkeypatch):
    monkeypatch.setattr(embed, "_SHARD_MAX", 2)
    enc = SentenceEncoder(cache_dir=tmp_path)
    for s in SENTS:
        enc.transform([s, SENTS[0]])
    assert len(fake.calls) == 4
    assert len(list((tmp_path / "fake-model").glob("*.npz"))) <= 2
    fake.calls.clear()
    SentenceEncoder(cache_dir=tmp_path).transform(SENTS + ["A new sentence."])
    assert fake.calls == ["a new sentence."]


def test_pickles_without_the_model(fake, tmp_path):
    enc = SentenceEncoder(cache_dir=tmp_path, threads=1)
    X = enc.transform(SENTS)
    assert enc._model is not None
    state = enc.__getstate__()
    assert "_model" not in state and "_disk" not in state
    assert enc._model is not None  # pickling leaves the live encoder alone
    clone = pickle.loads(pickle.dumps(enc))
    assert getattr(clone, "_model", None) is None and clone.get_params() == enc.get_params()
    np.testing.assert_array_equal(clone.transform(SENTS), X)  # from the disk cache, lazily


def test_in_a_pipeline_with_joblib(fake, tmp_path):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    pipe = Pipeline([("emb", SentenceEncoder(cache_dir=tmp_path)), ("clf", LogisticRegression())])
    pipe.fit(SENTS * 3, [0, 1, 1, 0] * 3)
    joblib.dump(pipe, tmp_path / "m.joblib")
    back = joblib.load(tmp_path / "m.joblib")
    assert getattr(back.named_steps["emb"], "_model", None) is None
    np.testing.assert_array_equal(back.predict(SENTS), pipe.predict(SENTS))


def test_default_threads(monkeypatch):
    monkeypatch.delenv("TALKS_EMBED_THREADS", raising=False)
    assert embed.default_threads() == (os.cpu_count() or 1)
    monkeypatch.setenv("TALKS_EMBED_THREADS", "3")
    assert embed.default_threads() == 3


def test_nearest():
    import pandas as pd

    E = np.eye(4, DIM, dtype=np.float32)
    df = pd.DataFrame({"text": ["a", "b", "c", "d"], "violence": [0, 1, 0, 1]})
    q = np.zeros(DIM, dtype=np.float32)
    q[1], q[3] = 2.0, 1.0
    out = nearest(E, df, q, k=2)
    assert out["text"].tolist() == ["b", "d"] and out["similarity"].iloc[0] > out["similarity"].iloc[1]


# --------------------------------------------------------------------------
# The real model (skips without the extra)
# --------------------------------------------------------------------------


@pytest.fixture
def real():
    if not encoder_available():
        pytest.skip("embeddings extra not installed")
    if embed.backend_available("onnx"):
        pytest.importorskip("onnxruntime")
        pytest.importorskip("tokenizers")
    else:
        pytest.importorskip("sentence_transformers")


def test_real_model_shape_and_meaning(real, tmp_path):
    X = SentenceEncoder(cache_dir=tmp_path, threads=1).transform(SENTS + ["UN envoy holds talks with the two delegations in Geneva."])
    assert X.shape == (5, DIM) and X.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, rtol=1e-5)
    sims = X[:4] @ X[4]
    assert int(np.argmax(sims)) == 0  # the paraphrase is nearest the diplomacy sentence


def test_real_model_cache_and_joblib(real, tmp_path, monkeypatch):
    enc = SentenceEncoder(cache_dir=tmp_path)
    X = enc.transform(SENTS)
    path = tmp_path / "enc.joblib"
    joblib.dump(enc, path)
    assert path.stat().st_size < 10_000  # the model is not in the file
    back = joblib.load(path)
    monkeypatch.setattr(SentenceEncoder, "_load", lambda self: pytest.fail("model loaded on a cache hit"))
    np.testing.assert_array_equal(back.transform(SENTS), X)


@pytest.mark.parametrize("backend", ["onnx", "torch"])
def test_loads_offline(backend, tmp_path):
    """In a fresh process with every connection refused and an empty HF cache."""
    if not embed.backend_available(backend):
        pytest.skip(f"{backend} backend not installed")
    code = textwrap.dedent(
        f"""
        import socket
        def refuse(*a, **k):
            raise OSError("network disabled in this test")
        socket.socket.connect = refuse
        socket.create_connection = refuse
        socket.getaddrinfo = refuse
        from pipeline.model.embed import SentenceEncoder
        import os
        assert os.environ["HF_HUB_OFFLINE"] == "1" and os.environ["TRANSFORMERS_OFFLINE"] == "1"
        X = SentenceEncoder(backend={backend!r}, cache_dir=False, threads=1).transform(["The talks resumed in Geneva."])
        assert X.shape == (1, 384)
        print("ok")
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    env.update(HF_HOME=str(tmp_path / "hf"), HTTPS_PROXY="http://127.0.0.1:9", HTTP_PROXY="http://127.0.0.1:9")
    p = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0 and p.stdout.strip().endswith("ok"), p.stderr[-2000:]


# --------------------------------------------------------------------------
# The embedding model through train, tag and explain (skips without the extra)
# --------------------------------------------------------------------------
def test_train_tag_explain_with_embeddings(real, labelled_project, tmp_path, monkeypatch):
    import pandas as pd

    from pipeline.records import LABELS
    from pipeline.evaluation.explain import explain
    from pipeline.tagging.tag import tag
    from pipeline.model.loading import load_model
    from pipeline.model.selection import train

    monkeypatch.setenv("TALKS_EMBED_CACHE", str(tmp_path / "cache"))
    p = labelled_project
    card = train(p["project"], grid=[{"features": "word+char+embeddings", "C": 2.0}])
    assert card["model_id"].startswith("both-") and card["parameters"]["encoder"]["dim"] == DIM
    assert (p["models"] / card["model_id"] / "model.skops").stat().st_size < 2_000_000  # no weights inside
    out = tmp_path / "tags.csv"
    tag([p["raw"]], str(out), models_dir=p["models"])
    df = pd.read_csv(out)
    assert len(df) and set(df.model_id) == {card["model_id"]} and all(f"p_{l}" in df for l in LABELS)
    res = explain(load_model(None, p["models"]), "Air strikes killed 40 people near Homs.", project=p["project"])
    vio = next(l for l in res["labels"] if l["label"] == "violence")
    assert vio["tagged"] and any(t["term"] == "[sentence embedding]" for t in vio["up"] + vio["down"])
    assert res["nearest"] and "violence" in res["nearest"][0]["labels"]
    # exact: intercept + all contributions = logit
    full = explain(load_model(None, p["models"]), "Air strikes killed 40 people near Homs.", top=100000)
    v = next(l for l in full["labels"] if l["label"] == "violence")
    logit = v["intercept"] + sum(t["weight"] for t in v["up"] + v["down"])
    assert abs(1 / (1 + np.exp(-logit)) - v["probability"]) < 1e-3


def test_embeddings_only_model_trains(real, labelled_project, tmp_path, monkeypatch):
    from pipeline.model.selection import train

    monkeypatch.setenv("TALKS_EMBED_CACHE", str(tmp_path / "cache"))
    p = labelled_project
    card = train(p["project"], grid=[{"features": "embeddings", "C": 2.0}], set_current=False)
    assert card["model_id"].startswith("emb-") and card["cv_metrics"]["macro"]["f1"] > 0.5


def test_a_shipped_embedding_model_saved_before_fine_tuned_encoders_still_loads(real, tmp_path, monkeypatch):
    """both-40af0deecc was saved when SentenceEncoder had no onnx_path: it runs the packaged model."""
    from conftest import REPO

    from pipeline.model.loading import load_model
    from pipeline.model.selection import predict_proba
    from pipeline.model.features import walk_steps

    monkeypatch.setenv("TALKS_EMBED_CACHE", str(tmp_path))
    m = load_model(REPO / "models" / "both-40af0deecc")
    enc = [e for e in walk_steps(m["pipeline"]) if isinstance(e, SentenceEncoder)][0]
    assert enc.onnx_path is None and enc.onnx_file() is None
    P = predict_proba(m["pipeline"], ["Government warplanes bombed a market in Idlib, killing 20 civilians."])
    assert P[0, 1] > 0.5  # violence
