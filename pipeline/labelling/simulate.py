"""Does the labelling queue beat random order?  A pool-based simulation on the gold labels.

Sits beside ``evaluate``: it needs only the gold labels, and its result
goes into the evaluation report (``talks evaluate --simulate``) or a JSON
file (``talks simulate``).

The gold sentences are split into a test part (the held-out articles of
``labels/heldout.csv``; without one, a fixed fifth of the articles, the
first fold of :func:`pipeline.model.selection.grouped_folds`) and a training part
that plays the unlabelled pool.  Per seed, both strategies start from the
same ``start`` random training sentences and then, ``rounds`` times:

1. fit a fresh fast model (word TF-IDF, C=4) on the sentences "labelled" so
   far; tune its thresholds on 3-fold article-grouped out-of-fold
   probabilities of those sentences (0.5 with fewer than 3 articles, and for
   a label with fewer than 5 positives so far), since thresholds tuned on
   in-sample probabilities are far too optimistic;
2. score macro-F1 and per-label F1 on the test part;
3. "label" ``step`` more sentences: **queue** asks
   :func:`pipeline.labelling.queue.select` (the very function ``talks queue`` uses:
   uncertainty above the relevance floor, article cap, no near duplicates,
   the random share), **random** draws uniformly.

By default (``step=None``) the rounds cover the pool: ``step`` is
``(pool - start) / rounds`` rounded down to a multiple of 50 (left as it is
below 50), so the curves run to (nearly) the whole pool, where the target
(a share of the whole-pool score) is within reach.  A fixed step falls
short as the gold grows: 24 steps of 50 got neither strategy there on
today's gold.

The result has, per strategy, the mean and min/max over seeds of macro-F1
at each number of labels, and how many labels each needed to reach
``target_share`` of the macro-F1 of a model trained on the whole training
part.  The junk filter of ``talks queue`` does not apply: gold has no junk.

Cost: every point is four fits (one model, three threshold folds) on at most
the training part, so for a given number of rounds the run grows in
proportion to the pool.  The six curves of the defaults (3 seeds x 2
strategies, 26 points each: 100 to 3,850 of the project's 3,959 gold
training sentences, in steps of 150) run in parallel, one worker process
per core: about two minutes on 2 cores.
"""
from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

from pipeline.errors import LabelError
from pipeline.labelling.queue import RELEVANCE_FLOOR, select, text_vectors, uncertainty_scores
from pipeline.records import LABELS
from pipeline.records import SEED
from pipeline.metrics import scores
from pipeline.model.selection import apply_thresholds, grouped_folds, oof_proba, predict_proba, tune_thresholds
from pipeline.model.features import make_pipeline
from pipeline.project import Project

FEATURES, C = "word", 4.0  # the fast configuration: the simulation compares orders, not models
SEEDS: tuple[int, ...] = (13, 14, 15)
START, ROUNDS = 100, 25
STEP_UNIT = 50  # the default step is a multiple of this: round figures on the curve
TARGET_SHARE = 0.95
INNER_SPLITS = 3
MIN_POSITIVES = 5  # fewer positives of a label in the labelled part: its threshold stays 0.5
STRATEGIES: tuple[str, ...] = ("queue", "random")


def simulate(
    project: Project = Project(),
    seeds: tuple[int, ...] = SEEDS,
    start: int = START,
    step: int | None = None,
    rounds: int = ROUNDS,
    random_share: float = 0.2,
    per_article: int = 3,
    target_share: float = TARGET_SHARE,
    progress: Callable[[int], None] | None = None,
    jobs: int | None = None,
) -> dict:
    """Learning curves of the queue and of random order on the gold labels (module docstring); JSON-serialisable.

    ``jobs`` worker processes run the curves (None or 0: one per core; 1: none).  ``progress`` gets one tick for
    the full-pool model and one per point of each curve, a curve's worth at a time."""
    from pipeline.labels.gold import gold_labels, labels_hash
    from pipeline.labels.heldout import heldout_path, split_gold
    from pipeline.labels.stories import with_stories

    if start < 1 or (step is not None and step < 1) or rounds < 1 or not seeds:
        raise LabelError("--start, --step, --rounds and --seeds must all be 1 or more")
    labels_dir = project.labels
    gold = with_stories(project, gold_labels(project))
    train_df, test_df = split_gold(gold, labels_dir)
    if test_df.empty:
        tr, te = grouped_folds(gold["story_id"].to_numpy())[0]
        train_df, test_df = gold.iloc[tr].reset_index(drop=True), gold.iloc[te].reset_index(drop=True)
        test_source = (f"no held-out set ({heldout_path(labels_dir)} missing): scored on a fixed fifth of the gold articles "
                       f"(the first article-grouped fold, seed {SEED})")
    else:
        test_source = f"the held-out articles of {heldout_path(labels_dir)}"
    step = _covering_step(len(train_df), start, rounds) if step is None else step
    if len(train_df) < start + step:
        raise LabelError(f"only {len(train_df)} gold training sentences; the simulation needs more than --start + --step "
                         f"({start + step}): label more, or lower them", labels_dir)

    texts = np.asarray(train_df["text"].tolist(), dtype=object)
    Y = train_df[list(LABELS)].to_numpy(dtype=int)
    groups = train_df["story_id"].to_numpy()
    test = (test_df["text"].tolist(), test_df[list(LABELS)].to_numpy(dtype=int))
    vectors = text_vectors(texts)
    _, _, full = _fit_and_score(texts, Y, groups, np.arange(len(texts)), test)
    if progress:
        progress(1)
    target = target_share * full["macro"]["f1"]

    tasks = [(strategy, int(seed)) for seed in seeds for strategy in STRATEGIES]
    curves = _curves(tasks, (start, texts, Y, groups, vectors, test, step, rounds, random_share, per_article), progress, jobs)
    runs: dict[str, list[dict]] = {s: [] for s in STRATEGIES}
    for (strategy, seed), curve in zip(tasks, curves):
        runs[strategy].append({"seed": seed, "labelled": [p["labelled"] for p in curve],
                               "macro_f1": [p["macro_f1"] for p in curve], "f1": [p["f1"] for p in curve],
                               "labels_to_target": _first_reaching([p["labelled"] for p in curve],
                                                                   [p["macro_f1"] for p in curve], target)})
    strategies = {s: _summarise(runs[s], target) for s in STRATEGIES}
    return {
        "method": (f"pool-based simulation on the gold labels: {len(seeds)} seed(s); both strategies start from the same "
                   f"{start} random sentences and add {step} per round for {rounds} rounds; a fresh {FEATURES} TF-IDF model "
                   f"(C={C:g}) per point, thresholds tuned on {INNER_SPLITS}-fold article-grouped out-of-fold probabilities "
                   "of the labelled sentences; queue = the 'talks queue' selection "
                   f"(uncertainty above a relevance floor of {RELEVANCE_FLOOR:g}, random share {random_share:g}, "
                   f"at most {per_article} per article, no near duplicates), random = uniform draws."),
        "test": {"source": test_source, "sentences": int(len(test_df)), "articles": int(test_df["article_id"].nunique())},
        "pool": {"sentences": int(len(train_df)), "articles": int(train_df["article_id"].nunique())},
        "labels_sha256": labels_hash(gold),  # which gold labels the figures come from
        "parameters": {"seeds": [int(s) for s in seeds], "start": start, "step": step, "rounds": rounds, "random_share": random_share,
                       "per_article": per_article, "features": FEATURES, "C": C, "target_share": target_share},
        "full": {"labelled": int(len(train_df)), "macro_f1": _r(full["macro"]["f1"]),
                 "f1": {lab: _r(full["per_label"][lab]["f1"]) for lab in LABELS}},
        "target": {"share": target_share, "macro_f1": _r(target)},
        "strategies": strategies,
        "verdict": _verdict(strategies, target_share, target),
        "labels": list(LABELS),
    }


def _covering_step(pool: int, start: int, rounds: int) -> int:
    """The step that covers ``pool`` in ``rounds`` rounds after ``start``: down to a multiple of STEP_UNIT, at least 1."""
    step = (pool - start) // rounds
    return step - step % STEP_UNIT if step >= STEP_UNIT else max(step, 1)


def _curves(tasks: list[tuple[str, int]], common: tuple, progress, jobs: int | None) -> list[list[dict]]:
    """The curve of each (strategy, seed) in ``tasks``, in task order; in worker processes when there is more than one core."""
    import os

    n_jobs = min(len(tasks), jobs or os.cpu_count() or 1)
    if n_jobs <= 1:
        gen = (_run(*task, *common) for task in tasks)
    else:
        from joblib import Parallel, delayed

        gen = Parallel(n_jobs=n_jobs, return_as="generator")(delayed(_run)(*task, *common) for task in tasks)
    curves = []
    for curve in gen:  # tick a curve's points as it finishes: the total stays one per point
        curves.append(curve)
        if progress:
            progress(len(curve))
    return curves


def _run(strategy, seed, start, texts, Y, groups, vectors, test, step, rounds, random_share, per_article) -> list[dict]:
    """One learning curve: fit, score, pick ``step`` more, ``rounds`` times (fewer if the pool runs out).

    The start set depends on the seed alone, so both strategies of a seed share it; each curve has its own
    generator, so the result does not depend on which process runs it."""
    labelled = [int(i) for i in np.random.default_rng(seed).choice(len(texts), size=start, replace=False)]
    rng = np.random.default_rng([seed, 1])
    curve = []
    for r in range(rounds + 1):
        idx = np.array(labelled)
        model, thresholds, sc = _fit_and_score(texts, Y, groups, idx, test)
        curve.append({"labelled": len(idx), "macro_f1": _r(sc["macro"]["f1"]),
                      "f1": {lab: _r(sc["per_label"][lab]["f1"]) for lab in LABELS}})
        pool = np.setdiff1d(np.arange(len(texts)), idx)
        if r == rounds or not len(pool):
            break
        if strategy == "queue":
            P = predict_proba(model, texts[pool])
            picks = select(texts[pool], groups[pool], uncertainty_scores(P, thresholds), step, random_share, per_article, rng,
                           vectors=vectors[pool])
            labelled += [int(pool[i]) for i, _ in picks]
        else:
            labelled += [int(i) for i in rng.choice(pool, size=min(step, len(pool)), replace=False)]
    return curve


def _fit_and_score(texts, Y, groups, idx, test) -> tuple[object, dict, dict]:
    """A model fitted on ``idx``, its out-of-fold thresholds, and its scores on the test part."""
    factory = lambda: make_pipeline(FEATURES, C=C)  # noqa: E731
    with warnings.catch_warnings():
        # a label with no positives in a few labelled sentences (or an inner fold of them) is expected here
        warnings.simplefilter("ignore", UserWarning)
        model = factory().fit(texts[idx], Y[idx])
        thresholds = {lab: 0.5 for lab in LABELS}  # the neutral cut (classes are balanced by weight)
        if len(set(groups[idx])) >= INNER_SPLITS:
            folds = grouped_folds(groups[idx], INNER_SPLITS)
            tuned = tune_thresholds(Y[idx], oof_proba(factory, texts[idx], Y[idx], folds))
            # with a handful of positives, a fold without any predicts 0 for them and the "best" cut is 0: everything
            # positive, and the queue would then rank the surest negatives as the most uncertain
            thresholds.update({lab: tuned[lab] for j, lab in enumerate(LABELS) if Y[idx, j].sum() >= MIN_POSITIVES})
    test_texts, test_Y = test
    return model, thresholds, scores(test_Y, apply_thresholds(predict_proba(model, test_texts), thresholds))


def _first_reaching(counts: list[int], values: list[float], target: float) -> int | None:
    return next((c for c, v in zip(counts, values) if v >= target - 1e-9), None)


def _summarise(runs: list[dict], target: float) -> dict:
    counts = runs[0]["labelled"]
    M = np.array([r["macro_f1"] for r in runs])  # seeds x points
    mean = M.mean(axis=0)
    x = np.asarray(counts, dtype=float)
    per_seed = [r["labels_to_target"] for r in runs]
    return {
        "points": [{"labelled": c, "macro_f1": _r(mean[k]), "macro_f1_min": _r(M[:, k].min()), "macro_f1_max": _r(M[:, k].max()),
                    "f1": {lab: _r(np.mean([r["f1"][k][lab] for r in runs])) for lab in LABELS}} for k, c in enumerate(counts)],
        # area under the mean curve divided by its width: one number per strategy, higher is better
        "area": _r(float(np.sum((mean[1:] + mean[:-1]) / 2 * np.diff(x)) / (x[-1] - x[0])) if len(x) > 1 else mean[0]),
        "labels_to_target": _first_reaching(counts, list(mean), target),
        "labels_to_target_per_seed": per_seed,
        "labels_to_target_seed_mean": None if None in per_seed else _r(float(np.mean(per_seed)), 1),
        "runs": runs,
    }


def _verdict(strategies: dict, share: float, target: float) -> str:
    q, r = strategies["queue"]["labels_to_target"], strategies["random"]["labels_to_target"]
    head = f"labels needed to reach {share:.0%} of the full-data macro-F1 ({target:.3f}, mean curve over seeds)"
    if q is None and r is None:
        return f"{head}: neither strategy got there within the simulated rounds"
    if q is None or r is None:
        winner, n = ("queue", q) if r is None else ("random order", r)
        return f"{head}: only {winner} got there ({n} labels)"
    if q == r:
        return f"{head}: {q} for both, no saving from the queue"
    return f"{head}: queue {q}, random order {r}; the queue {'saves' if q < r else 'costs'} {abs(r - q)} labels ({abs(r - q) / r:.0%})"


def _r(v, nd: int = 4) -> float:
    return round(float(v), nd)
