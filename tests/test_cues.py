"""cues: blame-cue features on hand-written sentences, names, determinism, and the cue feature sets in train/explain."""
from __future__ import annotations

import numpy as np
import pytest

from pipeline.model.cues import CUE_NAMES, BlameCues, sentence_cues
from pipeline.records import LABELS
from pipeline.model.features import FEATURES, feature_term, make_pipeline
from pipeline.model.selection import GRIDS, training_data

RELATIONS = ("actor_before_blame", "actor_after_blame", "actor_blame_actor", "accuse_of", "passive_blame", "passive_by",
             "negated_blame", "naming_charge", "speech_blame", "speech_blame_actor")


def cues(text: str) -> dict[str, float]:
    return dict(zip(CUE_NAMES, sentence_cues(text)))


def on(text: str) -> set[str]:
    return {name for name, v in cues(text).items() if v}


def test_accusation_with_two_actors():
    # The opposition (actor) accused (accusing verb) Russia (actor) of (the charge) ...
    c = on("The opposition accused Russia of bombing hospitals in Aleppo.")
    assert {"accuse_verb", "actor_before_blame", "actor_after_blame", "actor_blame_actor", "accuse_of"} <= c
    assert not c & {"denial", "negation", "passive_blame", "speech", "quote"}


def test_quoted_denial():
    # "allegations" is the charge, "unfounded" the denial, SANA and the ministry speak after it.
    text = '"These allegations are totally unfounded," SANA quoted the foreign ministry as saying.'
    c = on(text)
    assert {"denial", "accuse_noun", "quote", "speech", "actor_after_blame", "speech_blame", "speech_blame_actor"} <= c
    assert not c & {"accuse_verb", "actor_before_blame", "actor_blame_actor", "negation"}


def test_neutral_report_of_an_attack_has_no_blame_cue():
    # Who did what, attributed to a monitor: speech and actors, but no charge.
    v = cues("Air strikes killed 12 people in Homs on Tuesday, a monitor said.")
    assert v["speech"] == 1 and v["actors"] > 0
    blame_kinds = ("accuse_verb", "accuse_noun", "denial", "charge_word", "violation", "responsibility", "legal", "blame_words")
    assert all(v[name] == 0 for name in blame_kinds + RELATIONS)


def test_negated_accusation():
    c = on("He did not blame the government for the attack.")
    assert {"negation", "negated_blame", "accuse_verb", "accuse_of", "actor_after_blame"} <= c
    # "He" is a stop word, not a named actor: nobody stands before the verb.
    assert not c & {"actor_before_blame", "actor_blame_actor"}


def test_negation_far_from_the_charge_does_not_negate_it():
    c = on("No one expected that a week later the opposition would accuse the regime of starving Madaya.")
    assert "negation" in c and "negated_blame" not in c


def test_passive_charge_with_and_without_an_accuser():
    # Rule 7: "was accused" with no accuser in sight is not blame; "by" names one.
    assert {"passive_blame", "accuse_of"} <= on("Rezaian was accused of spying.")
    assert "passive_by" not in on("Rezaian was accused of spying.")
    assert {"passive_blame", "passive_by"} <= on("The bombing was blamed by Turkey on Islamic State militants.")


def test_calling_a_side_terrorists():
    assert {"naming_charge", "charge_word"} <= on("Damascus calls the rebels terrorists.")
    assert "naming_charge" not in on("The terrorists called for a ceasefire.")


def test_names_beyond_the_list_count_as_actors_but_stop_words_and_months_do_not():
    assert cues("On Monday Gawker accused Hogan of lying.")["actors"] == cues("On Monday Russia accused Turkey of lying.")["actors"] == 0.5
    assert cues("It happened in March, and They said so.")["actors"] == 0


def test_actor_count_is_capped():
    v = cues("Russia, Turkey, Iran, Israel, Egypt and Jordan met.")
    assert v["actors"] == 1.0


def test_transformer_rows_match_one_by_one_and_are_deterministic():
    texts = ["The opposition accused Russia of bombing hospitals.", "Markets were quiet.", "", "He denied it."]
    X = BlameCues().fit(texts).transform(texts)
    assert X.shape == (4, len(CUE_NAMES)) and X.dtype == np.float32
    assert np.array_equal(X, BlameCues().transform(list(reversed(texts)))[::-1])
    assert np.array_equal(X[1], np.asarray(sentence_cues("Markets were quiet."), dtype=np.float32))
    assert not X[2].any()
    assert BlameCues().transform([]).shape == (0, len(CUE_NAMES))
    with pytest.raises(TypeError):
        BlameCues().transform("one string")


def test_state_is_plain_data():
    # Saved models are data (artefact.py): fitting must leave nothing but parameters behind.
    est = BlameCues().fit(["The opposition accused Russia."])
    assert vars(est) == {}


def test_feature_names():
    names = list(BlameCues().get_feature_names_out())
    assert names == list(CUE_NAMES) and len(set(names)) == len(names)
    assert {"accuse_verb", "denial", "negation", "speech", "actor_blame_actor"} <= set(names)
    assert feature_term("cues__accuse_verb") == "cue:accuse_verb"
    assert feature_term("word__accused") == "accused" and feature_term("char__ acc") == "[ acc]"


@pytest.mark.parametrize("features", ["word+cues", "word+cues+static"])
def test_cue_feature_sets_fit_and_predict(labelled_project, features):
    assert features in FEATURES and any(p["features"] == features for p in GRIDS["cues"])
    _, texts, Y, _ = training_data(labelled_project["project"])
    model = make_pipeline(features, 4.0).fit(np.asarray(texts, dtype=object), Y)
    names = list(model.named_steps["features"].get_feature_names_out())
    assert "cues__accuse_verb" in names and ("static" in features) == any(n.startswith("static__") for n in names)
    P = model.predict_proba(["The ministry condemned Turkey over the shelling.", "The weather in Homs was mild."])
    assert P.shape == (2, len(LABELS))
    blame = LABELS.index("blame")
    assert P[0, blame] > 0.5 > P[1, blame]
    # In the generated labels every blame sentence carries an accusing or denying word: the cue must weigh for blame.
    coef = model.named_steps["clf"].estimators_[blame].coef_[0]
    assert coef[names.index("cues__blame_words")] > 0


def test_explain_shows_cue_features(labelled_project, capsys):
    from pipeline.cli import main

    p = labelled_project
    common = ["--labels", str(p["labels"]), "--root", str(p["corpus"]), "--models", str(p["models"])]
    assert main(["train", "--features", "cues", "--quick", *common]) == 0
    capsys.readouterr()
    (model_id,) = [d.name for d in p["models"].iterdir() if d.is_dir()]  # --quick trains one model and never promotes it
    assert model_id.startswith("cues-")
    assert main(["explain", "The opposition accused Russia of bombing hospitals in Aleppo.", "--model", model_id, *common]) == 0
    out = capsys.readouterr().out
    blame_line = next(line for line in out.splitlines() if "blame" in line and "p=" in line)
    assert float(blame_line.split("p=")[1].split()[0]) > 0.5  # thresholds tuned on this tiny project sit anywhere
    assert "cue:" in out and "cues__" not in out
