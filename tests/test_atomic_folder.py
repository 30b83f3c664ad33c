"""store.atomic_folder: a folder output is replaced whole on success and never otherwise."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from pipeline.store import atomic_folder


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_success_replaces_the_folder_whole(tmp_path):
    out = tmp_path / "tags"
    out.mkdir()
    (out / "part-00000.parquet").write_text("old")
    (out / "part-00001.parquet").write_text("old")
    with atomic_folder(out) as staging:
        assert not (staging / "part-00000.parquet").exists()  # a new, empty folder
        (staging / "part-00000.parquet").write_text("new")
        assert (out / "part-00001.parquet").read_text() == "old"  # nothing changes before the end
    assert sorted(p.name for p in out.iterdir()) == ["part-00000.parquet"]
    assert (out / "part-00000.parquet").read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["tags"]  # no staging or old folder left


def test_an_error_leaves_the_old_folder_and_no_staging(tmp_path):
    out = tmp_path / "tags"
    out.mkdir()
    (out / "part-00000.parquet").write_text("old")
    with pytest.raises(RuntimeError), atomic_folder(out) as staging:
        (staging / "part-00000.parquet").write_text("half")
        raise RuntimeError("worker died")
    assert (out / "part-00000.parquet").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["tags"]


def test_a_new_folder_keeps_the_umask_and_a_replaced_one_its_bits(tmp_path):
    out = tmp_path / "tags"
    with atomic_folder(out):
        pass
    assert out.is_dir()
    os.chmod(out, 0o750)
    with atomic_folder(out):
        pass
    assert out.stat().st_mode & 0o777 == 0o750


def test_leftovers_of_killed_runs(tmp_path):
    out = tmp_path / "tags"
    dead = _dead_pid()
    staging = tmp_path / f".tags.{dead}.0123abcd.tmp"
    staging.mkdir()
    old_copy = tmp_path / f".tags.{dead}.89abcdef.old"
    old_copy.mkdir()
    (old_copy / "part-00000.parquet").write_text("the last output")
    stamp = 1_000_000_000  # long before this test process started
    for p in (staging, old_copy):
        os.utime(p, (stamp, stamp))
    # killed between the renames: the old folder is the only copy of the last output, so it stays
    with pytest.raises(RuntimeError), atomic_folder(out):
        raise RuntimeError
    assert not staging.exists() and old_copy.exists()
    # once a new output is in place, the old copy goes too
    with atomic_folder(out):
        pass
    assert not old_copy.exists()
    # a live writer's staging folder is never touched
    live = tmp_path / f".tags.{os.getpid()}.fedcba98.tmp"
    live.mkdir()
    os.utime(live, (stamp, stamp))
    with atomic_folder(out):
        pass
    assert live.exists()
