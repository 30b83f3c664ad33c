"""The estimator: which features a model is built of, as one scikit-learn ``Pipeline``.

Word n-grams (TF-IDF), optionally character n-grams, blame cues
(``cues.py``), static word vectors (``wordvec.py``) or sentence embeddings
(``embed.py``), then a one-vs-rest logistic regression with balanced class
weights.  Also how to walk a fitted pipeline and read its feature names.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.errors import ModelError
from pipeline.records import SEED


FEATURES = ("word", "word+char", "embeddings", "word+char+embeddings", "word+cues", "word+cues+static")


# Kept apart from FEATURES: these need an encoder file (make_pipeline's
# ``encoder``), which only pipeline/finetune.py makes.
FINETUNED_FEATURES = ("finetuned", "word+finetuned", "word+cues+finetuned")


def uses_embeddings(features: str) -> bool:
    return "embeddings" in features or "finetuned" in features


def make_pipeline(features: str = "word", C: float = 4.0, encoder: str | Path | None = None):
    """A fresh, unfitted ``Pipeline(features -> one-vs-rest logistic regression)``.

    ``encoder`` is the ONNX file of a fine-tuned encoder, needed by (and only
    by) the :data:`FINETUNED_FEATURES`.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import FeatureUnion, Pipeline

    if features not in FEATURES + FINETUNED_FEATURES:
        raise ModelError(f"unknown features {features!r}; use one of {', '.join(FEATURES + FINETUNED_FEATURES)}")
    if (features in FINETUNED_FEATURES) != (encoder is not None):
        raise ModelError(f"features {features!r} {'need' if encoder is None else 'take no'} a fine-tuned encoder file "
                         "(encoder=...; scripts/finetune.py makes one)")
    parts = []
    if features.startswith("word"):
        parts.append(("word", TfidfVectorizer(
            ngram_range=(1, 2), min_df=2, sublinear_tf=True, strip_accents="unicode", lowercase=True, dtype=np.float32
        )))
    if "char" in features:
        parts.append(("char", TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True, lowercase=True, dtype=np.float32
        )))
    if "finetuned" in features:
        from pipeline.model.embed import SentenceEncoder

        parts.append(("emb", SentenceEncoder(onnx_path=str(encoder))))  # "emb": explain reads its dimensions as one embedding
    elif uses_embeddings(features):
        from pipeline.model.embed import SentenceEncoder, require_encoder

        require_encoder()  # one clear line on how to install the extra, before any work
        parts.append(("emb", SentenceEncoder()))
    if "cues" in features:
        from pipeline.model.cues import BlameCues

        parts.append(("cues", BlameCues()))
    if "static" in features:
        from pipeline.model.wordvec import StaticVectors

        parts.append(("static", StaticVectors()))
    vec = parts[0][1] if len(parts) == 1 else FeatureUnion(parts)
    clf = OneVsRestClassifier(
        LogisticRegression(C=C, class_weight="balanced", max_iter=2000, solver="liblinear", random_state=SEED)
    )
    return Pipeline([("features", vec), ("clf", clf)])


def walk_steps(est):
    """The estimator and every step inside it (Pipeline steps, FeatureUnion parts), depth first."""
    yield est
    for _, sub in getattr(est, "steps", None) or getattr(est, "transformer_list", None) or []:
        yield from walk_steps(sub)


def encoders(est) -> list:
    """The sentence encoders inside a pipeline or feature step (none for TF-IDF models)."""
    return [e for e in walk_steps(est) if type(e).__name__ == "SentenceEncoder"]


def feature_term(name: str) -> str | None:
    """A feature name as people read it; None for an embedding dimension.

    FeatureUnion prefixes names with the part that made them ("word__cease
    fire", "char__ fire", "emb__emb17", "cues__accuse_verb"); character
    n-grams are bracketed and blame cues (``cues.py``) read "cue:accuse_verb",
    so neither is taken for a word.  A single dimension of a sentence
    embedding, or of the static word vectors (``wordvec.py``), means nothing
    on its own.
    """
    kind, sep, term = name.partition("__")
    if not sep:
        kind, term = "", name
    if kind in ("emb", "static") or (not kind and term.startswith("emb") and term[3:].isdigit()):
        return None
    if kind == "cues":
        return f"cue:{term}"
    return f"[{term}]" if kind == "char" else term
