"""The on-topic flag: is an article about the Syria talks, or only tagged like it?

Written by ``tag`` into each article's summary, used by ``trends`` to keep
on-topic articles and by ``queue`` to weight what to label next.
"""
from __future__ import annotations

import re

import numpy as np

from pipeline.records import LABELS

# Relevance.  By the guidelines violence, humanitarian and blame apply to any
# conflict and any actor (and the model's diplomacy also fires on trade or
# nuclear talks), so the tags tell what kind of news an article is but not
# where: the name test supplies the where.  An article is on topic when at
# least a fifth of its sentences carry a label and at least a tenth name Syria
# (a passing mention in a Brussels or Jakarta attack story is one sentence in
# twenty or more).
SYRIA = re.compile(r"\b(?:syria|syrians?|assad|damascus|aleppo)\b", re.IGNORECASE)
ON_TOPIC_RELEVANCE = 0.2
ON_TOPIC_SYRIA = 0.1


def sentence_flags(df, labels=LABELS) -> tuple[np.ndarray, np.ndarray]:
    """Per sentence: does it carry any label; does it name Syria."""
    labelled = (df[list(labels)].fillna(0).to_numpy(dtype=float) > 0).any(axis=1)
    syria = df["text"].fillna("").astype(str).str.contains(SYRIA).to_numpy(dtype=bool)
    return labelled, syria


# The queue's topic is wider than the tag's flag: an article that names Syria at
# all (Syrian refugees in Germany, an IS attack in Jakarta, Russia and Turkey)
# is the war's reach and worth labelling, while the flag keeps trends to
# articles about Syria.  The strict flag alone leaves too little to label: 376
# unlabelled sentences in 21 articles of the feed after round 2.
SYRIA_COVERAGE = 1


def article_topic(df, labels=LABELS):
    """Per article of a table of tagged sentences (``article_id``, ``text``, 0/1 label columns):
    ``relevance``, ``syria_share``, ``syria_sentences``, ``on_topic`` and ``syria_coverage``
    (on topic, or names Syria in at least :data:`SYRIA_COVERAGE` sentence), indexed by article id (sorted)."""
    return _per_article(df, labels)[0]


def on_topic_rows(df, labels=LABELS) -> np.ndarray:
    """Per sentence of ``df``: the on-topic flag of its article (as :func:`article_topic` gives it)."""
    topic, rows = _per_article(df, labels)
    return topic["on_topic"].to_numpy(dtype=bool)[rows]


def _per_article(df, labels):
    # np.unique and bincount, not a pandas groupby: tagging calls this once per chunk of files, where the
    # groupby's fixed cost was most of the flag's time.
    import pandas as pd

    labelled, syria = sentence_flags(df, labels)
    ids, rows = np.unique(df["article_id"].to_numpy(dtype=object).astype(str), return_inverse=True)
    n = np.maximum(np.bincount(rows, minlength=len(ids)), 1)
    named = np.bincount(rows, weights=syria, minlength=len(ids))
    out = pd.DataFrame({"relevance": np.bincount(rows, weights=labelled, minlength=len(ids)) / n, "syria_share": named / n,
                        "syria_sentences": named.astype(np.int64)}, index=pd.Index(ids, name="article_id"))
    out["on_topic"] = is_on_topic(out["relevance"], out["syria_share"])
    out["syria_coverage"] = out["on_topic"] | (out["syria_sentences"] >= SYRIA_COVERAGE)
    return out, rows


def is_on_topic(relevance, syria_share):
    """The on-topic flag from an article's relevance and share of sentences naming Syria."""
    return (np.asarray(relevance) >= ON_TOPIC_RELEVANCE) & (np.asarray(syria_share) >= ON_TOPIC_SYRIA)
