"""train_punkt (``talks corpus build-punkt``): learns into a file outside the installed package;
the shipped parameters, on which every sentence id depends, are never rewritten by it."""
from __future__ import annotations

import json

import pytest

from pipeline.corpus.split import PUNKT_PATH, default_punkt_out, split_paragraph, train_punkt
from pipeline.errors import PipelineError

TEXTS = ["The U.N. envoy met Dr. Jaafari in Geneva on Monday. Talks resumed on Tuesday.",
         "Gen. Ali said the army advanced. The U.N. envoy said aid reached Madaya.",
         "The U.N. envoy met Dr. Jaafari in Geneva on Monday. Talks resumed on Tuesday."]  # a repeat: counted once


def test_learns_into_the_given_file_and_leaves_the_shipped_one(tmp_path):
    shipped = PUNKT_PATH.read_bytes()
    para = "The U.N. envoy met Dr. Jaafari in Geneva. Talks resumed."
    before = split_paragraph(para)
    out = tmp_path / "learnt" / "punkt.json"
    res = train_punkt(TEXTS, out)
    assert res["path"] == str(out) and res["texts"] == 2
    assert set(json.loads(out.read_text(encoding="utf-8"))) == {"abbrev_types", "collocations", "sent_starters"}
    assert PUNKT_PATH.read_bytes() == shipped
    assert split_paragraph(para) == before  # the tokenizer still splits with the shipped parameters


def test_the_shipped_file_and_the_package_are_refused(tmp_path):
    shipped = PUNKT_PATH.read_bytes()
    for target in (PUNKT_PATH, PUNKT_PATH.parent / "other.json", PUNKT_PATH.parents[1] / "punkt.json"):
        with pytest.raises(PipelineError, match="read-only") as e:
            train_punkt(TEXTS, target)
        assert str(target) in str(e.value) and not (target != PUNKT_PATH and target.exists())
    assert PUNKT_PATH.read_bytes() == shipped


def test_default_is_the_project_out_folder(tmp_path, monkeypatch):
    """With no path (as the CLI called it before it passed one): the project's out/, found as every default is."""
    monkeypatch.setenv("TALKS_ROOT", str(tmp_path))
    assert default_punkt_out() == tmp_path.resolve() / "out" / "punkt_news.json"
    res = train_punkt(TEXTS)
    assert res["path"] == str(tmp_path.resolve() / "out" / "punkt_news.json")
    assert (tmp_path / "out" / "punkt_news.json").is_file()


def test_the_command_writes_into_the_project_and_says_where(tiny_corpus, tmp_path, monkeypatch, capsys):
    from pipeline.cli import main

    shipped = PUNKT_PATH.read_bytes()
    monkeypatch.setenv("TALKS_ROOT", str(tmp_path))
    assert main(["corpus", "build-punkt", "--root", str(tiny_corpus)]) == 0
    written = tmp_path / "out" / "punkt_news.json"
    assert written.is_file() and str(written) in capsys.readouterr().out
    assert PUNKT_PATH.read_bytes() == shipped
