"""``talks labels migrate``: hand labels follow their sentences across a cleaning change (issue 21: the datelines).

The change is the real one: a small project ingested with the dateline rule
turned off is the "before" corpus, the same files ingested as shipped the
"after".  Label tables of every kind the project keeps (a store, the
adjudications, a tie file, an audit table with CRLF lines, a round's pass
file) are written against the ids from before, then migrated.
"""
from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from pipeline.cli import main
from pipeline.corpus import readers
from pipeline.corpus.store import build_corpus, load_sentences
from pipeline.labels.gold import find_problems, read_store
from pipeline.labels.journal import append_journal, journal_path, save_record
from pipeline.labels.migrate import MIGRATIONS, label_tables, migrate_labels, successors
from pipeline.labels.store import store_table, write_store
from pipeline.project import Project

from conftest import kill_before_step

ARTICLES = {
    "senate.txt": "Senate extends sanctions\n\nWASHINGTON The U.S. Senate voted on Tuesday to extend sanctions on Iran, "
                  "officials said.\n\nThe vote was 98 to 0.\n",
    "truce.txt": "Truce holds in Syria\n\nBEIRUT/GENEVA A ceasefire in Syria held for a second day on Sunday, monitors "
                 "said.\n\nAid convoys reached two besieged towns near Damascus.\n",
    "debate.txt": "Rivals jab at Rubio\n\nMANCHESTER, N.H. — Senator Marco Rubio was hammered by his rivals at the "
                  "debate on Saturday.\n\nThe debate ran for two hours.\n",
}
# What each sentence was labelled (by its text before the change): diplomacy, violence, humanitarian, blame, junk.
VALUES = {
    "WASHINGTON The U.S. Senate voted on Tuesday to extend sanctions on Iran, officials said.": (1, 0, 0, 0, 0),
    "BEIRUT/GENEVA A ceasefire in Syria held for a second day on Sunday, monitors said.": (1, 1, 0, 0, 0),
    "MANCHESTER, N.H.": (0, 0, 0, 0, 1),  # the dateline, split off as a sentence of its own: removed by the change
    "— Senator Marco Rubio was hammered by his rivals at the debate on Saturday.": (0, 0, 0, 1, 0),
    "Aid convoys reached two besieged towns near Damascus.": (0, 0, 1, 0, 0),
}
COLS = ("diplomacy", "violence", "humanitarian", "blame", "junk")


@pytest.fixture
def project(tmp_path, monkeypatch) -> dict:
    raw = tmp_path / "raw"
    raw.mkdir()
    for name, text in ARTICLES.items():
        (raw / name).write_text(text, encoding="utf-8")
    with monkeypatch.context() as m:  # the cleaning before the change: datelines stayed
        m.setattr(readers, "strip_dateline", lambda paragraphs, title="": paragraphs)
        build_corpus([raw], tmp_path / "before")
    build_corpus([raw], tmp_path / "corpus")
    old = load_sentences(tmp_path / "before")
    assert set(VALUES) <= set(old["text"])
    labels = tmp_path / "labels"
    by_text = {t: (sid, aid) for sid, aid, t in zip(old["sentence_id"], old["article_id"], old["text"])}
    rows = [{"sentence_id": by_text[t][0], "article_id": by_text[t][1], "text": t, **dict(zip(COLS, v)),
             "annotator": "ana", "timestamp": "2026-01-01T00:00:00Z", "suggested": ""} for t, v in VALUES.items()]
    write_store(store_table(rows), labels / "ana.csv")
    senate = by_text["WASHINGTON The U.S. Senate voted on Tuesday to extend sanctions on Iran, officials said."][0]
    truce = by_text["BEIRUT/GENEVA A ceasefire in Syria held for a second day on Sunday, monitors said."][0]
    aid = by_text["Aid convoys reached two besieged towns near Damascus."][0]
    write_store(store_table([{**rows[0], "annotator": "adjudicator", "blame": 1}]), labels / "adjudications.csv")
    (labels / "ties" / "r1" / "pass1").mkdir(parents=True)
    (labels / "ties" / "r1" / "pass1" / "batch-01.jsonl").write_text(
        json.dumps({"sentence_id": truce, "ties": [["monitors", "UNKNOWN"]]}) + "\n", encoding="utf-8")
    (labels / "audit").mkdir()
    (labels / "audit" / "decisions-x.csv").write_bytes(
        f"sentence_id,rule,blame,note\r\n{aid},x,0,\r\n{senate},x,1,\"said, twice\"\r\n".encode())
    return {"root": tmp_path, "old": tmp_path / "before" / "sentences.csv", "labels": labels, "old_ids": by_text,
            "project": Project(corpus=tmp_path / "corpus", labels=labels, models=tmp_path / "models")}


def _values(store) -> dict:
    df = read_store(store)
    return {t: tuple(int(v) for v in vals) for t, *vals in zip(df["text"], *(df[c] for c in COLS))}


def test_labels_keep_their_values_under_the_new_ids(project):
    res = migrate_labels(project["project"], project["old"])
    new = load_sentences(project["root"] / "corpus")
    ids = dict(zip(new["text"], new["sentence_id"]))
    moved = {m.old_text: m.new_text for m in res.moves}
    assert moved == {"WASHINGTON The U.S. Senate voted on Tuesday to extend sanctions on Iran, officials said.":
                     "The U.S. Senate voted on Tuesday to extend sanctions on Iran, officials said.",
                     "BEIRUT/GENEVA A ceasefire in Syria held for a second day on Sunday, monitors said.":
                     "A ceasefire in Syria held for a second day on Sunday, monitors said.",
                     "— Senator Marco Rubio was hammered by his rivals at the debate on Saturday.":
                     "Senator Marco Rubio was hammered by his rivals at the debate on Saturday."}
    after = _values(project["labels"] / "ana.csv")
    assert after == {moved.get(t, t): v for t, v in VALUES.items()}  # same values, new texts
    assert set(read_store(project["labels"] / "ana.csv")["sentence_id"]) - {project["old_ids"]["MANCHESTER, N.H."][0]} \
        <= set(new["sentence_id"])
    adj = read_store(project["labels"] / "adjudications.csv")
    assert list(adj["sentence_id"]) == [ids["The U.S. Senate voted on Tuesday to extend sanctions on Iran, officials said."]]
    assert int(adj["blame"].iloc[0]) == 1
    tie = json.loads((project["labels"] / "ties" / "r1" / "pass1" / "batch-01.jsonl").read_text())
    assert tie == {"sentence_id": ids["A ceasefire in Syria held for a second day on Sunday, monitors said."],
                   "ties": [["monitors", "UNKNOWN"]]}
    # the audit table keeps its CRLF lines, and the bytes of rows that did not move
    aid = project["old_ids"]["Aid convoys reached two besieged towns near Damascus."][0]
    senate = ids["The U.S. Senate voted on Tuesday to extend sanctions on Iran, officials said."]
    assert (project["labels"] / "audit" / "decisions-x.csv").read_bytes() == \
        f"sentence_id,rule,blame,note\r\n{aid},x,0,\r\n{senate},x,1,\"said, twice\"\r\n".encode()
    log = [json.loads(line) for line in (project["labels"] / MIGRATIONS).read_text().splitlines()]
    assert [len(rec["moves"]) for rec in log] == [3]
    assert res.rewritten.keys() == {str(project["labels"] / n) for n in
                                    ("ana.csv", "adjudications.csv", "ties/r1/pass1/batch-01.jsonl", "audit/decisions-x.csv")}
    # a second run finds nothing left to move
    again = migrate_labels(project["project"], project["old"])
    assert again.moves == () and again.rewritten == {}


def test_a_removed_sentence_is_warned_and_kept_unless_asked(project, capsys):
    store = project["labels"] / "ana.csv"
    removed = project["old_ids"]["MANCHESTER, N.H."][0]
    line = int(read_store(store).set_index("sentence_id").loc[removed, "line"])
    res = migrate_labels(project["project"], project["old"])
    [w] = res.warnings
    assert (w.path, w.line, w.warning) == (str(store), line, True)
    assert removed in w.message and "removed by the cleaning" in w.message
    assert removed in set(read_store(store)["sentence_id"]) and res.unmatched_in_stores == 1
    assert [p for p in find_problems(project["project"]) if not p.warning and removed in p.message]  # check still flags it
    args = ["labels", "migrate", "--from", str(project["old"]), "--labels", str(project["labels"]),
            "--root", str(project["root"] / "corpus")]
    assert main(args) == 1
    assert f"warning: {store}" in capsys.readouterr().err
    assert main([*args, "--drop-removed"]) == 0
    assert "row deleted" in capsys.readouterr().err
    assert removed not in set(read_store(store)["sentence_id"])
    assert [p for p in find_problems(project["project"]) if not p.warning] == []


def test_pending_journal_decisions_are_folded_in_first(project):
    new = load_sentences(project["root"] / "corpus")
    sid, aid = project["old_ids"]["BEIRUT/GENEVA A ceasefire in Syria held for a second day on Sunday, monitors said."]
    append_journal(project["labels"], "bo", save_record("bo", sid, aid, "x", {"violence": 1}))
    migrate_labels(project["project"], project["old"], drop_removed=True)
    assert journal_path(project["labels"], "bo").read_text() == ""
    bo = read_store(project["labels"] / "bo.csv")
    assert list(bo["sentence_id"]) == list(new.loc[new["text"].str.startswith("A ceasefire"), "sentence_id"])
    assert int(bo["violence"].iloc[0]) == 1


def test_a_dry_run_writes_nothing(project):
    before = {p: p.read_bytes() for p in label_tables(project["labels"])}
    res = migrate_labels(project["project"], project["old"], dry_run=True)
    assert len(res.moves) == 3 and res.dry_run
    assert {p: p.read_bytes() for p in label_tables(project["labels"])} == before
    assert not (project["labels"] / MIGRATIONS).exists()


def test_a_table_that_is_not_a_sentence_table_is_one_error(project, capsys):
    bad = project["root"] / "bad.csv"
    bad.write_text("id,words\n1,x\n")
    assert main(["labels", "migrate", "--from", str(bad), "--labels", str(project["labels"]),
                 "--root", str(project["root"] / "corpus")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {bad}:1: not a corpus sentence table")


def _table(rows):
    return pd.DataFrame(rows, columns=["sentence_id", "article_id", "text"])


def test_ambiguous_and_weak_matches_are_refused():
    old = _table([("s1", "a", "WASHINGTON The vote was 98 to 0."), ("s2", "a", "Senators met on Tuesday to vote."),
                  ("s3", "b", "PARIS Talks resumed."), ("s4", "b", "PARIS  Talks resumed."),
                  ("s5", "c", "The long sentence that lost most of its words.")])
    new = _table([("n1", "a", "The vote was 98 to 0."), ("n1-2", "a", "The vote was 98 to 0."),
                  ("n2", "a", "Senators met on Tuesday to vote."), ("n3", "b", "Talks resumed."),
                  ("n5", "c", "its words.")])
    moves, unmatched = successors(old, new, ["s1", "s2", "s3", "s4", "s5", "s9"])
    assert {sid: m.new_id for sid, m in moves.items()} == {"s2": "n2"}  # the same text under another id
    assert unmatched == {"s1": "ambiguous: n1, n1-2", "s3": "ambiguous: s4 also became n3",
                         "s4": "ambiguous: s3 also became n3", "s5": "removed", "s9": "unknown"}


@pytest.mark.slow
def test_a_kill_mid_migration_leaves_each_file_whole_and_a_rerun_finishes(project, tmp_path):
    tables = label_tables(project["labels"])
    before = {p.relative_to(project["labels"]): p.read_bytes() for p in tables}
    done = tmp_path / "done"
    shutil.copytree(project["labels"], done)
    migrate_labels(Project(corpus=project["root"] / "corpus", labels=done), project["old"])
    after = {p.relative_to(done): p.read_bytes() for p in label_tables(done)}
    script = ("os.replace = stepped('replace', os.replace)\n"
              "from pathlib import Path\nfrom pipeline.labels.migrate import migrate_labels\nfrom pipeline.project import Project\n"
              "migrate_labels(Project(corpus=Path(sys.argv[1]), labels=Path(sys.argv[2])), sys.argv[3])\n")
    step = kill_before_step(script, [project["root"] / "corpus", project["labels"], project["old"]], 1)
    assert step.startswith("replace ")
    now = {p.relative_to(project["labels"]): p.read_bytes() for p in label_tables(project["labels"])}
    assert all(now[k] in (before[k], after[k]) for k in before)  # each file old or new, none torn
    assert sum(now[k] == after[k] != before[k] for k in before) == 1
    migrate_labels(project["project"], project["old"])
    assert {p.relative_to(project["labels"]): p.read_bytes() for p in label_tables(project["labels"])} == after
