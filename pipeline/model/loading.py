"""Loading a model folder, checked: the card's schema and format, the model file's sha256, the
library versions it was trained with; and re-saving a folder of the pickle era as data (:func:`upgrade`).
Which model is current is ``registry.py``'s business.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import TypedDict

from pipeline.errors import ModelError
from pipeline.model.artefact import FORMAT, LEGACY_FILE, MODEL_FILE, SCHEMA_VERSION
from pipeline.model.features import uses_embeddings
from pipeline.model.folder import ModelCard, card_markdown, load_card
from pipeline.model.registry import CURRENT, PREVIOUS, did_you_mean, resolve_id
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
            raise ModelError("this model folder was saved by an older version as a pickle, which can run code when loaded; "
                             f"re-save it with `talks models upgrade {folder}` if you trust it, or retrain", folder / LEGACY_FILE)
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

    trained = card.get("versions", {}).get("scikit-learn")
    if trained and trained.split(".")[:2] != sklearn.__version__.split(".")[:2]:
        return [f"{folder}: trained with scikit-learn {trained}, running {sklearn.__version__}; "
                "predictions may differ: retrain with 'talks train' or install the version in card.json"]
    return []


# --------------------------------------------------------------------------
# Upgrading a schema-1 folder
# --------------------------------------------------------------------------
def upgrade(model: str | Path, models_dir: str | Path = "models") -> dict:
    """Re-save a schema-1 model folder's pickle as a skops file, in place; the model id stays.

    The pickle is loaded, which runs whatever code it holds: only for folders
    the user trusts (that is what calling this says).  Returns
    ``{"model_id", "path", "upgraded"}``; ``upgraded`` is False when the
    folder already holds a skops file.
    """
    import joblib

    from pipeline.model.artefact import load, save

    folder = resolve_model(model, models_dir)
    card_path, legacy, new = folder / "card.json", folder / LEGACY_FILE, folder / MODEL_FILE
    card = load_card(card_path)
    out = {"model_id": card.get("model_id") or folder.name, "path": folder}
    if card.get("format") == FORMAT:
        return {**out, "upgraded": False}
    if not legacy.is_file():
        raise ModelError(f"no {LEGACY_FILE} to upgrade; re-train with 'talks train'", legacy)
    if sha256_file(legacy) != card.get("sha256"):
        raise ModelError(f"{LEGACY_FILE} does not match the sha256 in its card (changed or corrupted); restore it or re-train", legacy)
    save({**joblib.load(legacy), "schema": SCHEMA_VERSION}, new)
    load(new)  # the card points at the new file only once it loads as data
    card.update(schema=SCHEMA_VERSION, format=FORMAT, file=MODEL_FILE, sha256=sha256_file(new),
                upgraded={"from": LEGACY_FILE, "time": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")})
    atomic_write_text(card_path, json.dumps(card, indent=2) + "\n")
    atomic_write_text(folder / "card.md", card_markdown(card))
    legacy.unlink()
    return {**out, "upgraded": True}
