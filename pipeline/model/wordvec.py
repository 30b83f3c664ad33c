"""Static word vectors distilled from all-MiniLM-L6-v2, as a cheap sentence representation.

TF-IDF knows only the words it saw in training; a sentence embedding knows
that "shelling" is like "bombardment", but the sentence encoder
(``embed.py``) tags a few hundred sentences a second.  :class:`StaticVectors`
keeps most of that knowledge at the cost of a word lookup: each word has one
fixed 384-dimensional vector, and a sentence is the mean of its words'
vectors, L2-normalised.

The vectors (``pipeline/data/minilm-static.npz``) were made once, offline,
by ``scripts/build_static_vectors.py``: the corpus sentences outside the
held-out articles were run through the int8 ONNX MiniLM of the embeddings
extra, and each word's vector is the average of its output token vectors
over every sentence it occurs in (words seen at least twice; English stop
words dropped), the reduction of contextual embeddings to static ones that
Bommasani et al. (ACL 2020) found better than encoding each word alone.  No
labels are used.  The file holds the words, the vectors as int8 and one
float scale per word (within cosine 0.9999 of float32, half the size).
Using them needs nothing beyond the base install.

Words are counted with scikit-learn's ``CountVectorizer`` over the file's
vocabulary (lower case, accents stripped, one-letter tokens kept), so a word
the file lacks, or a stop word, simply adds nothing.  The transformer's
state is the file name and, once fitted, the file's sha256: a model refuses
to run on vectors other than those it was trained with.
"""
from __future__ import annotations

import hashlib
import io
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from pipeline.errors import ModelError

DATA_DIR = Path(__file__).parents[1] / "data"
VECTORS_FILE = "minilm-static.npz"
TOKEN_PATTERN = r"(?u)\b\w+\b"


class Table(NamedTuple):
    counter: object  # a CountVectorizer with the file's words as its vocabulary
    q: np.ndarray  # (words, dim) int8
    scale: np.ndarray  # (words,) float32: a word's vector is q * scale
    sha256: str

    def rows(self, words: np.ndarray) -> np.ndarray:
        """The float32 vectors of ``words`` (row indices), as ``q * scale``."""
        return self.q[words].astype(np.float32) * self.scale[words, None]


@lru_cache(maxsize=4)
def load_table(name: str = VECTORS_FILE) -> Table:
    """The word counter and vectors of ``pipeline/data/<name>``, read once per process."""
    from sklearn.feature_extraction.text import CountVectorizer

    path = DATA_DIR / name
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ModelError(f"cannot read the static word vectors ({e.strerror}); reinstall talks or rebuild them with "
                         "scripts/build_static_vectors.py", path) from None
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        words, q, scale = z["words"], z["q"], z["scale"]
    counter = CountVectorizer(token_pattern=TOKEN_PATTERN, strip_accents="unicode", lowercase=True,
                              vocabulary={w: i for i, w in enumerate(words.tolist())}, dtype=np.float32)
    return Table(counter, q, scale, hashlib.sha256(data).hexdigest())


def quantise(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row int8 vectors and float32 scales such that ``q * scale`` approximates ``vectors``."""
    scale = np.abs(vectors).max(axis=1) / 127.0
    scale = np.where(scale > 0, scale, 1.0).astype(np.float32)
    return np.round(vectors / scale[:, None]).astype(np.int8), scale


class StaticVectors(TransformerMixin, BaseEstimator):
    """Sentences -> (n, dim) float32 L2-normalised means of static word vectors.

    Parameters
    ----------
    vectors : a file name in ``pipeline/data`` (default :data:`VECTORS_FILE`).
    """

    def __init__(self, vectors: str = VECTORS_FILE):
        self.vectors = vectors

    def fit(self, X, y=None):
        self.sha256_ = load_table(self.vectors).sha256
        return self

    def transform(self, X) -> np.ndarray:
        if isinstance(X, str):
            raise TypeError("StaticVectors.transform expects a list of sentences, not one string")
        table = load_table(self.vectors)
        if table.sha256 != self.sha256_:
            raise ModelError(f"the static word vectors {self.vectors} are not the ones this model was trained with "
                             f"(sha256 {table.sha256[:12]}, trained with {self.sha256_[:12]}); retrain with 'talks train'",
                             DATA_DIR / self.vectors)
        counts = table.counter.transform(X)
        # Only the rows of the words the batch holds: turning all 22k rows into floats was half of what one
        # article's tagging spent after start-up.  Same sums in the same order, so the same values.
        used = np.unique(counts.indices)
        V = np.asarray(counts[:, used] @ table.rows(used), dtype=np.float32)
        V /= np.clip(np.linalg.norm(V, axis=1, keepdims=True), 1e-12, None)
        return V

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return np.array([f"static{i}" for i in range(load_table(self.vectors).q.shape[1])], dtype=object)
