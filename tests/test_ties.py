"""Who blames whom: the tie labels (actor list, files, gold, agreement), the extractor (mentions, references,
training, a model folder loaded as data), the end-to-end evaluation and the blame_ties column of the tags."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from pipeline.errors import LabelError
from pipeline.labels.ties import gold_ties, load_actors, read_tie_file, same_actor, tie_scores
from pipeline.model.ties import alias_pattern, load_tie_model, mentions

ACTORS = ("actor,aliases\nSyrian opposition,the opposition|opposition delegation\nSyrian government,the government|Damascus|"
          "the ministry\nRussia,Moscow|the Kremlin\n")


def test_mentions_take_canonical_names_and_resolve_references():
    actors = {"Damascus": "Syrian government", "Syrian government": "Syrian government", "Russia": "Russia",
              "the opposition": "Syrian opposition", "Syrian opposition": "Syrian opposition"}
    pat = alias_pattern(actors)
    first = mentions("The opposition said Damascus and Russia had bombed the market.", actors, pat, [])
    assert [(m.name, m.kind) for m in first] == [("Syrian opposition", "listed"), ("Syrian government", "listed"),
                                                 ("Russia", "listed")]
    named = mentions('Bill Cosby\'s lawyer said "Victory" was near.', actors, pat, [])
    assert [m.name for m in named if m.kind == "name"] == ["Bill Cosby"]  # possessive cut, quoted word left out
    later = mentions("It denied the charge.", actors, pat, [first])
    assert any(m.kind == "reference" and m.name in {"Russia", "Syrian government"} for m in later)


def test_tie_names_match_by_key_or_words_and_scores_count_each_gold_tie_once():
    assert same_actor("Trump", "Donald Trump") and same_actor("the Syrian government", "Syrian government")
    assert not same_actor("UNKNOWN", "Russia") and not same_actor("Turkey", "Russia")
    sc = tie_scores({"s1": [("A", "B")], "s2": [("C", "D")]}, {"s1": [("A", "B"), ("A", "B")], "s3": [("X", "Y")]})
    assert (sc.matched, sc.predicted, sc.gold) == (1, 3, 2)


def test_bad_tie_files_and_unresolved_disagreements_name_the_file(tmp_path):
    f = tmp_path / "b.jsonl"
    f.write_text('{"sentence_id": "s1", "ties": [["", "Russia"]]}\n')
    with pytest.raises(LabelError, match="empty source"):
        read_tie_file(f)
    f.write_text('{"sentence_id": "s1"}\n')
    with pytest.raises(LabelError, match="not a tie record"):
        read_tie_file(f)
    (tmp_path / "ties").mkdir()
    with pytest.raises(LabelError, match="actor list"):
        load_actors(tmp_path)


def _template_ties(text: str) -> list[list[str]]:
    """The templates' blame sentences and who blames whom in them (conftest._TEMPLATES)."""
    if text.startswith("The opposition accused the government"):
        return [["Syrian opposition", "Syrian government"]]
    if text.startswith("Officials blamed Russia"):
        return [["UNKNOWN", "Russia"]]
    if text.startswith("The ministry denied"):
        return [["UNKNOWN", "Syrian government"]]
    return [["UNKNOWN", "UNKNOWN"]]


@pytest.fixture
def tie_project(heldout_project) -> dict:
    """The held-out project with an actor list and two identical blind passes of ties for every gold blame sentence."""
    from pipeline.labels.gold import gold_labels
    from pipeline.model.selection import train

    p = heldout_project
    (p["labels"] / "ties" / "r1" / "pass1").mkdir(parents=True)
    (p["labels"] / "ties" / "r1" / "pass2").mkdir(parents=True)
    (p["labels"] / "ties" / "actors.csv").write_text(ACTORS, encoding="utf-8")
    gold = gold_labels(p["project"])
    rows = [json.dumps({"sentence_id": r.sentence_id, "ties": _template_ties(r.text)})
            for r in gold[gold["blame"] == 1].itertuples()]
    for n in (1, 2):
        (p["labels"] / "ties" / "r1" / f"pass{n}" / "batch-01.jsonl").write_text("\n".join(rows) + "\n")
    train(p["project"], grid=[{"features": "word+cues", "C": 4.0}])
    return p


def test_the_extractor_learns_the_ties_and_fills_the_tags(tie_project, tmp_path):
    from pipeline.evaluation.ties import evaluate_ties
    from pipeline.model.tie_training import tie_agreement, train_ties
    from pipeline.tagging.tag import tag

    p = tie_project
    assert tie_agreement(p["project"])["tie_f1"] == 1.0
    assert len(gold_ties(p["project"])) > 20
    res = train_ties(p["project"])
    assert res.card["cv"]["tie_f1"] > 0.8 and (res.path / "actors.csv").exists()
    tm = load_tie_model(p["models"])
    ties = tm.extract(["The opposition accused the government of lying about Homs."], ["a1"], [True])
    assert ties == [[("Syrian opposition", "Syrian government")]]
    assert tm.extract(["The opposition accused the government."], ["a1"], [False]) == [[]]  # only blame sentences
    ev = evaluate_ties(p["project"], n_boot=200)
    assert ev.f1 > 0.7 and ev.f1_ci[0] <= ev.f1 <= ev.f1_ci[1] and ev.gold_ties > 0
    out = tmp_path / "tags.csv"
    tag([p["raw"]], str(out), models_dir=p["models"])
    df = pd.read_csv(out, keep_default_na=False)
    blame_rows = df[df["blame"] == 1]
    assert (blame_rows["blame_ties"] != "").all() and (df.loc[df["blame"] == 0, "blame_ties"] == "").all()
    assert blame_rows["blame_ties"].str.contains(" -> ").all()


def test_a_tampered_tie_model_is_refused(tie_project):
    from pipeline.errors import ModelError
    from pipeline.model.tie_training import train_ties

    p = tie_project
    res = train_ties(p["project"])
    card = json.loads((res.path / "ties.json").read_text())
    (res.path / "ties.json").write_text("{not json")
    with pytest.raises(ModelError, match="card"):
        load_tie_model(p["models"])
    (res.path / "ties.json").write_text(json.dumps(card))
    (res.path / "model.skops").write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(ModelError):
        load_tie_model(p["models"])
    assert load_tie_model(Path(p["models"]) / "nowhere") is None


def test_trends_ties_counts_who_blames_whom_by_period(tmp_path):
    from pipeline.analysis.ties import parse_ties, tie_table
    from pipeline.cli import main

    assert parse_ties("A -> B; C -> D; junk") == [("A", "B"), ("C", "D")]
    rows = []
    for day, art, ties in (("2016-02-01", "a1", "Syrian opposition -> Russia"), ("2016-02-01", "a1", "Syrian opposition -> Russia"),
                           ("2016-02-02", "a2", "Russia -> Turkey"), ("2016-02-09", "a3", "Syrian opposition -> Russia; Russia -> Turkey")):
        rows.append({"article_id": art, "sentence_id": f"s{len(rows)}", "position": len(rows), "text": "Syria x.", "diplomacy": 0,
                     "violence": 0, "humanitarian": 0, "blame": 1, "p_diplomacy": 0, "p_violence": 0, "p_humanitarian": 0,
                     "p_blame": 0.9, "blame_ties": ties, "model_id": "m", "date": day, "outlet": "Reuters"})
    rows.append({**rows[0], "sentence_id": "s9", "blame": 0, "blame_ties": ""})
    tags = pd.DataFrame(rows)
    t = tie_table(tags, by="week", n_boot=200)
    w5 = t[(t.period == "2016-W05") & (t.outlet == "(all)")].set_index(["source", "target"])
    assert w5.loc[("Syrian opposition", "Russia"), "sentences"] == 2 and w5.loc[("Syrian opposition", "Russia"), "articles"] == 1
    assert w5.loc[("Russia", "Turkey"), "share"] == pytest.approx(1 / 3, abs=1e-3)
    assert (t.ci_low <= t.share).all() and (t.share <= t.ci_high).all()
    f = tmp_path / "tags.csv"
    tags.to_csv(f, index=False)
    assert main(["trends", str(f), "--ties", str(tmp_path / "ties.csv")]) == 0
    assert len(pd.read_csv(tmp_path / "ties.csv")) == len(t)
    with pytest.raises(Exception, match="blame_ties"):
        tie_table(tags.drop(columns="blame_ties"))


def test_the_shipped_tie_extractor_loads_as_data_and_keeps_its_quality():
    """models/ties/ is not a sentence model (talks models list leaves it out), loads through the trusted-types
    check, and its recorded scores do not fall below what round 1 of the tie labels gave."""
    from pipeline.model.registry import list_models

    repo = Path(__file__).parent.parent
    tm = load_tie_model(repo / "models")
    assert tm is not None and 0 < tm.threshold < 1 and "Syrian government" in tm.actors.values()
    assert "ties" not in {m["model_id"] for m in list_models(repo / "models")}
    assert tm.card["cv"]["tie_f1"] >= 0.15 and tm.card["heldout_gold_blame"]["f1"] >= 0.2
    assert tm.extract(["The opposition accused Russia of bombing Aleppo."], ["a"], [True])[0]
