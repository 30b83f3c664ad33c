"""The model folder ``models/<model-id>/``: ``model.skops`` (the fitted pipeline as data,
see ``artefact.py``) and the model card (``card.json``, ``card.md``), written whole or not at all.
"""
from __future__ import annotations

import json
import platform
from datetime import datetime, timezone
from pathlib import Path
from typing import TypedDict

import numpy as np

from pipeline.errors import ModelError
from pipeline.metrics import Metrics
from pipeline.model.artefact import FORMAT, LEGACY_FILE, MODEL_FILE, SCHEMA_VERSION
from pipeline.records import BIDI_CONTROLS, C1_CONTROLS, CONTROL_PICTURES, LABELS
from pipeline.store import atomic_write_text, sha256_file

# What a card or folder name must not send to a terminal: C0 controls and DEL
# (ESC starts escape sequences) as their control pictures, C1 controls and
# the bidirectional overrides (which make one name read as another) as U+FFFD.
_SHOWN = {**CONTROL_PICTURES, **{c: 0xFFFD for c in (*C1_CONTROLS, 0x200E, 0x200F, *BIDI_CONTROLS)}}
# The card fields code reads, and the JSON types each must have when present.
_CARD_TYPES: dict[tuple[str, ...], tuple[type, ...]] = {
    ("schema",): (int,), ("model_id",): (str,), ("created",): (str,), ("labels",): (list,), ("thresholds",): (dict,),
    ("features",): (str,), ("parameters",): (dict,), ("parameters", "C"): (int, float), ("parameters", "features"): (str,),
    ("selection",): (dict,), ("cv_metrics",): (dict,), ("training",): (dict,), ("training", "sentences"): (int,),
    ("versions",): (dict,), ("heldout",): (dict, type(None)), ("heldout", "metrics"): (dict,), ("heldout", "sha256"): (str,),
    ("format",): (str,), ("file",): (str,), ("sha256",): (str,), ("finetune",): (dict,),
}


def shown(text: str) -> str:
    """``text`` as it may reach a terminal: control and bidirectional characters made visible."""
    return str(text).translate(_SHOWN)


def card_value(card: dict, *keys: str):
    """The value at ``card[k1][k2]...``, or None where a key is missing or a level is not an object."""
    value = card
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


class ModelCard(TypedDict, total=False):
    """A model folder's ``card.json``: what the model is, how it was chosen and how good it is.

    ``cv_metrics`` are the selection's cross-validated figures (thresholds tuned
    on the same folds, so optimistic); ``heldout`` the fitted model's figures on
    the held-out set and that set's version, None without one; ``sha256`` is
    the model file's.  Fine-tuned models add ``finetune``.
    """

    schema: int
    model_id: str
    created: str
    labels: list[str]
    thresholds: dict[str, float]
    features: str
    parameters: dict
    selection: dict
    cv_metrics: Metrics
    training: dict
    versions: dict[str, str]
    heldout: dict | None
    format: str
    file: str
    sha256: str
    finetune: dict


def card_head(model_id: str, params: dict, thresholds: dict[str, float], encoder: dict | None) -> ModelCard:
    """The fields every model card starts with: its id, labels, thresholds and the estimator's parameters."""
    features = params["features"]
    return {
        "schema": SCHEMA_VERSION,
        "model_id": model_id,
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "labels": list(LABELS),
        "thresholds": thresholds,
        "features": features,
        "parameters": {**params, "estimator": "OneVsRest(LogisticRegression, class_weight=balanced, liblinear)",
                       "word_ngrams": [1, 2] if features.startswith("word") else None,
                       "char_wb_ngrams": [2, 5] if "char" in features else None,
                       "encoder": encoder},
    }


def training_facts(gold, Y: np.ndarray, groups, labels_dir: str | Path, labels_sha256: str) -> dict:
    """The card's account of the training data."""
    return {
        "labels_dir": str(labels_dir),
        "labels_sha256": labels_sha256,
        "sentences": int(len(gold)),
        "articles": int(gold["article_id"].nunique()),
        "stories": int(len(set(groups))),
        "positives": {lab: int(Y[:, j].sum()) for j, lab in enumerate(LABELS)},
        "guidelines_version": guidelines_version(labels_dir),
    }


def write_model_folder(models_dir: str | Path, pipeline, card: ModelCard, files: dict[str, Path] | None = None) -> ModelCard:
    """Write ``models/<card's model_id>/`` whole or not at all; return the card as written.

    ``files`` (name in the folder -> file to copy) go in first, then the
    fitted pipeline with the card's labels and thresholds as ``model.skops``
    and the card, completed with the model
    file's format, name and sha256, as ``card.json`` and ``card.md``.  All of
    it is written into a staging folder that takes the place of the model
    folder only once complete (:func:`~pipeline.store.atomic_folder`), so a
    kill leaves the old folder (or none), never half a model.
    """
    import shutil

    from pipeline.store import atomic_folder

    with atomic_folder(Path(models_dir) / card["model_id"]) as staging:
        for name, src in (files or {}).items():
            shutil.copyfile(src, staging / name)
        artefact = {"schema": SCHEMA_VERSION, "labels": card["labels"], "thresholds": card["thresholds"], "pipeline": pipeline}
        _dump(artefact, staging / MODEL_FILE)
        card = {**card, "format": FORMAT, "file": MODEL_FILE, "sha256": sha256_file(staging / MODEL_FILE)}
        atomic_write_text(staging / "card.json", json.dumps(card, indent=2) + "\n")
        atomic_write_text(staging / "card.md", card_markdown(card))
    return card


def _dump(obj, path: Path) -> None:
    from pipeline.model.artefact import save

    save(obj, path)


def library_versions() -> dict[str, str]:
    import joblib
    import nltk
    import pandas
    import sklearn
    import skops

    from pipeline import __version__

    return {
        "talks": __version__,
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "joblib": joblib.__version__,
        "skops": skops.__version__,
        "pandas": pandas.__version__,
        "nltk": nltk.__version__,
    }


def guidelines_version(labels_dir: str | Path) -> str | None:
    """The version line of ``labels/GUIDELINES.md`` ("Version: 1.1")."""
    import re

    path = Path(labels_dir) / "GUIDELINES.md"
    if not path.exists():
        return None
    m = re.search(r"^\**version\**:?\s*\**\s*([0-9][\w.]*)", path.read_text(encoding="utf-8"), flags=re.I | re.M)
    return m.group(1) if m else None


def load_card(path: str | Path) -> ModelCard:
    """A ``card.json`` as it may be shown: ModelError if it is not a JSON object or a field code reads has the wrong type.

    Its ``model_id`` is the folder's name, whatever the file says (a card
    cannot pose as another model), and every string in it, keys included, has
    its control characters made visible (:func:`shown`).  Cards written before
    there was one metric shape keep ``macro_f1`` and ``micro_f1`` beside
    ``per_label``: they are read as ``macro.f1`` and ``micro.f1``, so no
    reader needs to know both.
    """
    path = Path(path)
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, RecursionError) as e:
        raise ModelError(f"model card is not valid JSON ({str(e)[:200]}); re-train with 'talks train'", path) from None
    if not isinstance(card, dict):
        raise ModelError("model card is not a JSON object; re-train with 'talks train'", path)
    for keys, types in _CARD_TYPES.items():
        value = card_value(card, *keys)
        if value is not None and not isinstance(value, types) and (len(keys) == 1 or isinstance(card_value(card, *keys[:-1]), dict)):
            want = " or ".join("null" if t is type(None) else {"int": "a whole number", "float": "a number", "str": "text",
                                                               "dict": "an object", "list": "a list"}[t.__name__] for t in types)
            raise ModelError(f"model card field {'.'.join(keys)} is {type(value).__name__}, not {want}; "
                             "restore the card or re-train with 'talks train'", path)
    card = shown_json(card)
    card["model_id"] = shown(path.resolve().parent.name)
    cv = card.get("cv_metrics")
    if isinstance(cv, dict) and "macro_f1" in cv:
        card["cv_metrics"] = {"per_label": cv.get("per_label", {}), "micro": {"f1": cv.get("micro_f1")},
                              "macro": {"f1": cv["macro_f1"]}}
    return card


def shown_json(value):
    """A JSON value as it may be shown: :func:`shown` applied to every string in it, keys included."""
    todo: list = []
    out = _shown_level(value, todo)
    while todo:  # a loop, not recursion: a card nested thousands deep is still one value
        container = todo.pop()
        items = container.items() if isinstance(container, dict) else enumerate(container)
        for k, v in list(items):
            container[k] = _shown_level(v, todo)
    return out


def _shown_level(value, todo: list):
    if isinstance(value, str):
        return shown(value)
    if isinstance(value, dict):
        value = {shown(k): v for k, v in value.items()}
    elif isinstance(value, list):
        value = list(value)
    else:
        return value
    todo.append(value)
    return value


def card_markdown(card: ModelCard) -> str:
    """The card as Markdown (``card.md``, ``talks models show``); ModelError if a field it shows is missing or malformed."""
    try:
        return _markdown(card)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as e:
        raise ModelError(f"model card {card.get('model_id', '')} lacks a field 'talks models show' prints, or has one of "
                         f"the wrong kind ({type(e).__name__}: {shown(str(e))[:80]}); see it with 'talks models show --json', "
                         "restore it or re-train") from None


def _markdown(card: ModelCard) -> str:
    cv = card["cv_metrics"]
    lines = [
        f"# Model card: {card['model_id']}",
        "",
        f"Features: {card['features']}; one-vs-rest logistic regression, C={card['parameters']['C']}."
        + (f" Needs the embeddings extra ({card['parameters']['encoder']['id']})." if card["parameters"].get("encoder") else ""),
        f"Trained on {card['training']['sentences']} gold sentences from {card['training']['articles']} articles "
        f"(guidelines v{card['training']['guidelines_version']}, labels sha256 {card['training']['labels_sha256'][:12]}).",
        "",
        f"Cross-validated ({card['selection']['cv']}), thresholds tuned on the same out-of-fold",
        f"predictions (slightly optimistic; `talks evaluate` gives the nested figure): macro-F1 {cv['macro']['f1']:.3f}, micro-F1 {cv['micro']['f1']:.3f}.",
        "",
        "| label | threshold | precision | recall | F1 | support |",
        "|---|---|---|---|---|---|",
    ]
    for lab in card["labels"]:
        m = cv["per_label"][lab]
        lines.append(f"| {lab} | {card['thresholds'][lab]:.3f} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | {m['support']} |")
    held = card.get("heldout")
    if held:
        hm = held["metrics"]
        lines += ["", f"Held-out set (version {held['sha256'][:12]}: {held['sentences']} sentences from {held['articles']} articles "
                  "never used for training or selection), stored thresholds, 95% article-bootstrap intervals:", "",
                  "| label | F1 | 95% interval | support |", "|---|---|---|---|"]
        for lab in card["labels"]:
            m = hm["per_label"][lab]
            lines.append(f"| {lab} | {m['f1']:.3f} | [{m['f1_ci'][0]:.2f}, {m['f1_ci'][1]:.2f}] | {m['support']} |")
        lines.append(f"| **macro** | **{hm['macro']['f1']:.3f}** | [{hm['macro']['f1_ci'][0]:.2f}, {hm['macro']['f1_ci'][1]:.2f}] | |")
    else:
        lines += ["", "No held-out set when this model was trained (`talks heldout init` sets one aside)."]
    lines += ["", "Library versions: " + ", ".join(f"{k} {v}" for k, v in card["versions"].items()), "",
              f"{card.get('file', LEGACY_FILE)} sha256: `{card['sha256']}`", ""]
    return "\n".join(lines)
