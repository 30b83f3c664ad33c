"""The registry: 'current' and 'previous', rollback stepping back through the history, and 'did you mean'."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.errors import ModelError
from pipeline.model.loading import resolve_model
from pipeline.model.registry import (current_id, previous_id, read_card, read_history, resolve_id, rollback,
                                     set_current)

SHIPPED = Path(__file__).parent.parent / "models"


def _models(tmp_path: Path, *ids: str) -> Path:
    """A models folder whose model folders hold only a card: enough for everything the registry does."""
    d = tmp_path / "models"
    for mid in ids:
        (d / mid).mkdir(parents=True)
        (d / mid / "card.json").write_text(json.dumps({"model_id": mid}))
    return d


def test_rollback_steps_back_instead_of_flipping(tmp_path):
    d = _models(tmp_path, "m-a", "m-b", "m-c")
    for mid in ("m-a", "m-b", "m-c"):
        set_current(d, mid, "train", "test")
    assert rollback(d)["model_id"] == "m-b"
    # the old rollback found "m-b replaced m-c" in its own line and went forward to m-c again
    assert rollback(d)["model_id"] == "m-a"
    with pytest.raises(ModelError, match="does not say which model m-a replaced"):
        rollback(d)  # m-a replaced nothing
    assert current_id(d) == "m-a"
    assert [h.get("undoes") for h in read_history(d)] == [None, None, None, 2, 1]


def test_rollback_after_a_promotion_undoes_the_promotion_first(tmp_path):
    d = _models(tmp_path, "m-a", "m-b", "m-c")
    set_current(d, "m-a", "train", "test")
    set_current(d, "m-b", "train", "test")
    rollback(d)                      # back to m-a
    set_current(d, "m-c", "promote", "test")  # a new change on top
    assert rollback(d)["model_id"] == "m-a"
    with pytest.raises(ModelError, match="does not say"):
        rollback(d)


def test_history_written_before_rollbacks_recorded_what_they_undid(tmp_path):
    d = _models(tmp_path, "m-a", "m-b", "m-c")
    lines = [{"time": "2026-01-01T00:00:00Z", "action": "train", "model_id": "m-a", "previous": None, "reason": ""},
             {"time": "2026-01-02T00:00:00Z", "action": "train", "model_id": "m-b", "previous": "m-a", "reason": ""},
             {"time": "2026-01-03T00:00:00Z", "action": "train", "model_id": "m-c", "previous": "m-b", "reason": ""},
             {"time": "2026-01-04T00:00:00Z", "action": "rollback", "model_id": "m-b", "previous": "m-c",
              "reason": "rolled back from m-c"}]  # no "undoes": the old format
    (d / "history.jsonl").write_text("".join(json.dumps(rec) + "\n" for rec in lines))
    (d / "current").write_text("m-b\n")
    assert previous_id(d) == "m-a"
    assert rollback(d)["model_id"] == "m-a"


def test_previous_is_what_the_current_model_replaced(tmp_path):
    d = _models(tmp_path, "m-a", "m-b", "m-c")
    with pytest.raises(ModelError, match="no current model"):
        resolve_id(d, "current")
    set_current(d, "m-a", "train", "test")
    with pytest.raises(ModelError, match="no previous model"):
        resolve_id(d, "previous")
    set_current(d, "m-b", "train", "test")
    set_current(d, "m-c", "train", "test")
    assert resolve_id(d, "current") == resolve_id(d, None) == "m-c"
    assert resolve_id(d, "previous") == "m-b"
    assert resolve_model("previous", d) == d / "m-b"
    assert read_card(d, "previous")["model_id"] == "m-b"
    set_current(d, "previous", "promote", "test")
    assert current_id(d) == "m-b" and previous_id(d) == "m-c"


def test_a_mistyped_model_id_gets_a_suggestion():
    with pytest.raises(ModelError, match=r"did you mean cues-5dcf298875\?"):
        read_card(SHIPPED, "cues-5dcf29887")
    with pytest.raises(ModelError, match=r"no model folder 'cues-5dcf29887'; did you mean cues-5dcf298875\?"):
        resolve_model("cues-5dcf29887", SHIPPED)
    with pytest.raises(ModelError) as e:
        read_card(SHIPPED, "zzzz")
    assert "did you mean" not in str(e.value) and "talks models list" in str(e.value)


def test_cards_written_before_one_metric_shape_read_in_it():
    """The shipped cards keep cv_metrics.macro_f1 on disk; every reader sees cv_metrics.macro.f1."""
    import json

    from pipeline.model.folder import load_card

    path = Path(__file__).parent.parent / "models" / "cues-5dcf298875" / "card.json"
    on_disk = json.loads(path.read_text(encoding="utf-8"))["cv_metrics"]
    card = load_card(path)["cv_metrics"]
    assert card["macro"]["f1"] == on_disk["macro_f1"] and card["micro"]["f1"] == on_disk["micro_f1"]
    assert card["per_label"] == on_disk["per_label"] and "macro_f1" not in card
