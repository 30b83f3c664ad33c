"""The model registry: which trained model is current, and what was current when.

``models/<model-id>/`` folders are the models; ``models/current`` names the
one ``tag`` uses; ``models/history.jsonl`` records every change of current
(one JSON object per line: time, model, the model it replaced, the action and
why), so a promotion can be rolled back and a report can say which model was
in use on a given day.  Both files are only written here.

Promotion after training is guarded: the new model is compared with the
current one on the held-out set (``compare.compare_models``) and becomes
current only if it is not significantly worse, i.e. the 95% paired bootstrap
interval of its macro-F1 difference does not lie wholly below zero.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from pipeline.errors import ModelError
from pipeline.store import append_log, atomic_write_text, read_log

CURRENT = "current"
HISTORY = "history.jsonl"


def current_id(models_dir: str | Path = "models") -> str | None:
    path = Path(models_dir) / CURRENT
    if not path.exists():
        return None
    return path.read_text(encoding="utf-8").strip() or None


def read_history(models_dir: str | Path = "models") -> list[dict]:
    """Every recorded change of the current model, oldest first (a torn last line is ignored)."""
    path = Path(models_dir) / HISTORY
    records, bad = read_log(path)
    if bad is not None:
        raise ModelError("unreadable history line; delete it", path, bad)
    return [rec for _, rec in records]


def _model_folder(models_dir: str | Path, model_id: str) -> Path:
    folder = Path(models_dir) / model_id
    if not (folder / "card.json").is_file():
        raise ModelError(f"no model {model_id!r} (no {folder}/card.json); see 'talks models list'", folder)
    return folder


def read_card(models_dir: str | Path, model_id: str) -> dict:
    return load_card(_model_folder(models_dir, model_id) / "card.json")


def load_card(path: str | Path) -> dict:
    """A ``card.json`` as a dict; ModelError if it is not valid JSON or not a JSON object."""
    path = Path(path)
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as e:
        raise ModelError(f"model card is not valid JSON ({e}); re-train with 'talks train'", path) from None
    if not isinstance(card, dict):
        raise ModelError("model card is not a JSON object; re-train with 'talks train'", path)
    return card


def set_current(models_dir: str | Path, model_id: str, action: str, reason: str) -> dict:
    """Point ``models/current`` at ``model_id`` and append the change to the history.

    The history line is fsynced before ``current`` is replaced, so after a
    kill the history never lacks a change that took effect.
    """
    _model_folder(models_dir, model_id)
    previous = current_id(models_dir)
    rec = {"time": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "action": action,
           "model_id": model_id, "previous": previous, "reason": reason}
    append_log(Path(models_dir) / HISTORY, rec)
    atomic_write_text(Path(models_dir) / CURRENT, model_id + "\n")
    return rec


def promote(models_dir: str | Path, model_id: str, reason: str = "promoted by hand") -> dict:
    if current_id(models_dir) == model_id:
        raise ModelError(f"{model_id} is already current")
    return set_current(models_dir, model_id, "promote", reason)


def rollback(models_dir: str | Path = "models") -> dict:
    """Make current again the model that the current one replaced."""
    cur = current_id(models_dir)
    if cur is None:
        raise ModelError("no current model to roll back from", Path(models_dir) / CURRENT)
    for rec in reversed(read_history(models_dir)):
        if rec.get("model_id") == cur and rec.get("previous"):
            return set_current(models_dir, rec["previous"], "rollback", f"rolled back from {cur}")
    raise ModelError(f"the history does not say which model {cur} replaced; use 'talks models promote MODEL'",
                     Path(models_dir) / HISTORY)


def list_models(models_dir: str | Path = "models") -> list[dict]:
    """Every model folder with its headline figures, newest first."""
    d = Path(models_dir)
    cur = current_id(d)
    rows = []
    # A hidden folder is a model being written (or left by a killed run), not a model.
    for folder in sorted(p for p in d.iterdir() if (p / "card.json").is_file() and not p.name.startswith(".")) if d.is_dir() else []:
        try:
            card = read_card(d, folder.name)
        except ModelError as e:
            rows.append({"model_id": folder.name, "current": folder.name == cur, "problem": str(e)})
            continue
        held = card.get("heldout") or {}
        rows.append({
            "model_id": card.get("model_id", folder.name),
            "current": folder.name == cur,
            "created": card.get("created"),
            "features": card.get("features"),
            "sentences": (card.get("training") or {}).get("sentences"),
            "heldout_macro_f1": ((held.get("metrics") or {}).get("macro") or {}).get("f1"),
            "heldout_version": (held.get("sha256") or "")[:12] or None,
        })
    rows.sort(key=lambda r: (r.get("created") or "", r["model_id"]), reverse=True)
    return rows


def promotion_decision(comparison: dict | None, force: bool = False) -> tuple[bool, str]:
    """(promote?, why) from a ``compare_models`` result of current (a) against new (b)."""
    if force:
        return True, "--force"
    if comparison is None:
        return True, "no current model to compare with"
    d = comparison["difference"]
    lo, hi = d["macro_f1_ci"]
    if comparison["models"][0].get("heldout_at_training") is None and "heldout" in comparison:
        return True, (f"the current model predates the held-out set and may have been trained on it, so its held-out "
                      f"score is inflated (macro-F1 {d['macro_f1']:+.3f} [{lo:+.3f}, {hi:+.3f}]) and cannot veto")
    if hi < 0:
        return False, (f"significantly worse on the held-out set: macro-F1 {d['macro_f1']:+.3f} [{lo:+.3f}, {hi:+.3f}]; "
                       "kept the current model (use --force, or 'talks models promote', to override)")
    return True, f"not significantly worse on the held-out set: macro-F1 {d['macro_f1']:+.3f} [{lo:+.3f}, {hi:+.3f}]"
