"""The unlabelled pool: corpus sentences nobody has labelled, outside the held-out stories.

What the queue picks from (``talks queue``) and what a teacher model labels
for distillation (``talks train --teacher``).  Any decision counts as
labelled (pending journal lines and junk included); the articles of the
held-out set and of their stories (:mod:`pipeline.labels.stories`) are left
out, so nothing from a held-out story reaches training through either;
texts under :data:`MIN_WORDS` words are mostly junk (datelines, captions,
stray fragments) and are left out too.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.project import Project

MIN_WORDS = 4


@dataclass(frozen=True)
class Pool:
    """The corpus sentences (corpus order) and, aligned with them, boolean masks: labelled by anyone; not
    labelled and in a held-out article (``heldout``) or in another article of a held-out story
    (``heldout_story``); neither and shorter than :data:`MIN_WORDS` words (``short``); and every article's story
    (``stories``: article id -> story id)."""

    sentences: pd.DataFrame
    stories: dict
    labelled: np.ndarray
    heldout: np.ndarray
    heldout_story: np.ndarray
    short: np.ndarray

    @property
    def pool(self) -> pd.DataFrame:
        """The sentences none of the masks holds, in corpus order."""
        out = self.labelled | self.heldout | self.heldout_story | self.short
        return self.sentences[~out].reset_index(drop=True)


def unlabelled_pool(project: Project) -> Pool:
    """The project's :class:`Pool` (module docstring)."""
    from pipeline.labels.gold import collect_labels
    from pipeline.labels.heldout import heldout_articles
    from pipeline.labels.stories import corpus_stories

    rows, _, sents = collect_labels(project)
    labelled = sents["sentence_id"].isin({r["sentence_id"].strip() for r in rows}).to_numpy()
    held = heldout_articles(project.labels)
    in_held = sents["article_id"].isin(held).to_numpy()
    stories = corpus_stories(sents)
    story = sents["article_id"].map(stories)
    in_held_story = story.isin(set(story[in_held])).to_numpy() & ~in_held
    words = sents["text"].str.split().str.len().fillna(0).to_numpy()
    heldout, heldout_story = ~labelled & in_held, ~labelled & in_held_story
    short = ~labelled & ~heldout & ~heldout_story & (words < MIN_WORDS)
    return Pool(sents, stories, labelled, heldout, heldout_story, short)
