"""Guarded promotion, called from Python: the decision and the change of current, nothing printed."""
from __future__ import annotations

import pandas as pd
import pytest
from conftest import make_labelled_project, scramble_training_labels

from pipeline.cli import main
from pipeline.labels.heldout import heldout_articles
from pipeline.evaluation.promotion import Promotion, promote_if_not_worse
from pipeline.model.registry import current_id, read_history
from pipeline.model.selection import train
from pipeline.records import LABELS

WORD = [{"features": "word", "C": 4.0}]




def _args(p: dict) -> dict:
    return {"project": p["project"]}




def test_promotion_is_guarded_and_silent(heldout_project, capsys):
    p = heldout_project
    good = train(p["project"], grid=WORD, set_current=False)["model_id"]
    first = promote_if_not_worse(good, **_args(p))
    assert isinstance(first, Promotion)
    assert first.promoted and first.previous is None and first.comparison is None
    assert first.reason == "no current model to compare with" and first.record["action"] == "train"
    assert current_id(p["models"]) == good

    again = promote_if_not_worse(good, **_args(p))
    assert again.already_current and not again.promoted and len(read_history(p["models"])) == 1

    scramble_training_labels(p)
    bad = train(p["project"], grid=WORD, set_current=False)["model_id"]
    kept = promote_if_not_worse(bad, **_args(p))
    assert not kept.promoted and kept.record is None and kept.reason.startswith("significantly worse")
    assert kept.comparison["a"] == good and kept.comparison["b"] == bad and kept.comparison["difference"]["macro_f1_ci"][1] < 0
    assert current_id(p["models"]) == good

    forced = promote_if_not_worse(bad, force=True, action="promote", **_args(p))
    assert forced.promoted and forced.previous == good and forced.record["action"] == "promote"
    assert current_id(p["models"]) == bad
    assert capsys.readouterr() == ("", "")  # a library function: the CLI does the talking


def test_no_heldout_set_keeps_the_current_model(tmp_path):
    p = make_labelled_project(tmp_path, n_articles=12)
    a = train(p["project"], grid=WORD)["model_id"]
    b = train(p["project"], grid=[{"features": "word+char", "C": 4.0}], set_current=False)["model_id"]
    res = promote_if_not_worse(b, **_args(p))
    assert not res.promoted and "no held-out set" in res.reason and current_id(p["models"]) == a
