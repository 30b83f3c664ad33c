"""benchmarks/junk_eval.py: the junk/text figures are computed as defined, and the marked set is sound."""
from __future__ import annotations

import csv
import importlib.util
import sys
from collections import Counter
from pathlib import Path

import pytest

from pipeline.errors import CorpusError
from pipeline.records import Article, article_id_for

REPO = Path(__file__).parent.parent
BENCH = REPO / "benchmarks"
UNITS = BENCH / "junk" / "units.csv"
FEED = REPO / "corpus" / "raw" / "feed-2016q1"


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


junk_eval = _load("junk_eval", BENCH / "junk_eval.py")
junk_units = _load("junk_units", BENCH / "junk" / "units.py")

FIELDS = ("article_id", "outlet", "unit", "text", "label")


def _write_units(path: Path, rows: list[tuple[str, str, str, str]]) -> None:
    """rows: (article_id, outlet, text, label); unit indices numbered per article."""
    seen: Counter = Counter()
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS)
        w.writeheader()
        for aid, outlet, text, label in rows:
            w.writerow({"article_id": aid, "outlet": outlet, "unit": seen[aid], "text": text, "label": label})
            seen[aid] += 1


# --------------------------------------------------------------------------
# A synthetic article whose figures are computed by hand
# --------------------------------------------------------------------------
P1 = "Diplomats met in Geneva on Monday to resume talks on a ceasefire, officials said."
P2 = "The envoy said both delegations had agreed to a new round of talks next week."
P3 = "Roe reported from Geneva."

# (text, my mark, kept by the fake ingest below?)
GENEVA_UNITS = [
    ("Talks resume in Geneva", "text", True),  # the headline, repeated in the body: takes the title
    ("Geneva", "junk", False),  # a location tag: its word occurs, but every occurrence belongs to another unit
    (P1, "text", True),
    ("Photo: Jane Roe/Reuters", "junk", False),
    ("Diplomats met in Geneva on Monday", "junk", False),  # a pull quote: its words are P1's, already used by P1
    (P2 + " Read more", "text", True),  # trimmed by ingest: 62 of its 70 letters found -> 0.886 >= 0.8
    ("Both sides blamed each other for the delay.", "text", False),  # dropped by ingest
    ("Sign up for our daily newsletter.", "junk", False),
    (P3, "junk", True),  # a credit line ingest kept
]
BROKEN_UNITS = [("Aid reached Madaya.", "text", False), ("[ad_1]", "junk", False)]


@pytest.fixture
def synthetic(tmp_path, monkeypatch):
    feed = tmp_path / "feed"
    feed.mkdir()
    (feed / "2016-02-01-talks-resume.md").write_text("---\ntitle: Talks resume in Geneva\n---\n<p>x</p>\n", encoding="utf-8")
    (feed / "2016-02-02-broken.md").write_text("---\ntitle: [unclosed\n---\n<p>x</p>\n", encoding="utf-8")
    units = tmp_path / "units.csv"
    _write_units(units, [("2016-02-01-talks-resume", "Synthetic Times", t, lab) for t, lab, _ in GENEVA_UNITS]
                 + [("2016-02-02-broken", "Broken Post", t, lab) for t, lab, _ in BROKEN_UNITS])

    def fake_read_article(path):
        path = Path(path)
        if "broken" in path.name:
            raise CorpusError("front matter does not parse", path, 2)
        # What an ingest might make of the page: the caption, the pull quote, the
        # newsletter prompt and one body paragraph gone, "Read more" trimmed, the credit kept.
        return Article(article_id=article_id_for(path.name), source=str(path), title="Talks resume in Geneva",
                       paragraphs=(P1, P2, P3), format="markdown")

    monkeypatch.setattr(junk_eval.ingest, "read_article", fake_read_article)
    return units, feed


def test_coverage_of_a_trimmed_unit_is_its_share_of_letters_found():
    toks = junk_eval.tokens(P2 + " Read more")
    assert sum(len(t) for t in toks) == 70
    cov, _ = junk_eval._coverage(toks, junk_eval.tokens(P2))
    assert cov == pytest.approx(62 / 70)


def test_match_units_hand_computed():
    res = junk_eval.match_units([t for t, _, _ in GENEVA_UNITS], (P1, P2, P3), "Talks resume in Geneva")
    assert [kept for kept, _ in res] == [k for _, _, k in GENEVA_UNITS]
    assert res[5][1] == pytest.approx(0.886, abs=1e-3)
    assert res[4][1] == 0.0  # the pull quote's words are used up by P1


def test_match_units_splits_and_repeats():
    # A unit split over two paragraphs is found whole (paragraph breaks are whitespace);
    # two identical units and one paragraph: only one of them is kept.
    res = junk_eval.match_units(["Talks resumed. Both sides attended.", "Photo: AP", "Photo: AP"],
                                ("Talks resumed.", "Both sides attended.", "Photo: AP"))
    assert [k for k, _ in res] == [True, True, False]


def test_evaluate_synthetic_figures(synthetic):
    units, feed = synthetic
    res = junk_eval.evaluate(units, feed)

    # Synthetic Times: junk units 1, 3, 4, 7, 8 -> 4 removed (8 kept); text 0, 2, 5, 6 -> 3 kept (6 dropped).
    st = res["per_outlet"]["Synthetic Times"]
    assert (st["junk_units"], st["junk_removed"], st["text_units"], st["text_kept"]) == (5, 4, 4, 3)
    assert st["junk_removed_rate"] == 0.8 and st["text_kept_rate"] == 0.75
    # Broken Post: the article fails, so every unit counts as dropped.
    bp = res["per_outlet"]["Broken Post"]
    assert (bp["junk_units"], bp["junk_removed"], bp["text_units"], bp["text_kept"]) == (1, 1, 1, 0)
    assert [f["article_id"] for f in res["failed_articles"]] == ["2016-02-02-broken"]
    assert "front matter does not parse" in res["failed_articles"][0]["error"]

    o = res["overall"]
    assert (o["articles"], o["units"], o["junk_units"], o["junk_removed"], o["text_units"], o["text_kept"]) == (2, 11, 6, 5, 5, 3)
    assert o["junk_removed_rate"] == round(5 / 6, 4) and o["text_kept_rate"] == 0.6
    assert o["meets_targets"] == {"junk_removed": False, "text_kept": False}
    assert [(u["article_id"], u["unit"]) for u in res["junk_kept"]] == [("2016-02-01-talks-resume", 8)]
    assert sorted((u["article_id"], u["unit"]) for u in res["text_dropped"]) == [
        ("2016-02-01-talks-resume", 6), ("2016-02-02-broken", 0)]


def test_cli_writes_results_and_check_fails_below_target(synthetic, tmp_path, capsys):
    units, feed = synthetic
    out = tmp_path / "results.json"
    assert junk_eval.main(["--units", str(units), "--feed", str(feed), "--out", str(out)]) == 0
    assert junk_eval.main(["--units", str(units), "--feed", str(feed), "--out", str(out), "--check"]) == 1
    text = capsys.readouterr().out
    assert "| Synthetic Times | 1 | 4/5 |  80.0% | 3/4 |  75.0% |" in text
    import json

    res = json.loads(out.read_text(encoding="utf-8"))
    assert res["overall"]["junk_removed"] == 5 and len(res["text_dropped"]) == 2
    assert len(res["ingest"]["ingest_py_sha256"]) == 64


def test_unmarked_units_are_refused(tmp_path):
    units = tmp_path / "units.csv"
    _write_units(units, [("a", "X", "Some text.", "")])
    with pytest.raises(SystemExit, match="not marked"):
        junk_eval.evaluate(units, tmp_path)


# --------------------------------------------------------------------------
# The units cut from raw HTML
# --------------------------------------------------------------------------
def test_units_from_html_body():
    body = (" [ad_1]\n<br><div><p>First <a href='#'>para</a>graph.</p>"
            "<blockquote><p>A quote.</p></blockquote>Loose text<br>after a break"
            "<script>var x = 1;</script><ul><li>One</li><li>&nbsp;</li></ul></div>\n\n"
            "Markdown paragraph one.\n\n&nbsp;\n\nParagraph two.\n")
    assert junk_units.units_of_body(body) == [
        "[ad_1]", "First paragraph.", "A quote.", "Loose text", "after a break", "One",
        "Markdown paragraph one.", "Paragraph two."]
    assert junk_units.units_of_body("Plain one.\n\nPlain\ntwo.\n") == ["Plain one.", "Plain two."]


def test_a_dateline_is_cut_off_as_a_unit_of_its_own():
    body = ("<p>WASHINGTON The Senate voted on Tuesday.</p><p>WASHINGTONThe court sided with a hunter.</p>"
            "<p>AMMAN, Jordan (AP) — Troops moved toward the city.</p><p>NEW DELHI: India's parade went on.</p>"
            "<p>BEIRUT/GENEVA A ceasefire held for a day.</p><p>U.S. Rep. Keith Ellison also called for calm.</p>"
            "<p>NASA said the probe was fine.</p><p>WASHINGTON -</p>")
    assert junk_units.units_of_body(body) == [
        "WASHINGTON", "The Senate voted on Tuesday.", "WASHINGTON", "The court sided with a hunter.",
        "AMMAN, Jordan (AP) —", "Troops moved toward the city.", "NEW DELHI:", "India's parade went on.",
        "BEIRUT/GENEVA", "A ceasefire held for a day.", "U.S. Rep. Keith Ellison also called for calm.",
        "NASA said the probe was fine.", "WASHINGTON -"]


# --------------------------------------------------------------------------
# The marked set, and the real ingest on three of its articles
# --------------------------------------------------------------------------
def _marked_rows() -> list[dict]:
    if not UNITS.exists():
        pytest.skip("benchmarks/junk/units.csv not present")
    with open(UNITS, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_marked_set_is_complete_and_stratified():
    rows = _marked_rows()
    assert {r["label"] for r in rows} == {"text", "junk"}
    arts: dict[str, list[int]] = {}
    outlet_of: dict[str, str] = {}
    for r in rows:
        arts.setdefault(r["article_id"], []).append(int(r["unit"]))
        outlet_of[r["article_id"]] = r["outlet"]
    assert all(units == list(range(len(units))) for units in arts.values())
    added = set(junk_units.ADDED)
    per_outlet = Counter(o for a, o in outlet_of.items() if a not in added)
    assert added <= set(arts)  # the articles added for the kinds of junk found later (credit lines, datelines)
    assert len(arts) - len(added) == 60 and max(per_outlet.values()) <= 3 and len(per_outlet) >= 40
    if FEED.exists():
        ids = {article_id_for(p.name) for p in FEED.iterdir()}
        assert set(arts) <= ids


def test_every_dateline_of_the_set_is_removed_and_its_text_kept():
    """issue 21: the datelines cut off text units (25 of 20 outlets when they were added) stay removed."""
    rows = _marked_rows()
    if not FEED.exists():
        pytest.skip("feed not present")
    by_article: dict[str, list[dict]] = {}
    for r in rows:
        by_article.setdefault(r["article_id"], []).append(r)
    datelines = set()
    for aid, units in by_article.items():
        units.sort(key=lambda r: int(r["unit"]))
        for head, rest in zip(units, units[1:]):
            m = junk_units.DATELINE.match(f"{head['text']} {rest['text']}")
            if head["label"] == "junk" and rest["label"] == "text" and m and m.group(1).strip() == head["text"]:
                datelines.add((aid, int(head["unit"])))
    assert len(datelines) >= 25 and len({by_article[a][0]["outlet"] for a, _ in datelines}) >= 20
    res = junk_eval.evaluate(UNITS, FEED, articles=sorted({a for a, _ in datelines}))
    assert not datelines & {(u["article_id"], u["unit"]) for u in res["junk_kept"]}
    assert not {(a, u + 1) for a, u in datelines} & {(u["article_id"], u["unit"]) for u in res["text_dropped"]}


REAL = [
    "2016-02-19-maryland-man-convicted-of-sex-crime-in-johns-hopkins-fraternity-rape",  # Reuters
    "2016-01-30-turkey-says-russia-violated-its-airspace-bbc-news",  # BBC
    "2016-03-16-president-obama-nominates-merrick-garland-to-the-supreme-court-washin",  # Washington Post
]


def test_real_articles_scored_as_defined():
    rows = _marked_rows()
    if not FEED.exists():
        pytest.skip("feed not present")
    from pipeline.corpus import ingest

    res = junk_eval.evaluate(UNITS, FEED, articles=REAL)
    assert res["overall"]["articles"] == 3 and not res["failed_articles"]

    # Recompute every unit's fate from the definition, on the real ingest output.
    files = junk_eval.feed_files(FEED)
    expect = {"junk": [0, 0], "text": [0, 0]}  # [units, units counted right: junk removed / text kept]
    junk_kept, text_dropped = set(), set()
    for aid in REAL:
        units = sorted((r for r in rows if r["article_id"] == aid), key=lambda r: int(r["unit"]))
        art = ingest.read_article(files[aid])
        for u, (kept, cov) in zip(units, junk_eval.match_units([u["text"] for u in units], art.paragraphs, art.title)):
            assert kept == (cov >= junk_eval.MOSTLY)
            lab = u["label"]
            expect[lab][0] += 1
            if (lab == "junk") != kept:
                expect[lab][1] += 1
            elif lab == "junk":
                junk_kept.add((aid, int(u["unit"])))
            else:
                text_dropped.add((aid, int(u["unit"])))
    o = res["overall"]
    assert (o["junk_units"], o["junk_removed"]) == tuple(expect["junk"])
    assert (o["text_units"], o["text_kept"]) == tuple(expect["text"])
    assert {(u["article_id"], u["unit"]) for u in res["junk_kept"]} == junk_kept
    assert {(u["article_id"], u["unit"]) for u in res["text_dropped"]} == text_dropped
    # The overall figures are the sums of the outlets'.
    for key in ("junk_units", "junk_removed", "text_units", "text_kept"):
        assert o[key] == sum(f[key] for f in res["per_outlet"].values())
    assert o["text_kept_rate"] == round(o["text_kept"] / o["text_units"], 4)

    # Whatever ingest does, a body paragraph it kept verbatim is a kept unit.
    for aid in REAL:
        art = ingest.read_article(files[aid])
        for r in rows:
            if r["article_id"] == aid and r["text"] in art.paragraphs:
                assert (aid, int(r["unit"])) not in text_dropped
