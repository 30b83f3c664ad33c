"""The terminal labelling tool: queue orders, key handling, model suggestions,
and real sessions driven through a pseudo-terminal (pexpect), including a
SIGKILL mid-session."""
from __future__ import annotations

import io
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pexpect
import pytest

from pipeline.errors import LabelError
from pipeline.cli import main
from pipeline.labels.agreement import label_stats
from pipeline.labels.gold import collect_labels, read_store
from pipeline.labels.journal import annotator_lock, append_journal, save_record
from pipeline.labels.store import format_suggested
from pipeline.labelling.terminal import KEYS, Item, Session, build_queue, run_labeller, start_values, suggested_queue
from pipeline.project import Project
from pipeline.records import LABELS

REPO = Path(__file__).parent.parent
PY = sys.executable
# corpus order of the tiny corpus (tests/data/articles): frontmatter, page, plain
FIRST = ["s056514e63feb", "s602456ca3d2f", "se7505e95badc", "s6d3b8460a828", "seb92b5c3bab9"]


def _spawn(labels: Path, corpus: Path, *extra: str, models: Path | None = None) -> pexpect.spawn:
    # without a models folder there are no suggestions: the tool works as it always did
    models = models or labels.parent / "no-models"
    child = pexpect.spawn(
        PY, ["-m", "pipeline", "label", "--annotator", "t", "--root", str(corpus), "--labels", str(labels), "--models", str(models), *extra],
        cwd=str(REPO), env={**os.environ, "TERM": "xterm"}, encoding="utf-8", timeout=10, dimensions=(40, 160),
    )
    return child


def _store(labels: Path, name: str = "t") -> pd.DataFrame:
    return read_store(labels / f"{name}.csv").set_index("sentence_id")


def _values(df: pd.DataFrame, sid: str) -> tuple:
    return tuple(int(df.loc[sid, c]) for c in (*LABELS, "junk"))


# --------------------------------------------------------------------------
# Real sessions in a pseudo-terminal
# --------------------------------------------------------------------------
def test_session_keys_undo_skip_and_save(tiny_corpus, tmp_path):
    labels = tmp_path / "labels"
    child = _spawn(labels, tiny_corpus)
    child.expect("sentence 1 of 14")
    child.expect("Aid convoy reaches besieged town")  # article title, then the highlighted sentence
    child.send("3")
    child.expect(r"\[x\] 3 humanitarian")
    child.send("\r")
    child.expect("sentence 2 of 14")
    child.expect("Aid convoy reaches besieged town")  # previous sentence shown as context
    child.send("13")
    child.send("\r")
    child.expect("sentence 3 of 14")
    child.send("u")  # undo: back to sentence 2 with its decision on screen
    child.expect("sentence 2 of 14")
    child.expect(r"\[x\] 1 diplomacy")
    child.send("1")  # now humanitarian only
    child.send("\r")
    child.expect("sentence 3 of 14")
    child.send("s")  # skip sentence 3
    child.expect("sentence 4 of 14")
    child.send("j")
    child.expect(r"\[x\] j junk")
    child.send("\r")
    child.expect("sentence 5 of 14")
    child.send("24")
    child.send("0")  # clear all
    child.send("2")
    child.send("\r")
    child.expect("sentence 6 of 14")
    child.send("q")
    child.expect("saved 4 decision")
    child.expect("10 sentence")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    df = _store(labels)
    assert list(df.index) == sorted([FIRST[0], FIRST[1], FIRST[3], FIRST[4]])
    assert _values(df, FIRST[0]) == (0, 0, 1, 0, 0)
    assert _values(df, FIRST[1]) == (0, 0, 1, 0, 0)
    assert _values(df, FIRST[3]) == (0, 0, 0, 0, 1)
    assert _values(df, FIRST[4]) == (0, 1, 0, 0, 0)
    assert set(df["annotator"]) == {"t"} and df["timestamp"].str.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ").all()
    assert (labels / ".journal" / "t.jsonl").read_text() == ""  # compacted at quit
    # next session in 'articles' order resumes with what is left (the skipped one first)
    child = _spawn(labels, tiny_corpus)
    child.expect("sentence 1 of 10")
    child.expect("Gen. Ali Mayhoub")
    child.send("q")
    child.expect(pexpect.EOF)


# keys of one decision (from nothing ticked) -> the values saved
DECISIONS = {"1": {"diplomacy": 1}, "24": {"violence": 1, "blame": 1}, "3": {"humanitarian": 1}, "j": {"junk": 1},
             "": {}, "134": {"diplomacy": 1, "humanitarian": 1, "blame": 1}}


@pytest.mark.parametrize("seed", range(4))
def test_sigkill_at_a_random_point_loses_no_acknowledged_decision(tiny_corpus, tmp_path, seed):
    """Twelve decisions typed at once, SIGKILL at a random point (a random
    screen, then a random few milliseconds): every decision whose next screen
    was drawn is in the journal, nothing else is there but possibly the one
    being drawn, and a re-run folds it all in."""
    rng = random.Random(seed)
    labels = tmp_path / "labels"
    order = [it.sentence_id for it in build_queue("t", Project(corpus=tiny_corpus, labels=labels))]
    keys = [rng.choice(list(DECISIONS)) for _ in range(12)]
    child = _spawn(labels, tiny_corpus)
    child.logfile_read = screens = io.StringIO()
    child.expect("sentence 1 of 14")
    child.send("x")  # the answer proves raw mode is on, so no key typed later is flushed by its switch
    child.expect("does nothing")
    child.send("".join(k + "\r" for k in keys))
    child.expect(f"sentence {rng.randint(1, 12)} of 14")  # a decision takes about a millisecond: kill soon after
    time.sleep(rng.uniform(0, 0.005))
    os.kill(child.pid, signal.SIGKILL)
    child.expect(pexpect.EOF)
    child.close()
    acknowledged = max(int(n) for n in re.findall(r"sentence (\d+) of 14", screens.getvalue())) - 1
    if "All 14 sentence(s)" in screens.getvalue():
        acknowledged = 12
    assert not (labels / "t.csv").exists()
    # readers fold the pending journal in without waiting for a compaction
    rows = {r["sentence_id"]: r for r in collect_labels(Project(corpus=tiny_corpus, labels=labels))[0] if Path(r["file"]).stem == "t"}
    assert label_stats(Project(corpus=tiny_corpus, labels=labels))["labelled"] == len(rows)
    # the decision being drawn when the kill came may be on disk too: fsync comes before the screen
    assert acknowledged <= len(rows) <= min(acknowledged + 1, 12), (acknowledged, len(rows))
    expected = {sid: tuple(DECISIONS[k].get(c, 0) for c in (*LABELS, "junk")) for sid, k in zip(order, keys)}
    assert {sid: tuple(int(r[c]) for c in (*LABELS, "junk")) for sid, r in rows.items()} == {sid: expected[sid] for sid in order[:len(rows)]}
    child = _spawn(labels, tiny_corpus)  # the re-run folds the journal in first, then carries on
    child.expect(f"sentence 1 of {14 - len(rows)}")
    assert (labels / "t.csv").exists() == bool(rows)  # folded in at the start (no store for no rows)
    child.send("q")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    if rows:
        assert {sid: _values(_store(labels), sid) for sid in rows} == {sid: expected[sid] for sid in rows}
    assert (labels / ".journal" / "t.jsonl").read_text() == ""


def test_import_is_refused_during_a_live_session_whose_undo_then_works(tiny_corpus, tmp_path, capsys):
    """The bug this guards: an import compacted the live session's journal,
    and the session's undo then said "undone" while the decision stayed."""
    labels = tmp_path / "labels"
    src = tmp_path / "export.jsonl"
    src.write_text(json.dumps({"sentence_id": FIRST[3], "label": ["blame"]}) + "\n")
    cmd = ["labels", "import", str(src), "--format", "doccano", "--annotator", "t", "--labels", str(labels), "--root", str(tiny_corpus)]
    child = _spawn(labels, tiny_corpus)
    child.expect("sentence 1 of 14")
    child.send("1\r")
    child.expect("sentence 2 of 14")
    assert main(cmd) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "another 'talks label' session" in err and len(err.strip().splitlines()) == 1
    child.send("u")
    child.expect("sentence 1 of 14")
    child.expect("undone")
    child.send("q")
    child.expect("saved 0 decision")
    child.expect(pexpect.EOF)
    child.close()
    assert not (labels / "t.csv").exists()  # the decision is really gone (and no empty store was left)
    assert main(cmd) == 0  # the session is over: the import goes in
    assert list(_store(labels).index) == [FIRST[3]]


def test_ctrl_c_quits_cleanly(tiny_corpus, tmp_path):
    labels = tmp_path / "labels"
    child = _spawn(labels, tiny_corpus, "--article", "page")
    child.expect("sentence 1 of 4")
    child.expect("Kerry says ceasefire deal is close")
    child.send("4\r")
    child.expect("sentence 2 of 4")
    child.sendcontrol("c")
    child.expect("saved 1 decision")
    child.expect(pexpect.EOF)
    assert _values(_store(labels), "sef2cd0efc308") == (0, 0, 0, 1, 0)


def test_line_input_without_tty(tiny_corpus, tmp_path):
    """Piped stdin: one line per decision (keys, then Enter); s/u/q act alone; EOF quits."""
    labels = tmp_path / "labels"
    out = subprocess.run(
        [PY, "-m", "pipeline", "label", "--annotator", "t", "--root", str(tiny_corpus), "--labels", str(labels),
         "--models", str(tmp_path / "no-models")],
        input="1\n\nj\ns\n24\n3\nu\n", capture_output=True, text=True, cwd=REPO, timeout=30,
    )
    assert out.returncode == 0, out.stderr
    assert "saved 4 decision(s)" in out.stdout and "\x1b[2J" not in out.stdout
    assert out.stdout.count("no model suggestions:") == 1  # a one-line notice on the first screen
    df = _store(labels)
    assert [_values(df, s) for s in (FIRST[0], FIRST[1], FIRST[2], FIRST[4])] == [
        (1, 0, 0, 0, 0), (0, 0, 0, 0, 0), (0, 0, 0, 0, 1), (0, 1, 0, 1, 0)]
    assert FIRST[3] not in df.index  # skipped


# --------------------------------------------------------------------------
# Queues and the session state machine (no terminal)
# --------------------------------------------------------------------------
def test_a_session_resumes_where_the_annotator_left_off(tiny_corpus, tmp_path):
    """Two decisions, quit, start again with the same queue: the screen counts what is left of this annotator's work,
    starts at the third sentence and says why; another annotator still gets the whole queue."""
    project = Project(corpus=tiny_corpus, labels=tmp_path / "labels")
    q = tmp_path / "q.txt"
    q.write_text("\n".join(FIRST[:5]) + "\n")
    first = run_labeller("t", project, queue=q, stdin=io.StringIO("2\n\n"), stdout=io.StringIO())
    assert first["saved"] == 2 and first["remaining"] == 3
    screen = io.StringIO()
    again = run_labeller("t", project, queue=q, stdin=io.StringIO(""), stdout=screen)
    assert again["remaining"] == 3
    out = screen.getvalue()
    assert "0 saved, 3 left" in out and "resuming: 2 sentence(s) you already labelled are left out" in out
    assert FIRST[2] in out or any(t in out for t in [build_queue("t", project, queue=q)[0].text])
    assert [i.sentence_id for i in build_queue("t", project, queue=q)] == FIRST[2:5]
    assert len(build_queue("other", project, queue=q)) == 5
    assert len(build_queue("t", project, queue=q, revisit=True)) == 5


def test_queue_orders(tiny_corpus, tmp_path):
    labels = tmp_path / "labels"
    append_journal(labels, "other", save_record("other", FIRST[0], "frontmatter", "Aid convoy reaches besieged town", {"humanitarian": 1}))
    append_journal(labels, "t", save_record("t", FIRST[1], "frontmatter", "x", {"violence": 1}))
    mine = build_queue("t", Project(corpus=tiny_corpus, labels=labels), "articles")
    assert [i.sentence_id for i in mine][:2] == [FIRST[0], FIRST[2]] and len(mine) == 13
    assert mine[0].prev is None and mine[0].next.startswith("An aid convoy") and mine[0].title == "Aid convoy reaches besieged town"
    assert len(build_queue("t", Project(corpus=tiny_corpus, labels=labels), "unlabelled")) == 12
    assert {i.article_id for i in build_queue("t", Project(corpus=tiny_corpus, labels=labels), "articles", article="plain")} == {"plain"}
    q = tmp_path / "q.txt"
    q.write_text(f"{FIRST[4]}\n\n{FIRST[1]}\n")
    # a session resumes: what this annotator labelled is left out, unless revisited with its current decision
    assert [i.sentence_id for i in build_queue("t", Project(corpus=tiny_corpus, labels=labels), queue=q)] == [FIRST[4]]
    items = build_queue("t", Project(corpus=tiny_corpus, labels=labels), queue=q, revisit=True)
    assert [i.sentence_id for i in items] == [FIRST[4], FIRST[1]]
    assert items[1].values["violence"] == 1  # already labelled: shown with the current decision
    qc = tmp_path / "disagreements.csv"
    pd.DataFrame({"sentence_id": [FIRST[3]], "label": ["blame"]}).to_csv(qc, index=False)
    assert [i.sentence_id for i in build_queue("t", Project(corpus=tiny_corpus, labels=labels), queue=qc)] == [FIRST[3]]
    q.write_text("nope\n")
    with pytest.raises(LabelError) as e:
        build_queue("t", Project(corpus=tiny_corpus, labels=labels), queue=q)
    assert e.value.line == 1
    with pytest.raises(LabelError):
        build_queue("t", Project(corpus=tiny_corpus, labels=labels), article="no-such-article")


def test_session_state_machine(tiny_corpus, tmp_path):
    labels = tmp_path / "labels"
    s = Session("t", labels, build_queue("t", Project(corpus=tiny_corpus, labels=labels), "articles", article="page"))
    s.key("1"), s.key("j")
    assert s.toggles == {"diplomacy": 0, "violence": 0, "humanitarian": 0, "blame": 0, "junk": 1}  # junk clears labels
    s.key("2")
    assert s.toggles["junk"] == 0 and s.toggles["violence"] == 1  # a label clears junk
    s.key("x")
    assert "does nothing" in s.screen()
    s.key("u")
    assert "nothing to undo" in s.screen()
    for _ in range(4):
        s.key("\r")
    assert "All 4 sentence(s)" in s.screen() and s.remaining == 0
    s.key("u")
    assert s.pos == 3 and s.remaining == 1
    s.key("\n"), s.key("\n")
    assert s.done


def test_one_session_per_annotator(tiny_corpus, tmp_path):
    labels = tmp_path / "labels"
    with annotator_lock(labels, "t"), pytest.raises(LabelError, match="another 'talks label' session"):
        run_labeller("t", Project(corpus=tiny_corpus, labels=labels))
    with pytest.raises(LabelError):
        run_labeller("../evil", Project(corpus=tiny_corpus, labels=labels))


def test_adjudicating_disagreements_with_the_tool(tiny_corpus, tmp_path):
    """agree -> disagreements.csv -> label --annotator adjudications --queue it -> gold follows the adjudication."""
    import io
    import shutil

    from pipeline.labels.agreement import agreement
    from pipeline.labels.gold import gold_labels

    labels = Path(shutil.copytree(Path(__file__).parent / "data" / "labels" / "good", tmp_path / "labels"))
    (labels / "adjudications.csv").unlink()
    res = agreement(labels / "ana.csv", labels / "bob.csv", labels / "disagreements.csv")
    assert res["disagreements"] == 3  # s0960 (blame), s0e7 (blame), sef2 (junk)
    out = io.StringIO()
    res = run_labeller("adjudications", Project(corpus=tiny_corpus, labels=labels), queue=labels / "disagreements.csv", stdin=io.StringIO("4\n4\nj\n"), stdout=out)
    assert res == {"saved": 3, "path": str(labels / "adjudications.csv"), "remaining": 0}
    assert "sentence 1 of 3" in out.getvalue()
    gold = gold_labels(Project(corpus=tiny_corpus, labels=labels)).set_index("sentence_id")
    assert gold.loc["s0960e75ab157", "blame"] == 1 and "sef2cd0efc308" not in gold.index


# --------------------------------------------------------------------------
# Model suggestions (pre-annotation)
# --------------------------------------------------------------------------
def _boxes(it: Item) -> str:
    """The label line of the screen for an item shown with its suggestion."""
    line = "   ".join(f"[{'x' if it.suggested[lab] else ' '}] {k} {lab} {it.proba[lab]:.2f}" for k, lab in KEYS.items())
    return line + "   [ ] j junk"


def _suggested_items(p: dict, annotator: str = "t") -> list[Item]:
    items, notice = suggested_queue(annotator, p["project"], suggestions=True)
    assert notice is None
    return [it for it in items if any(it.suggested[lab] for lab in LABELS)]


def test_suggestions_pre_ticked_shown_and_recorded(trained_project, tmp_path, capsys):
    p = trained_project
    labels, corpus = p["labels"], p["corpus"]
    a, b = _suggested_items(p)[:2]
    q = tmp_path / "q.txt"
    q.write_text(f"{a.sentence_id}\n{b.sentence_id}\n")
    child = _spawn(labels, corpus, "--queue", str(q), models=p["models"])
    child.expect("sentence 1 of 2")
    child.expect_exact("(pre-ticked by the model)")
    child.expect_exact(_boxes(a))
    child.send("\r")  # accept the suggestion as it is
    child.expect("sentence 2 of 2")
    child.expect_exact(_boxes(b))
    drop = next(lab for lab in LABELS if b.suggested[lab])
    add = next(lab for lab in LABELS if not b.suggested[lab])
    keys = {lab: k for k, lab in KEYS.items()}
    child.send(keys[drop] + keys[add] + "\r")  # change it: one label off, another on
    child.expect("All 2 sentence")
    child.send("q")
    child.expect(pexpect.EOF)
    df = _store(labels)
    assert df.loc[a.sentence_id, "suggested"] == format_suggested(a.suggested)
    assert _values(df, a.sentence_id) == tuple(a.suggested[c] for c in (*LABELS, "junk"))
    assert df.loc[b.sentence_id, "suggested"] == format_suggested(b.suggested)
    changed = {**b.suggested, drop: 0, add: 1}
    assert _values(df, b.sentence_id) == tuple(changed[c] for c in (*LABELS, "junk"))
    assert (labels / "t.csv").read_text().splitlines()[0].endswith(",timestamp,suggested")
    sg = label_stats(Project(corpus=corpus, labels=labels))["suggestions"]
    assert (sg["shown"], sg["accepted"]) == (2, 1)
    assert {r["label"]: (r["added"], r["removed"]) for r in sg["per_label"] if r["added"] or r["removed"]} == {drop: (0, 1), add: (1, 0)}
    assert main(["labels", "stats", "--labels", str(labels), "--root", str(corpus)]) == 0
    assert "suggestions: 2 shown, 1 accepted as is; " in capsys.readouterr().out


def test_no_suggest_labels_blind(trained_project, tmp_path):
    """--no-suggest: no probabilities, nothing pre-ticked, an empty 'suggested'."""
    p = trained_project
    a, b = _suggested_items(p)[:2]
    q = tmp_path / "q.txt"
    q.write_text(f"{a.sentence_id}\n")
    out = subprocess.run(
        [PY, "-m", "pipeline", "label", "--annotator", "t", "--no-suggest", "--queue", str(q), "--root", str(p["corpus"]),
         "--labels", str(p["labels"]), "--models", str(p["models"])],
        input="\n", capture_output=True, text=True, cwd=REPO, timeout=30,
    )
    assert out.returncode == 0, out.stderr
    assert "[ ] 1 diplomacy   [ ] 2 violence   [ ] 3 humanitarian   [ ] 4 blame   [ ] j junk" in out.stdout
    assert "pre-ticked" not in out.stdout and "no model suggestions" not in out.stdout
    assert _values(_store(p["labels"]), a.sentence_id) == (0, 0, 0, 0, 0)  # the model's labels were not ticked
    assert "suggested" not in (p["labels"] / "t.csv").read_text().splitlines()[0]  # no suggestion shown: no column
    # a later session with suggestions adds the column; the blind row keeps an empty cell
    q.write_text(f"{b.sentence_id}\n")
    run_labeller("t", p["project"], queue=q, stdin=io.StringIO("\n"), stdout=io.StringIO(), suggestions=True)
    df = _store(p["labels"])
    assert df.loc[a.sentence_id, "suggested"] == "" and df.loc[b.sentence_id, "suggested"] == format_suggested(b.suggested)


def test_old_store_without_the_column_round_trips(trained_project, tmp_path):
    p = trained_project
    old = p["labels"] / "tester.csv"
    before = old.read_bytes()
    assert b"suggested" not in before
    # another annotator labels with suggestions in the same folder; tester's session has nothing to do
    run_labeller("t", p["project"], stdin=io.StringIO("\n\n"), stdout=io.StringIO(), suggestions=True)
    res = run_labeller("tester", p["project"], stdin=io.StringIO(""), stdout=io.StringIO(), suggestions=True)
    assert res["saved"] == 0 and old.read_bytes() == before
    # re-labelling one's own sentence: the earlier decision is shown, not the model's, and no suggestion is recorded
    sid = read_store(old)["sentence_id"][0]
    q = tmp_path / "q.txt"
    q.write_text(f"{sid}\n")
    screen = io.StringIO()
    run_labeller("tester", p["project"], queue=q, stdin=io.StringIO("\n"), stdout=screen, suggestions=True, revisit=True)
    assert "pre-ticked" not in screen.getvalue() and " 0." in screen.getvalue()  # probabilities still shown
    after = old.read_bytes()
    assert after.splitlines()[0] == before.splitlines()[0]  # same header: no suggested column
    assert len(after.splitlines()) == len(before.splitlines())


def test_start_values_prefer_the_annotators_decisions():
    it = Item("s1", "a", "text", None, None, "title", values={"blame": 1}, suggested={"violence": 1})
    assert start_values(it) == {"diplomacy": 0, "violence": 0, "humanitarian": 0, "blame": 1, "junk": 0}
    assert start_values(it, {"junk": 1})["junk"] == 1  # this session's decision first
    it.values = {}
    assert start_values(it)["violence"] == 1  # nothing of theirs: the model's suggestion


def test_bad_suggested_cell_is_a_problem(tiny_corpus, tmp_path):
    from pipeline.labels.gold import check_labels

    labels = tmp_path / "labels"
    labels.mkdir()
    head = "sentence_id,article_id,text,diplomacy,violence,humanitarian,blame,junk,annotator,timestamp,suggested\n"
    row = f"{FIRST[0]},frontmatter,Aid convoy reaches besieged town,0,0,1,0,0,t,2026-01-01T00:00:00Z,"
    (labels / "t.csv").write_text(head + row + "humanitarian|violence\n")
    assert check_labels(Project(corpus=tiny_corpus, labels=labels)) == []
    (labels / "t.csv").write_text(head + row + "humanitarian|peace\n")
    assert [p.split(": ", 1)[1] for p in check_labels(Project(corpus=tiny_corpus, labels=labels))] == [
        "suggested is 'humanitarian|peace'; leave it empty, or write 'none' or labels joined by '|' (diplomacy, violence, humanitarian, blame)"]


def test_import_keeps_the_suggestions_of_rows_it_leaves_alone(trained_project, tmp_path):
    """labels import replaces the imported sentences' rows and must not drop the other rows' 'suggested'."""
    import json

    from pipeline.labels.interop import import_labels

    p = trained_project
    a, b = _suggested_items(p)[:2]
    append_journal(p["labels"], "t", save_record("t", a.sentence_id, a.article_id, a.text, a.suggested,
                                                 suggested=format_suggested(a.suggested)))
    export = tmp_path / "d.jsonl"
    export.write_text(json.dumps({"sentence_id": b.sentence_id, "text": b.text, "label": ["violence"]}) + "\n")
    import_labels(export, "doccano", "t", p["project"])
    df = _store(p["labels"])
    assert df.loc[a.sentence_id, "suggested"] == format_suggested(a.suggested)
    assert df.loc[b.sentence_id, "suggested"] == "" and df.loc[b.sentence_id, "violence"] == 1
