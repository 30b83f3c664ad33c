"""The speed work keeps outputs as they were: each faster path against the plain per-row one it replaced."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.tagging.output import conform, visible


def _cell_by_cell(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """What ``conform`` did before it worked a column at a time: ``visible`` on every cell of every object column."""
    out = df.reindex(columns=columns)
    for c in out.columns:
        if out[c].dtype.kind == "O":
            out[c] = out[c].map(visible)
    return out


# Text with every kind of character conform treats differently: controls, C1, tab/newline, ordinary and wide ones.
_TEXT = st.text(alphabet=st.sampled_from(["a", " ", "é", "\t", "\n", "\x00", "\x1b", "\r", "\x7f", "\x85", "\x9f", "\u202e", "→"]),
                max_size=12)
_CELL = st.one_of(_TEXT, st.none(), st.just(np.nan), st.integers(-5, 5), st.floats(allow_nan=False, width=32))


@settings(max_examples=200, deadline=None)
@given(texts=st.lists(_TEXT, min_size=1, max_size=8), mixed=st.lists(_CELL, min_size=8, max_size=8))
def test_conform_shows_the_same_control_pictures_as_cell_by_cell(texts, mixed):
    n = len(texts)
    df = pd.DataFrame({"text": texts, "mixed": mixed[:n], "position": range(n), "empty": [None] * n})
    columns = ["text", "mixed", "position", "empty", "missing"]
    got, want = conform(df, columns), _cell_by_cell(df, columns)
    pd.testing.assert_frame_equal(got, want)
    assert not any(isinstance(v, str) and any(ch in v for ch in "\x00\x1b\r\x7f\x85") for v in got["text"])


def test_conform_leaves_a_frame_without_controls_as_it_was():
    df = pd.DataFrame({"text": ["The envoy met both sides.", "Talks resume."], "url": [None, "https://x.org/a"]})
    pd.testing.assert_frame_equal(conform(df, ["text", "url"]), df)
    assert conform(pd.DataFrame({"text": ["a\x00b"]}), ["text"])["text"].tolist() == ["a\u2400b"]


def test_batched_cue_features_equal_the_per_sentence_definition_on_the_corpus(project_corpus):
    """The committed models were fitted on sentence_cues' values: the batch path must give the same matrix."""
    from pipeline.corpus.store import load_sentences
    from pipeline.model.cues import CUE_NAMES, BlameCues, sentence_cues

    texts = load_sentences(project_corpus["root"])["text"].astype(str).tolist()
    texts += ["", "   ", "!!!", "accused", "He was not blamed by Russia.", "« Terrorists », they called them."]
    want = np.array([sentence_cues(t) for t in texts], dtype=np.float32)
    got = BlameCues().transform(texts)
    assert got.dtype == np.float32 and got.shape == (len(texts), len(CUE_NAMES))
    assert np.array_equal(got, want)
    # every feature takes more than one value over the corpus, so each of them was compared, not only zeros
    assert all(len(np.unique(want[:, j])) > 1 for j in range(len(CUE_NAMES)))
