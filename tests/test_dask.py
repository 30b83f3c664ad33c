"""tag on a Dask cluster (issue 12): the same rows as the local engine, bad files skipped,
the old output kept by a failed run, the CLI.  Skipped without the dask extra."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

distributed = pytest.importorskip("distributed", reason="pip install 'talks[dask]'")

from pipeline.cli import main
from pipeline.tagging.cluster import tag_dask
from pipeline.errors import PipelineError
from pipeline.tagging.tag import CHUNK_FILES, tag

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def scheduler():
    """One LocalCluster of 2 worker processes for the module, closed at its end (no process left behind)."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        yield cluster.scheduler_address


@pytest.fixture
def feed(trained_project, tmp_path) -> Path:
    """111 article files: the project's 12 nine times over (same names in a/ ... i/, which get -2 ids
    inside a tag chunk) and the three formats of tests/data/articles: more than two chunks."""
    root = tmp_path / "feed"
    for sub in "abcdefghi":
        shutil.copytree(trained_project["raw"], root / sub)
    shutil.copytree(DATA / "articles", root / "z")
    assert len(list(root.rglob("*.*"))) > 2 * CHUNK_FILES
    return root


def read_parts(folder: Path) -> pd.DataFrame:
    parts = sorted(folder.iterdir())
    assert parts and all(p.name.startswith("part-") and p.suffix == ".parquet" for p in parts)
    return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)


def test_dask_rows_are_the_local_engines(trained_project, feed, tmp_path, scheduler):
    models = trained_project["models"]
    local, local_sum = tmp_path / "local.parquet", tmp_path / "local-summary.csv"
    a = tag([feed], str(local), summary=str(local_sum), models_dir=models, thresholds={"blame": 0.3})
    out, out_sum = tmp_path / "tags", tmp_path / "dask-summary.csv"
    b = tag_dask([feed], out, summary=out_sum, models_dir=models, scheduler=scheduler, thresholds={"blame": 0.3},
                 files_per_partition=CHUNK_FILES)
    assert b["written"] and b["errors"] == [] and b["workers"] == 2
    assert b["partitions"] == 3 and sorted(p.name for p in out.iterdir()) == [f"part-0000{i}.parquet" for i in range(3)]
    expected = pd.read_parquet(local)
    # row for row, with the same dtypes: read as a dataset (file-name order) and part by part
    pd.testing.assert_frame_equal(pd.read_parquet(out), expected)
    pd.testing.assert_frame_equal(read_parts(out), expected)
    # one name in nine folders: -2, -3, -4 ids are given inside a tag chunk of 48 files (a/-d/ in the first, e/-h/
    # in the second, i/ alone in the third), never -5, so a partition must be a run of whole chunks for the ids to match
    assert CHUNK_FILES == 48
    assert {"art00-4", "art11-4"} <= set(expected.article_id) and "art00-5" not in set(expected.article_id)
    assert (expected.model_id.str.endswith("+blame=0.3")).all()
    assert out_sum.read_bytes() == local_sum.read_bytes()
    assert (b["sentences"], b["articles"], b["files"]) == (a["sentences"], a["articles"], a["files"])
    # the model went to each worker once: both hold it under its sha256
    sha = trained_project["card"]["sha256"]
    with distributed.Client(scheduler) as client:
        held = client.run(lambda: __import__("pipeline.tagging.cluster").tagging.cluster._MODEL[0])
    assert list(held.values()) == [sha, sha]


def test_a_bad_file_is_skipped_and_the_rest_tagged(trained_project, tmp_path, scheduler):
    inputs = [trained_project["raw"], DATA / "bad"]
    local = tmp_path / "local.parquet"
    a = tag(inputs, str(local), models_dir=trained_project["models"])
    b = tag_dask(inputs, tmp_path / "tags", models_dir=trained_project["models"], scheduler=scheduler)
    assert b["written"] and b["errors"] == a["errors"] and len(b["errors"]) == len(list((DATA / "bad").iterdir()))
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "tags"), pd.read_parquet(local))


def test_a_failed_run_keeps_the_old_folder(trained_project, tmp_path, scheduler):
    models = trained_project["models"]
    out = tmp_path / "tags"
    assert tag_dask([trained_project["raw"]], out, models_dir=models, scheduler=scheduler)["written"]
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def unchanged() -> bool:
        leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".tags.")]
        return {p.name: p.read_bytes() for p in out.iterdir()} == before and not leftovers

    res = tag_dask([DATA / "bad"], out, models_dir=models, scheduler=scheduler)  # every input fails
    assert not res["written"] and res["errors"] and unchanged()
    with pytest.raises(PipelineError, match="no model folder"):
        tag_dask([trained_project["raw"]], out, model="nope", models_dir=models, scheduler=scheduler)
    assert unchanged()
    with pytest.raises(PipelineError, match="cannot reach the Dask scheduler"):
        tag_dask([trained_project["raw"]], out, models_dir=models, scheduler="tcp://127.0.0.1:9")
    assert unchanged()
    # a successful run replaces it whole
    res = tag_dask([DATA / "articles"], out, models_dir=models, scheduler=scheduler)
    assert res["written"] and {p.name for p in out.iterdir()} == {"part-00000.parquet"}
    assert len(pd.read_parquet(out)) == res["sentences"]


def test_outputs_and_inputs_it_refuses(trained_project, tmp_path, scheduler):
    models, raw = trained_project["models"], trained_project["raw"]
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    cases = [(mine, "not written by --engine dask"), (tmp_path / "tags.parquet", "without suffix"),
             (tmp_path / "tags.csv", "without suffix"), ("-", "not to stdout")]
    (tmp_path / "file").write_text("x")
    cases.append((tmp_path / "file", "is a file"))
    for out, msg in cases:
        with pytest.raises(PipelineError, match=msg):
            tag_dask([raw], out, models_dir=models, scheduler=scheduler)
    assert (mine / "notes.txt").read_text() == "keep me" and not (tmp_path / "tags.parquet").exists()
    table = tmp_path / "t.csv"
    table.write_text("text\nAir strikes killed 40 people near Homs.\n")
    with pytest.raises(PipelineError, match="sentence tables are tagged by the local engine"):
        tag_dask([table], tmp_path / "out", models_dir=models, scheduler=scheduler)
    with pytest.raises(PipelineError, match="replaced whole"):
        tag_dask([raw], tmp_path / "out", summary=tmp_path / "out" / "s.csv", models_dir=models, scheduler=scheduler)
    assert not (tmp_path / "out").exists()


def test_without_dask_the_error_says_how_to_install(trained_project, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed now raises ImportError
    with pytest.raises(PipelineError, match=r"pip install 'talks\[dask\]'"):
        tag_dask([trained_project["raw"]], tmp_path / "tags", models_dir=trained_project["models"])


def test_cli_engine_dask_starts_a_local_cluster(trained_project, tmp_path, capsys):
    raw, models = trained_project["raw"], trained_project["models"]
    rc = main(["tag", str(raw), "--out", str(tmp_path / "local.parquet"), "--summary", str(tmp_path / "ls.csv"), "--models", str(models)])
    assert rc == 0
    # a process of its own, as a user runs it: the LocalCluster's workers are spawned from `python -m pipeline`
    proc = subprocess.run([sys.executable, "-m", "pipeline", "tag", str(raw), "--engine", "dask", "--jobs", "2",
                           "--out", str(tmp_path / "tags"), "--summary", str(tmp_path / "ds.csv"), "--models", str(models)],
                          check=False, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "on 2 Dask workers: wrote 1 Parquet files" in proc.stdout and "Traceback" not in proc.stderr
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "tags"), pd.read_parquet(tmp_path / "local.parquet"))
    assert (tmp_path / "ds.csv").read_bytes() == (tmp_path / "ls.csv").read_bytes()
    capsys.readouterr()
    for argv, msg in [(["--engine", "dask", "--out", str(tmp_path / "x.csv")], "without suffix"),
                      (["--scheduler", "tcp://127.0.0.1:9", "--out", str(tmp_path / "x.csv")], "add --engine dask"),
                      (["--engine", "dask", "--scheduler", "tcp://127.0.0.1:9", "--jobs", "2", "--out", str(tmp_path / "y")], "--jobs")]:
        rc = main(["tag", str(raw), *argv, "--models", str(models)])
        err = capsys.readouterr().err
        assert rc == 1 and err.startswith("error:") and msg in err and "Traceback" not in err, err


def test_dask_fills_blame_ties_as_the_local_engine_does(trained_project, tmp_path, scheduler):
    """With a tie extractor in the models folder (the shipped one), every worker loads it from its files' bytes
    and the blame_ties column is the local engine's, row for row."""
    models = trained_project["models"]
    shutil.copytree(Path(__file__).parent.parent / "models" / "ties", models / "ties")
    local = tmp_path / "local.parquet"
    tag([trained_project["raw"]], str(local), models_dir=models)
    out = tmp_path / "tags"
    b = tag_dask([trained_project["raw"]], out, models_dir=models, scheduler=scheduler, files_per_partition=CHUNK_FILES)
    assert b["written"]
    expected = pd.read_parquet(local)
    assert (expected.loc[expected.blame == 1, "blame_ties"] != "").any()
    pd.testing.assert_frame_equal(pd.read_parquet(out), expected)
