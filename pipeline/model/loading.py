"""Loading a model folder, checked: the card's schema and format, the model file's sha256, the
library versions it was trained with; making a model current by hand once it loads (:func:`promote`);
and re-saving a folder of the pickle era as data (:func:`upgrade`, only on the user's word).
Which model is current, and the history, are ``registry.py``'s business.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import TypedDict

from pipeline.errors import ModelError
from pipeline.model.artefact import FORMAT, LEGACY_FILE, MODEL_FILE, SCHEMA_VERSION
from pipeline.model.features import uses_embeddings
from pipeline.model.folder import ModelCard, card_markdown, card_value, load_card
from pipeline.model.registry import CURRENT, PREVIOUS, current_id, did_you_mean, model_folder, resolve_id, set_current
from pipeline.store import atomic_write_text, sha256_file


def resolve_model(model: str | Path | None = None, models_dir: str | Path = "models") -> Path:
    """A model folder from a path, a model id, ``current`` or ``previous`` (None: current)."""

    models_dir = Path(models_dir)
    if model is not None and str(model) not in (CURRENT, PREVIOUS) and Path(model).is_dir():
        return Path(model)
    model_id = resolve_id(models_dir, None if model is None else str(model))
    p = models_dir / model_id
    if not p.is_dir():
        raise ModelError(f"no model folder {model_id!r}{did_you_mean(models_dir, model_id)}", p)
    return p


class LoadedModel(TypedDict):
    """A model folder loaded and checked: its card, the fitted pipeline, where it came from, and what to warn about."""

    card: ModelCard
    pipeline: object  # a fitted sklearn Pipeline
    thresholds: dict[str, float]
    labels: tuple[str, ...]
    path: Path
    file: Path
    warnings: list[str]


def load_model(model: str | Path | None = None, models_dir: str | Path = "models") -> LoadedModel:
    """Load a model folder as data, checking schema and the model file's sha256 against its card.

    The sha256 only catches accidents (anyone who can change the file can
    change the card); safety comes from the file being data (``artefact.load``).
    Returns a :class:`LoadedModel`.
    """
    from pipeline.model.artefact import load

    folder = resolve_model(model, models_dir)
    card_path, model_path = folder / "card.json", folder / MODEL_FILE
    if not card_path.exists():
        raise ModelError("model folder is incomplete; re-train with 'talks train'", card_path)
    card = load_card(card_path)
    if card.get("schema") != SCHEMA_VERSION or card.get("format") != FORMAT:
        if (folder / LEGACY_FILE).exists():
            raise ModelError("this model folder was saved by an older version as a pickle, which runs any code it holds when "
                             f"loaded; only if you trust where it came from, re-save it with `talks models upgrade {folder} --trust`, "
                             "else retrain", folder / LEGACY_FILE)
        raise ModelError(f"model schema {card.get('schema')}, format {card.get('format')} is not schema {SCHEMA_VERSION}, "
                         f"format {FORMAT}; re-train with this version", card_path)
    if not model_path.exists():
        raise ModelError("model folder is incomplete; re-train with 'talks train'", model_path)
    if uses_embeddings(str(card.get("features", ""))):
        from pipeline.model.embed import require_encoder

        require_encoder()
    if sha256_file(model_path) != card.get("sha256"):
        raise ModelError(f"{MODEL_FILE} does not match the sha256 in its card (changed or corrupted); re-train or restore it", model_path)
    art = load(model_path)
    return {"card": card, "pipeline": art["pipeline"], "thresholds": art["thresholds"], "labels": tuple(art["labels"]),
            "path": folder, "file": model_path, "warnings": _version_warnings(card, folder)}


def _version_warnings(card: dict, folder: Path) -> list[str]:
    """scikit-learn only promises to load its own version's pickles; say so when they differ."""
    import sklearn

    trained = card_value(card, "versions", "scikit-learn")
    if isinstance(trained, str) and trained.split(".")[:2] != sklearn.__version__.split(".")[:2]:
        return [f"{folder}: trained with scikit-learn {trained}, running {sklearn.__version__}; "
                "predictions may differ: retrain with 'talks train' or install the version in card.json"]
    return []


# --------------------------------------------------------------------------
# Making a model current by hand
# --------------------------------------------------------------------------
def promote(model: str | Path, models_dir: str | Path = "models", reason: str = "promoted by hand") -> dict:
    """Make a model folder inside ``models_dir`` current, unguarded by its scores; return the history line.

    ModelError, and ``current`` unchanged, unless the folder is inside
    ``models_dir`` (``registry.model_folder``) and loads as every command
    would load it: a model that cannot be loaded never becomes current, so
    ``tag`` never fails on what a promotion left.
    """
    folder = model_folder(models_dir, model)
    if current_id(models_dir) == folder.name:
        raise ModelError(f"{folder.name} is already current")
    load_model(folder)
    return set_current(models_dir, folder.name, "promote", reason)


# --------------------------------------------------------------------------
# Upgrading a schema-1 folder
# --------------------------------------------------------------------------
UPGRADE_RISK = ("loading a pickle runs any code it holds, with your permissions, and its sha256 in card.json proves "
                "nothing (whoever can change one can change the other)")


def upgrade(model: str | Path, models_dir: str | Path = "models", trust: bool = False,
            confirm: Callable[[Path, str], bool] | None = None) -> dict:
    """Re-save a schema-1 model folder's pickle as a skops file, in place; the model id stays.

    The pickle is loaded, which runs whatever code it holds: only with
    ``trust=True`` (the user's word that they trust the folder) or when
    ``confirm(pickle, risk)`` says yes; otherwise ModelError before the
    pickle is opened.  Returns ``{"model_id", "path", "upgraded"}``;
    ``upgraded`` is False when the folder already holds a skops file.
    """
    import joblib

    from pipeline.model.artefact import load, save

    folder = resolve_model(model, models_dir)
    card_path, legacy, new = folder / "card.json", folder / LEGACY_FILE, folder / MODEL_FILE
    card = load_card(card_path)
    out = {"model_id": card["model_id"], "path": folder}
    if card.get("format") == FORMAT:
        return {**out, "upgraded": False}
    if not legacy.is_file():
        raise ModelError(f"no {LEGACY_FILE} to upgrade; re-train with 'talks train'", legacy)
    if sha256_file(legacy) != card.get("sha256"):
        raise ModelError(f"{LEGACY_FILE} does not match the sha256 in its card (changed or corrupted); restore it or re-train", legacy)
    if not (trust or (confirm is not None and confirm(legacy, UPGRADE_RISK))):
        raise ModelError(f"not upgraded: {UPGRADE_RISK}; run it again with --trust only if you trust where this folder "
                         "came from, else retrain", legacy)
    from sklearn.pipeline import Pipeline

    art = joblib.load(legacy)
    if not (isinstance(art, dict) and isinstance(art.get("pipeline"), Pipeline)):
        raise ModelError(f"{LEGACY_FILE} does not hold a model (labels, thresholds and a scikit-learn Pipeline); retrain", legacy)
    save({**art, "schema": SCHEMA_VERSION}, new)
    load(new)  # the card points at the new file only once it loads as data
    card.update(schema=SCHEMA_VERSION, format=FORMAT, file=MODEL_FILE, sha256=sha256_file(new),
                upgraded={"from": LEGACY_FILE, "time": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")})
    atomic_write_text(card_path, json.dumps(card, indent=2) + "\n")
    atomic_write_text(folder / "card.md", card_markdown(card))
    legacy.unlink()
    return {**out, "upgraded": True}
