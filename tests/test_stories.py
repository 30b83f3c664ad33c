"""Stories (articles sharing their text) as the unit of every split: the linking rule, the held-out set that
records how each article joined and pulls whole stories in, and the shipped split with no story on both sides."""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from pipeline.errors import LabelError
from pipeline.labels.heldout import add_heldout, draw_heldout, heldout_articles, heldout_methods, story_conflicts
from pipeline.labels.stories import COMMON, story_ids, story_links
from pipeline.project import Project

REPO = Path(__file__).parent.parent

WIRE = ("Aid convoys carrying food and medicine entered the besieged Syrian town of Madaya on Monday after months "
        "in which residents said people had starved to death. The Red Cross said trucks with flour, cooking oil and "
        "blankets had crossed government lines. Forty-four trucks reached the town, where the United Nations says "
        "400 people must be evacuated for treatment. Similar convoys set off for two villages besieged by rebels in "
        "Idlib province, under a deal brokered by the United Nations.")
OTHER = ("The central bank left interest rates unchanged on Thursday and said inflation would stay low for most of "
         "the year. Shares in exporters rose after the decision while the currency weakened against the dollar. "
         "Analysts had expected the bank to wait for more data on wages before moving.")


def _split(text: str) -> list[str]:
    return [s.strip() + "." for s in text.split(".") if s.strip()]


def test_a_reissued_wire_story_is_one_story_and_unrelated_articles_are_not():
    update = _split(WIRE)[1:] + ["Residents described eating grass and boiled leaves to survive the winter."]
    texts = {"a-first": _split(WIRE), "b-update": update, "c-bank": _split(OTHER),
             "d-syndicated": ["Our correspondent writes:"] + update[:3]}
    # a collection of 19: a shingle in 3 articles is a shared story, not a stock phrase (cap: a fifth of the articles)
    texts |= {f"e-other-{i:02d}": [f"Filler article {i} " + " ".join(f"f{i}w{k}" for k in range(30))] for i in range(15)}
    links = story_links(texts)
    assert {(link.article_a, link.article_b) for link in links} == {("a-first", "b-update"), ("a-first", "d-syndicated"),
                                                                    ("b-update", "d-syndicated")}
    ids = story_ids(texts)
    assert ids["a-first"] == ids["b-update"] == ids["d-syndicated"] == "a-first" and ids["c-bank"] == "c-bank"


def test_links_are_transitive_and_stock_phrases_do_not_link():
    # a~b and b~c, a and c share nothing: one story of three
    a = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen"
    b = a + " alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi"
    c = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma"
    assert len(set(story_ids({"a": [a], "b": [b], "c": [c]}).values())) == 1
    # a boilerplate line in more than COMMON articles (a site footer) links none of them
    footer = "Copyright 2016 Example News all rights reserved do not redistribute this material without permission"
    arts = {f"art{i:02d}": [footer, f"Unrelated body number {i} " + " ".join(f"w{i}x{k}" for k in range(30))] for i in range(COMMON + 2)}
    assert len(set(story_ids(arts).values())) == COMMON + 2


@pytest.fixture
def story_project(tmp_path, labelled_project) -> dict:
    """The labelled project plus two copies of one of its articles under other names (a re-issued story)."""
    from pipeline.corpus.store import build_corpus

    root = Path(shutil.copytree(labelled_project["labels"].parent, tmp_path / "p"))
    raw = root / labelled_project["raw"].name
    src = sorted(raw.glob("*"))[0]
    before = set(pd.read_csv(root / "corpus" / "sentences.csv", dtype=str)["article_id"])
    title, body = src.read_text(encoding="utf-8").split("\n", 1)
    for k in (1,):  # re-issued under a new headline: the same body
        (raw / f"zz-reissue-{k}{src.suffix}").write_text(f"{title} (update {k})\n{body}", encoding="utf-8")
    build_corpus([raw], root / "corpus")
    sents = pd.read_csv(root / "corpus" / "sentences.csv", dtype=str, keep_default_na=False)
    first = sents[sents["text"] == title]["article_id"].iloc[0]
    return {"project": Project.at(root), "labels": root / "labels", "article": first,
            "copies": sorted(set(sents["article_id"]) - before)}


def test_adding_an_article_brings_its_story_and_records_how(story_project):
    p = story_project
    res = add_heldout(p["project"], [p["article"]], "picked for a test")
    assert sorted(res.added) == sorted([p["article"], *p["copies"]])
    methods = heldout_methods(p["labels"])
    assert methods[p["article"]] == "hand-picked" and all(methods[c] == "story" for c in p["copies"])
    table = pd.read_csv(p["labels"] / "heldout.csv", dtype=str, keep_default_na=False)
    assert list(table.columns) == ["article_id", "outlet", "date", "method", "added"]
    assert table.set_index("article_id").at[p["copies"][0], "added"] == f"shares a story with {p['article']}"
    with pytest.raises(LabelError, match="unknown method"):
        add_heldout(p["project"], [p["article"]], "x", method="by whim")


def test_a_draw_is_seeded_and_skips_held_out_stories(story_project):
    p = story_project
    add_heldout(p["project"], [p["article"]], "first")
    candidates = sorted(pd.read_csv(p["project"].corpus / "sentences.csv", dtype=str)["article_id"].unique())
    before = heldout_articles(p["labels"])
    snapshot = (p["labels"] / "heldout.csv").read_bytes()
    res = draw_heldout(p["project"], candidates, 2, seed=7)
    drawn = [a for a in res.added if heldout_methods(p["labels"])[a] == "random"]
    assert len(drawn) == 2 and not set(drawn) & before and not set(drawn) & set(p["copies"])
    (p["labels"] / "heldout.csv").write_bytes(snapshot)
    assert draw_heldout(p["project"], candidates, 2, seed=7).added == res.added  # same seed, same draw
    with pytest.raises(LabelError, match="candidate article"):
        draw_heldout(p["project"], candidates, 10_000)


def test_an_old_heldout_file_without_methods_still_reads():
    rows = pd.DataFrame({"article_id": ["a", "b"], "outlet": ["", ""], "date": ["", ""],
                         "added": ["init share=0.2 seed=13", "round 2: by hand"]})
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        rows.to_csv(Path(d) / "heldout.csv", index=False)
        assert heldout_methods(d) == {"a": "stratified", "b": "hand-picked"}


def test_the_shipped_split_keeps_every_story_on_one_side(project_corpus):
    """No held-out article of the committed labels shares a story (>= 10% of 8-word shingles) with a labelled
    training article: the Madaya wire story and its kind stay on one side."""
    project = Project(corpus=project_corpus["root"], labels=REPO / "labels", models=REPO / "models")
    assert story_conflicts(project) == []
    methods = heldout_methods(REPO / "labels")
    assert set(methods.values()) <= {"stratified", "random", "hand-picked", "story"}
    assert methods["2016-01-11-aid-convoy-enters-besieged-starving-syrian-town-reuters"] == "story"


def test_a_grown_heldout_set_is_compared_on_what_both_models_held_out(heldout_project):
    """Model A is trained, then articles it trained on join the held-out set and B is trained: the comparison
    scores both only on the articles both held out (A's training articles would flatter A), and --parts picks
    parts by how they joined."""
    from pipeline.evaluation.compare import compare_models
    from pipeline.model.selection import train

    p = heldout_project
    a = train(p["project"], grid=[{"features": "word", "C": 4.0}], set_current=False)
    first = heldout_articles(p["labels"])
    spare = sorted(set(pd.read_csv(p["labels"] / "tester.csv", dtype=str)["article_id"]) - first)[:3]
    add_heldout(p["project"], spare, "grown after A was trained")
    b = train(p["project"], grid=[{"features": "word", "C": 4.0}], set_current=False)
    assert set(b["heldout"]["article_ids"]) == first | set(spare)
    c = compare_models(a["model_id"], b["model_id"], p["project"])
    assert c["articles"] == len(first) and "only the" in c["source"]
    whole = compare_models(b["model_id"], b["model_id"], p["project"])
    assert whole["articles"] == len(first) + len(spare)
    picked = compare_models(a["model_id"], b["model_id"], p["project"], parts=("hand-picked",))
    assert picked["articles"] == len(spare)
    with pytest.raises(LabelError, match="unknown held-out part"):
        compare_models(a["model_id"], b["model_id"], p["project"], parts=("lucky",))
