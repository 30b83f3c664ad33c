"""The on-topic flag: is a tagged article about the Syria talks, or only tagged like it?

Written by ``tag`` into each article's summary and used by ``trends`` to keep
on-topic articles.
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


def is_on_topic(relevance, syria_share):
    """The on-topic flag from an article's relevance and share of sentences naming Syria."""
    return (np.asarray(relevance) >= ON_TOPIC_RELEVANCE) & (np.asarray(syria_share) >= ON_TOPIC_SYRIA)
