"""benchmarks/models.py: the README's table of models (quality, speed per core, install size).

Timing a model starts a process and runs it for seconds: that test carries
the ``bench`` marker (``make test-bench``); the rendering and the check that
the README shows the committed models.json run by default.
"""
from __future__ import annotations

import json
import sys

import pytest
from conftest import REPO, doc_block

sys.path.insert(0, str(REPO / "benchmarks"))

import models as table  # noqa: E402


@pytest.mark.bench
def test_speed_is_measured_on_one_thread_with_the_model_itself(trained_project, tmp_path):
    texts = tmp_path / "texts.json"
    texts.write_text(json.dumps(["Talks resumed in Geneva on Monday."] * 400))
    r = table.time_model(trained_project["models"] / trained_project["card"]["model_id"], texts, repeats=2)
    assert r["seconds"] > 0 and r["sentences_per_s"] > 0 and r["runs"] >= 1
    # the keys render() reads from a model's speed, and the figure it shows is this one
    row = {"model_id": "m-a", "features": "word", "current": True, "f1": dict.fromkeys(table.LABELS_ORDER, 0.5),
           "macro_f1": 0.5, "macro_f1_ci": [0.4, 0.6], "speed": json.loads(json.dumps(r)), "model_mb": 0.6,
           "extra": None, "extra_mb": 0.0}
    res = {"heldout": {"sentences": 609, "articles": 26, "sha256": "ab" * 32}, "timing": {"sentences": 400},
           "install": {"base_mb": 678.0}, "models": [row], "skipped": [], "finetune": None}
    assert f"| {r['sentences_per_s']:,} |" in table.render(res) and isinstance(r["sentences_per_s"], int)


def test_render_sorts_by_macro_f1_and_names_the_extra():
    row = {"model_id": "m-a", "features": "word", "current": True, "f1": dict.fromkeys(table.LABELS_ORDER, 0.5),
           "macro_f1": 0.5, "macro_f1_ci": [0.4, 0.6], "speed": {"sentences_per_s": 12000}, "model_mb": 0.6,
           "extra": None, "extra_mb": 0.0}
    better = {**row, "model_id": "m-b", "current": False, "macro_f1": 0.7, "features": "word+finetuned",
              "extra": "embeddings", "extra_mb": 138.0, "speed": {"sentences_per_s": 200}}
    res = {"heldout": {"sentences": 609, "articles": 26, "sha256": "ab" * 32}, "timing": {"sentences": 3000},
           "install": {"base_mb": 678.0}, "models": [row, better], "skipped": [], "finetune": None}
    out = table.render(res)
    lines = [ln for ln in out.splitlines() if ln.startswith("| `")]
    assert [ln.split("`")[1] for ln in lines] == ["m-b", "m-a"]
    assert "(current)" in lines[1] and "138 MB `embeddings` extra" in lines[0] and "| 12,000 |" in lines[1]


def test_readme_models_block_is_the_committed_models_json():
    """The README's table of models is benchmarks/results/models.json rendered: a figure edited in
    one and not the other fails here (re-render: python benchmarks/models.py --render)."""
    res = json.loads(table.RESULTS.read_text(encoding="utf-8"))
    block = doc_block("models")
    assert block == table.render(res)
    best = max(res["models"], key=lambda r: r["macro_f1"])
    assert f"**{best['macro_f1']:.3f}**" in block  # the figure a reader quotes is the JSON's
