"""The label store: loading, checking, gold labels, stats, agreement, import/export, journal."""
from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.cli import main
from pipeline.errors import LabelError
from pipeline.labels.interop import export_labels, import_labels
from pipeline.labels.agreement import agreement, label_stats
from pipeline.labels.gold import (
    check_labels,
    find_problems,
    gold_labels,
    labels_hash,
    load_labels,
    read_store,
    resolve_gold,
)
from pipeline.labels.journal import append_journal, compact_journal, save_record, undo_record
from pipeline.labels.store import GOLD_COLUMNS, STORE_COLUMNS, store_files, store_path, write_store
from pipeline.project import Project
from pipeline.records import LABELS

DATA = Path(__file__).parent / "data"

LABEL_DATA = DATA / "labels"


@pytest.fixture
def good(tmp_path: Path) -> Path:
    """A writable copy of the clean label folder (stores, adjudications, non-store files)."""
    return Path(shutil.copytree(LABEL_DATA / "good", tmp_path / "labels"))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """The tiny corpus, built once for the module (hypothesis tests reuse it)."""
    from pipeline.corpus.store import build_corpus

    root = tmp_path_factory.mktemp("c") / "corpus"
    assert not build_corpus([DATA / "articles"], root)["errors"]
    return root


def _row(sid: str, df: pd.DataFrame) -> dict:
    return df.set_index("sentence_id").loc[sid].to_dict()


# --------------------------------------------------------------------------
# Loading and checking
# --------------------------------------------------------------------------
def test_loader_reads_stores_and_ignores_other_files(good, corpus):
    assert [p.name for p in store_files(good)] == ["ana.csv", "bob.csv", "cy.csv"]
    df = load_labels(Project(corpus=corpus, labels=good))
    assert set(df["file"].map(lambda p: Path(p).name)) == {"ana.csv", "bob.csv", "cy.csv", "adjudications.csv"}
    assert set(df.loc[df["kind"] == "adjudication", "annotator"]) == {"lead"}
    assert {"file", "line", *STORE_COLUMNS} <= set(df.columns)
    first = df[(df["annotator"] == "ana")].iloc[0]
    assert first["line"] == 2 and first["sentence_id"] == "s056514e63feb"
    assert check_labels(Project(corpus=corpus, labels=good)) == []
    assert main(["labels", "check", "--labels", str(good), "--root", str(corpus)]) == 0


def test_check_lists_every_problem_with_file_line_and_fix(corpus, capsys):
    bad = LABEL_DATA / "bad"
    problems = check_labels(Project(corpus=corpus, labels=bad))
    text = "\n".join(problems)
    ana, bob = str(bad / "ana.csv"), str(bad / "bob.csv")
    expected = [
        (f"{ana}:2:", "humanitarian is '2', not 0 or 1"),
        (f"{ana}:3:", "junk row with label(s) violence set"),
        (f"{ana}:5:", "also on line 4 with different values"),
        (f"{ana}:7: warning:", "same values"),
        (f"{ana}:8:", "not in the corpus (orphan"),
        (f"{ana}:9:", "text no longer matches"),
        (f"{ana}:10:", "article_id 'plain' but the corpus has 'page'"),
        (f"{bob}:1:", "missing column(s) junk"),
        (f"{bob}:1:", "unknown column 'mood'"),
    ]
    for where, what in expected:
        assert any(p.startswith(where) and what in p for p in problems), (where, what, text)
    assert all("; " in p for p in problems)  # every message carries a fix
    assert len(problems) == len(expected)  # whitespace-only text change on line 10 is fine
    assert main(["labels", "check", "--labels", str(bad), "--root", str(corpus)]) == 1
    assert "8 problem(s), 1 warning(s)" in capsys.readouterr().out


def test_gold_raises_on_first_problem_with_file_and_line(corpus):
    with pytest.raises(LabelError) as e:
        gold_labels(Project(corpus=corpus, labels=LABEL_DATA / "bad"))
    assert e.value.path == str(LABEL_DATA / "bad" / "ana.csv") and e.value.line == 2
    assert "0 or 1" in str(e.value)


def test_identical_duplicate_is_only_a_warning(tmp_path, corpus, capsys):
    src = (LABEL_DATA / "good" / "cy.csv").read_text().splitlines()
    (tmp_path / "cy.csv").write_text("\n".join([*src, src[1]]) + "\n")
    problems = find_problems(Project(corpus=corpus, labels=tmp_path))
    assert len(problems) == 1 and problems[0].warning and problems[0].line == 3
    assert len(gold_labels(Project(corpus=corpus, labels=tmp_path))) == 1
    assert main(["labels", "check", "--labels", str(tmp_path), "--root", str(corpus)]) == 0


def test_store_name_rules(tmp_path):
    assert store_path(tmp_path, "ana").name == "ana.csv"
    for bad in ("", "../x", ".hidden", "disagreements", "a b"):
        with pytest.raises(LabelError):
            store_path(tmp_path, bad)


# --------------------------------------------------------------------------
# Gold labels
# --------------------------------------------------------------------------
def test_gold_majority_ties_adjudication_and_junk(good, corpus):
    g = gold_labels(Project(corpus=corpus, labels=good))
    assert list(g.columns) == list(GOLD_COLUMNS)
    assert list(g["sentence_id"]) == sorted(g["sentence_id"])
    assert "s7f40e9e64e77" not in set(g["sentence_id"])  # junk for both: excluded
    air = _row("s0e7e07655ce6", g)  # 2 of 3 say blame
    assert (air["violence"], air["blame"], air["diplomacy"], air["n_annotators"]) == (1, 1, 0, 3)
    assert _row("s6d3b8460a828", g)["diplomacy"] == 1  # single annotator
    assert _row("s0960e75ab157", g)["blame"] == 1  # tie 1-1, but the adjudication says blame
    sef = _row("sef2cd0efc308", g)  # junk vs diplomacy, 1-1: when torn, say no (to both)
    assert [sef[lab] for lab in LABELS] == [0, 0, 0, 0]
    assert g[list(LABELS)].dtypes.map(lambda d: d.kind).eq("i").all()
    assert _row("s056514e63feb", g)["text"] == "Aid convoy reaches besieged town"


def test_labels_hash_tracks_labels_only(good, corpus):
    g = gold_labels(Project(corpus=corpus, labels=good))
    h = labels_hash(g)
    assert len(h) == 64 and h == labels_hash(g.sample(frac=1, random_state=1))
    assert h == labels_hash(g.assign(text="changed"))
    flipped = g.copy()
    flipped.loc[0, "violence"] = 1 - flipped.loc[0, "violence"]
    assert labels_hash(flipped) != h


votes = st.lists(st.tuples(*[st.integers(0, 1)] * 4, st.booleans()), min_size=1, max_size=5)


@settings(max_examples=40, deadline=None)
@given(votes, st.randoms())
def test_gold_is_strict_majority_and_order_free(vs, rnd):
    """Per label, 1 iff more than half the annotators say 1; shuffling annotators changes nothing."""
    def frame(rows):
        recs = []
        for i, (d, v, h, b, junk) in enumerate(rows):
            vals = dict(zip(LABELS, (0, 0, 0, 0) if junk else (d, v, h, b)))
            recs.append({"sentence_id": "s1", **vals, "junk": int(junk), "kind": "annotator", "annotator": f"a{i}"})
        return pd.DataFrame(recs)

    out = resolve_gold(frame(vs)).iloc[0]
    n = len(vs)
    junk = 2 * sum(j for *_, j in vs) > n
    assert out["junk"] == junk and out["n_annotators"] == n
    for k, lab in enumerate(LABELS):
        yes = sum(0 if j else r[k] for *r, j in vs)
        assert out[lab] == (0 if junk else int(2 * yes > n))
    shuffled = list(vs)
    rnd.shuffle(shuffled)
    assert resolve_gold(frame(shuffled)).equals(resolve_gold(frame(vs)))


# --------------------------------------------------------------------------
# Stats
# --------------------------------------------------------------------------
def test_stats(good, corpus, capsys):
    st_ = label_stats(Project(corpus=corpus, labels=good))
    assert st_["labelled"] == 8 and st_["junk"] == 1
    assert st_["corpus_sentences"] == 14 and st_["corpus_articles"] == 3 and st_["articles_labelled"] == 3
    assert st_["coverage"] == pytest.approx(8 / 14)
    assert st_["annotators"] == ["ana", "bob", "cy"]
    per = {r["label"]: r for r in st_["per_label"]}
    assert per["violence"]["positive"] == 2 and per["blame"]["positive"] == 2
    assert per["violence"]["share"] == pytest.approx(2 / 7)
    assert st_["cooccurrence"]["violence"]["blame"] == 1 == st_["cooccurrence"]["blame"]["violence"]
    arts = {r["article_id"]: r for r in st_["per_article"]}
    assert [r["article_id"] for r in st_["per_article"]] == ["frontmatter", "page", "plain"]
    assert arts["page"] == {"article_id": "page", "labelled": 3, "sentences": 4, "diplomacy": 0, "violence": 1, "humanitarian": 0, "blame": 0}
    assert main(["labels", "stats", "--labels", str(good), "--root", str(corpus), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["labelled"] == 8
    assert main(["labels", "stats", "--labels", str(good), "--root", str(corpus)]) == 0
    assert "8 of 14 corpus sentences labelled" in capsys.readouterr().out


def test_stats_skip_bad_rows_and_count_them(corpus):
    st_ = label_stats(Project(corpus=corpus, labels=LABEL_DATA / "bad"))
    assert st_["problems"] == 8 and st_["labelled"] == 2  # ana lines 6/7 (identical) and bob's file is unusable


def test_stats_on_empty_store(tmp_path, corpus):
    st_ = label_stats(Project(corpus=corpus, labels=tmp_path / "nothing"))
    assert st_["labelled"] == 0 and st_["coverage"] == 0 and st_["per_article"] == []


# --------------------------------------------------------------------------
# Agreement
# --------------------------------------------------------------------------
def test_agreement(good, tmp_path, capsys):
    out = tmp_path / "disagreements.csv"
    res = agreement(good / "ana.csv", good / "bob.csv", out)
    assert (res["a"], res["b"], res["n"]) == ("ana", "bob", 5)  # sef2... is junk for ana only, s7f4... for both
    per = {r["label"]: r for r in res["per_label"]}
    assert per["violence"]["agreement"] == 1.0 and per["violence"]["kappa"] == pytest.approx(1.0)
    assert per["blame"]["agreement"] == pytest.approx(0.6) and (per["blame"]["a_pos"], per["blame"]["b_pos"]) == (1, 1)
    assert per["blame"]["kappa"] == pytest.approx(-0.25)
    assert -1 <= per["blame"]["alpha"] <= 1
    assert res["junk_disagreements"] == 1 and res["disagreements"] == 3
    dis = pd.read_csv(out, dtype=str)
    assert dict(zip(dis["sentence_id"], dis["label"])) == {"s0960e75ab157": "blame", "s0e7e07655ce6": "blame", "sef2cd0efc308": "junk"}
    assert list(dis.columns[:4]) == ["sentence_id", "article_id", "text", "label"]
    assert main(["labels", "agree", str(good / "ana.csv"), str(good / "bob.csv"), "--out", str(out)]) == 0
    assert "3 disagreement(s)" in capsys.readouterr().out


def test_agreement_degenerate_cases(tmp_path, good):
    # a label nobody uses: kappa/alpha are undefined (nan), not a crash
    res = agreement(good / "ana.csv", good / "ana.csv", tmp_path / "d.csv")
    per = {r["label"]: r for r in res["per_label"]}
    assert res["b"] == "ana_2" and res["disagreements"] == 0
    assert per["humanitarian"]["agreement"] == 1.0
    one = {r["label"]: r for r in agreement(good / "cy.csv", good / "cy.csv", tmp_path / "d.csv")["per_label"]}
    assert math.isnan(one["diplomacy"]["kappa"]) and math.isnan(one["diplomacy"]["alpha"])
    # no overlap at all
    res = agreement(good / "cy.csv", good / "adjudications.csv", tmp_path / "d.csv")
    assert res["n"] == 0 and all(math.isnan(r["kappa"]) for r in res["per_label"])
    with pytest.raises(LabelError):
        agreement(LABEL_DATA / "bad" / "ana.csv", good / "bob.csv", tmp_path / "d.csv")


# --------------------------------------------------------------------------
# Import / export
# --------------------------------------------------------------------------
def test_import_labelstudio(tmp_path, corpus, capsys):
    labels = tmp_path / "labels"
    res = import_labels(LABEL_DATA / "import" / "labelstudio.json", "labelstudio", "ls", Project(corpus=corpus, labels=labels))
    df = read_store(res["path"])
    assert res["rows"] == 3 and res["matched_by_text"] == 1
    assert list(df["sentence_id"]) == ["s6d3b8460a828", "s859a8011051d", "sef2cd0efc308"]
    assert _row("s6d3b8460a828", df)["diplomacy"] == 1 and _row("s6d3b8460a828", df)["timestamp"] == "2024-05-02T08:15:00Z"
    assert (_row("s859a8011051d", df)["violence"], _row("s859a8011051d", df)["blame"]) == (1, 1)  # curly quotes, spacing: matched by text
    assert _row("sef2cd0efc308", df)["junk"] == 1
    assert any("task 3" in w and "matches no corpus sentence" in w for w in res["warnings"])
    assert any("2 item(s) without annotations" in w for w in res["warnings"])
    assert check_labels(Project(corpus=corpus, labels=labels)) == []
    assert main(["labels", "import", str(LABEL_DATA / "import" / "labelstudio.json"), "--format", "labelstudio", "--annotator", "ls", "--labels", str(labels), "--root", str(corpus)]) == 1  # task 3 was skipped
    assert "matches no corpus sentence" in capsys.readouterr().err


def test_import_doccano_merges_into_existing_store(good, corpus):
    before = read_store(good / "ana.csv")
    res = import_labels(LABEL_DATA / "import" / "doccano.jsonl", "doccano", "ana", Project(corpus=corpus, labels=good))
    after = read_store(good / "ana.csv")
    assert res["rows"] == 3 and res["replaced"] == 3 and len(after) == len(before)
    assert _row("s0960e75ab157", after)["blame"] == 1  # matched by normalised text
    assert _row("sef2cd0efc308", after)["junk"] == 0  # replaced: labelled 'no labels' now
    assert _row("s72b5d82e4cc1", after) == _row("s72b5d82e4cc1", before)  # untouched rows kept
    assert any("line 4" in w and "sports" in w for w in res["warnings"])
    assert any("line 5" in w for w in res["warnings"])
    assert check_labels(Project(corpus=corpus, labels=good)) == []


def test_import_rejects_bad_files(tmp_path, corpus):
    p = tmp_path / "x.jsonl"
    p.write_text('not json\n[1]\n')  # no line is a JSON object: not JSONL at all
    with pytest.raises(LabelError) as e:
        import_labels(p, "doccano", "x", Project(corpus=corpus, labels=tmp_path / "labels"))
    assert e.value.line == 1
    with pytest.raises(LabelError):
        import_labels(p, "prodigy", "x", Project(corpus=corpus, labels=tmp_path / "labels"))


@pytest.mark.parametrize("fmt,ext", [("labelstudio", "json"), ("doccano", "jsonl")])
def test_export_all_sentences(good, corpus, tmp_path, fmt, ext):
    out = tmp_path / f"all.{ext}"
    assert export_labels(out, fmt, Project(corpus=corpus, labels=good), all_sentences=True)["rows"] == 14
    assert export_labels(out, fmt, Project(corpus=corpus, labels=good))["rows"] == 8
    if fmt == "labelstudio":
        tasks = json.loads(out.read_text())
        junk = next(t for t in tasks if t["data"]["sentence_id"] == "s7f40e9e64e77")
        res = junk["annotations"][0]["result"][0]
        assert (res["type"], res["from_name"], res["to_name"], res["value"]["choices"]) == ("choices", "labels", "text", ["junk"])


gold_values = st.lists(st.sampled_from([(0, 0, 0, 0, 0), (0, 0, 0, 0, 1), (1, 0, 0, 0, 0), (0, 1, 1, 0, 0), (1, 1, 1, 1, 0), (0, 0, 0, 1, 0)]), min_size=14, max_size=14)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=gold_values, keep=st.lists(st.booleans(), min_size=14, max_size=14), fmt=st.sampled_from(["labelstudio", "doccano"]))
def test_export_import_round_trip(corpus, tmp_path_factory, values, keep, fmt):
    """Any store exported then imported gives the same labels (junk included)."""
    from pipeline.corpus.store import load_sentences

    d = tmp_path_factory.mktemp("rt")
    sents = load_sentences(corpus)
    rows = [
        {"sentence_id": s["sentence_id"], "article_id": s["article_id"], "text": s["text"], **dict(zip((*LABELS, "junk"), v)), "annotator": "src", "timestamp": "2024-01-01T00:00:00Z"}
        for s, v, k in zip(sents.to_dict("records"), values, keep) if k
    ]
    write_store(pd.DataFrame(rows, columns=list(STORE_COLUMNS)), d / "labels" / "src.csv")
    export_labels(d / "out", fmt, Project(corpus=corpus, labels=d / "labels"), all_sentences=True)
    res = import_labels(d / "out", fmt, "dst", Project(corpus=corpus, labels=d / "labels"))
    cols = ["sentence_id", *LABELS, "junk"]
    assert res["rows"] == len(rows)
    if rows:
        assert read_store(d / "labels" / "src.csv")[cols].equals(read_store(d / "labels" / "dst.csv")[cols])


# --------------------------------------------------------------------------
# Journal: pending decisions count, compaction is atomic and idempotent
# --------------------------------------------------------------------------
def test_journal_folded_by_readers_and_compaction(good, corpus):
    rec = save_record("cy", "s6d3b8460a828", "frontmatter", "Mr. Kerry called Lavrov on Sunday.", {"diplomacy": 1})
    append_journal(good, "cy", rec)
    append_journal(good, "cy", save_record("cy", "s0e7e07655ce6", "plain", "x", {"violence": 1}))
    append_journal(good, "cy", undo_record("cy", "s0e7e07655ce6"))  # restores cy's original row
    append_journal(good, "dee", save_record("dee", "s6d3b8460a828", "frontmatter", "Mr. Kerry called Lavrov on Sunday.", {"junk": 1}))
    with open(good / ".journal" / "cy.jsonl", "a") as f:
        f.write('{"op": "save", "sentence_')  # torn last line of a killed process
    df = load_labels(Project(corpus=corpus, labels=good))
    cy = df[df["annotator"] == "cy"].set_index("sentence_id")
    assert set(cy.index) == {"s0e7e07655ce6", "s6d3b8460a828"} and cy.loc["s0e7e07655ce6", "blame"] == 1
    assert "dee" in label_stats(Project(corpus=corpus, labels=good))["annotators"]  # a store that exists only as a journal
    before = load_labels(Project(corpus=corpus, labels=good))[["sentence_id", "annotator", *LABELS, "junk"]]
    assert compact_journal(good, "cy") == 3 and compact_journal(good, "dee") == 1
    assert (good / ".journal" / "cy.jsonl").read_text() == ""
    assert (good / "dee.csv").exists() and check_labels(Project(corpus=corpus, labels=good)) == []
    after = load_labels(Project(corpus=corpus, labels=good))[["sentence_id", "annotator", *LABELS, "junk"]]
    key = ["annotator", "sentence_id"]
    assert before.sort_values(key).reset_index(drop=True).equals(after.sort_values(key).reset_index(drop=True))


def test_journal_replay_after_crash_before_truncate_is_harmless(good, corpus):
    """Crash between writing the CSV and emptying the journal: replaying gives the same store."""
    append_journal(good, "ana", save_record("ana", "s0960e75ab157", "plain", "The government denied it.", {"violence": 1}))
    append_journal(good, "ana", save_record("ana", "s0960e75ab157", "plain", "The government denied it.", {"humanitarian": 1}))
    append_journal(good, "ana", undo_record("ana", "s0960e75ab157"))
    journal = (good / ".journal" / "ana.jsonl").read_text()
    compact_journal(good, "ana")
    once = (good / "ana.csv").read_text()
    (good / ".journal" / "ana.jsonl").write_text(journal)
    compact_journal(good, "ana")
    assert (good / "ana.csv").read_text() == once
    assert _row("s0960e75ab157", read_store(good / "ana.csv"))["violence"] == 1


def test_corrupt_journal_line_in_the_middle_is_an_error(good, corpus):
    j = good / ".journal" / "cy.jsonl"
    j.write_text('garbage\n{"op": "undo", "sentence_id": "x"}\n')
    with pytest.raises(LabelError) as e:
        load_labels(Project(corpus=corpus, labels=good))
    assert e.value.line == 1 and e.value.path == str(j)


def test_agreement_sides_can_be_several_stores(tmp_path):
    """A double pass: annotators 1+2 against 3+4, each sentence once per side."""
    import pandas as pd

    from pipeline.labels.agreement import agreement

    def store(name, rows):
        df = pd.DataFrame([{"sentence_id": sid, "article_id": "a", "text": f"text {sid}", "diplomacy": d, "violence": 0,
                            "humanitarian": 0, "blame": 0, "junk": 0, "annotator": name, "timestamp": "2026-01-01T00:00:00Z"}
                           for sid, d in rows])
        path = tmp_path / f"{name}.csv"
        df.to_csv(path, index=False)
        return path

    a1, a2 = store("p1", [("s1", 1), ("s2", 0)]), store("p2", [("s3", 1)])
    b1, b2 = store("q1", [("s1", 1)]), store("q2", [("s2", 1), ("s3", 1)])
    res = agreement([a1, a2], [b1, b2], tmp_path / "dis.csv")
    assert res["n"] == 3 and res["a"] == "p1+p2" and res["b"] == "q1+q2"
    dip = next(r for r in res["per_label"] if r["label"] == "diplomacy")
    assert abs(dip["agreement"] - 2 / 3) < 1e-9 and res["disagreements"] == 1
    only = agreement([a1, a2], [b1, b2], tmp_path / "dis2.csv", articles=["elsewhere"])
    assert only["n"] == 0
