"""The retraining loop: held-out set, compare, guarded promotion, the model registry."""
from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import make_labelled_project, scramble_training_labels

from pipeline.cli import main
from pipeline.evaluation.compare import compare_models
from pipeline.errors import LabelError, ModelError
from pipeline.labels.heldout import heldout_articles, heldout_path
from pipeline.records import LABELS
from pipeline.model.registry import current_id, read_history, rollback, set_current
from pipeline.model.selection import train

WORD = [{"features": "word", "C": 4.0}]






def test_heldout_set_is_chosen_once_and_kept_out_of_training(heldout_project, capsys):
    p = heldout_project
    held = heldout_articles(p["labels"])
    assert len(held) == 6
    # chosen once: a second init refuses and leaves the file alone
    before = heldout_path(p["labels"]).read_bytes()
    assert main(["heldout", "init", "--labels", str(p["labels"]), "--root", str(p["corpus"])]) == 1
    assert "chosen once" in capsys.readouterr().err
    assert heldout_path(p["labels"]).read_bytes() == before
    card = train(p["project"], grid=WORD)
    assert card["training"]["articles"] == 24
    sents = pd.read_csv(p["corpus"] / "sentences.csv")
    assert card["heldout"]["sentences"] == int(sents["article_id"].isin(held).sum())
    assert card["heldout"]["articles"] == 6 and len(card["heldout"]["sha256"]) == 64
    assert card["heldout"]["metrics"]["macro"]["f1"] > 0.8
    lo, hi = card["heldout"]["metrics"]["macro"]["f1_ci"]
    assert lo <= card["heldout"]["metrics"]["macro"]["f1"] <= hi
    assert "Held-out set (version" in (p["models"] / card["model_id"] / "card.md").read_text()


def test_heldout_grows_and_its_version_changes(heldout_project):
    p = heldout_project
    a = train(p["project"], grid=WORD)
    extra = sorted(set(pd.read_csv(p["corpus"] / "sentences.csv")["article_id"]) - heldout_articles(p["labels"]))[0]
    assert main(["heldout", "add", extra, "--labels", str(p["labels"]), "--root", str(p["corpus"])]) == 0
    b = train(p["project"], grid=WORD)
    assert b["heldout"]["articles"] == 7 and b["training"]["articles"] == 23
    assert b["heldout"]["sha256"] != a["heldout"]["sha256"]


def test_compare_scores_trained_models_as_they_are(heldout_project):
    p = heldout_project
    good = train(p["project"], grid=WORD)["model_id"]
    scramble_training_labels(p)
    bad = train(p["project"], grid=WORD)["model_id"]
    assert bad != good
    same = compare_models(good, good, p["project"])
    assert same["difference"]["macro_f1"] == 0 and same["changed"]["sentences"] == 0
    c = compare_models(good, bad, p["project"])
    d = c["difference"]
    assert d["macro_f1"] < -0.3 and d["macro_f1_ci"][1] < 0 and "real loss" in d["verdict"]
    assert c["changed"]["sentences"] > 0 and c["changed"]["label_changes_broken"] > c["changed"]["label_changes_fixed"]
    first = c["changed"]["rows"][0]
    assert any(x["effect"] == "broken" for x in first["changes"])
    # the figures are the held-out ones recorded in each model's card at training time
    card = json.loads((p["models"] / good / "card.json").read_text())
    assert c["models"][0]["metrics"]["macro"]["f1"] == pytest.approx(card["heldout"]["metrics"]["macro"]["f1"])
    assert c["heldout"]["sha256"] == card["heldout"]["sha256"]


def test_compare_on_a_file_and_warns_about_models_older_than_the_heldout_set(tmp_path):
    p = make_labelled_project(tmp_path, n_articles=20)
    old = train(p["project"], grid=WORD)["model_id"]  # no held-out set yet
    with pytest.raises(LabelError, match="heldout init"):
        compare_models(old, old, p["project"])
    held_file = tmp_path / "held.csv"
    pd.read_csv(p["labels"] / "tester.csv").head(40).to_csv(held_file, index=False)
    c = compare_models(old, old, p["project"], data=held_file)
    assert c["sentences"] == 40 and "held-out file" in c["source"]
    assert main(["heldout", "init", "--labels", str(p["labels"]), "--root", str(p["corpus"])]) == 0
    c = compare_models(old, old, p["project"])
    assert any("trained before the held-out set existed" in w for w in c["warnings"])


def test_train_promotes_only_when_not_significantly_worse(heldout_project, capsys):
    p = heldout_project
    common = ["--labels", str(p["labels"]), "--root", str(p["corpus"]), "--models", str(p["models"])]
    # --quick never promotes, even with no current model
    assert main(["train", "--quick", *common]) == 0
    assert current_id(p["models"]) is None and "not promoted (--quick)" in capsys.readouterr().out
    assert main(["train", *common]) == 0
    good = current_id(p["models"])
    assert good is not None and "promoted" in capsys.readouterr().out
    scramble_training_labels(p)
    assert main(["train", *common]) == 0
    out = capsys.readouterr().out
    assert "not promoted: significantly worse" in out and "B - A" in out and "sentence(s) changed" in out
    assert current_id(p["models"]) == good
    assert main(["train", "--no-current", "--force", *common]) == 0
    assert current_id(p["models"]) == good
    assert main(["train", "--force", *common]) == 0
    bad = current_id(p["models"])
    assert bad != good
    # the history says what was current when, and rollback goes back
    hist = read_history(p["models"])
    assert [(h["model_id"], h["previous"]) for h in hist] == [(good, None), (bad, good)]
    assert main(["models", "rollback", "--models", str(p["models"])]) == 0
    assert current_id(p["models"]) == good
    assert main(["models", "list", "--models", str(p["models"])]) == 0
    listing = capsys.readouterr().out
    assert f"*        {good}" in listing or any(line.startswith("*") and good in line for line in listing.splitlines())
    assert main(["compare", "current", bad, "--json", str(p["models"] / "c.json"), *common]) == 0
    saved = json.loads((p["models"] / "c.json").read_text())
    assert saved["a"] == good and saved["b"] == bad and saved["changed"]["sentences"] > 0


def test_registry_refuses_what_it_cannot_do(heldout_project, capsys):
    p = heldout_project
    with pytest.raises(ModelError, match="no current model"):
        rollback(p["models"])
    a = train(p["project"], grid=WORD, set_current=True)["model_id"]
    with pytest.raises(ModelError, match="does not say which model"):
        rollback(p["models"])  # the first model replaced nothing
    assert main(["models", "promote", "nope", "--models", str(p["models"])]) == 1
    assert "no model 'nope'" in capsys.readouterr().err
    assert current_id(p["models"]) == a
    # a torn last history line (killed mid-append) is ignored; the change it described never happened
    with open(p["models"] / "history.jsonl", "a") as f:
        f.write('{"time": "2026')
    assert len(read_history(p["models"])) == 1
    set_current(p["models"], a, "promote", "again")
    assert [h["reason"] for h in read_history(p["models"])] == ["trained with set_current", "again"]
    assert main(["models", "show", "--models", str(p["models"])]) == 0
    assert "Model card" in capsys.readouterr().out


def test_heldout_policy_is_the_librarys(tmp_path):
    """init_heldout refuses a second choice and add_heldout an unknown article, from Python, writing nothing."""
    from pipeline.labels.heldout import add_heldout, init_heldout

    p = make_labelled_project(tmp_path, n_articles=20)
    first = init_heldout(p["project"])
    assert first.path == heldout_path(p["labels"]) and len(first.added) == 4 == len(heldout_articles(p["labels"]))
    before = first.path.read_bytes()
    with pytest.raises(LabelError, match="chosen once"):
        init_heldout(p["project"], seed=1)
    with pytest.raises(LabelError, match="not in the corpus: nope") as e:
        add_heldout(p["project"], ["nope", *sorted(heldout_articles(p["labels"]))], "test")
    assert first.path.read_bytes() == before and "sentences.csv" in str(e.value)
    spare = sorted(set(pd.read_csv(p["corpus"] / "sentences.csv")["article_id"]) - heldout_articles(p["labels"]))[0]
    grown = add_heldout(p["project"], [spare, first.added[0]], "grown by hand")
    assert grown.added == [spare] and len(heldout_articles(p["labels"])) == 5
