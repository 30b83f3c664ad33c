"""``talks label``: label sentences in the terminal, one key per decision.

Sits between the corpus and the label store: it reads ``corpus/`` and
``labels/``, and writes one annotator's decisions to
``labels/<annotator>.csv`` through the journal (``labels/journal.py``).  Every
Enter is appended to ``labels/.journal/<annotator>.jsonl`` and fsynced
before the screen moves on; the journal is folded into the CSV at start
(recovering a killed session) and at quit.  So a crash, a closed terminal
or ``kill -9`` loses at most the sentence on screen.

The current model's suggestions (:func:`suggest`) are shown pre-ticked with
their probabilities, and each saved row records what was pre-ticked (the
store's ``suggested`` column); ``suggestions=False`` labels blind.

:class:`Session` is the state machine (keys in, screen text out) and does no
I/O besides the journal; :func:`run_labeller` wires it to the terminal.  This
and the command line (``pipeline/cli/``) are the only code that writes to the terminal.  ``web.py`` serves the
same queue, suggestions and journal to a browser.
"""
from __future__ import annotations

import csv
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import LabelError, ModelError
from pipeline.labels.gold import collect_labels, read_store
from pipeline.labels.journal import annotator_lock, append_journal, compact_journal, save_record, undo_record
from pipeline.labels.store import VALUE_COLUMNS, format_suggested, store_path
from pipeline.project import Project
from pipeline.records import CONTROL_PICTURES

ORDERS: tuple[str, ...] = ("articles", "unlabelled")
KEYS = {"1": "diplomacy", "2": "violence", "3": "humanitarian", "4": "blame"}

_CLEAR = "\x1b[2J\x1b[H"
_HI = "\x1b[1;7m"  # bold reverse video: the sentence being labelled
_DIM = "\x1b[2m"
_OFF = "\x1b[0m"
# Article text is data, not terminal commands: an ESC in it could start a
# sequence that moves the cursor, retitles the window or fakes this screen.
# C0 controls (ESC, tab, line breaks ...) and DEL become their Unicode
# control pictures (ESC shows as U+241B), C1 controls a \x9b-style escape.
_VISIBLE = {**CONTROL_PICTURES, **{c: f"\\x{c:02x}" for c in range(0x80, 0xA0)}}


def _visible(text: str) -> str:
    """``text`` with every control character shown as a symbol, for the screen only."""
    return text.translate(_VISIBLE)


@dataclass
class Item:
    sentence_id: str
    article_id: str
    text: str
    prev: str | None
    next: str | None
    title: str
    values: dict = field(default_factory=dict)  # the annotator's current decision, if any
    proba: dict[str, float] = field(default_factory=dict)  # the model's probability per label (empty: no model)
    suggested: dict | None = None  # what the model pre-ticks; None when not shown pre-ticked (no model, or labelled before)


def start_values(item: Item, saved: dict | None = None) -> dict:
    """What the boxes show first: this session's decision, else the annotator's
    earlier one, else the model's suggestion, else nothing ticked."""
    base = saved or item.values or item.suggested or {}
    return {c: int(base.get(c, 0)) for c in VALUE_COLUMNS}


def suggest(items: list[Item], models_dir: str | Path) -> str | None:
    """Fill in the current model's probabilities and pre-ticked labels for the
    whole queue in one batch (not per key press: an embedding model takes a
    while per call).

    Sentences the annotator has labelled before get probabilities only: their
    own decision, not the model's, is what the boxes start from.  Returns a
    one-line notice instead when there is no usable model.
    """
    from pipeline.model.selection import apply_thresholds, predict_proba
    from pipeline.model.loading import load_model

    current = Path(models_dir) / "current"
    if not current.exists():
        return f"no model suggestions: {current} does not exist ('talks train' makes one)"
    try:
        model = load_model(None, models_dir)
    except ModelError as e:  # a broken model must not stop the labelling
        return f"no model suggestions ({e})"
    if not items:
        return None
    labels = model["labels"]
    P = predict_proba(model["pipeline"], [it.text for it in items])
    for it, probs, ticks in zip(items, P, apply_thresholds(P, model["thresholds"], labels)):
        it.proba = {lab: float(v) for lab, v in zip(labels, probs)}
        if not it.values:
            it.suggested = {**{c: 0 for c in VALUE_COLUMNS}, **{lab: int(t) for lab, t in zip(labels, ticks)}}
    return None


def build_queue(annotator: str, project: Project, order: str = "articles", queue: str | Path | None = None, article: str | None = None,
                revisit: bool = False) -> list[Item]:
    """The project's sentences to show, in order, as :class:`Item` s (:func:`select_items` without the count)."""
    return select_items(annotator, project, order, queue, article, revisit)[0]


def select_items(annotator: str, project: Project, order: str = "articles", queue: str | Path | None = None, article: str | None = None,
                 revisit: bool = False) -> tuple[list[Item], int]:
    """(items, skipped): the project's sentences to show, in order, and how many this annotator had already labelled.

    ``articles``: whole articles in corpus order.  ``unlabelled``: sentences
    nobody (no annotator, no adjudication) has labelled.  ``queue``: the ids
    in the file, in its order.  ``article`` narrows any of these to one
    article.  Sentences this annotator has labelled (their store or pending
    journal) are left out, so a session resumes where the last one stopped;
    ``revisit`` keeps them, shown with their current values.
    """
    from pipeline.corpus.store import load_articles

    if order not in ORDERS:
        raise LabelError(f"unknown order {order!r}; use one of {', '.join(ORDERS)}")
    rows, _, sents = collect_labels(project)
    titles = {a.article_id: a.title for a in load_articles(project.corpus)}
    # the store and its journal are both named after the annotator
    mine = {r["sentence_id"].strip(): r for r in rows if Path(r["file"]).stem == annotator}
    anyone = {r["sentence_id"].strip() for r in rows}
    recs = sents[["sentence_id", "article_id", "text"]].to_dict("records")
    by_id = {}
    for i, r in enumerate(recs):
        same_prev = i > 0 and recs[i - 1]["article_id"] == r["article_id"]
        same_next = i + 1 < len(recs) and recs[i + 1]["article_id"] == r["article_id"]
        by_id[r["sentence_id"]] = (i, same_prev, same_next)
    if article is not None and article not in titles:
        raise LabelError(f"article {article!r} is not in the corpus; see the article_id column of corpus/sentences.csv")
    if queue is not None:
        ids = _read_queue(Path(queue), by_id)
    elif order == "unlabelled":
        ids = [r["sentence_id"] for r in recs if r["sentence_id"] not in anyone]
    else:
        ids = [r["sentence_id"] for r in recs]
    if article is not None:
        ids = [sid for sid in ids if recs[by_id[sid][0]]["article_id"] == article]
    skipped = 0 if revisit else sum(sid in mine for sid in ids)
    items = []
    for sid in ids:
        if not revisit and sid in mine:
            continue
        i, has_prev, has_next = by_id[sid]
        r = recs[i]
        m = mine.get(sid)
        values = {c: int(str(m[c]).strip() == "1") for c in VALUE_COLUMNS} if m else {}
        items.append(Item(sid, r["article_id"], r["text"], recs[i - 1]["text"] if has_prev else None, recs[i + 1]["text"] if has_next else None, titles.get(r["article_id"], ""), values))
    return items, skipped


def _read_queue(path: Path, by_id: dict) -> list[str]:
    """Sentence ids from a file: one per line, or a CSV with a sentence_id column."""
    if not path.exists():
        raise LabelError("queue file not found; check the path", path)
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()  # -sig: a queue saved from Excel
    except UnicodeDecodeError:
        raise LabelError("queue file is not UTF-8 text; re-save it as UTF-8", path) from None
    if lines and "sentence_id" in next(csv.reader(lines[:1]), []):
        header = next(csv.reader(lines[:1]))
        col = header.index("sentence_id")
        reader = csv.reader(lines[1:])
        pairs = [(n, rec[col].strip() if len(rec) > col else "") for n, rec in enumerate(reader, 2)]
    elif path.suffix.lower() == ".csv":
        raise LabelError("queue CSV has no sentence_id column; add one or give one id per line", path, 1)
    else:
        pairs = [(n, line.strip()) for n, line in enumerate(lines, 1)]
    ids, seen = [], set()
    for n, sid in pairs:
        if not sid or sid.startswith("#") or sid in seen:
            continue
        if sid not in by_id:
            raise LabelError(f"sentence {sid} is not in the corpus; remove it from the queue or re-run 'talks ingest'", path, n)
        seen.add(sid)
        ids.append(sid)
    return ids


class Session:
    """Keys in, decisions to the journal, screen text out."""

    def __init__(self, annotator: str, labels_dir: str | Path, items: list[Item]):
        self.annotator = annotator
        self.labels_dir = Path(labels_dir)
        self.items = items
        self.pos = 0
        self.saved: dict[int, dict] = {}  # queue index -> values saved this session
        self.undo_stack: list[tuple[int, dict]] = []
        self.toggles = self._start_values()
        self.message = ""
        self.done = False

    def _start_values(self) -> dict:
        if self.pos >= len(self.items):
            return {c: 0 for c in VALUE_COLUMNS}
        return start_values(self.items[self.pos], self.saved.get(self.pos))

    @property
    def remaining(self) -> int:
        return len(self.items) - len(self.saved)

    def key(self, k: str) -> None:
        """Apply one key press."""
        self.message = ""
        if k in ("q", "\x03", "\x04"):
            self.done = True
            return
        if k == "u":
            self._undo()
            return
        at_end = self.pos >= len(self.items)
        if at_end:
            if k in ("\r", "\n"):
                self.done = True
            return
        if k in KEYS:
            lab = KEYS[k]
            self.toggles[lab] ^= 1
            self.toggles["junk"] = 0  # a label means the sentence is not junk
        elif k == "0":
            self.toggles = {c: 0 for c in VALUE_COLUMNS}
        elif k == "j":
            junk = self.toggles["junk"] ^ 1
            self.toggles = {c: 0 for c in VALUE_COLUMNS}  # junk carries no labels
            self.toggles["junk"] = junk
        elif k in ("\r", "\n"):
            self._save()
        elif k == "s":
            self._advance()
            self.message = "skipped"
        else:
            self.message = f"key {k!r} does nothing; 1-4 toggle, 0 none, j junk, Enter save, u undo, s skip, q quit"

    def _save(self) -> None:
        it = self.items[self.pos]
        values = dict(self.toggles)
        # the journal line is on disk before the screen moves on
        append_journal(self.labels_dir, self.annotator, save_record(self.annotator, it.sentence_id, it.article_id, it.text, values, format_suggested(it.suggested)))
        self.undo_stack.append((self.pos, self.saved.get(self.pos)))
        self.saved[self.pos] = values
        self._advance()

    def _undo(self) -> None:
        if not self.undo_stack:
            self.message = "nothing to undo in this session"
            return
        pos, before = self.undo_stack.pop()
        it = self.items[pos]
        append_journal(self.labels_dir, self.annotator, undo_record(self.annotator, it.sentence_id))
        undone = self.saved.pop(pos)
        if before is not None:
            self.saved[pos] = before
        self.pos = pos
        self.toggles = dict(undone)  # back on the sentence, showing the decision just undone
        self.message = "undone; change it and press Enter, or s to skip"

    def _advance(self) -> None:
        self.pos += 1
        self.toggles = self._start_values()

    def screen(self, color: bool = True) -> str:
        """The screen as text; ``color`` adds ANSI highlighting (terminals only)."""
        hi, dim, off = (_HI, _DIM, _OFF) if color else ("", "", "")
        n = len(self.items)
        lines = [f"talks label -- {self.annotator} -- {len(self.saved)} saved, {self.remaining} left", ""]
        if self.pos >= n:
            lines += [f"All {n} sentence(s) in this queue done." if n else "Nothing to label in this queue.", "", "u undo the last decision   Enter/q quit"]
        else:
            it = self.items[self.pos]

            def box(lab: str, key: str) -> str:
                p = it.proba.get(lab)
                return f"[{'x' if self.toggles[lab] else ' '}] {key} {lab}" + (f" {p:.2f}" if p is not None else "")

            pre = "   (pre-ticked by the model)" if it.suggested is not None and self.pos not in self.saved else ""
            lines += [
                f"{_visible(it.title)}  [{_visible(it.article_id)}]",
                f"sentence {self.pos + 1} of {n}   ({_visible(it.sentence_id)}){pre}",
                "",
                f"{dim}  {_visible(it.prev)}{off}" if it.prev else f"{dim}  (start of article){off}",
                f"{hi}> {_visible(it.text)}{off}",
                f"{dim}  {_visible(it.next)}{off}" if it.next else f"{dim}  (end of article){off}",
                "",
                "   ".join(box(lab, k) for k, lab in KEYS.items()) + "   " + box("junk", "j"),
                "",
                "1-4 toggle  0 none  j junk  Enter save+next  u undo  s skip  q quit",
            ]
            if not color:
                lines.append("(no terminal: type the keys of one decision, e.g. 13, then Enter; s, u or q on a line of their own)")
        if self.message:
            lines += ["", _visible(self.message)]  # a notice may quote a model file's error
        return "\n".join(lines)


# --------------------------------------------------------------------------
# Terminal I/O
# --------------------------------------------------------------------------
def _tty_keys(stream):
    """Single key presses in raw mode (Ctrl-C arrives as a key and quits cleanly)."""
    import termios
    import tty

    fd = stream.fileno()
    old = termios.tcgetattr(fd)
    try:
        tty.setraw(fd)
        while True:
            ch = os.read(fd, 1)
            if not ch:
                return
            yield ch.decode("utf-8", errors="replace")
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, old)


def _line_keys(stream):
    """Without a TTY (pipes, scripts) a line is a decision: its keys, then Enter.

    ``13`` toggles diplomacy and humanitarian from the shown values (the
    model's suggestion or an earlier decision) and saves, an empty line saves
    the shown values; a line holding s, u or q acts on that key alone.  EOF quits.
    """
    for line in stream:
        line = line.rstrip("\r\n")
        cmd = next((c for c in line if c in "suq"), None)
        if cmd:
            yield cmd
            continue
        yield from line
        yield "\n"
    yield "q"


def suggested_queue(annotator: str, project: Project, order: str = "articles", queue: str | Path | None = None, article: str | None = None,
                    suggestions: bool = False, revisit: bool = False) -> tuple[list[Item], str | None]:
    """(items, notice): :func:`select_items` with, if ``suggestions``, those of the current model in
    ``project.models`` (else blind); the notice says how many sentences this annotator had already
    labelled (left out unless ``revisit``) and why there are no suggestions, if so."""
    items, skipped = select_items(annotator, project, order, queue, article, revisit)
    notes = [f"resuming: {skipped} sentence(s) you already labelled are left out (--revisit shows them)"] if skipped else []
    if suggestions and (why := suggest(items, project.models)):
        notes.append(why)
    return items, "; ".join(notes) or None


@contextmanager
def exclusive_session(labels_dir: Path, annotator: str) -> Iterator[None]:
    """Hold the annotator's lock for a labelling session (terminal or web): fold
    a killed session's journal in first, and this session's at the end."""
    with annotator_lock(labels_dir, annotator):
        compact_journal(labels_dir, annotator)  # recover decisions of a killed session
        if store_path(labels_dir, annotator).exists():
            read_store(store_path(labels_dir, annotator))  # refuse to write on top of a broken store
        try:
            yield
        finally:
            compact_journal(labels_dir, annotator)


def run_labeller(annotator: str, project: Project = Project(), order: str = "articles", queue: str | Path | None = None, article: str | None = None,
                 suggestions: bool = False, stdin=None, stdout=None, revisit: bool = False) -> dict:
    """Run an interactive session on the project; returns saved (decisions kept), path, remaining.

    ``suggestions``: show those of the current model in ``project.models``;
    False labels blind (an independent second pass must not be anchored by the model).
    ``revisit``: also show the sentences this annotator labelled before (by default a
    session resumes with what is left of the queue).
    """
    labels_dir = Path(project.labels)
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    with exclusive_session(labels_dir, annotator):
        items, notice = suggested_queue(annotator, project, order, queue, article, suggestions, revisit)
        session = Session(annotator, labels_dir, items)
        session.message = notice or ""
        tty = stdin.isatty()
        keys = _tty_keys(stdin) if tty else _line_keys(stdin)
        nl = "\r\n" if tty else "\n"  # raw mode does not turn \n into a carriage return
        try:
            draw = True
            while True:
                if draw or session.done:
                    text = session.screen(color=tty)
                    stdout.write((_CLEAR if tty else "") + text.replace("\n", nl) + nl)
                    stdout.flush()
                if session.done:
                    break
                k = next(keys, None)
                if k is None:
                    break
                session.key(k)
                # a terminal redraws on every key; line input once per line, not per character
                draw = tty or k in ("\n", "s", "u")
        finally:
            if hasattr(keys, "close"):
                keys.close()  # restore the terminal mode
    return {"saved": len(session.saved), "path": str(store_path(labels_dir, annotator)), "remaining": session.remaining}
