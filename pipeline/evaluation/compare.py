"""``talks compare A B``: two trained models, as they are, on data neither trained on.

Both models predict the same sentences (the project's held-out set, or a
label-store CSV given with ``data``) with their own stored thresholds.  The
result has each model's per-label and macro F1 with article-bootstrap
intervals, the paired difference B - A with its interval (the same article
resamples for both models), and the sentences whose predicted labels
changed, marked as fixed (B now agrees with the gold label) or broken.

Nothing is refitted: a model retrained on more labels is compared as it
was trained, which is what deciding whether to replace the old one needs.
A model whose card does not record the held-out set it was kept away from
may have been trained on these very sentences; the result warns about it.
With ``data``, sentences of the file that are gold labels a model was
trained on make its score optimistic, and by an amount that differs between
the models: the result then warns, names how many, and draws no verdict.
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.errors import LabelError, ModelError, PipelineError
from pipeline.labels.heldout import METHODS, heldout_articles, heldout_gold, heldout_methods, heldout_version, read_heldout, split_gold
from pipeline.metrics import N_BOOT, Comparison, compare_predictions
from pipeline.project import Project
from pipeline.records import LABELS
from pipeline.model.selection import apply_thresholds, predict_proba
from pipeline.model.loading import load_model

MAX_CHANGED = 200  # changed sentences listed in full; the count is always exact


def scoring_data(project: Project, data: str | Path | None = None, parts: tuple[str, ...] | None = None):
    """(gold frame, description): the project's held-out gold (only the articles that joined it by one of
    ``parts``, :data:`~pipeline.labels.heldout.METHODS`, if given), or the label-store CSV ``data``."""
    if data is not None:
        if parts:
            raise LabelError("--parts selects parts of the project's held-out set; it does not go with --data")
        df, _ = read_heldout(data, LABELS)
        return df, f"the held-out file {data}"
    df = heldout_gold(project)
    if parts:
        if unknown := sorted(set(parts) - set(METHODS)):
            raise LabelError(f"unknown held-out part(s) {', '.join(unknown)}; the parts are {', '.join(METHODS)}")
        method = df["article_id"].map(heldout_methods(project.labels))
        df = df[method.isin(parts).to_numpy()].reset_index(drop=True)
        if df.empty:
            raise LabelError(f"no held-out gold in the part(s) {', '.join(parts)}", project.labels / "heldout.csv")
        return df, f"the {' and '.join(parts)} part(s) of the project's held-out set ({project.labels}/heldout.csv)"
    return df, f"the project's held-out set ({project.labels}/heldout.csv)"


def compare_models(
    a: str | Path | None,
    b: str | Path,
    project: Project = Project(),
    data: str | Path | None = None,
    n_boot: int = N_BOOT,
    parts: tuple[str, ...] | None = None,
) -> Comparison:
    """Score models ``a`` (None: current) and ``b`` as they are on the same sentences; B - A paired.

    Models are named by id, folder, ``current`` or ``previous`` (in
    ``project.models``); the sentences are the project's held-out gold (only
    the articles both models held out, when their cards list them and the set
    has grown since; only the ``parts`` named, if any) unless ``data`` names a
    label-store CSV.  Returns the
    ``metrics.compare_predictions`` result plus ``source``, ``a``, ``b``,
    ``difference`` (B's, with its ``verdict``), ``changed`` (the sentences whose
    labels changed), ``warnings``, and with ``data``: ``overlap``, the number of
    the file's sentences each model was trained on (a verdict is drawn only
    when every count is 0).
    """
    models = [load_model(m, project.models) for m in (a, b)]
    for m in models:
        if tuple(m["labels"]) != tuple(LABELS):
            raise ModelError(f"model labels {', '.join(m['labels'])} differ from {', '.join(LABELS)}; cannot compare", m["path"])
    df, source = scoring_data(project, data, parts)
    if data is None and not parts:
        # a held-out set only grows: articles added after a model was trained may be in its training data
        held_then = [set(ids) for m in models if (ids := (m["card"].get("heldout") or {}).get("article_ids"))]
        if len(held_then) == 2 and not set(df["article_id"]) <= set.intersection(*held_then):
            both = set.intersection(*held_then)
            df = df[df["article_id"].isin(both).to_numpy()].reset_index(drop=True)
            if df.empty:
                raise LabelError("the two models held out no articles in common; compare them with --data FILE")
            source += f", only the {df['article_id'].nunique()} articles both models held out"
    texts = df["text"].astype(str).tolist()
    Y = df[list(LABELS)].to_numpy(dtype=int)
    groups = df["article_id"].astype(str).to_numpy()
    probs, entries = [], []
    for m in models:
        P = predict_proba(m["pipeline"], texts)
        probs.append(P)
        card = m["card"]
        entries.append({"info": {"model_id": card.get("model_id") or Path(m["path"]).name, "path": str(m["path"]),
                                 "features": card.get("features")},
                        "Yhat": apply_thresholds(P, m["thresholds"])})
    comp = compare_predictions(Y, groups, entries, LABELS, n_boot)
    a_row, b_row = comp["models"]
    warnings = [w for m in models for w in m["warnings"]]
    if data is None:
        version = heldout_version(df)
        for m, row in zip(models, comp["models"]):
            row["heldout_at_training"] = (m["card"].get("heldout") or {}).get("sha256")
            if not m["card"].get("heldout"):
                warnings.append(f"{row['model_id']} was trained before the held-out set existed and may have been trained on "
                                "these articles: its figures here are optimistic")
            elif not parts and not (m["card"].get("heldout") or {}).get("article_ids") \
                    and row["heldout_at_training"] != heldout_version(heldout_gold(project))["sha256"]:
                warnings.append(f"{row['model_id']} was scored at training on another version of the held-out set: articles "
                                "added to it since may have been in its training data, so its figures here may be optimistic; "
                                "compare on the parts it held out too (e.g. --parts stratified,hand-picked)")
        comp["heldout"] = version
        comp["heldout_articles"] = sorted(heldout_articles(project.labels))
    else:
        comp["overlap"] = _training_overlap(df, models, comp["models"], project)
        if any(comp["overlap"].values()):
            which = ", ".join(f"{n} of {mid}'s" for mid, n in comp["overlap"].items() if n)
            warnings.append(f"{which} training sentences (as the gold labels in {project.labels} stand now) are among the "
                            f"{len(df)} sentences of {data}: scores on sentences a model learnt are optimistic, so no verdict; "
                            "compare on sentences neither model was trained on")
            b_row["difference"]["verdict"] = (f"no verdict: {source} holds training sentences of "
                                              f"{' and '.join(mid for mid, n in comp['overlap'].items() if n)}")
    comp.update({
        "source": source,
        "a": a_row["model_id"],
        "b": b_row["model_id"],
        "difference": b_row["difference"],
        "changed": changed_sentences(df, Y, entries[0]["Yhat"], entries[1]["Yhat"], probs[0], probs[1]),
        "warnings": warnings,
    })
    return comp


def gold_overlap(sentence_ids: Iterable[str], project: Project | None) -> dict[str, int]:
    """How many of ``sentence_ids`` are the project's gold labels: ``{"gold": all of them, "training": those outside the held-out articles}``.

    A model trained after the held-out set existed learnt the ``training``
    ones; an older model may have learnt every ``gold`` one.  Both are 0 when
    there are no usable gold labels (nothing to overlap with), or no ``project``.
    """
    none = {"gold": 0, "training": 0}
    if project is None or not Path(project.labels).is_dir():
        return none
    try:
        from pipeline.labels.gold import gold_labels

        gold = gold_labels(project)
    except PipelineError:
        return none
    ids = pd.Series(list(sentence_ids), dtype=str)
    return {"gold": int(ids.isin(set(gold["sentence_id"].astype(str))).sum()),
            "training": int(ids.isin(set(split_gold(gold, project.labels)[0]["sentence_id"].astype(str))).sum())}


def _training_overlap(df, models: list[dict], rows: list[dict], project: Project) -> dict[str, int]:
    """Per model id: the sentences of ``df`` it was (or, trained before the held-out set, may have been) trained on."""
    counts = gold_overlap(df["sentence_id"], project)
    return {row["model_id"]: counts["training" if m["card"].get("heldout") else "gold"] for m, row in zip(models, rows)}


def changed_sentences(df, Y, Ya, Yb, Pa, Pb, limit: int = MAX_CHANGED) -> dict:
    """Sentences whose predicted labels differ between A and B, with which changes fixed or broke a label."""
    rows = []
    fixed = broken = 0
    for i in np.flatnonzero((Ya != Yb).any(axis=1)):
        changes = []
        for j, lab in enumerate(LABELS):
            if Ya[i, j] == Yb[i, j]:
                continue
            good = Yb[i, j] == Y[i, j]
            fixed += int(good)
            broken += int(not good)
            changes.append({"label": lab, "a": int(Ya[i, j]), "b": int(Yb[i, j]), "gold": int(Y[i, j]),
                            "p_a": round(float(Pa[i, j]), 4), "p_b": round(float(Pb[i, j]), 4),
                            "effect": "fixed" if good else "broken"})
        rows.append({"sentence_id": str(df["sentence_id"].iloc[i]), "article_id": str(df["article_id"].iloc[i]),
                     "text": str(df["text"].iloc[i]), "changes": changes})
    # broken first: what a reviewer must look at before accepting the new model
    rows.sort(key=lambda r: (-sum(c["effect"] == "broken" for c in r["changes"]), r["sentence_id"]))
    return {"sentences": len(rows), "label_changes_fixed": fixed, "label_changes_broken": broken, "rows": rows[:limit]}
