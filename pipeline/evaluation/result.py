"""The evaluation dict both modes fill in the same way: metrics with article-bootstrap intervals,
baselines, precision-recall and reliability curves, worst errors and the data described.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, TypedDict

import numpy as np

from pipeline.evaluation.diagnostics import KEYWORDS, calibration, pr_curve, worst_errors
from pipeline.metrics import Comparison, Metrics, metric_block

if TYPE_CHECKING:  # pandas is imported lazily: the CLI starts faster without it
    import pandas as pd

SCHEMA_VERSION = 1


class Evaluation(TypedDict, total=False):
    """What ``talks evaluate`` measures, as written to ``metrics.json`` and drawn in the report.

    ``metrics`` has the one metric shape (:class:`~pipeline.metrics.Metrics`) with
    article-bootstrap intervals; ``baselines`` the same for the majority and
    keyword baselines.  The mode fills in ``mode``, ``model``, ``method`` and,
    in cross-validation, ``learning_curve``; comparing adds ``comparison``.
    """

    schema: int
    created: str
    mode: str
    labels: list[str]
    data: dict
    metrics: Metrics
    confusion: dict[str, dict[str, int]]
    baselines: dict[str, dict]
    curves: dict[str, dict]
    errors: dict
    warnings: list[str]
    model: dict
    parameters: dict
    thresholds: dict
    method: dict
    learning_curve: dict | None
    terms: dict
    comparison: Comparison
    simulation: dict


def assemble(gold: pd.DataFrame, Y: np.ndarray, P: np.ndarray, Yhat: np.ndarray, T: np.ndarray,
             groups: np.ndarray, labels: tuple[str, ...], n_boot: int, Ymaj: np.ndarray, Ykw: np.ndarray) -> Evaluation:
    """The parts both modes share: metrics, baselines, curves, errors, data description."""
    metrics = metric_block(Y, Yhat, groups, labels, n_boot)
    pr, cal = {}, {}
    for j, lab in enumerate(labels):
        m = metrics["per_label"][lab]
        thr = np.unique(T[:, j])
        # In CV each fold has its own cut-off; the marker is the pooled operating point they produce.
        pr[lab] = pr_curve(Y[:, j], P[:, j], (m["precision"], m["recall"], float(thr[0]) if len(thr) == 1 else float(np.median(T[:, j]))))
        cal[lab] = calibration(Y[:, j], P[:, j])
        m["average_precision"] = pr[lab]["average_precision"]
        m["brier"] = cal[lab]["brier"]
    baselines = {
        "majority": {**metric_block(Y, Ymaj, groups, labels, n_boot), "description": "each label's majority value"},
        "keywords": {**metric_block(Y, Ykw, groups, labels, n_boot), "description": "hand-written cue words per label (baseline only)",
                     "rules": {lab: list(KEYWORDS.get(lab, [])) for lab in labels}},
    }
    return {
        "schema": SCHEMA_VERSION,
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "labels": list(labels),
        "data": {"sentences": int(len(Y)), "articles": int(len(np.unique(groups))),
                 "positives": {lab: int(Y[:, j].sum()) for j, lab in enumerate(labels)}},
        "metrics": metrics,
        "confusion": {lab: {k: metrics["per_label"][lab][k] for k in ("tp", "fp", "fn", "tn")} for lab in labels},
        "baselines": baselines,
        "curves": {"pr": pr, "calibration": cal},
        "errors": worst_errors(gold, P, Yhat, T, labels),
        "warnings": [] if len(np.unique(groups)) >= 10 else
        [f"only {len(np.unique(groups))} articles: the bootstrap intervals are rough"],
    }
