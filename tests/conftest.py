"""Shared fixtures: small corpora built from committed files under tests/data/."""
from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).parent.parent


@pytest.fixture
def articles_dir() -> Path:
    """Three tiny articles, one per supported format."""
    return DATA / "articles"


@pytest.fixture
def tiny_corpus(tmp_path: Path, articles_dir: Path) -> Path:
    """A corpus folder (articles.jsonl, sentences.csv) built from the tiny articles."""
    from pipeline.corpus import build_corpus

    root = tmp_path / "corpus"
    res = build_corpus([articles_dir], root)
    assert not res["errors"]
    return root
