"""Stories: articles that share a large part of their text, the unit of every split.

A wire story is re-issued, updated and syndicated: the same paragraphs come
back under other headlines, dates and outlets.  Two articles belong to one
story when at least :data:`SHARED` of the shorter one's 8-word shingles
(runs of 8 normalised words) also occur in the other; stories are the
connected groups of that relation (so A~B and B~C puts A, B and C in one
story).  Shingles that occur in more than :data:`COMMON` articles, or in more
than a fifth of them in a small collection, are site boilerplate or stock
phrases, not a shared story, and are ignored.

The held-out split, the grouped cross-validation folds and the queue's pool
all work on stories, so no story has text on both sides of a split.  Measured
on this corpus when the rule was set: the earlier Reuters version of the
Madaya aid-convoy story shares 31% of its shingles with the later one; pairs of
unrelated articles share under 5%.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Iterable, Mapping

from pipeline.records import normalise_text

SHINGLE = 8
SHARED = 0.1
COMMON = 20
MIN_SHINGLES = 10  # shorter texts (a headline and a line) are never linked: one stock phrase would do it


@dataclass(frozen=True)
class StoryLink:
    """Two articles of one story and the share of the shorter one's shingles they share."""

    article_a: str
    article_b: str
    shared: float


def shingles(texts: Iterable[str], size: int = SHINGLE) -> set[str]:
    """The article's runs of ``size`` normalised words (across sentence ends)."""
    words = normalise_text(" ".join(str(t) for t in texts)).split()
    return {" ".join(words[i:i + size]) for i in range(len(words) - size + 1)}


def story_links(texts_by_article: Mapping[str, Iterable[str]], shared: float = SHARED) -> list[StoryLink]:
    """Every pair of articles whose shorter member shares at least ``shared`` of its shingles with the other,
    sorted by article ids."""
    sh = {a: shingles(t) for a, t in texts_by_article.items()}
    df = Counter(s for grams in sh.values() for s in grams)
    common = max(2, min(COMMON, len(sh) // 5))
    sh = {a: {s for s in grams if df[s] <= common} for a, grams in sh.items()}
    index: dict[str, list[str]] = defaultdict(list)
    for a in sorted(sh):
        for s in sh[a]:
            index[s].append(a)
    overlap: Counter = Counter()
    for arts in index.values():
        for i, a in enumerate(arts):
            for b in arts[i + 1:]:
                overlap[(a, b)] += 1
    links = []
    for (a, b), n in overlap.items():
        smaller = min(len(sh[a]), len(sh[b]))
        if smaller >= MIN_SHINGLES and n / smaller >= shared:
            links.append(StoryLink(a, b, round(n / smaller, 4)))
    return sorted(links, key=lambda link: (link.article_a, link.article_b))


def story_ids(texts_by_article: Mapping[str, Iterable[str]], shared: float = SHARED) -> dict[str, str]:
    """Article id -> story id (the smallest article id of its story; an article alone is its own story)."""
    parent = {a: a for a in texts_by_article}

    def root(a: str) -> str:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for link in story_links(texts_by_article, shared):
        ra, rb = root(link.article_a), root(link.article_b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {a: root(a) for a in texts_by_article}


def corpus_stories(sentences) -> dict[str, str]:
    """Story ids for every article of a sentences table (``article_id``, ``text`` in corpus order)."""
    texts: dict[str, list[str]] = defaultdict(list)
    for aid, text in zip(sentences["article_id"].astype(str), sentences["text"].astype(str)):
        texts[aid].append(text)
    return story_ids(texts)


def with_stories(project, gold):
    """``gold`` (a table with ``article_id``) with a ``story_id`` column: the stories of its articles'
    corpus text, the groups of every grouped cross-validation split."""
    from pipeline.corpus.store import load_sentences

    sents = load_sentences(project.corpus)
    ids = corpus_stories(sents[sents["article_id"].isin(set(gold["article_id"]))])
    out = gold.copy()
    out["story_id"] = out["article_id"].map(lambda a: ids.get(a, a))
    return out
