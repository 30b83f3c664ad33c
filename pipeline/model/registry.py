"""The model registry: which trained model is current, what was current when, and what a model name means.

``models/<model-id>/`` folders are the models; ``models/current`` names the
one ``tag`` uses; ``models/history.jsonl`` records every change of current
(one JSON object per line: time, model, the model it replaced, the action and
why), so a promotion can be rolled back and a report can say which model was
in use on a given day.  Both files are only written here.

A rollback line also says which earlier line it undid (``undoes``, its
0-based index in the history), so a second rollback steps further back
instead of flipping forward again.  History files written before ``undoes``
existed still work: an old rollback line is matched to the change it undid.

Wherever a model is named, ``current`` and ``previous`` (the model a rollback
would make current again) are accepted too (:func:`resolve_id`).  Whether a
newly trained model may become current is ``promotion.py``'s business.
"""
from __future__ import annotations

import difflib
import json
from datetime import datetime, timezone
from pathlib import Path

from pipeline.errors import ModelError
from pipeline.model.folder import ModelCard, load_card
from pipeline.store import append_log, atomic_write_text, read_log

CURRENT = "current"
PREVIOUS = "previous"
HISTORY = "history.jsonl"


def current_id(models_dir: str | Path = "models") -> str | None:
    """The id in ``models/current``; None when no model is current."""
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


def _in_force(history: list[dict]) -> list[int]:
    """Indices of the history lines still in force, oldest first: each rollback takes the newest one off.

    The last index is the change that made the current model current; its
    ``previous`` is what a rollback restores.
    """
    stack: list[int] = []
    for i, rec in enumerate(history):
        if rec.get("action") == "rollback":
            undone = rec.get("undoes")
            if undone is None and stack:
                # a line written before ``undoes`` existed: it undid the newest change that it reverses
                top = history[stack[-1]]
                if top.get("model_id") == rec.get("previous") and top.get("previous") == rec.get("model_id"):
                    undone = stack[-1]
            if undone is not None and stack and stack[-1] == undone:
                stack.pop()
                continue
        stack.append(i)
    return stack


def previous_id(models_dir: str | Path = "models") -> str | None:
    """The model that was current before the current one (what ``rollback`` would restore); None if unknown."""
    cur = current_id(models_dir)
    history = read_history(models_dir)
    stack = _in_force(history)
    if cur is None or not stack or history[stack[-1]].get("model_id") != cur:
        return None
    return history[stack[-1]].get("previous") or None


def model_ids(models_dir: str | Path = "models") -> list[str]:
    """Names of the model folders in ``models_dir`` (hidden ones are models being written), sorted."""
    d = Path(models_dir)
    if not d.is_dir():
        return []
    return sorted(p.name for p in d.iterdir() if p.is_dir() and not p.name.startswith(".") and (p / "card.json").is_file())


def did_you_mean(models_dir: str | Path, name: str) -> str:
    """The end of a "no such model" message: the closest model id if one is close, and where to look."""
    close = difflib.get_close_matches(str(name), model_ids(models_dir), n=1, cutoff=0.6)
    return f"; did you mean {close[0]}? (see 'talks models list')" if close else "; see 'talks models list'"


def resolve_id(models_dir: str | Path, name: str | None) -> str:
    """The model id a name means: None or ``current`` -> the current model, ``previous`` -> the one before it, else ``name``.

    Only the aliases are looked up; whether a folder of that id exists is the caller's check.
    """
    if name is None or str(name) == CURRENT:
        cur = current_id(models_dir)
        if cur is None:
            raise ModelError("no current model; train one with 'talks train' or pass --model", Path(models_dir) / CURRENT)
        return cur
    if str(name) == PREVIOUS:
        prev = previous_id(models_dir)
        if prev is None:
            raise ModelError("no previous model: the history does not say which model the current one replaced; "
                             "see 'talks models history'", Path(models_dir) / HISTORY)
        return prev
    return str(name)


def _model_folder(models_dir: str | Path, model: str | None) -> Path:
    model_id = resolve_id(models_dir, model)
    folder = Path(models_dir) / model_id
    if not (folder / "card.json").is_file():
        raise ModelError(f"no model {model_id!r} (no {folder}/card.json){did_you_mean(models_dir, model_id)}", folder)
    return folder


def read_card(models_dir: str | Path, model: str | None) -> ModelCard:
    """The card of a model named by id, ``current`` or ``previous`` (None: current)."""
    return load_card(_model_folder(models_dir, model) / "card.json")


def set_current(models_dir: str | Path, model_id: str, action: str, reason: str, **extra) -> dict:
    """Point ``models/current`` at ``model_id`` and append the change to the history; return the history line.

    ``extra`` fields go into the line (a rollback's ``undoes``).  The line is
    fsynced before ``current`` is replaced, so after a kill the history never
    lacks a change that took effect.
    """
    model_id = _model_folder(models_dir, model_id).name
    previous = current_id(models_dir)
    rec = {"time": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "action": action,
           "model_id": model_id, "previous": previous, "reason": reason, **extra}
    append_log(Path(models_dir) / HISTORY, rec)
    atomic_write_text(Path(models_dir) / CURRENT, model_id + "\n")
    return rec


def promote(models_dir: str | Path, model: str, reason: str = "promoted by hand") -> dict:
    """Make a model (id, ``previous``) current, unguarded; return the history line."""
    model_id = _model_folder(models_dir, model).name
    if current_id(models_dir) == model_id:
        raise ModelError(f"{model_id} is already current")
    return set_current(models_dir, model_id, "promote", reason)


def rollback(models_dir: str | Path = "models") -> dict:
    """Undo the change that made the current model current; return the history line.

    Repeated rollbacks walk back through the history, one change each.
    """
    cur = current_id(models_dir)
    if cur is None:
        raise ModelError("no current model to roll back from", Path(models_dir) / CURRENT)
    history = read_history(models_dir)
    stack = _in_force(history)
    if stack and history[stack[-1]].get("model_id") == cur and history[stack[-1]].get("previous"):
        last = stack[-1]
        return set_current(models_dir, history[last]["previous"], "rollback", f"rolled back from {cur}", undoes=last)
    raise ModelError(f"the history does not say which model {cur} replaced; use 'talks models promote MODEL'",
                     Path(models_dir) / HISTORY)


def list_models(models_dir: str | Path = "models") -> list[dict]:
    """Every model folder with its headline figures, newest first."""
    d = Path(models_dir)
    cur = current_id(d)
    rows = []
    for name in model_ids(d):
        try:
            card = read_card(d, name)
        except ModelError as e:
            rows.append({"model_id": name, "current": name == cur, "problem": str(e)})
            continue
        held = card.get("heldout") or {}
        rows.append({
            "model_id": card.get("model_id", name),
            "current": name == cur,
            "created": card.get("created"),
            "features": card.get("features"),
            "sentences": (card.get("training") or {}).get("sentences"),
            "heldout_macro_f1": ((held.get("metrics") or {}).get("macro") or {}).get("f1"),
            "heldout_version": (held.get("sha256") or "")[:12] or None,
        })
    rows.sort(key=lambda r: (r.get("created") or "", r["model_id"]), reverse=True)
    return rows
