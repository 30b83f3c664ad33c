"""Shared fixtures: small corpora built from committed files under tests/data/."""
from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.project import Project

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).parent.parent


def doc_block(name: str) -> str:
    """The body of the ``<!-- figures:NAME -->`` block, in whichever of the README and docs/*.md holds it."""
    import re

    for path in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        if m := re.search(rf"<!-- figures:{name} -->\n(.*?)\n<!-- /figures -->", path.read_text(encoding="utf-8"), re.S):
            return m.group(1)
    raise AssertionError(f"no figures:{name} block in README.md or docs/")


@pytest.fixture
def articles_dir() -> Path:
    """Three tiny articles, one per supported format."""
    return DATA / "articles"


CHROMIUM = "/usr/bin/chromium"
# Flags for a root, sandbox-less, offline headless Chromium (no background calls to Google's hosts).
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


# Set by CI (.ci/run), which installs chromium: there a missing browser fails the run instead of
# skipping the browser tests.
REQUIRE_BROWSER = "TALKS_REQUIRE_BROWSER"


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium through Playwright (never ``playwright install``); without it the browser
    tests skip with the fix as the reason (listed by -rs), or fail when $TALKS_REQUIRE_BROWSER is set."""
    import os

    missing = None
    if not Path(CHROMIUM).exists():
        missing = "no /usr/bin/chromium; run `make test` as root (it apt-installs it) or: sudo apt-get install chromium"
    else:
        try:
            import playwright.sync_api as sync_api
        except ImportError:
            missing = "no playwright: pip install 'playwright>=1.40' (the test extra, installed by `make test`)"
    if missing:
        if os.environ.get(REQUIRE_BROWSER):
            pytest.fail(f"{missing} (${REQUIRE_BROWSER} is set: the browser tests must run)")
        pytest.skip(missing)
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="session")
def project_corpus(tmp_path_factory) -> dict:
    """The shipped corpus/raw ingested once per test run (about 15 s): its folder and ingest result."""
    from pipeline.corpus.store import build_corpus

    if not (REPO / "corpus" / "raw").exists():
        pytest.skip("project corpus not present")
    root = tmp_path_factory.mktemp("project-corpus")
    return {"root": root, "result": build_corpus([REPO / "corpus" / "raw"], root)}


@pytest.fixture
def tiny_corpus(tmp_path: Path, articles_dir: Path) -> Path:
    """A corpus folder (articles.jsonl, sentences.csv) built from the tiny articles."""
    from pipeline.corpus.store import build_corpus

    root = tmp_path / "corpus"
    res = build_corpus([articles_dir], root)
    assert not res["errors"]
    return root


# --------------------------------------------------------------------------
# A small labelled project, generated: articles on disk, corpus, label store
# --------------------------------------------------------------------------
_TEMPLATES = {
    "diplomacy": ["The envoy met the delegation in Geneva for talks on {x}.", "Negotiators discussed a political transition and {x}.", "The opposition delegation demanded a new round of negotiations on {x}."],
    "violence": ["Air strikes killed {n} people near {x}.", "Shelling and fighting raged around {x}, killing {n} fighters.", "Government troops advanced on {x} after heavy bombing."],
    "humanitarian": ["An aid convoy delivered food and medicine to the besieged town of {x}.", "Thousands of refugees fled {x} and need shelter.", "The Red Crescent evacuated {n} civilians from {x}."],
    "blame": ["The opposition accused the government of lying about {x}.", "Officials blamed Russia and condemned the attacks on {x}.", "The ministry denied the accusations over {x}."],
    "none": ["The weather in {x} was mild on Tuesday.", "A museum in {x} reopened its doors.", "Markets in {x} were quiet."],
}
_PLACES = ["Aleppo", "Homs", "Madaya", "Idlib", "Daraa", "Raqqa", "Palmyra", "Latakia", "Hama", "Deir"]


def make_labelled_project(root: Path, n_articles: int = 12, per_article: int = 10, seed: int = 7) -> dict:
    """Write article files, ingest them and write a label store whose labels follow the templates.

    Returns the folders: raw, corpus, labels, models, and ``project``: the last three as a :class:`Project`.
    """
    import random

    import pandas as pd

    from pipeline.corpus.store import build_corpus, load_sentences

    rng = random.Random(seed)
    raw = root / "raw"
    raw.mkdir(parents=True)
    truth: dict[str, dict] = {}
    kinds = list(_TEMPLATES)
    for a in range(n_articles):
        lines = [f"Report {a} from {_PLACES[a % len(_PLACES)]}", ""]
        for i in range(per_article):
            kind = kinds[(a + i) % len(kinds)]
            text = rng.choice(_TEMPLATES[kind]).format(x=f"{_PLACES[(a + i) % len(_PLACES)]} district {a}-{i}", n=rng.randint(2, 90))
            truth[text] = {k: int(k == kind) for k in ("diplomacy", "violence", "humanitarian", "blame")}
            lines += [text, ""]
        (raw / f"art{a:02d}.txt").write_text("\n".join(lines), encoding="utf-8")
    corpus = root / "corpus"
    build_corpus([raw], corpus)
    sents = load_sentences(corpus)
    rows = []
    for r in sents.itertuples():
        lab = truth.get(r.text, {k: 0 for k in ("diplomacy", "violence", "humanitarian", "blame")})
        rows.append({"sentence_id": r.sentence_id, "article_id": r.article_id, "text": r.text, **lab, "junk": 0,
                     "annotator": "tester", "timestamp": "2026-01-01T00:00:00Z"})
    labels = root / "labels"
    labels.mkdir()
    pd.DataFrame(rows).sort_values("sentence_id").to_csv(labels / "tester.csv", index=False)
    return {"raw": raw, "corpus": corpus, "labels": labels, "models": root / "models",
            "project": Project(corpus=corpus, labels=labels, models=root / "models")}


@pytest.fixture
def labelled_project(tmp_path: Path) -> dict:
    return make_labelled_project(tmp_path)


@pytest.fixture
def trained_project(labelled_project: dict) -> dict:
    """The labelled project with one quickly trained model in models/current."""
    from pipeline.model.selection import train

    card = train(labelled_project["project"], grid=[{"features": "word", "C": 4.0}])
    return {**labelled_project, "card": card}


# --------------------------------------------------------------------------
# Killing a process before any chosen step that changes the disk
# --------------------------------------------------------------------------
# Prepended to a child's script: ``stepped(name, fn)`` wraps a function that
# changes the disk so that each call announces itself on stdout ("replace
# card.json": the name and the basename of the target) and waits for a line on
# stdin before it goes ahead.
STEPPED = """
import os, sys

def stepped(name, fn):
    def step(*args, **kwargs):
        target = args[1] if name in ("replace", "rename") else args[0]
        print(name, os.path.basename(str(target)), flush=True)
        sys.stdin.readline()
        return fn(*args, **kwargs)
    return step
"""


def kill_before_step(script: str, args: list, steps_done: int) -> str:
    """Run ``STEPPED + script`` with ``args``, let ``steps_done`` steps go ahead,
    SIGKILL it before the next one and return that step's announcement."""
    import signal
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", STEPPED + script, *map(str, args)], cwd=REPO,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    for _ in range(steps_done):
        child.stdout.readline()
        child.stdin.write("\n")
        child.stdin.flush()
    step = child.stdout.readline().strip()
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=60)
    return step


@pytest.fixture
def heldout_project(tmp_path: Path) -> dict:
    """30 articles of generated labels with a held-out set of 6 of them (chosen by ``talks heldout init``)."""
    from pipeline.cli import main

    p = make_labelled_project(tmp_path, n_articles=30)
    assert main(["heldout", "init", "--labels", str(p["labels"]), "--root", str(p["corpus"])]) == 0
    return p


def scramble_training_labels(p: dict) -> None:
    """Rotate the label columns of every non-held-out row: a model trained on them is much worse."""
    import pandas as pd

    from pipeline.labels.heldout import heldout_articles
    from pipeline.records import LABELS

    store = p["labels"] / "tester.csv"
    df = pd.read_csv(store, dtype={"sentence_id": str})
    rows = ~df["article_id"].isin(heldout_articles(p["labels"]))
    df.loc[rows, list(LABELS)] = df.loc[rows, list(LABELS)].to_numpy()[:, [1, 2, 3, 0]]
    df.to_csv(store, index=False)
