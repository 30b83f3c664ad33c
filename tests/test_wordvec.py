"""wordvec: the shipped static word vectors, the transformer's output and state, and saving a model that uses them."""
from __future__ import annotations

import hashlib

import numpy as np
import pytest

from pipeline.errors import ModelError
from pipeline.model.wordvec import DATA_DIR, VECTORS_FILE, StaticVectors, quantise


@pytest.fixture(scope="module")
def fitted() -> StaticVectors:
    return StaticVectors().fit(["anything"])


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_the_vectors_ship_small():
    path = DATA_DIR / VECTORS_FILE
    assert path.exists() and path.stat().st_size < 20e6


def test_similar_sentences_are_closer_than_unrelated_ones(fitted):
    shelled, bombarded, football = fitted.transform([
        "Artillery shelled the town overnight.",
        "Rockets bombarded the city overnight.",
        "The team won the football match.",
    ])
    assert cosine(shelled, bombarded) > cosine(shelled, football) + 0.1


def test_rows_are_unit_length_and_unknown_words_give_zeros(fitted):
    X = fitted.transform(["Aid convoys reached Madaya.", "the of and", "qxzvw blorpt", ""])
    assert X.dtype == np.float32 and X.shape[0] == 4
    assert abs(np.linalg.norm(X[0]) - 1) < 1e-5
    assert not X[1:].any() and np.isfinite(X).all()  # stop words and unknown words carry nothing


def test_same_rows_one_by_one_and_in_a_batch(fitted):
    texts = ["Talks resumed in Geneva.", "Refugees crossed into Greece.", "Talks resumed in Geneva."]
    X = fitted.transform(texts)
    assert np.array_equal(X[0], X[2])
    assert np.allclose(X[1], fitted.transform([texts[1]])[0])


def test_state_is_plain_data_and_pins_the_file(fitted):
    digest = hashlib.sha256((DATA_DIR / VECTORS_FILE).read_bytes()).hexdigest()
    assert vars(fitted) == {"vectors": VECTORS_FILE, "sha256_": digest}
    other = StaticVectors().fit(["x"])
    other.sha256_ = "0" * 64  # as if the model had been trained with other vectors
    with pytest.raises(ModelError, match="retrain"):
        other.transform(["Talks resumed."])
    with pytest.raises(ModelError, match="build_static_vectors"):
        StaticVectors(vectors="missing.npz").fit(["x"])


def test_quantise_keeps_directions():
    rng = np.random.default_rng(0)
    v = rng.normal(size=(50, 384)).astype(np.float32)
    v[3] = 0
    q, scale = quantise(v)
    assert q.dtype == np.int8 and scale.dtype == np.float32
    back = q.astype(np.float32) * scale[:, None]
    cos = (back * v).sum(1)[np.arange(50) != 3] / (np.linalg.norm(back, axis=1) * np.linalg.norm(v, axis=1))[np.arange(50) != 3]
    assert cos.min() > 0.999 and not back[3].any()


def test_a_model_with_static_vectors_saves_as_data_and_predicts_the_same(labelled_project):
    from pipeline.evaluation.explain import explain
    from pipeline.model.loading import load_model
    from pipeline.model.features import make_pipeline
    from pipeline.model.selection import predict_proba, train, training_data

    p = labelled_project
    card = train(p["project"], grid=[{"features": "word+cues+static", "C": 4.0}])
    m = load_model(card["model_id"], p["models"])
    _, train_texts, Y, _ = training_data(p["project"])
    in_memory = make_pipeline("word+cues+static", 4.0).fit(np.asarray(train_texts, dtype=object), Y)
    texts = ["The opposition accused Russia of shelling Aleppo.", "An aid convoy reached Madaya."]
    assert np.allclose(predict_proba(m["pipeline"], texts), predict_proba(in_memory, texts), atol=1e-6)
    res = explain(m, texts[0], top=50)
    terms = {t["term"] for lab in res["labels"] for t in lab["up"] + lab["down"]}
    assert not any(t.startswith("static") for t in terms)  # dimensions are summed, never shown one by one
    # ... under their own name: this model has no sentence embedding to speak of
    assert "[word vectors]" in terms and "[sentence embedding]" not in terms
    assert any(t.startswith("cue:") for t in terms)


def test_rows_are_the_mean_of_the_whole_tables_vectors(fitted):
    # The reference multiplies by the whole dequantised table, as the file defines it; transform takes only
    # the rows a batch uses, and must give the same values bit for bit (models were fitted on them).
    from sklearn.feature_extraction.text import CountVectorizer

    with np.load(DATA_DIR / VECTORS_FILE, allow_pickle=False) as z:
        words, q, scale = z["words"], z["q"], z["scale"]
    counter = CountVectorizer(token_pattern=r"(?u)\b\w+\b", strip_accents="unicode", lowercase=True,
                              vocabulary={w: i for i, w in enumerate(words.tolist())}, dtype=np.float32)
    texts = ["Russia accused Turkey of shelling Aleppo.", "Aid reached Madaya.", "", "zzqx", "U.S. and U.N. talks in Geneva"]
    V = np.asarray(counter.transform(texts) @ (q.astype(np.float32) * scale[:, None]), dtype=np.float32)
    V /= np.clip(np.linalg.norm(V, axis=1, keepdims=True), 1e-12, None)
    assert np.array_equal(fitted.transform(texts), V)
    assert fitted.transform([]).shape == (0, q.shape[1])
