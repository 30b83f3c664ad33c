"""tag never loses or corrupts output; spreadsheet and terminal safety (issue 11).

One test per promise of the README's Tag section: nothing replaced when every
input failed, outputs checked before any work, one output schema, input
columns never overwritten, file modes, stale temp files, workers dying with
their parent, formula-safe CSV, control characters made visible.
"""
from __future__ import annotations

import csv
import io
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from pipeline.cli import main
from pipeline.records import LABELS
from pipeline.store import atomic_open, is_stream, write_table
from pipeline.tagging.output import output_columns

COLUMNS = output_columns(LABELS)
DATA = Path(__file__).parent / "data"


def run(capsys, *argv) -> tuple[int, str, str]:
    rc = main([str(a) for a in argv])
    cap = capsys.readouterr()
    assert "Traceback" not in cap.err
    return rc, cap.out, cap.err


def tag_cli(capsys, project, *argv):
    return run(capsys, "tag", *argv, "--models", project["models"])


def read_csv_raw(path) -> list[dict]:
    """Rows exactly as written (no type guessing, no NA conversion)."""
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def bad_table(tmp_path: Path) -> Path:
    p = tmp_path / "garbled.csv"
    p.write_bytes(b"text,x\n\xff\xfe\x00garbage\n")  # not UTF-8
    return p


# --------------------------------------------------------------------------
# Nothing lost
# --------------------------------------------------------------------------
def test_all_inputs_bad_keeps_the_old_output(trained_project, tmp_path, capsys):
    out, summ = tmp_path / "tags.csv", tmp_path / "summary.csv"
    rc, _, _ = tag_cli(capsys, trained_project, trained_project["raw"], "--out", out, "--summary", summ)
    assert rc == 0
    before = out.read_bytes(), summ.read_bytes()
    bad_files = sorted((DATA / "bad").iterdir())
    for inputs in ([DATA / "bad"], [DATA / "bad", bad_table(tmp_path)]):
        rc, _, err = tag_cli(capsys, trained_project, *inputs, "--out", out, "--summary", summ)
        assert rc == 1
        assert (out.read_bytes(), summ.read_bytes()) == before
        lines = err.strip().splitlines()
        assert len(lines) == len(bad_files) + len(inputs)  # a warning per bad input, then one error
        assert all(line.startswith("warning:") for line in lines[:-1]) and all(f.name in err for f in bad_files)
        assert lines[-1].startswith(f"error: {out}: every input failed")
    assert "garbled.csv" in err
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    # on stdout: not even a header
    rc, stdout, _ = tag_cli(capsys, trained_project, DATA / "bad", "--out", "-")
    assert rc == 1 and stdout == ""


def test_summary_same_file_as_out_is_refused_before_any_work(trained_project, tmp_path, capsys, monkeypatch):
    out = tmp_path / "tags.csv"
    out.write_text("precious\n")
    monkeypatch.chdir(tmp_path)
    # the models folder does not exist: the refusal must come before the model is even loaded
    for summary in (out, "./tags.csv", "sub/../tags.csv"):
        rc, _, err = run(capsys, "tag", trained_project["raw"], "--out", out, "--summary", summary, "--models", tmp_path / "none")
        assert rc == 1 and err.startswith("error: ") and "summary would overwrite the tags" in err and err.count("\n") == 1
    (tmp_path / "link.csv").symlink_to(out)
    rc, _, err = run(capsys, "tag", trained_project["raw"], "--out", out, "--summary", "link.csv", "--models", tmp_path / "none")
    assert rc == 1 and "summary would overwrite the tags" in err
    assert out.read_text() == "precious\n"


@pytest.fixture
def read_only_dir(tmp_path):
    d = tmp_path / "ro"
    d.mkdir()
    if os.geteuid() != 0:
        d.chmod(0o555)
        yield d
        d.chmod(0o755)
        return
    # root ignores permission bits; an immutable folder refuses even root
    if not shutil.which("chattr") or subprocess.run(["chattr", "+i", str(d)], capture_output=True, check=False).returncode:
        pytest.skip("running as root without chattr +i: cannot make a read-only folder")
    yield d
    subprocess.run(["chattr", "-i", str(d)], check=True)


@pytest.mark.parametrize("case", ["read-only folder", "a folder", "parent is a file", "summary in read-only folder"])
def test_unwritable_out_is_one_error_before_any_work(trained_project, tmp_path, capsys, read_only_dir, case):
    (tmp_path / "afile").write_text("x")
    (tmp_path / "adir.csv").mkdir()
    target = {"read-only folder": read_only_dir / "tags.csv", "a folder": tmp_path / "adir.csv",
              "parent is a file": tmp_path / "afile" / "sub" / "tags.csv", "summary in read-only folder": tmp_path / "tags.csv"}[case]
    extra = ["--summary", read_only_dir / "s.csv"] if case.startswith("summary") else []
    # the models folder does not exist: the error must come before the model is loaded
    rc, _, err = run(capsys, "tag", trained_project["raw"], "--out", target, *extra, "--models", tmp_path / "none")
    assert rc == 1 and err.count("\n") == 1 and err.startswith("error: ")
    named = read_only_dir / "s.csv" if extra else target
    assert str(named) in err and "model" not in err
    assert not (tmp_path / "tags.csv").exists() and not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


# --------------------------------------------------------------------------
# One schema
# --------------------------------------------------------------------------
def _tables(tmp_path: Path) -> tuple[Path, Path]:
    a = tmp_path / "a.csv"
    pd.DataFrame({"text": ["Air strikes killed 40 people near Homs.", "Markets in Hama were quiet."], "feed": ["wire", "blog"]}).to_csv(a, index=False)
    b = tmp_path / "b.jsonl"
    pd.DataFrame({"score": [7, 8], "text": ["The envoy met the delegation in Geneva for talks on a new constitution.",
                                           "An aid convoy delivered food and medicine to the besieged town of Madaya."],
                  "lang": ["en", "en"]}).to_json(b, orient="records", lines=True)
    return a, b


@pytest.mark.parametrize("ext", [".csv", ".jsonl", ".parquet"])
def test_tables_with_different_columns_share_one_schema(trained_project, tmp_path, capsys, ext):
    a, b = _tables(tmp_path)
    out = tmp_path / f"out{ext}"
    rc, _, err = tag_cli(capsys, trained_project, trained_project["raw"], a, b, "--out", out)
    assert rc == 0 and err == ""
    df = {".csv": lambda p: pd.read_csv(p, keep_default_na=False, dtype=str), ".jsonl": lambda p: pd.read_json(p, lines=True, dtype=False),
          ".parquet": pd.read_parquet}[ext](out)
    # the fixed columns first, then the carried ones in order of first appearance
    assert list(df.columns) == [*COLUMNS, "feed", "score", "lang"]
    rows = df[df.article_id.isin(["a", "b"])].set_index("text")
    assert rows.loc["Air strikes killed 40 people near Homs.", "feed"] == "wire"
    # provenance: a table's rows come from the table, an article's from its file
    assert rows.loc["Air strikes killed 40 people near Homs.", "source"] == str(a)
    assert str(rows.loc["Air strikes killed 40 people near Homs.", "violence"]) == "1"
    assert str(rows.loc["The envoy met the delegation in Geneva for talks on a new constitution.", "diplomacy"]) == "1"
    assert float(rows.loc["An aid convoy delivered food and medicine to the besieged town of Madaya.", "score"]) == 8
    articles = df[~df.article_id.isin(["a", "b"])]
    assert len(articles) > 100 and set(articles.model_id) == {trained_project["card"]["model_id"]}
    assert all(Path(s).parent == trained_project["raw"] for s in articles.source)
    carried = articles[["feed", "score", "lang"]]
    assert (carried.isna() | carried.isin([""])).all().all()  # empty, not shifted
    for lab in LABELS:
        assert set(df[lab].astype(str)) <= {"0", "1"}
    if ext == ".parquet":
        import pyarrow.parquet as pq

        schema = pq.read_schema(out)
        assert str(schema.field("score").type) == "int64" and str(schema.field("position").type) == "int64"


def test_columns_of_conflicting_types_become_text_in_parquet(trained_project, tmp_path, capsys):
    a = tmp_path / "a.jsonl"
    pd.DataFrame({"text": ["Air strikes killed 40 people near Homs."], "score": [3]}).to_json(a, orient="records", lines=True)
    b = tmp_path / "b.csv"
    pd.DataFrame({"text": ["Markets in Hama were quiet."], "score": ["high"], "position": ["4"]}).to_csv(b, index=False)
    out = tmp_path / "out.parquet"
    rc, _, _ = tag_cli(capsys, trained_project, a, b, "--out", out)
    assert rc == 0
    df = pd.read_parquet(out)
    assert df.score.tolist() == ["3", "high"] and df.position.tolist() == [0, 4]


def test_input_columns_named_like_outputs_are_carried_with_a_prefix(trained_project, tmp_path, capsys):
    store = trained_project["labels"] / "tester.csv"  # a label store: diplomacy, violence, ... are hand labels
    out = tmp_path / "out.csv"
    rc, _, err = tag_cli(capsys, trained_project, store, "--out", out)
    assert rc == 0
    assert err.count("warning:") == 1 and "input_diplomacy" in err and str(store) in err
    df = pd.read_csv(out)
    gold = pd.read_csv(store).set_index("sentence_id")
    for lab in LABELS:
        assert (df[f"input_{lab}"].to_numpy() == gold.loc[df.sentence_id, lab].to_numpy()).all()
    assert list(df.columns[: len(COLUMNS)]) == COLUMNS
    assert {"input_junk", "junk", "annotator"} & set(df.columns) == {"junk", "annotator"}  # only clashing names change
    # predictions, not the hand labels: they agree mostly, not by construction
    assert (df.violence == df.input_violence).mean() > 0.8


def test_table_without_text_is_one_warning_and_the_rest_is_tagged(trained_project, tmp_path, capsys):
    no_text = tmp_path / "notext.csv"
    no_text.write_text("sentence,other\nhello,1\n")
    out = tmp_path / "out.csv"
    rc, _, err = tag_cli(capsys, trained_project, trained_project["raw"], no_text, "--out", out)
    assert rc == 1
    assert err.count("warning:") == 1 and "notext.csv" in err and "no 'text' column" in err
    corpus = pd.read_csv(trained_project["corpus"] / "sentences.csv")
    assert sorted(pd.read_csv(out).sentence_id) == sorted(corpus.sentence_id)


def test_table_bad_after_the_first_chunk_is_skipped_whole(trained_project, tmp_path, capsys):
    from pipeline.tagging.tag import CHUNK_ROWS

    late = tmp_path / "late.csv"
    n = CHUNK_ROWS + 1
    pd.DataFrame({"text": ["Markets in Hama were quiet."] * n, "position": [*range(n - 1), "second"]}).to_csv(late, index=False)
    out = tmp_path / "out.csv"
    rc, _, err = tag_cli(capsys, trained_project, trained_project["raw"], late, "--out", out)
    assert rc == 1 and err.count("warning:") == 1 and f"late.csv: row {n}: position 'second' is not a whole number" in err
    assert "late" not in set(pd.read_csv(out).article_id)  # none of its rows, not the first chunk's either


def test_mixed_run_tags_the_good_rows_under_the_right_headers(trained_project, tmp_path, capsys):
    a, b = _tables(tmp_path)
    no_text = tmp_path / "notext.jsonl"
    no_text.write_text('{"sentence": "hello"}\n')
    bad = bad_table(tmp_path)
    outs = []
    for jobs in (1, 2):
        out = tmp_path / f"out{jobs}.csv"
        rc, _, err = tag_cli(capsys, trained_project, trained_project["raw"], DATA / "bad" / "empty.txt", bad, no_text, a, b,
                             "--out", out, "--jobs", jobs)
        assert rc == 1
        warnings = [line for line in err.splitlines() if line.startswith("warning:")]
        assert len(warnings) == 3 and all(n in err for n in ("empty.txt", "garbled.csv", "notext.jsonl"))
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]  # --jobs does not change a byte
    df = pd.read_csv(tmp_path / "out1.csv", keep_default_na=False, dtype=str)
    assert list(df.columns) == [*COLUMNS, "feed", "score", "lang"]
    by_text = df.set_index("text")
    assert by_text.loc["Air strikes killed 40 people near Homs.", ["feed", "score", "violence"]].tolist() == ["wire", "", "1"]
    assert by_text.loc["The envoy met the delegation in Geneva for talks on a new constitution.", ["feed", "score", "diplomacy", "source"]].tolist() == ["", "7", "1", str(b)]
    corpus = pd.read_csv(trained_project["corpus"] / "sentences.csv")
    assert len(df) == len(corpus) + 4


# --------------------------------------------------------------------------
# File modes, device nodes, symlinks, stale temp files
# --------------------------------------------------------------------------
def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_new_outputs_get_the_umask_mode_and_replaced_ones_keep_theirs(trained_project, tmp_path, capsys):
    out, summ = tmp_path / "tags.csv", tmp_path / "summary.parquet"
    old = os.umask(0o027)
    try:
        rc, _, _ = tag_cli(capsys, trained_project, trained_project["raw"], "--out", out, "--summary", summ)
        assert rc == 0 and _mode(out) == _mode(summ) == 0o640
        out.chmod(0o600)
        summ.chmod(0o664)  # group-writable: more than the umask allows, kept all the same
        rc, _, _ = tag_cli(capsys, trained_project, trained_project["raw"], "--out", out, "--summary", summ)
        assert rc == 0 and _mode(out) == 0o600 and _mode(summ) == 0o664
        assert len(pd.read_csv(out)) > 100
    finally:
        os.umask(old)


def test_atomic_open_follows_symlinks(tmp_path):
    target = tmp_path / "real.csv"
    target.write_text("old\n")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    with atomic_open(link) as f:
        f.write("new\n")
    assert link.is_symlink() and target.read_text() == "new\n"


# Never the real /dev/null: were the device replaced by a regular file, the
# test machine would lose it.  A null device made here (root) and a FIFO stand in.
@pytest.fixture(params=["null device", "fifo"])
def special_file(request, tmp_path):
    path = tmp_path / "sink.json"
    if request.param == "fifo":
        os.mkfifo(path)
        received = []
        reader = threading.Thread(target=lambda: received.append(path.read_bytes()), daemon=True)
        reader.start()
        yield path, stat.S_ISFIFO
        reader.join(timeout=30)
        assert received and received[0]  # the data went through the pipe
        return
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        path.open("w").close()
    except OSError:
        pytest.skip("cannot make a device node here (not root, or a nodev file system)")
    yield path, stat.S_ISCHR


def test_labels_export_onto_a_device_writes_it_directly(trained_project, capsys, special_file):
    path, is_kind = special_file
    rc, _, _ = run(capsys, "labels", "export", "--format", "doccano", "--out", path,
                   "--labels", trained_project["labels"], "--root", trained_project["corpus"])
    assert rc == 0 and is_kind(os.stat(path).st_mode)
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def test_out_dev_stdout_writes_csv_to_stdout_on_a_pipe_or_a_redirection(trained_project, tmp_path):
    """`--out /dev/stdout` gives what `--out -` gives, with no message mixed in,
    on a pipe, a file (`>`) and a file appended to (`>>`, its lines kept)."""
    def tag(out: str, stdout) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "pipeline", "tag", str(trained_project["raw"]), "--out", out,
                               "--models", str(trained_project["models"])],
                              cwd=Path(__file__).parent.parent, stdout=stdout, stderr=subprocess.PIPE, timeout=300, check=False)

    dash = tag("-", subprocess.PIPE)
    assert dash.returncode == 0 and dash.stdout.startswith(b"article_id,sentence_id,")
    piped = tag("/dev/stdout", subprocess.PIPE)
    assert (piped.returncode, piped.stdout, piped.stderr) == (0, dash.stdout, b"")
    redirected, appended = tmp_path / "redirected.csv", tmp_path / "appended.csv"
    appended.write_bytes(b"# an earlier run\n")
    with redirected.open("wb") as f:
        assert tag("/dev/stdout", f).returncode == 0
    with appended.open("ab") as f:
        assert tag("/dev/stdout", f).returncode == 0
    assert redirected.read_bytes() == dash.stdout
    assert appended.read_bytes() == b"# an earlier run\n" + dash.stdout
    for path in ("/dev/stdout", "/dev/fd/1", tmp_path / "nowhere"):
        assert is_stream(path) == (path != tmp_path / "nowhere")


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_next_write_removes_stale_temp_files_of_dead_writers_only(tmp_path):
    target = tmp_path / "tags.csv"
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    dead = _dead_pid()
    try:
        stale = tmp_path / f".tags.csv.{dead}.0123abcd.tmp"
        kept = {
            "live writer": tmp_path / f".tags.csv.{live.pid}.0123abcd.tmp",
            "another target": tmp_path / f".other.csv.{dead}.0123abcd.tmp",
            "not our name": tmp_path / ".tags.csv.x7y8z9.tmp",
        }
        for p in [stale, *kept.values()]:
            p.write_text("partial")
            os.utime(p, (time.time() - 3600, time.time() - 3600))
        newer = tmp_path / f".tags.csv.{_dead_pid()}.0123abcd.tmp"  # written after this process started
        newer.write_text("partial")
        os.utime(newer, (time.time() + 3600, time.time() + 3600))
        write_table(pd.DataFrame({"a": [1]}), target)
        assert not stale.exists()
        assert all(p.exists() for p in kept.values()) and newer.exists()
        assert target.read_text() == "a\n1\n"
    finally:
        live.kill()
        live.wait()


# --------------------------------------------------------------------------
# Workers die with their parent
# --------------------------------------------------------------------------
def _children(pid: int) -> set[int]:
    kids = set()
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                kids.add(int(d.name))
    return kids


def _running(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")  # a killed worker nobody reaped yet is a zombie: not running


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc to find the worker processes")
def test_killed_parent_takes_its_workers_along(trained_project, tmp_path):
    raw = tmp_path / "many"
    raw.mkdir()
    sources = sorted(trained_project["raw"].iterdir())
    for i in range(600):  # enough work that the run is still going when it is killed
        shutil.copy(sources[i % len(sources)], raw / f"copy{i:04d}.txt")
    out = tmp_path / "tags.csv"
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", "tag", str(raw), "--out", str(out), "--jobs", "2",
                             "--models", str(trained_project["models"])], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    workers: set[int] = set()
    while len(workers) < 2 and time.time() < deadline and proc.poll() is None:
        workers = _children(proc.pid)
        time.sleep(0.02)
    assert len(workers) >= 2, "the workers never started"
    time.sleep(0.3)  # let them pick up work
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    time.sleep(1)
    survivors = [w for w in workers if _running(w)]
    for w in survivors:
        os.kill(w, signal.SIGKILL)
    assert not survivors
    assert b"Traceback" not in proc.stderr.read()
    # the killed run left its temp file; the next run writing the same target removes it
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".tags.csv.")] and not out.exists()
    subprocess.run([sys.executable, "-m", "pipeline", "tag", str(trained_project["raw"]), "--out", str(out),
                    "--models", str(trained_project["models"])], check=True, capture_output=True)
    assert out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".tags.csv.")]


# --------------------------------------------------------------------------
# Spreadsheet and terminal safety
# --------------------------------------------------------------------------
FORMULAS = ["=HYPERLINK(\"http://x\",\"y\")", "+1+2 said the envoy.", "-2+3 said the envoy.", "@SUM(A1) said the envoy.",
            "\tTab first.", "\uff1dfull-width equals."]


def _formula_table(tmp_path: Path) -> Path:
    p = tmp_path / "formulas.csv"
    pd.DataFrame({"article_id": ["=cmd|' /C calc'!A0"] * 8, "text": [*FORMULAS, "-5", "Plain text."], "=x": ["@y"] * 8}).to_csv(p, index=False)
    return p


def test_csv_outputs_neutralise_formulas_unless_raw(trained_project, tmp_path, capsys):
    src = _formula_table(tmp_path)
    out, summ = tmp_path / "tags.csv", tmp_path / "summary.csv"
    rc, _, _ = tag_cli(capsys, trained_project, src, "--out", out, "--summary", summ)
    assert rc == 0
    rows = read_csv_raw(out)
    assert [r["text"] for r in rows] == [*("'" + t for t in FORMULAS), "-5", "Plain text."]
    assert {r["article_id"] for r in rows} == {"'=cmd|' /C calc'!A0"} and {r["'=x"] for r in rows} == {"'@y"}
    summary = read_csv_raw(summ)
    assert summary[0]["article_id"].startswith("'=")
    assert all(not v.startswith(("=", "+", "-", "@")) for r in summary for v in r.values() if not re.fullmatch(r"[-+]?[\d.]*", v))
    # --raw-csv: as they were; JSONL is never changed
    rc, _, _ = tag_cli(capsys, trained_project, src, "--out", out, "--summary", summ, "--raw-csv")
    assert [r["text"] for r in read_csv_raw(out)] == [*FORMULAS, "-5", "Plain text."]
    assert read_csv_raw(summ)[0]["article_id"] == "=cmd|' /C calc'!A0"
    rc, _, _ = tag_cli(capsys, trained_project, src, "--out", tmp_path / "tags.jsonl")
    assert pd.read_json(tmp_path / "tags.jsonl", lines=True, dtype=False).text.tolist() == [*FORMULAS, "-5", "Plain text."]


def test_disagreements_csv_is_formula_safe_and_data_files_are_not_changed(trained_project, tmp_path, capsys):
    store = pd.read_csv(trained_project["labels"] / "tester.csv", keep_default_na=False, dtype=str)
    store.loc[0, "text"] = "=1+1"
    a, b = tmp_path / "ana.csv", tmp_path / "bob.csv"
    write_table(store, a)  # a data file the pipeline reads back: written as it is
    assert read_csv_raw(a)[0]["text"] == "=1+1"
    store.loc[0, "diplomacy"] = "1" if store.loc[0, "diplomacy"] == "0" else "0"
    write_table(store, b)
    out = tmp_path / "disagreements.csv"
    rc, _, _ = run(capsys, "labels", "agree", a, b, "--out", out)
    assert rc == 0
    assert [r["text"] for r in read_csv_raw(out)] == ["'=1+1"]


def test_queue_csv_is_formula_safe_and_still_a_queue(trained_project, tmp_path, capsys):
    """labels/queue.csv is opened in spreadsheets too: formula-like text gets a
    ' there, and `talks label --queue` still reads its sentence ids."""
    from pipeline.corpus.store import build_corpus
    from pipeline.labelling.terminal import build_queue as label_queue

    p = trained_project
    formulas = ["=HYPERLINK(1) was shown to the envoys at the Geneva talks on Monday.",
                "@UN officials said the Geneva talks would resume after a short pause.",
                "-2 degrees at night made the camps near Aleppo even harder to bear, aid groups said."]
    (p["raw"] / "formulas.txt").write_text("Formulas\n\n" + "\n\n".join(formulas) + "\n", encoding="utf-8")
    build_corpus([p["raw"]], p["corpus"])
    out = tmp_path / "queue.csv"
    rc, _, _ = run(capsys, "queue", "--size", "200", "--out", out, "--root", p["corpus"], "--labels", p["labels"], "--models", p["models"])
    assert rc == 0
    rows = read_csv_raw(out)
    assert sorted(r["text"] for r in rows if r["text"][1:] in formulas) == sorted("'" + f for f in formulas)
    assert all(not r["text"].startswith(("=", "+", "-", "@")) for r in rows)
    ids = [it.sentence_id for it in label_queue("t", p["project"], queue=out)]
    assert ids == [r["sentence_id"] for r in rows]


CONTROL = "Talks\x00 resumed\x1b[31m in Geneva\x1b[0m,\r said\x07 the\x7f envoy\x9b.\tTab\nline"
VISIBLE = "Talks\u2400 resumed\u241b[31m in Geneva\u241b[0m,\u240d said\u2407 the\u2421 envoy\ufffd.\tTab\nline"


@pytest.mark.parametrize("ext", [".csv", ".jsonl", ".parquet", "-"])
def test_control_characters_are_made_visible(trained_project, tmp_path, capsys, ext):
    src = tmp_path / "ctl.jsonl"
    pd.DataFrame({"text": [CONTROL, "Plain."], "note\x1b[2J": ["\x1b]0;title\x07", "ok"]}).to_json(src, orient="records", lines=True)
    out = "-" if ext == "-" else tmp_path / f"out{ext}"
    rc, stdout, _ = tag_cli(capsys, trained_project, src, "--out", out)
    assert rc == 0
    if ext == "-":
        assert "\x1b" not in stdout and "\x00" not in stdout
        df = pd.read_csv(io.StringIO(stdout), keep_default_na=False)
    else:
        df = {".csv": lambda p: pd.read_csv(p, keep_default_na=False), ".jsonl": lambda p: pd.read_json(p, lines=True),
              ".parquet": pd.read_parquet}[ext](out)
    assert df.text.tolist() == [VISIBLE, "Plain."]
    assert df["note\u241b[2J"].tolist() == ["\u241b]0;title\u2407", "ok"]


def test_bidi_controls_in_a_file_name_and_text_are_made_visible(trained_project, tmp_path, capsys):
    """U+202E in a file name would show "news\u202etxt.exe" reversed in a spreadsheet or terminal;
    every bidi embedding, override and isolate is shown as U+FFFD, like the C1 controls."""
    bidi = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    folder = tmp_path / "in"
    folder.mkdir()
    art = folder / "news\u202etxt.exe.txt"
    art.write_text(f"Talks resume{bidi[4]} in Geneva\n\nThe envoy{bidi} met both sides on Monday, officials said.\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    rc, _, _ = tag_cli(capsys, trained_project, folder, "--out", out)
    assert rc == 0
    rows = read_csv_raw(out)
    assert {r["source"] for r in rows} == {str(art).replace("\u202e", "\ufffd")}
    assert [r["text"] for r in rows] == ["Talks resume\ufffd in Geneva", "The envoy" + "\ufffd" * 9 + " met both sides on Monday, officials said."]
    assert not any(set(bidi) & set(v) for r in rows for v in r.values())

