"""Label Studio and doccano: export gold decisions as tasks, import their
exports into an annotator's store.
"""
from __future__ import annotations

import json
from pathlib import Path

from pipeline.errors import LabelError
from pipeline.labels.gold import gold_with_junk, read_store
from pipeline.labels.journal import annotator_lock, compact_journal
from pipeline.labels.store import ALL_COLUMNS, VALUE_COLUMNS, iso_utc, now_utc, store_path, write_store
from pipeline.project import Project
from pipeline.records import LABELS, normalise_text
from pipeline.store import atomic_open

FORMATS: tuple[str, ...] = ("labelstudio", "doccano")


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise LabelError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


def export_labels(path: str | Path, fmt: str, project: Project, all_sentences: bool = False) -> dict:
    """Write the project's gold decisions (junk included, as the 'junk' choice) in a
    labelling tool's format, with ``sentence_id``/``article_id`` beside the
    text so an import matches rows back exactly.  ``all_sentences`` adds the
    unlabelled corpus sentences as tasks without annotations.  Returns
    ``rows`` (tasks written), ``path`` and ``format``."""
    from pipeline.corpus.store import load_sentences

    _check_format(fmt)
    gold = gold_with_junk(project)
    decided = {r["sentence_id"]: r for r in gold.to_dict("records")}
    sents = load_sentences(project.corpus)
    items = []
    for s in sents.to_dict("records"):
        g = decided.get(s["sentence_id"])
        if g is None and not all_sentences:
            continue
        choices = None if g is None else (["junk"] if g["junk"] else [lab for lab in LABELS if g[lab]])
        items.append((s, choices))
    path = Path(path)
    with atomic_open(path, "w", encoding="utf-8", newline="") as f:
        if fmt == "labelstudio":
            tasks = []
            for i, (s, choices) in enumerate(items, 1):
                task = {"id": i, "data": {"text": s["text"], "sentence_id": s["sentence_id"], "article_id": s["article_id"]}, "annotations": []}
                if choices is not None:
                    result = [{"id": f"{s['sentence_id']}-labels", "type": "choices", "from_name": "labels", "to_name": "text", "value": {"choices": choices}}] if choices else []
                    task["annotations"].append({"result": result, "was_cancelled": False})
                tasks.append(task)
            json.dump(tasks, f, ensure_ascii=False, indent=1)
            f.write("\n")
        else:
            for i, (s, choices) in enumerate(items, 1):
                obj = {"id": i, "text": s["text"], "sentence_id": s["sentence_id"], "article_id": s["article_id"]}
                if choices is not None:
                    obj["label"] = choices
                f.write(json.dumps(obj, ensure_ascii=False) + "\n")
    return {"rows": len(items), "path": str(path), "format": fmt}


def _read_export(path: Path, fmt: str) -> list[dict]:
    """Normalise a tool export to dicts: line, where, text, sentence_id,
    article_id, choices (None when unannotated), timestamp, note, and
    ``bad``: why an item of the wrong shape is skipped (None if it is fine).
    A file that is not the format at all is an error."""
    try:
        raw = path.read_bytes().decode("utf-8-sig")  # -sig: tolerate a byte order mark
    except FileNotFoundError:
        raise LabelError("import file not found; check the path", path) from None
    except OSError as e:
        raise LabelError(f"cannot read the import file ({e.strerror}); check the path", path) from None
    except UnicodeDecodeError:
        raise LabelError("not UTF-8 text; export it again (JSON and JSONL exports are UTF-8)", path) from None
    if fmt == "labelstudio":
        try:
            tasks = json.loads(raw)
        except (ValueError, RecursionError) as e:
            raise LabelError(f"not valid JSON ({e}); export the project from Label Studio as JSON", path) from None
        if not isinstance(tasks, list):
            # an object (a project's settings, one task) would otherwise read as one task with no annotation
            got = "a JSON object" if isinstance(tasks, dict) else f"a JSON {type(tasks).__name__}"
            raise LabelError(f"expected a JSON list of tasks, not {got}; export the project from Label Studio as JSON "
                             "(a single task goes in [ ])", path)
        return [{"line": i, "where": f"task {i}", **_labelstudio_task(t)} for i, t in enumerate(tasks, 1)]
    return _read_doccano(raw, path)


def _read_doccano(raw: str, path: Path) -> list[dict]:
    """doccano JSONL lines as import items.  A line that is not a JSON object
    is one bad item (the rest of the file still counts); a file where no line
    is one is not JSONL at all, an error at its first line."""
    out, first_bad = [], None
    for n, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict):
                raise ValueError("not an object")
        except (ValueError, RecursionError) as e:
            first_bad = first_bad or (n, str(e))
            out.append({"line": n, "where": f"line {n}", "text": None, "sentence_id": None, "article_id": None, "choices": None,
                        "timestamp": None, "note": None, "bad": f"not a JSON object ({e})"})
            continue
        choices = obj.get("label", obj.get("labels"))
        if choices is not None and not isinstance(choices, list):
            choices = [choices]
        out.append({"line": n, "where": f"line {n}", "text": obj.get("text"), "sentence_id": obj.get("sentence_id"),
                    "article_id": obj.get("article_id"), "choices": choices, "timestamp": None, "note": None, "bad": None})
    if first_bad and all(it["bad"] for it in out):
        raise LabelError(f"not a JSON object ({first_bad[1]}); export the dataset from doccano as JSONL", path, first_bad[0])
    return out


def _labelstudio_task(t) -> dict:
    """One Label Studio task: its data, and the choices of its latest
    annotation that was not cancelled (None: not annotated)."""
    item = {"text": None, "sentence_id": None, "article_id": None, "choices": None, "timestamp": None, "note": None, "bad": None}
    if not isinstance(t, dict):
        return {**item, "bad": "the task is not a JSON object"}
    data, anns = t.get("data", {}), t.get("annotations") or []
    if not isinstance(data, dict):
        return {**item, "bad": "its data is not a JSON object"}
    item.update(text=data.get("text"), sentence_id=data.get("sentence_id"), article_id=data.get("article_id"))
    if not isinstance(anns, list) or not all(isinstance(a, dict) for a in anns):
        return {**item, "bad": "its annotations are not a list of objects"}
    anns = [a for a in anns if not a.get("was_cancelled")]
    if not anns:
        return item
    ann = anns[-1]  # the latest annotation of the task
    results = ann.get("result") or []
    if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
        return {**item, "bad": "the result of its annotation is not a list of objects"}
    choices = []
    for r in results:
        if r.get("type") == "choices":
            value = r.get("value") or {}
            picked = (value.get("choices") or []) if isinstance(value, dict) else None
            if not isinstance(picked, list):
                return {**item, "bad": "a choices result has no list of choices"}
            choices += picked
    note = f"{len(anns)} annotations; used the last one" if len(anns) > 1 else None
    return {**item, "choices": choices, "timestamp": iso_utc(ann.get("updated_at") or ann.get("created_at")), "note": note}


def import_labels(path: str | Path, fmt: str, annotator: str, project: Project) -> dict:
    """Merge a Label Studio / doccano export into ``<project.labels>/<annotator>.csv``.

    Rows match the corpus by ``sentence_id`` when it is there and known, else
    by normalised text (within ``article_id`` when given).  Rows that match
    nothing, match several sentences, or carry unknown or contradictory
    choices are skipped and listed in ``warnings``.  Imported rows replace the
    store's rows for the same sentences; the rest of the store is kept.
    Returns ``rows`` (imported), ``skipped`` (items left out for a reason
    named in ``warnings``: items without annotations are not counted),
    ``replaced``, ``matched_by_text``, ``total`` (rows in the store now),
    ``path`` (the store) and ``warnings``.
    """
    import pandas as pd
    from pipeline.corpus.store import load_sentences

    _check_format(fmt)
    path = Path(path)
    labels_dir = project.labels
    spath = store_path(labels_dir, annotator)
    items = _read_export(path, fmt)
    sents = load_sentences(project.corpus)
    by_id = {r["sentence_id"]: r for r in sents[["sentence_id", "article_id", "text"]].to_dict("records")}
    by_text: dict[str, list[dict]] = {}
    for r in by_id.values():
        by_text.setdefault(normalise_text(r["text"]), []).append(r)
    known = {lab.lower(): lab for lab in (*LABELS, "junk")}
    warns: list[str] = []
    new: dict[str, dict] = {}
    unannotated = by_text_n = skipped = 0
    now = now_utc()
    for it in items:
        where = f"{path}: {it['where']}"
        if it["bad"]:
            warns.append(f"{where}: {it['bad']}; skipped")
            skipped += 1
            continue
        if it["choices"] is None:
            unannotated += 1
            continue
        s = by_id.get(str(it["sentence_id"])) if it["sentence_id"] else None
        if s is None:
            cands = by_text.get(normalise_text(str(it["text"] or "")), []) if it["text"] else []
            if it["article_id"] and len(cands) > 1:
                cands = [c for c in cands if c["article_id"] == it["article_id"]]
            if len(cands) != 1:
                why = "matches no corpus sentence" if not cands else f"matches {len(cands)} corpus sentences"
                warns.append(f"{where}: {why} (id {it['sentence_id'] or '-'}, text {str(it['text'] or '')[:60]!r}); skipped")
                skipped += 1
                continue
            s = cands[0]
            by_text_n += 1
        bad = [c for c in it["choices"] if str(c).strip().lower() not in known]
        if bad:
            warns.append(f"{where}: unknown choice(s) {', '.join(map(str, bad))} (expected {', '.join(known)}); skipped")
            skipped += 1
            continue
        chosen = {known[str(c).strip().lower()] for c in it["choices"]}
        if "junk" in chosen and len(chosen) > 1:
            warns.append(f"{where}: junk together with labels {', '.join(sorted(chosen - {'junk'}))}; skipped")
            skipped += 1
            continue
        if it["note"]:
            warns.append(f"{where}: {it['note']}")
        row = {
            "sentence_id": s["sentence_id"], "article_id": s["article_id"], "text": s["text"],
            **{c: int(c in chosen) for c in VALUE_COLUMNS},
            "annotator": annotator, "timestamp": it["timestamp"] or now, "suggested": "",
        }
        prev = new.get(s["sentence_id"])
        if prev is not None and any(prev[c] != row[c] for c in VALUE_COLUMNS):
            warns.append(f"{where}: sentence {s['sentence_id']} appears again with other labels; kept this one")
        new[s["sentence_id"]] = row
    if unannotated:
        warns.append(f"{path}: {unannotated} item(s) without annotations skipped")
    # the lock of a labelling session: refuse while one runs (its undo needs its journal)
    with annotator_lock(labels_dir, annotator):
        # a pending labelling-tool journal would later overwrite imported rows: fold it first
        compact_journal(labels_dir, annotator)
        # keep the optional columns (the model's suggestions) of the rows the import leaves alone
        existing = read_store(spath)[list(ALL_COLUMNS)] if spath.exists() else pd.DataFrame(columns=list(ALL_COLUMNS))
        replaced = int(existing["sentence_id"].isin(list(new)).sum())
        kept = existing[~existing["sentence_id"].isin(list(new))]
        merged = pd.concat([kept, pd.DataFrame(list(new.values()), columns=list(ALL_COLUMNS))], ignore_index=True)
        if new or spath.exists():
            write_store(merged, spath)
    return {"rows": len(new), "skipped": skipped, "replaced": replaced, "matched_by_text": by_text_n, "total": int(len(merged)), "path": str(spath), "warnings": warns}

