"""``talks queue``: which unlabelled sentences to label next (active learning).

Sits between ``train`` and ``label``: the current model scores every
corpus sentence nobody has labelled yet, and the queue file it writes
(``labels/queue.csv``) is what ``talks label --queue`` walks through.

**Pool.**  Every corpus sentence with no row in any annotator store, the
adjudications or a pending journal; minus the sentences of held-out articles
(the held-out set grows by whole articles, ``talks heldout add``, never
sentence by sentence through the queue); minus texts shorter than
:data:`MIN_WORDS` words, which are mostly junk (datelines, captions, stray
fragments).

**Score.**  For label *l* with probability *p* and the model's decision
threshold *t*::

    u_l   = 1 - |p - t| / max(t, 1 - t)          # 1 on the threshold, 0 at the far end
    score = max_l  w_l * u_l                     # w: RARE_WEIGHTS, 1 for the others
            if max_l p_l >= RELEVANCE_FLOOR (0.5), else 0

so a sentence ranks high when the model is torn on at least one label; the
weights make a torn *blame* or *humanitarian* call count more (score up to
1.5).  The relevance floor keeps out what the model sees as off topic: on
a feed mostly not about Syria, such text sits near the low blame threshold
and plain uncertainty ranks it first.  When the floor was chosen
(``talks simulate`` on 3,959 gold training sentences, 5 seeds), it took the
queue from no better than random order (2,350 labels each to reach 95% of
the full-pool macro-F1) to 1,600 labels; floors of 0.4 to 0.6 did about as
well, 0.3 clearly worse.

**Topic.**  Most of the feed is not about Syria, and text the model is torn
on there (a police trial, a Seattle shooting) teaches the least about the
coverage the project exists for.  Each score is multiplied by its article's
topic weight: 1 for coverage of the war or the talks (the tag's on-topic
flag, or an article that names Syria:
:func:`pipeline.model.relevance.article_topic`, with the current model's
tags), ``topic_weight`` (default :data:`TOPIC_WEIGHT`) for the rest.  The
random share is drawn from the whole pool, on topic or not.

**Likely positives** (``positive_share``, default 0).  Where the gold lacks
positives of the rare labels, a share of the queue can go to the sentences
most likely to carry them: an equal part per label of ``positive_labels``
(default the labels of :data:`RARE_WEIGHTS`),
each ranked by that label's probability times the topic weight, with the
same article cap and duplicate rule ("likely" in the reason column).  It spends labels
where each one adds a positive, at the price of a gold richer in those labels
than the feed; the random share still estimates the feed as it is.

**Stories.**  Articles sharing a story with a held-out article
(:mod:`pipeline.labels.stories`) are left out of the pool as the held-out
articles are: labelling them would put the held-out story's text into
training.

**Selection** (:func:`select`, shared with the simulation in
``simulate.py``).  ``size - round(size * random_share)`` sentences are taken
greedily by score among those scoring above 0, at most ``per_article`` per
article and never a near duplicate of one already taken (the same
normalised text, or cosine similarity >= :data:`NEAR_DUPLICATE` of word
TF-IDF vectors).  The other ``round(size * random_share)`` are a uniform
draw from the rest of the pool: they are what keeps precision and recall
estimated on queued labels unbiased, so they are *not* filtered by article,
similarity or relevance.  If the floor, the article cap and the duplicate
rule leave too few candidates (a small pool, or an early model that finds
little relevant), random draws fill the gap.  Random picks are spread
evenly through the queue (every fifth row at the default share), so a
labeller who stops early still has some of each.  Same inputs and seed,
same queue.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from pipeline.errors import LabelError
from pipeline.labels.pool import MIN_WORDS
from pipeline.project import Project
from pipeline.records import LABELS, normalise_text

QUEUE_FILE = "queue.csv"
NEAR_DUPLICATE = 0.8
CHUNK = 5_000  # sentences per predict call: memory stays flat on a 50k-sentence pool
# Rare labels carry the weakest F1 (blame 0.41, humanitarian 0.75 against
# 0.87 for diplomacy) and the fewest positives, so a torn call there is worth
# more than one on diplomacy or violence.
RARE_WEIGHTS: dict[str, float] = {"blame": 1.5, "humanitarian": 1.25}
# No label at least this likely: off topic to the model, not an uncertain pick (module docstring).
RELEVANCE_FLOOR = 0.5
# Off-topic scores x0.25: a torn call on Syria coverage beats any off-topic one
# above the floor, while off-topic text still fills the queue once Syria
# coverage runs out (it is a few percent of the feed).
TOPIC_WEIGHT = 0.25


def uncertainty_scores(P: np.ndarray, thresholds: dict[str, float], labels=LABELS) -> np.ndarray:
    """Per sentence, the weighted closeness of its probabilities to the thresholds; 0 under the floor (module docstring)."""
    P = np.asarray(P, dtype=float)
    t = np.array([thresholds[lab] for lab in labels], dtype=float)
    w = np.array([RARE_WEIGHTS.get(lab, 1.0) for lab in labels])
    u = 1.0 - np.abs(P - t) / np.maximum(t, 1.0 - t)
    return np.where(P.max(axis=1) >= RELEVANCE_FLOOR, (np.clip(u, 0.0, 1.0) * w).max(axis=1), 0.0)


def text_vectors(texts):
    """L2-normalised word TF-IDF rows, for spotting near duplicates (dot product = cosine).

    Hashed features: a vocabulary of the uni- and bigrams of a 50k-sentence
    pool alone costs over 200 MB, and a rare hash collision barely moves a
    cosine."""
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer

    hasher = HashingVectorizer(ngram_range=(1, 2), n_features=2**20, alternate_sign=False, norm=None, strip_accents="unicode",
                               lowercase=True, dtype=np.float32)
    texts = list(texts)
    counts = sp.vstack([hasher.transform(texts[i:i + CHUNK]) for i in range(0, len(texts), CHUNK)], format="csr")
    return TfidfTransformer(sublinear_tf=True).fit_transform(counts).astype(np.float32).tocsr()


def select(texts, article_ids, scores: np.ndarray, size: int, random_share: float, per_article: int,
           rng: np.random.Generator, vectors=None) -> list[tuple[int, str]]:
    """The queue as ``(index into texts, "uncertain" | "random")`` in labelling order.

    ``vectors`` are rows of :func:`text_vectors` aligned with ``texts``
    (computed here when not given).  See the module docstring for the rules.
    """
    check_parameters(size, random_share, per_article)
    n = len(texts)
    size = min(size, n)
    n_random = int(round(size * random_share))
    vectors = text_vectors(texts) if vectors is None else vectors
    uncertain: list[int] = []
    per_art: Counter = Counter()
    seen: set[str] = set()
    scores = np.asarray(scores, dtype=float)
    for i in np.argsort(-scores, kind="stable"):  # ties: pool order
        if len(uncertain) == size - n_random or scores[i] <= 0:  # 0: off topic or sure of everything, nothing to learn
            break
        norm = normalise_text(texts[i])
        if per_art[article_ids[i]] >= per_article or norm in seen:
            continue
        if uncertain and (vectors[uncertain] @ vectors[i].T).max() >= NEAR_DUPLICATE:
            continue
        uncertain.append(int(i))
        per_art[article_ids[i]] += 1
        seen.add(norm)
    rest = np.setdiff1d(np.arange(n), uncertain)
    drawn = rng.choice(rest, size=min(size - len(uncertain), len(rest)), replace=False)
    return _interleave(uncertain, [int(i) for i in drawn])


def _with_likely(texts, article_ids, scores, P, labels, weight, size: int, random_share: float, positive_share: float,
                 per_article: int, rng: np.random.Generator, positive_labels=tuple(RARE_WEIGHTS)) -> list[tuple[int, str]]:
    """:func:`select` after taking ``positive_share`` of ``size`` as likely positives of the rare labels
    (module docstring), spread evenly through the queue."""
    n_likely = int(round(size * positive_share))
    if n_likely == 0:
        return select(texts, article_ids, scores, size, random_share, per_article, rng)
    vectors = text_vectors(texts)
    rare = [j for j, lab in enumerate(labels) if lab in positive_labels]
    likely: list[int] = []
    for k, j in enumerate(rare):  # an equal part per rare label, each by its own probability
        want = n_likely * (k + 1) // len(rare) - len(likely)
        left = np.setdiff1d(np.arange(len(texts)), likely)
        score = P[left, j] * weight[left]
        likely += [int(left[i]) for i, why in select([texts[i] for i in left], [article_ids[i] for i in left], score, want, 0.0,
                                                      per_article, rng, vectors[left]) if why == "uncertain"]
    rest = np.setdiff1d(np.arange(len(texts)), likely)
    rest_size = size - len(likely)
    sub_share = min(1.0, size * random_share / rest_size) if rest_size else 0.0
    others = [(int(rest[i]), why) for i, why in select([texts[i] for i in rest], [article_ids[i] for i in rest], scores[rest],
                                                        rest_size, sub_share, per_article, rng, vectors[rest])] if rest_size else []
    total = len(others) + len(likely)
    it_o, it_l = iter(others), iter(likely)
    return [(next(it_l), "likely") if (k + 1) * len(likely) // total > k * len(likely) // total else next(it_o) for k in range(total)]


def _interleave(uncertain: list[int], drawn: list[int]) -> list[tuple[int, str]]:
    """Random picks at evenly spaced ranks (Bresenham), the uncertain ones in score order between them."""
    total = len(uncertain) + len(drawn)
    u, r = iter(uncertain), iter(drawn)
    out = []
    for k in range(total):
        is_random = (k + 1) * len(drawn) // total > k * len(drawn) // total
        out.append((next(r), "random") if is_random else (next(u), "uncertain"))
    return out


def check_parameters(size: int, random_share: float, per_article: int, topic_weight: float = TOPIC_WEIGHT,
                     positive_share: float = 0.0) -> None:
    if not 0 <= positive_share <= 1 or positive_share + random_share > 1:
        raise LabelError(f"--positive-share must be between 0 and 1 - --random-share ({1 - random_share:g}), not {positive_share}")
    if not 0 <= topic_weight <= 1:
        raise LabelError(f"--topic-weight must be between 0 and 1, not {topic_weight}")
    if size < 1:
        raise LabelError(f"--size must be 1 or more, not {size}")
    if not 0 <= random_share <= 1:
        raise LabelError(f"--random-share must be between 0 and 1, not {random_share}")
    if per_article < 1:
        raise LabelError(f"--per-article must be 1 or more, not {per_article}")


def build_queue(
    project: Project = Project(),
    model: str | Path | None = None,
    size: int = 100,
    random_share: float = 0.2,
    seed: int = 13,
    per_article: int = 3,
    out: str | Path | None = None,
    topic_weight: float = TOPIC_WEIGHT,
    positive_share: float = 0.0,
    positive_labels: tuple[str, ...] = tuple(RARE_WEIGHTS),
) -> dict:
    """Pick the project's next sentences to label with ``model`` (None: the project's current one)
    and write them to ``out`` (default ``queue.csv`` in ``project.labels``).

    Returns ``rows`` (rank, sentence_id, article_id, text, reason, score,
    ``p_<label>``, topic: "on-topic", "syria" or "other", suggested: the
    labels the model would tag), ``counts`` (corpus, labelled, held-out,
    held-out stories, short, pool, pool on topic, uncertain, random, suggested
    positives per label), ``makeup`` (per reason and in all: sentences, on the
    tag's on-topic flag, Syria coverage, pre-ticked per label), ``path``,
    ``model_id`` and ``warnings``.
    """
    import pandas as pd

    from pipeline.labels.pool import unlabelled_pool
    from pipeline.labels.store import is_store_name
    from pipeline.store import write_table
    from pipeline.model.loading import load_model
    from pipeline.model.selection import predict_proba

    from pipeline.model.relevance import article_topic

    check_parameters(size, random_share, per_article, topic_weight, positive_share)
    if unknown := sorted(set(positive_labels) - set(LABELS)):
        raise LabelError(f"unknown label(s) {', '.join(unknown)} for --positive-labels; use {', '.join(LABELS)}")
    labels_dir, corpus_root = project.labels, project.corpus
    path = Path(out) if out is not None else Path(labels_dir) / QUEUE_FILE
    if path.parent.resolve() == Path(labels_dir).resolve() and is_store_name(path.name):
        raise LabelError("a CSV with this name in the labels folder would be read as an annotator's label store; "
                         "name it queue*.csv or write it elsewhere", path)
    masks = unlabelled_pool(project)
    sents, pool = masks.sentences, masks.pool
    is_labelled, is_held, is_short = masks.labelled, masks.heldout | masks.heldout_story, masks.short
    if pool.empty:
        raise LabelError(f"nothing to queue: all {len(sents)} corpus sentences are labelled, in held-out articles or shorter "
                         f"than {MIN_WORDS} words; add articles to the corpus and run 'talks ingest'", corpus_root)

    m = load_model(model, project.models)
    labels, thresholds = m["labels"], m["thresholds"]
    # the topic is the article's, so every sentence of a pool article is tagged, labelled ones too
    tagged = sents[sents["article_id"].isin(set(pool["article_id"]))].reset_index(drop=True)
    all_texts = tagged["text"].tolist()
    P_all = np.vstack([predict_proba(m["pipeline"], all_texts[i:i + CHUNK]) for i in range(0, len(all_texts), CHUNK)])
    for j, lab in enumerate(labels):
        tagged[lab] = (P_all[:, j] >= thresholds[lab]).astype(int)
    topic = article_topic(tagged, labels)
    row_of = dict(zip(tagged["sentence_id"], range(len(tagged))))
    P = P_all[[row_of[sid] for sid in pool["sentence_id"]]]
    texts = pool["text"].tolist()
    kind = np.where(pool["article_id"].map(topic["on_topic"]).to_numpy(dtype=bool), "on-topic",
                    np.where(pool["article_id"].map(topic["syria_coverage"]).to_numpy(dtype=bool), "syria", "other"))
    scores = uncertainty_scores(P, thresholds, labels) * np.where(kind == "other", topic_weight, 1.0)
    weight = np.where(kind == "other", topic_weight, 1.0)
    picks = _with_likely(texts, pool["article_id"].tolist(), scores, P, labels, weight, min(size, len(pool)), random_share,
                         positive_share, per_article, np.random.default_rng(seed), positive_labels)

    out_rows = []
    for rank, (i, reason) in enumerate(picks, 1):
        out_rows.append({
            "rank": rank, "sentence_id": pool.at[i, "sentence_id"], "article_id": pool.at[i, "article_id"], "reason": reason,
            "score": round(float(scores[i]), 4), **{f"p_{lab}": round(float(P[i, j]), 4) for j, lab in enumerate(labels)},
            "topic": str(kind[i]), "text": texts[i], "suggested": [lab for j, lab in enumerate(labels) if P[i, j] >= thresholds[lab]],
        })
    columns = ["rank", "sentence_id", "article_id", "reason", "score", *(f"p_{lab}" for lab in labels), "topic", "text"]
    # Opened in spreadsheets too: formula-like text is neutralised (`talks label --queue` reads only sentence_id).
    write_table(pd.DataFrame(out_rows, columns=columns), path, spreadsheet=True)
    reasons = Counter(r["reason"] for r in out_rows)
    return {
        "rows": out_rows,
        "counts": {
            "corpus": int(len(sents)),
            "labelled": int(is_labelled.sum()),
            "heldout": int(is_held.sum()),
            "heldout_stories": int(masks.heldout_story.sum()),
            "short": int(is_short.sum()),
            "pool": int(len(pool)),
            "pool_topic": int((kind != "other").sum()),
            "uncertain": reasons["uncertain"],
            "random": reasons["random"],
            "likely": reasons["likely"],
            "suggested": {lab: sum(lab in r["suggested"] for r in out_rows) for lab in labels},
        },
        "makeup": queue_makeup(out_rows, labels),
        "path": str(path),
        "model_id": m["card"].get("model_id"),
        "warnings": m["warnings"],
    }


def queue_makeup(rows: list[dict], labels=LABELS) -> dict[str, dict]:
    """Per reason ("uncertain", "random", "likely" when asked for) and "all": sentences, how many are from on-topic
    articles, from Syria coverage (on-topic or Syria named twice), and pre-ticked per label."""
    out = {}
    parts = ("uncertain", "random", *(["likely"] if any(r["reason"] == "likely" for r in rows) else []), "all")
    for part in parts:
        sel = [r for r in rows if part == "all" or r["reason"] == part]
        out[part] = {"sentences": len(sel), "on_topic": sum(r["topic"] == "on-topic" for r in sel),
                     "syria_coverage": sum(r["topic"] != "other" for r in sel),
                     "suggested": {lab: sum(lab in r["suggested"] for r in sel) for lab in labels}}
    return out
