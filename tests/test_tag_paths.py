"""tag's fast path against the reference path, and when it uses worker processes.

The reference path is the plain composition of the public stage functions,
one article at a time: ``read_article`` -> ``split_article`` -> the model's
``predict_proba`` -> the stored thresholds.  ``talks tag`` reads files in
chunks, hands them to forked workers that start from the parent's loaded
model, and skips the pool when the input is too small to share.  Whatever
the path, every row (ids, text, provenance, probabilities, labels) must be
the reference path's.
"""
from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.corpus import boilerplate
from pipeline.tagging import tag as tag_module
from pipeline.corpus.ingest import read_article
from pipeline.records import LABELS
from pipeline.corpus.split import split_article
from pipeline.tagging.tag import tag, worker_processes
from pipeline.model.loading import load_model

from conftest import DATA


@pytest.fixture
def mixed_folder(trained_project, tmp_path):
    """The template articles plus the test corpus's Markdown, HTML and text articles."""
    folder = tmp_path / "in"
    shutil.copytree(trained_project["raw"], folder)
    for f in sorted((DATA / "articles").iterdir()):
        shutil.copy(f, folder / f"z-{f.name}")
    return folder


def reference_rows(folder, models) -> pd.DataFrame:
    m = load_model(None, models)
    rows = []
    for path in sorted(folder.iterdir()):
        art = read_article(path)
        sents = split_article(art)
        P = np.asarray(m["pipeline"].predict_proba([s.text for s in sents]), dtype=float)
        for s, p in zip(sents, P):
            rows.append({"article_id": s.article_id, "sentence_id": s.sentence_id, "position": s.position, "text": s.text,
                         "title": art.title, "source": art.source,
                         **{lab: int(p[j] >= m["thresholds"][lab]) for j, lab in enumerate(LABELS)},
                         **{f"p_{lab}": round(float(p[j]), 4) for j, lab in enumerate(LABELS)}})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("jobs,chunk_files,processes", [(1, 16, 1), (2, 16, 1), (2, 2, 2)])
def test_every_path_gives_the_reference_rows(trained_project, mixed_folder, tmp_path, monkeypatch, jobs, chunk_files, processes):
    monkeypatch.setattr(tag_module, "CHUNK_FILES", chunk_files)  # small chunks: enough of them for a pool of 2
    out = tmp_path / "tags.parquet"
    res = tag([mixed_folder], str(out), models_dir=trained_project["models"], jobs=jobs)
    assert res["processes"] == processes and res["errors"] == []
    got = pd.read_parquet(out)
    ref = reference_rows(mixed_folder, trained_project["models"])
    assert len(got) == len(ref) > 120
    pd.testing.assert_frame_equal(got[list(ref.columns)].reset_index(drop=True), ref, check_dtype=False)


def test_the_pool_and_one_process_write_the_same_bytes(trained_project, mixed_folder, tmp_path, monkeypatch):
    monkeypatch.setattr(tag_module, "CHUNK_FILES", 2)
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    assert tag([mixed_folder], str(a), models_dir=trained_project["models"], jobs=1)["processes"] == 1
    assert tag([mixed_folder], str(b), models_dir=trained_project["models"], jobs=2)["processes"] == 2
    assert a.read_bytes() == b.read_bytes()


def test_small_inputs_stay_in_one_process(monkeypatch):
    monkeypatch.setattr(tag_module, "CHUNK_FILES", 16)
    monkeypatch.setattr(tag_module, "MIN_CHUNKS_PER_WORKER", 2)
    assert worker_processes(4, 0) == 1
    assert worker_processes(2, 31) == 1  # 2 chunks: 1 each is not worth a process
    assert worker_processes(4, 50) == 2  # 4 chunks: 2 workers with 2 each, not 4 with 1
    assert worker_processes(8, 64 * 16) == 8
    assert worker_processes(1, 10_000) == 1


# The cipher rule's pre-check (enough digits and symbols in the whole
# paragraph) must never hide a paragraph the word-by-word rule would catch.
_cipher_text = st.lists(st.sampled_from(["kAm|2?<2E@", "A@=:46", "D2J", "E96", "the", "talks", "on", "Geneva", "1,000",
                                         "(@un)", "#Syria", "http://x.y/z", "said:", "a;b", "x", "!", "?", "[1]"]),
                        min_size=1, max_size=30).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(_cipher_text)
def test_cipher_precheck_is_a_necessary_condition(p):
    words = p.split()
    cipher_words = sum(bool(boilerplate.CIPHER_WORD.match(w.strip(".,;:!?\"'()"))) for w in words)
    assert len(boilerplate.CIPHER_CHAR.findall(p)) >= cipher_words
