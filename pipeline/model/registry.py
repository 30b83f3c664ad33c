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
newly trained model may become current is ``promotion.py``'s business; a
promotion by hand loads the model first (``loading.promote``).

``current`` and the history only ever name a folder directly inside the models
folder, by its plain name: a name with a path in it, a hidden one, or a
folder that is a link to somewhere outside is refused wherever it is read
or written (:func:`model_folder`), so neither a hand edit nor a hostile
history line makes ``tag`` load a model from elsewhere.
"""
from __future__ import annotations

import difflib
from datetime import datetime, timezone
from pathlib import Path

from pipeline.errors import ModelError
from pipeline.model.folder import ModelCard, card_value, load_card, shown, shown_json
from pipeline.store import append_log, atomic_write_text, read_log

CURRENT = "current"
PREVIOUS = "previous"
HISTORY = "history.jsonl"


def current_id(models_dir: str | Path = "models") -> str | None:
    """The id in ``models/current``; None when no model is current."""
    path = Path(models_dir) / CURRENT
    if not path.exists():
        return None
    try:
        name = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as e:
        raise ModelError(f"cannot read the current model's name ({e}); point it at a model with 'talks models promote MODEL'", path) from None
    if name and not _plain(name):
        raise ModelError(f"names {shown(name)!r}, which is not a model folder directly inside {models_dir}; "
                         "point it at one with 'talks models promote MODEL'", path)
    return name or None


def read_history(models_dir: str | Path = "models") -> list[dict]:
    """Every recorded change of the current model, oldest first (a torn last line is ignored), as it may be shown.

    Model names in it are only followed once :func:`model_folder` accepts them.
    """
    path = Path(models_dir) / HISTORY
    records, bad = read_log(path)
    if bad is not None:
        raise ModelError("unreadable history line; delete it", path, bad)
    return [shown_json(rec) for _, rec in records]


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
    return f"; did you mean {shown(close[0])}? (see 'talks models list')" if close else "; see 'talks models list'"


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


def _plain(name: str) -> bool:
    """Whether ``name`` can only mean a folder directly inside the models folder (no path, not hidden, nothing hidden in it)."""
    return (bool(name) and not name.startswith(".") and "/" not in name and "\\" not in name and shown(name) == name
            and name not in (CURRENT, PREVIOUS, HISTORY))


def model_folder(models_dir: str | Path, model: str | Path | None) -> Path:
    """The folder of a model inside ``models_dir``, named by id, ``current``, ``previous`` or a path to it (None: current).

    ModelError unless it is a model folder directly inside ``models_dir`` (a
    path given must lead there) that is not a link to a folder elsewhere.
    """
    models_dir = Path(models_dir)
    name = resolve_id(models_dir, None if model is None else str(model))
    if not _plain(name):
        inside = Path(name).resolve()
        if inside.parent != models_dir.resolve() or not _plain(inside.name):
            raise ModelError(f"{shown(name)!r} is not a model folder inside {models_dir}; only those can be made current "
                             f"(copy the folder into {models_dir}/ first){did_you_mean(models_dir, Path(name).name)}", models_dir)
        name = inside.name
    folder = models_dir / name
    if not (folder / "card.json").is_file():
        raise ModelError(f"no model {shown(name)!r} (no {folder}/card.json){did_you_mean(models_dir, name)}", folder)
    if folder.resolve().parent != models_dir.resolve():
        raise ModelError(f"is a link to {folder.resolve()}, outside {models_dir}; a model must be a folder inside it "
                         "(copy it in instead of linking it)", folder)
    return folder


def read_card(models_dir: str | Path, model: str | None) -> ModelCard:
    """The card of a model named by id, ``current`` or ``previous`` (None: current)."""
    return load_card(model_folder(models_dir, model) / "card.json")


def set_current(models_dir: str | Path, model_id: str, action: str, reason: str, **extra) -> dict:
    """Point ``models/current`` at ``model_id`` and append the change to the history; return the history line.

    ``extra`` fields go into the line (a rollback's ``undoes``).  The line is
    fsynced before ``current`` is replaced, so after a kill the history never
    lacks a change that took effect.
    """
    model_id = model_folder(models_dir, model_id).name
    previous = current_id(models_dir)
    rec = {"time": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "action": action,
           "model_id": model_id, "previous": previous, "reason": reason, **extra}
    append_log(Path(models_dir) / HISTORY, rec)
    atomic_write_text(Path(models_dir) / CURRENT, model_id + "\n")
    return rec


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
    """Every model folder with its headline figures, newest first; ``model_id`` is the folder's name as it may be shown.

    A folder whose card cannot be read has a ``problem`` instead of figures.
    """
    d = Path(models_dir)
    cur = current_id(d)
    rows = []
    for name in model_ids(d):
        try:
            card = load_card(d / name / "card.json")  # every folder there, even one that could not be made current
        except ModelError as e:
            rows.append({"model_id": shown(name), "current": name == cur, "problem": shown(str(e))})
            continue
        version = card_value(card, "heldout", "sha256")
        rows.append({
            "model_id": card["model_id"],
            "current": name == cur,
            "created": card.get("created"),
            "features": card.get("features"),
            "sentences": card_value(card, "training", "sentences"),
            "heldout_macro_f1": _number(card_value(card, "heldout", "metrics", "macro", "f1")),
            "heldout_version": version[:12] if isinstance(version, str) and version else None,
        })
    rows.sort(key=lambda r: (r.get("created") or "", r["model_id"]), reverse=True)
    return rows


def _number(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
