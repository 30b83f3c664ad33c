"""How far the model's label shares fall from hand-labelled shares, per label and period, on held-out articles the
model never trained on (``talks share-error``); and the held-out tags whose error rates ``talks trends`` puts in
its intervals.

The rates must come from articles the model did not learn from: the articles its card lists as held out, or, for
a card that lists only their number, the parts of the held-out set (how articles joined it, ``labels/heldout.csv``)
that add up to that number.  Each period's shares are compared with the hand-labelled share of the same sentences:

* ``raw``: the share the model tags (classify and count);
* ``rates``: the share implied by the tags and the error rates of the other periods' articles (tagged x precision
  + untagged x false omission rate): one end of the error-aware interval of ``talks trends`` reaches towards it;
* ``acc`` and ``pacc``: QuaPy's adjusted classify-and-count and its probabilistic variant, fitted on the other
  periods' articles.

A correction is adopted for a label only when its mean absolute error over the periods is below raw's in 97.5% of
the article resamples (the paired interval of the difference excludes 0).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline.analysis.periods import PERIODS, period_name, period_start
from pipeline.errors import PipelineError
from pipeline.labels.heldout import untrained_heldout
from pipeline.metrics import N_BOOT, article_bootstrap, ci95, error_interval, error_rates, with_error
from pipeline.project import Project
from pipeline.records import LABELS, SEED

CORRECTIONS = ("rates", "acc", "pacc")
ADOPT_BOOT = 200  # resamples of the adoption test: every one refits QuaPy's two methods per period and label


@dataclass
class HeldoutTags:
    """A model's tags on the held-out sentences it never trained on, with the hand labels: what error rates need."""

    model_id: str
    note: str  # which held-out articles, and why those
    labels: tuple[str, ...]
    article_ids: np.ndarray  # per sentence
    Y: np.ndarray  # hand labels (sentences, labels)
    Yhat: np.ndarray  # the model's tags
    P: np.ndarray  # its probabilities


@dataclass
class PeriodShares:
    """One label in one period of the held-out set: the hand-labelled share and each estimate of it."""

    period: str
    label: str
    articles: int
    sentences: int
    gold: float
    raw: float
    rates: float
    acc: float
    pacc: float
    ci: list[float]  # the raw share's article-bootstrap interval
    ci_error: list[float]  # the interval that also resamples the error rates (as talks trends draws it)


@dataclass
class LabelShareError:
    """One label over the periods: each estimate's mean absolute error, its paired difference from raw's, the
    correction adopted (None: raw shares stand), and how often each interval held the hand-labelled share."""

    mae: dict[str, float]
    difference: dict[str, list[float]]  # MAE(correction) - MAE(raw): point, 95% interval low, high
    adopted: str | None
    covered: int  # periods whose article-only interval holds the hand-labelled share
    covered_error: int  # the same for the error-aware interval
    periods: int


@dataclass
class ShareError:
    """``talks share-error``: the model's shares against hand-labelled shares per label and period, held-out text."""

    model_id: str
    note: str
    by: str
    articles: int
    sentences: int
    undated_articles: int
    n_boot: int
    cells: list[PeriodShares]
    labels: dict[str, LabelShareError]
    overall: dict[str, float] = field(default_factory=dict)  # MAE over labels and periods, per estimate


def heldout_tags(project: Project, model: str | Path | None = None, parts: tuple[str, ...] | None = None,
                 thresholds: dict[str, float] | None = None) -> HeldoutTags:
    """The model's tags (at its thresholds, or ``thresholds`` where given) on the held-out sentences it never
    trained on (:func:`untrained_heldout`)."""
    from pipeline.model.loading import load_model
    from pipeline.model.selection import apply_thresholds, predict_proba

    m = load_model(model, project.models)
    if tuple(m["labels"]) != tuple(LABELS):
        raise PipelineError(f"model labels {', '.join(m['labels'])} differ from {', '.join(LABELS)}", m["path"])
    df, note = untrained_heldout(project, m["card"], parts)
    P = predict_proba(m["pipeline"], df["text"].astype(str).tolist())
    return HeldoutTags(model_id=str(m["card"].get("model_id") or Path(m["path"]).name), note=note, labels=tuple(LABELS),
                       article_ids=df["article_id"].astype(str).to_numpy(), Y=df[list(LABELS)].to_numpy(dtype=int),
                       Yhat=apply_thresholds(P, {**m["thresholds"], **(thresholds or {})}, LABELS), P=P)


def tagging_model(project: Project, tags) -> tuple[HeldoutTags | None, str | None]:
    """(held-out tags, None) of the model that tagged ``tags`` (its ``model_id`` column, thresholds changed for the
    run included: ``cues-x+blame=0.4``), or (None, why not) when the file names no single model of the project
    or its held-out tags cannot be had."""
    ids = sorted(tags["model_id"].dropna().astype(str).unique()) if "model_id" in tags.columns else []
    if len(ids) != 1:
        return None, (f"the tags come from {len(ids)} models" if ids else "the tags name no model (no model_id column)")
    base, *changed = ids[0].split("+")
    try:
        thresholds = {lab: float(v) for lab, v in (c.split("=", 1) for c in changed)}
    except ValueError:
        return None, f"model id {ids[0]!r} is not <model>+<label>=<threshold>"
    if not base or not (Path(project.models) / base).is_dir() or base in ("current", "previous"):
        return None, f"model {base!r} is not a folder of {project.models}"
    try:
        return heldout_tags(project, base, thresholds=thresholds), None
    except PipelineError as e:
        return None, str(e)


def adopted_corrections(path: str | Path, model_id: str) -> dict[str, str]:
    """Label -> correction adopted for it in a ``talks share-error --out`` file of model ``model_id`` (labels where
    raw shares stood are absent)."""
    import json

    try:
        res = json.loads(Path(path).read_text(encoding="utf-8"))
        adopted = {lab: e["adopted"] for lab, e in res["labels"].items() if e["adopted"]}
        measured = res["model_id"]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise PipelineError(f"not a share-error file ({type(e).__name__}: {e}); write one with 'talks share-error --out FILE'",
                            path) from None
    if measured != model_id:
        raise PipelineError(f"measured for model {measured}, but the tags are {model_id}'s; run 'talks share-error --model "
                            f"{model_id} --out FILE'", path)
    if bad := sorted(set(adopted.values()) - set(CORRECTIONS)):
        raise PipelineError(f"unknown correction(s) {', '.join(map(str, bad))}; the corrections are {', '.join(CORRECTIONS)}", path)
    return adopted


def _quapy(method: str, fit_yhat, fit_p, fit_y, yhat, p) -> float:
    """QuaPy's ACC (on tags) or PACC (on probabilities) fitted on one set of sentences, applied to another: the
    estimated share of positives."""
    from sklearn.dummy import DummyClassifier
    from quapy.method.aggregative import ACC, PACC

    # The tags are already made: QuaPy only needs a fitted classifier that names the two classes.  Where the rates
    # cannot be inverted (as many true as false positives among the tagged), exact-cc keeps the share uncorrected.
    named = DummyClassifier().fit([[0], [1]], [0, 1])
    q = (ACC if method == "acc" else PACC)(named, fit_classifier=False, val_split=None, solver="exact-cc")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method == "acc":
            q.aggregation_fit(fit_yhat, fit_y)
            return float(q.aggregate(yhat)[1])
        q.aggregation_fit(np.c_[1 - fit_p, fit_p], fit_y)
        return float(q.aggregate(np.c_[1 - p, p])[1])


def _corrections(ht: HeldoutTags, fit: np.ndarray, j: int, yhat: np.ndarray, p: np.ndarray,
                 methods: tuple[str, ...] = CORRECTIONS) -> dict[str, float]:
    """The ``methods`` of correcting label j's share among sentences tagged ``yhat`` with probabilities ``p``, each
    fitted on the held-out sentences ``fit`` (indices)."""
    y_fit, yh_fit, p_fit = ht.Y[fit, j], ht.Yhat[fit, j], ht.P[fit, j]
    out = {m: _quapy(m, yh_fit, p_fit, y_fit, yhat, p) for m in methods if m != "rates"}
    if "rates" in methods:
        ppv, for_, _, _ = error_rates(y_fit[:, None], yh_fit[:, None], ht.article_ids[fit], n_boot=1)
        out["rates"] = float(with_error(yhat.mean(), ppv[0], for_[0]))
    return out


def _estimates(ht: HeldoutTags, inside: np.ndarray, outside: np.ndarray, j: int) -> dict[str, float]:
    """Each estimate of label j's share over the sentences ``inside`` (indices), corrections fitted on ``outside``."""
    return {"gold": float(ht.Y[inside, j].mean()), "raw": float(ht.Yhat[inside, j].mean()),
            **_corrections(ht, outside, j, ht.Yhat[inside, j], ht.P[inside, j])}


def corrected_share(ht: HeldoutTags, label: str, method: str, tagged: int, sentences: int, p_sum: float) -> float:
    """Label's share among ``sentences`` of which ``tagged`` carry it and whose probabilities sum to ``p_sum``, corrected
    by ``method`` (one of :data:`CORRECTIONS`) fitted on all of ``ht``: each method depends only on the share tagged
    (rates, ACC) or the mean probability (PACC), so the counts stand for the sentences."""
    yhat = np.r_[np.ones(tagged), np.zeros(sentences - tagged)]
    return _corrections(ht, np.arange(len(ht.Y)), ht.labels.index(label), yhat, np.full(sentences, p_sum / sentences),
                        (method,))[method]


def share_error(project: Project, model: str | Path | None = None, by: str = "month", parts: tuple[str, ...] | None = None,
                n_boot: int = ADOPT_BOOT, seed: int = SEED) -> ShareError:
    """The model's label shares against the hand-labelled shares of the held-out articles it never trained on, per
    label and period (``by``: day, week or month of the articles' dates); every correction is fitted on the other
    periods' articles.  Returns a :class:`ShareError` (undated held-out articles are left out and counted)."""
    import pandas as pd

    from pipeline.corpus.store import load_articles

    if by not in PERIODS:
        raise PipelineError(f"--by {by}: use one of {', '.join(PERIODS)}")
    if n_boot < 1:
        raise PipelineError("--n-boot must be 1 or more")
    ht = heldout_tags(project, model, parts)
    dates = {a.article_id: a.date for a in load_articles(project.corpus)}
    day = pd.to_datetime(pd.Series([str(dates.get(a) or "")[:10] for a in ht.article_ids]), format="%Y-%m-%d", errors="coerce")
    undated = int(pd.Series(ht.article_ids)[day.isna().to_numpy()].nunique())
    starts = period_start(day, by)
    period = np.array(["" if pd.isna(s) else str(period_name(s, by)) for s in starts], dtype=object)
    names = sorted(set(period) - {""})
    if len(names) < 2:
        raise PipelineError(f"the held-out articles fall in {len(names)} dated {by}(s); corrections are fitted on the other "
                            f"periods, so this needs two or more: try a shorter --by", project.labels / "heldout.csv")
    dated = np.flatnonzero(period != "")
    cells, point = [], {}
    for name in names:
        inside, outside = np.flatnonzero(period == name), dated[period[dated] != name]
        ests = [_estimates(ht, inside, outside, j) for j in range(len(ht.labels))]
        point.update({(name, lab): est for lab, est in zip(ht.labels, ests)})
        cells += _period_cells(ht, name, inside, outside, ests, seed)
    boot = _resampled_errors(ht, period, names, dated, n_boot, seed)
    labels, overall = {}, {}
    for j, lab in enumerate(ht.labels):
        err = {m: float(np.mean([abs(point[(n, lab)][m] - point[(n, lab)]["gold"]) for n in names])) for m in ("raw", *CORRECTIONS)}
        diff = {m: [round(err[m] - err["raw"], 4), *(round(v, 4) for v in ci95(boot[m][:, j] - boot["raw"][:, j]))] for m in CORRECTIONS}
        helps = [m for m in CORRECTIONS if diff[m][2] < 0]
        mine = [c for c in cells if c.label == lab]
        labels[lab] = LabelShareError(mae={m: round(v, 4) for m, v in err.items()}, difference=diff,
                                      adopted=min(helps, key=err.get) if helps else None,
                                      covered=sum(c.ci[0] <= c.gold <= c.ci[1] for c in mine),
                                      covered_error=sum(c.ci_error[0] <= c.gold <= c.ci_error[1] for c in mine), periods=len(mine))
    for m in ("raw", *CORRECTIONS):
        overall[m] = round(float(np.mean([labels[lab].mae[m] for lab in ht.labels])), 4)
    return ShareError(model_id=ht.model_id, note=ht.note, by=by, articles=int(len(set(ht.article_ids))), sentences=int(len(ht.Y)),
                      undated_articles=undated, n_boot=n_boot, cells=cells, labels=labels, overall=overall)


def _period_cells(ht: HeldoutTags, name: str, inside, outside, ests: list[dict], seed: int) -> list[PeriodShares]:
    """One period, a cell per label: the estimates, and the raw share's intervals without and with the error rates
    (the period's articles and the other periods' resampled independently, as ``talks trends`` does)."""
    ids = ht.article_ids[inside]
    arts, W = article_bootstrap(ids, N_BOOT, seed)
    _, codes = np.unique(ids, return_inverse=True)
    n = np.bincount(codes, minlength=len(arts)).astype(float)
    _, _, ppv_b, for_b = error_rates(ht.Y[outside], ht.Yhat[outside], ht.article_ids[outside], N_BOOT, seed + 1)
    cells = []
    for j, (lab, est) in enumerate(zip(ht.labels, ests)):
        share_b = (W @ np.bincount(codes, weights=ht.Yhat[inside, j], minlength=len(arts))) / (W @ n)
        cells.append(PeriodShares(period=name, label=lab, articles=len(arts), sentences=int(len(inside)),
                                  **{k: round(v, 4) for k, v in est.items()}, ci=[round(v, 4) for v in ci95(share_b)],
                                  ci_error=[round(v, 4) for v in error_interval(share_b, ppv_b[:, j], for_b[:, j])]))
    return cells


def _resampled_errors(ht: HeldoutTags, period, names, dated, n_boot: int, seed: int) -> dict[str, np.ndarray]:
    """Per estimate, its mean absolute error over the periods in each resample of the held-out articles: (n_boot, labels)."""
    arts, W = article_bootstrap(ht.article_ids[dated], n_boot, seed)
    _, codes = np.unique(ht.article_ids[dated], return_inverse=True)
    out = {m: np.zeros((n_boot, len(ht.labels))) for m in ("raw", *CORRECTIONS)}
    for b in range(n_boot):
        idx = np.repeat(dated, W[b, codes].astype(int))  # the sentences of the drawn articles, as often as drawn
        per = period[idx]
        present = [n for n in names if (per == n).any()]
        if len(present) < 2:
            continue
        for j in range(len(ht.labels)):
            errs = {m: [] for m in out}
            for name in present:
                est = _estimates(ht, idx[per == name], idx[per != name], j)
                for m in out:
                    errs[m].append(abs(est[m] - est["gold"]))
            for m in out:
                out[m][b, j] = np.mean(errs[m])
    return out
