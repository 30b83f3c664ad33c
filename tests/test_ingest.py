"""ingest: every format, the boilerplate rules, and each bad-input case."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pipeline.corpus.store import build_corpus, corpus_stats, load_articles, load_sentences
from pipeline.errors import CorpusError
from pipeline.corpus.boilerplate import clean_paragraphs, is_boilerplate, strip_dateline
from pipeline.corpus.discover import expand_inputs
from pipeline.corpus.ingest import read_article

DATA = Path(__file__).parent / "data"
RAW = Path(__file__).parent.parent / "corpus" / "raw"


def test_plain_text_headline_first_line_and_cleaning(articles_dir):
    a = read_article(articles_dir / "plain.txt")
    assert a.title == "Syria talks stall as fighting rages near Aleppo"
    assert a.format == "text" and a.outlet == "AFP"
    body = " ".join(a.paragraphs)
    assert "John Smith/Reuters" not in body  # photo credit
    assert "Madaya, Jan. 11, 2016" not in body  # photo caption
    assert "newsletter" not in body and "commenting guidelines" not in body
    assert "1,400 people" in body


def test_front_matter_over_html(articles_dir):
    a = read_article(articles_dir / "frontmatter.md")
    assert a.title == "Aid convoy reaches besieged town"  # entity decoded, outlet suffix split off
    assert a.outlet == "Reuters"
    assert a.date == "2016-01-11"
    assert a.url == "http://www.reuters.com/article/aid-convoy-idUSKCN0"  # aggregator redirect unwrapped
    body = " ".join(a.paragraphs)
    for junk in ("[ad_", "{{", "SECTION HEADING", "Reporting by", "Source"):
        assert junk not in body
    assert "The opposition accused Russia of bombing civilians." in body


def test_saved_html_page(articles_dir):
    a = read_article(articles_dir / "page.html")
    assert a.format == "html"
    assert a.title == "Kerry says ceasefire deal is close"
    assert a.date == "2016-02-21"
    assert a.url == "https://news.example.com/2016/02/21/kerry-ceasefire"
    body = " ".join(a.paragraphs)
    assert "provisional agreement" in body and "twin bombings" in body
    for junk in ("Anna Writer", "Photo:", "Click here", "Related News", "Copyright", "Subscribe"):
        assert junk not in body


@pytest.mark.parametrize(
    "line",
    [
        "Join ST's Telegram channel and get the latest breaking news delivered to you.",
        "People carry a body in the besieged city of Homs, Feb. 9, 2014.",
        "Thaer Al Khalidiya/Reuters",
        "Click here for more coverage of Syria's war.",
        "Sign up for our weekly newsletter",
        "Please follow our commenting guidelines.",
        "Comments are closed.",
        "WASHINGTON CONCERNED BY RUSSIAN MOVES",
        "(Additional reporting by John Irish in Geneva; writing by Peter Millership; editing by Peter Graff)",
        "Thursday, 4 February 2016 00:00 - -",
        "9:00 p.m.",
        "The Latest on the war in Syria (all times local):",
        "Get email updates from Al Jazeera America",
        "Find Al Jazeera America on your TV",
        "Philip J. Victor contributed to this report, with Al Jazeera and wire services",
        "A mediator gestures during a news conference in Geneva, Switzerland - Reuters",
        "‘Working in tandem’",
        "Source",
        "Posted in National, News on Saturday, March 5, 2016 3:31 pm.",
        "Posted in , on Saturday, March 5, 2016 3:31 pm.",  # the section links gone with the page's tag links
        # stamps: dates and times with their labels anywhere, a time glued to "am"
        "February 5, 2016 Updated: February 6, 2016 7:53am",
        "Updated on Feb. 6, 2016 at 7:53 a.m.",
        "Posted: Feb 5, 2016 | Last modified: Feb 6, 2016",
        # a headline teaser closing with its stamp
        "Search for 12 Marines from downed helicopters enters 3rd day 01/17/16 [Last modified: Sunday, January 17, 2016 3:32pm]",
        "Original story reprinted with permission from Quanta Magazine, an editorially independent division of the Simons Foundation",
        "Thank you for reading 15 free articles on our site. You can come back at the end of your 30-day period for another "
        "15 free articles, or you can purchase a subscription and continue to enjoy valuable local news and information.",
    ],
)
def test_boilerplate_rules(line):
    assert is_boilerplate(line)


@pytest.mark.parametrize(
    "line",
    [
        "The U.N. special envoy for Syria has vowed to take fragile peace talks into next week.",
        "Yes.",
        '"Palmyra has been liberated."',
        "Reuters could not independently verify the video.",
        "Critics say the offensive has contributed to the collapse of peace talks in Geneva last week.",
        "Posted in Geneva on Monday, the statement said the talks would resume.",
        "Thank you for reading the statement, the envoy told the delegations before the talks began.",
        # a stamp's words in a sentence, or beside a date with no label
        "Last May.",
        "At 10.",
        "The talks were updated on Feb. 6, 2016.",
    ],
)
def test_article_text_is_kept(line):
    assert not is_boilerplate(line)


def test_related_block_drops_what_follows():
    paras = ["Real text of the article.", "Related News", "Some other story headline", "More links"]
    assert clean_paragraphs(paras) == ["Real text of the article."]


@pytest.mark.parametrize(
    "name, fragment",
    [
        ("empty.txt", "file is empty"),
        ("binary.txt", "binary"),
        ("cp1252.txt", "not valid UTF-8"),
        ("badyaml.md", "front matter does not parse"),
    ],
)
def test_bad_input_names_file_and_fix(name, fragment):
    with pytest.raises(CorpusError) as e:
        read_article(DATA / "bad" / name)
    msg = str(e.value)
    assert name in msg and fragment in msg
    assert "\n" not in msg


def test_cp1252_error_has_line_and_fix():
    with pytest.raises(CorpusError) as e:
        read_article(DATA / "bad" / "cp1252.txt")
    assert "cp1252.txt:1:" in str(e.value) and "iconv" in str(e.value)


def test_unreadable_path(tmp_path):
    with pytest.raises(CorpusError, match="cannot read"):
        read_article(tmp_path)  # a folder is not a readable article file
    with pytest.raises(CorpusError, match="no such file"):
        expand_inputs([tmp_path / "missing.txt"])


def test_batch_goes_through_bad_files(tmp_path, articles_dir):
    res = build_corpus([articles_dir, DATA / "bad"], tmp_path / "c")
    assert res["articles"] == 3 and len(res["errors"]) == 4
    assert all(any(n in e for n in ("empty", "binary", "cp1252", "badyaml")) for e in res["errors"])
    assert len(load_articles(tmp_path / "c")) == 3


def test_failed_run_leaves_previous_corpus_intact(tmp_path, articles_dir, monkeypatch):
    """The disk fills up while the second of the new files is written."""
    root = tmp_path / "c"
    build_corpus([articles_dir / "plain.txt"], root)
    before = {p: (root / p).read_bytes() for p in os.listdir(root)}

    import pipeline.corpus.store as corpus

    writes = []

    def fills_up(path, text):
        writes.append(path)
        if len(writes) == 2:
            raise OSError("disk full")
        real_write(path, text)

    real_write = corpus.atomic_write_text
    monkeypatch.setattr(corpus, "atomic_write_text", fills_up)
    with pytest.raises(OSError):
        build_corpus([articles_dir], root)
    assert {p: (root / p).read_bytes() for p in os.listdir(root)} == before  # no temp or half-written file left


def test_globs_and_duplicate_stems(tmp_path, articles_dir):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for d in ("a", "b"):
        (tmp_path / d / "x.txt").write_text(f"Headline {d}\n\nSome text here about the talks in {d}.\n")
    files = expand_inputs([str(tmp_path / "*" / "x.txt")])
    assert len(files) == 2
    res = build_corpus([tmp_path / "a", tmp_path / "b"], tmp_path / "c")
    ids = [a.article_id for a in load_articles(tmp_path / "c")]
    assert ids == ["x", "x-2"] and res["articles"] == 2


def _art(path, title, body):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{title}\n\n{body}\n", encoding="utf-8")
    return path


def test_ingest_adds_next_to_the_corpus_and_never_drops_articles(tmp_path):
    root = tmp_path / "corpus"
    a = _art(tmp_path / "raw" / "one.txt", "Talks open in Geneva", "Envoys met on Monday. They talked for hours.")
    b = _art(tmp_path / "mine" / "two.txt", "Aid reaches Madaya", "A convoy arrived. Food was handed out.")
    build_corpus([tmp_path / "raw"], root)
    first = load_sentences(root)
    res = build_corpus([b], root)  # only the new file: the earlier article must stay
    assert res["added"] == 1 and res["corpus_articles"] == 2
    assert sorted(x.article_id for x in load_articles(root)) == ["one", "two"]
    again = build_corpus([tmp_path / "raw"], root)  # what `make run` does
    assert again["unchanged"] == 1 and again["added"] == 0
    now = load_sentences(root)
    assert set(first["sentence_id"]) <= set(now["sentence_id"])  # labels of 'one' are not orphaned
    assert "two" in set(now["article_id"])
    # an edited file replaces its old version under the same id
    _art(a, "Talks open in Geneva", "Envoys met on Monday. They talked for hours. A third sentence.")
    res = build_corpus([a], root)
    assert res["updated"] == 1 and res["corpus_articles"] == 2
    assert (load_sentences(root)["article_id"] == "one").sum() == 4
    # --replace starts afresh
    res = build_corpus([b], root, replace=True)
    assert [x.article_id for x in load_articles(root)] == ["two"]


def test_same_text_under_another_name_is_not_added_twice(tmp_path):
    root = tmp_path / "corpus"
    _art(tmp_path / "raw" / "one.txt", "Talks open in Geneva", "Envoys met on Monday.")
    build_corpus([tmp_path / "raw"], root)
    copy = _art(tmp_path / "feed" / "2016-01-29-talks-open.txt", "Talks open in Geneva", "Envoys met on Monday.")
    res = build_corpus([copy], root)
    assert res["added"] == 0 and len(res["duplicates"]) == 1
    assert "same text as article one" in res["duplicates"][0]
    assert [x.article_id for x in load_articles(root)] == ["one"]


def test_a_new_file_with_a_taken_stem_gets_the_next_suffix(tmp_path):
    root = tmp_path / "corpus"
    _art(tmp_path / "a" / "story.txt", "First story", "One thing happened.")
    build_corpus([tmp_path / "a"], root)
    _art(tmp_path / "b" / "story.txt", "Second story", "Another thing happened.")
    build_corpus([tmp_path / "b"], root)
    arts = {x.article_id: x.title for x in load_articles(root)}
    assert arts == {"story": "First story", "story-2": "Second story"}


def test_corpus_files_and_stats(tiny_corpus):
    df = load_sentences(tiny_corpus)
    assert list(df.columns) == ["sentence_id", "article_id", "position", "paragraph", "start", "end", "text"]
    arts = [json.loads(l) for l in (tiny_corpus / "articles.jsonl").read_text().splitlines()]
    assert {a["format"] for a in arts} == {"text", "markdown", "html"}
    st = corpus_stats(tiny_corpus)
    assert st["articles"] == 3 and st["sentences"] == len(df)
    assert sum(r["sentences"] for r in st["by_outlet"]) == len(df)


def test_project_corpus_ingests_cleanly(project_corpus):
    """The shipped corpus (seeds, pool, and the Jan-Mar 2016 feed): no warnings, ~170 seed sentences, no known boilerplate, metadata filled."""
    res, root = project_corpus["result"], project_corpus["root"]
    assert res["errors"] == [] and res["duplicates"] == [] and res["articles"] == 1859
    df = load_sentences(root)
    seeds = df[df.article_id.str.match(r"^00[0-4]-")]
    assert 140 <= len(seeds) <= 200
    # the feed's cleaning (more outlets, more boilerplate kinds) is measured on its own junk test set
    feed = {a.article_id for a in load_articles(root) if "feed-2016q1" in a.source}
    assert len(feed) == 1803
    text = "\n".join(df.text[~df.article_id.isin(feed)])
    for junk in (
        "Join ST's Telegram channel",
        "People carry a body in the besieged city of Homs, Feb. 9, 2014.",
        "Thaer Al Khalidiya/Reuters",
        "Click here for more coverage",
        "Sign up for our weekly newsletter",
        "Please follow our commenting guidelines.",
        "{{hitsCtrl.values.hits}}",
        "[ad_",
        "Reporting by",
    ):
        assert junk not in text
    for a in load_articles(root):
        if a.format == "markdown":
            assert a.title and a.date and a.url


def test_link_only_paragraphs_are_dropped(tmp_path):
    """'Read more' lists are other stories' headlines, each a bare link."""
    page = tmp_path / "a.md"
    page.write_text(
        "---\npost_title: A headline about the talks\npost_date: 2016-04-16\n---\n"
        "<div><p>The envoy met both delegations in Geneva on Saturday, officials said.</p>"
        '<p>Talks resume on Monday, <a href="/x">the U.N. said</a> in a statement.</p>'
        '<p><b>Read more:</b></p><p><a href="/a">How Europe\'s migrant policy is tearing families apart</a></p>'
        '<ul><li><a href="/b">Europe begins sending people back across the sea</a></li></ul></div>\n',
        encoding="utf-8",
    )
    body = " ".join(read_article(page).paragraphs)
    assert "Talks resume on Monday, the U.N. said in a statement." in body
    assert "tearing families apart" not in body and "sending people back" not in body and "Read more" not in body


def test_nothing_readable_leaves_corpus_unchanged(tmp_path, articles_dir):
    root = tmp_path / "c"
    build_corpus([articles_dir], root)
    before = (root / "sentences.csv").read_bytes()
    with pytest.raises(CorpusError, match="left unchanged"):
        build_corpus([DATA / "bad"], root)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CorpusError, match="no article files"):
        build_corpus([empty], root)
    assert (root / "sentences.csv").read_bytes() == before


def test_html_fragment_and_bom_crlf_text(tmp_path):
    frag = tmp_path / "frag.html"
    frag.write_text("<h1>Envoy meets delegates in Geneva</h1><p>The envoy met both delegations on Monday. Talks resume today.</p>", encoding="utf-8")
    a = read_article(frag)
    assert a.format == "html" and a.title == "Envoy meets delegates in Geneva"
    assert a.paragraphs == ("The envoy met both delegations on Monday. Talks resume today.",)
    frag.write_text("<p>The envoy met both delegations on Monday.</p><p>Talks resume today.</p>", encoding="utf-8")
    a = read_article(frag)  # no headline in the fragment: none is invented
    assert a.title == "" and a.paragraphs == ("The envoy met both delegations on Monday.", "Talks resume today.")
    txt = tmp_path / "bom.txt"
    txt.write_bytes("\ufeffHeadline here\r\n\r\nThe U.S. envoy arrived.\r\n".encode("utf-8"))
    b = read_article(txt)
    assert b.title == "Headline here" and b.paragraphs == ("The U.S. envoy arrived.",)


# Each rule for a class of boilerplate: a hand-written example it removes, and a near miss it keeps.
@pytest.mark.parametrize(
    "junk, keep",
    [
        # byline: capitalised names, a short line with no sentence end
        ("By Jane Doe and Ann Roe, Associated Press", "By contrast, the images met a muted response from officials."),
        # share/newsletter prompts only in short lines
        ("Follow our reporters on Twitter for updates", "Officials " + "said the group posted the video on Twitter and " * 4 + "denied it."),
        # embedded post credit line
        ("— Jane Doe (@janedoe) March 26, 2016", "— and then, on March 26, 2016, the talks collapsed."),
        # labelled time stamp
        ("Last Updated Feb 10, 2016 11:03 AM EST", "Last updated on Monday, the figures show a rise in arrivals."),
        # page navigation
        ("Go Back to Top. Skip To: Start of Article.", "Going back to the top of the agenda, the envoy raised the siege."),
        # paywall and account messages
        ("A subscription is needed to read this article in its entirety.", "The agency said subscribers to the service lost data."),
        ("Choose an online service.", "Voters must choose an online or paper ballot by Friday."),
        # bracketed teaser for another story
        ("[Read about the storm that hit the coast last week]", "[The envoy] said talks would resume on Monday."),
        # reader-addressed promos
        ("Need a break? Try playing some of our puzzles.", "Need a reason to worry? The jobless rate rose to 10 percent."),
        ("You can subscribe to get the day's top news in your inbox.", "You can see the damage from the road, the mayor said."),
        ("Full coverage of the election is here, Vote 2016.", "Coverage of the election was heavy, the study found."),
        ("Watch the highlights from last night's game!", '"Watch out," he told reporters.'),
        # syndication note
        ("This story originally appeared on Example.com.", "The story first appeared to be a hoax, police said."),
        # caption naming its photo
        ("Kim inspects a drill in this undated picture released by the agency.", "In this photo-op driven campaign, the senator spoke twice."),
        # ciphered text
        ("kAm|2?<2E@ A@=:46 D2J E96 :5=:?8 ECF4< 2AA2C6?E=J H2D", "The F-16 jets flew 3D routes in the 1990s, officials said."),
    ],
)
def test_boilerplate_class_and_near_miss(junk, keep):
    assert is_boilerplate(junk)
    assert not is_boilerplate(keep)


def test_short_quoted_post_ending_in_link_or_ellipsis_is_kept():
    assert not is_boilerplate("Count me in… https://t.co/abc123")
    assert not is_boilerplate("Of course, there's always this guy…")
    assert is_boilerplate("Kim and the military https://t.co/abc123")  # a short heading, link or not


def test_repeated_short_line_is_a_template():
    caption = "The leaders of the region and their armies"
    paras = [caption, "First caption sentence here.", caption, "Second one.", caption, "Third one.", "Body text of the story."]
    assert caption not in clean_paragraphs(paras)
    twice = ["The leaders of the region and their armies", "Text.", "The leaders of the region and their armies", "More text."]
    assert clean_paragraphs(twice) == twice  # twice is not a template


def test_author_bio_only_at_the_end():
    bio = "Jane Doe is The Example Post's White House bureau chief, covering domestic policy."
    body = ["The talks resumed on Monday.", "Both sides met for hours.", "No deal was reached.", "Envoys will meet again."]
    assert clean_paragraphs(body + [bio]) == body
    assert bio in clean_paragraphs([bio] + body)  # in the body, a sentence about a journalist stays
    for bio in ("John Roe writes about politics for The Fix. He is based in New York City.",
                "Jane Doe covers the White House for The Example Post."):
        assert clean_paragraphs(body + [bio]) == body


def test_feed_body_keeps_its_lists_quotes_and_every_character(tmp_path):
    """An HTML body under front matter (the feed's): resiliparse reads a shallow list as navigation, drops an
    embedded post nested three levels deep and a text node of one dash or quote; the body's own text stays."""
    (tmp_path / "body.md").write_text(
        "---\ntitle: Envoy meets delegations\ndate: 2016-02-01\n---\n [ad_1]\n<br><div>"
        "<p>The envoy met both delegations in Geneva on Monday, officials said.</p>"
        "<ul><li>The talks resume on February 25 in Geneva.</li><li>Aid convoys reached two besieged towns.</li></ul>"
        '<div><div><blockquote class="twitter-tweet"><p>These talks are the last chance for peace in Syria.</p>'
        '— Envoy (@envoy) <a href="https://twitter.com/envoy/status/1">February 1, 2016</a></blockquote></div></div>'
        "<p>Talks between <b>Kerry</b> – <b>Lavrov</b> went on for hours, a U.S. of\u00adficial said.</p>"
        "<p>The plan was first reported by <em>El Pais</em>‘ <em>Tentaciones</em> magazine.</p>"
        "<p>Apple Inc. <span class=\"hide\">AAPL -0.43 %</span> backed the plan\u200e on Sunday.</p>"
        "</div>\n<br>[ad_2]\n", encoding="utf-8")
    a = read_article(tmp_path / "body.md")
    assert a.paragraphs == ("The envoy met both delegations in Geneva on Monday, officials said.",
                            "The talks resume on February 25 in Geneva.",
                            "Aid convoys reached two besieged towns.",
                            "These talks are the last chance for peace in Syria.",
                            "Talks between Kerry – Lavrov went on for hours, a U.S. official said.",
                            "The plan was first reported by El Pais‘ Tentaciones magazine.",
                            "Apple Inc. backed the plan on Sunday.")


def test_feed_body_drops_bylines_galleries_stamps_and_a_pages_title(tmp_path):
    """Markup the feed's pages use for what is not article text, and a body that is a whole page with its <title>."""
    (tmp_path / "body.md").write_text(
        "---\ntitle: Dog drives truck\ndate: 2016-03-05\n---\n<html><head><title>Dog drives truck | Example</title></head>"
        '<body><div class="instant-gallery"><p>A dog sits in the driver\'s seat of a truck in Mankato, Minnesota.</p></div>'
        '<p class="byline"><span class="bookmark">Dog drives truck</span> Associated Press |</p>'
        "<p>MANKATO, Minn. — One dog apparently has learned a new trick: how to drive a semi-truck.</p>"
        '<p class="story-keywords">Posted in <a href="/news" rel="tag">News</a>, on Saturday, March 5, 2016 3:31 pm.</p>'
        "</body></html>\n", encoding="utf-8")
    a = read_article(tmp_path / "body.md")
    assert a.paragraphs == ("One dog apparently has learned a new trick: how to drive a semi-truck.",)  # its dateline dropped too


def test_caption_and_gallery_markup_is_dropped():
    import lxml.html

    from pipeline.corpus.extract import parse, prune

    page = (
        "<html><body><div><p>The envoy met both delegations in Geneva.</p>"
        '<figure><img src="x.jpg"><figcaption>The envoy arrives in Geneva on Monday.</figcaption></figure>'
        '<p class="wp-caption-text">A delegate speaks to reporters.</p>'
        '<div data-is-gallery="true"><div data-slidename="Envoys"><p>Envoys pose for a photo.</p></div></div>'
        '<div class="slideshow-overlay"><p>A convoy enters Madaya.</p></div><p class="pb-byline">By Jane Writer</p>'
        '<p class="captioned-quote">A kept paragraph whose class only contains the word.</p></div></body></html>'
    )
    root = parse(page)
    prune(root)
    out = lxml.html.tostring(root, encoding="unicode")
    assert "met both delegations" in out and "A kept paragraph" in out
    for junk in ("arrives in Geneva", "speaks to reporters", "pose for a photo", "convoy enters", "Jane Writer"):
        assert junk not in out


def test_post_with_handles_and_picture_link_is_not_cipher():
    assert not is_boilerplate("@abc @Def2 what? No Smith? pic.twitter.com/h2jT0kKKac")


def test_reporting_credits_and_feed_footers_are_dropped():
    """Credit lines the feed's tags used to keep as sentences (issue 21), and look-alike article text that stays."""
    body = ["The last sitting U.S. president to visit Cuba was Calvin Coolidge in 1928. (Reporting by Patricia Zengerle "
            "in Washington; Additional reporting by Kevin Krolicki; Writing by Eric Beech; Editing by Sandra Maler)",
            "Kerry reported from Geneva that talks would resume.",
            "Correspondents reported from Aleppo, Syria, that shelling continued.",
            "He has reported from more than 50 countries and has written three books.",
            "Assad said the report (written by aides) was false."]
    credits = ["Faiola reported from Berlin.", "Amy Shafer reported from Chicago.",
               "Helderman and Fahrenthold reported from Washington. Ed O’Keefe in Miami and Matea Gold in Washington also contributed.",
               "(Aditional reporting by Fergus Jensen and Randy Fabi; Writing by John Chalmers; Editing by Nick Macfie)",
               "(Roporting by Steve Holland, John Whitesides, Amanda Becker and Ginger Gibson in Iowa; additional reporting by "
               "Amy Tennery; Writing by Alistair Bell and Jeff Mason; Editing by Frances Kerry and Howard Goller)",
               "(Religion editor Tom Heneghan reported from Paris; Editing by Crispian Balmer)",
               "The post The 2016 Iowa Caucuses Liveblog: Cruz Beats Trump appeared first on WIRED."]
    out = clean_paragraphs(body[:1] + credits[:3] + body[1:] + credits[3:])
    assert out == ["The last sitting U.S. president to visit Cuba was Calvin Coolidge in 1928.", *body[1:]]


@pytest.mark.parametrize("first,text", [
    ("WASHINGTON The U.S. Senate voted on Tuesday to extend sanctions, officials said.",
     "The U.S. Senate voted on Tuesday to extend sanctions, officials said."),
    ("WASHINGTONThe Supreme Court on Tuesday sided with an Alaska moose hunter.", "The Supreme Court on Tuesday sided with an Alaska moose hunter."),
    ("BEIRUT/GENEVA A senior U.N. official said the talks would go on.", "A senior U.N. official said the talks would go on."),
    ("LOS ANGELES - California residents sickened by the leak were told to wait.", "California residents sickened by the leak were told to wait."),
    ("GENEVA (AFP) - Syria's faltering peace process ground to total deadlock on Friday.",
     "Syria's faltering peace process ground to total deadlock on Friday."),
    ("NEW YORK (Thomson Reuters Foundation) - Smartphones could become the main tool of aid.",
     "Smartphones could become the main tool of aid."),
    ("AMMAN, Jordan — Syrian government troops are moving toward their biggest target yet.",
     "Syrian government troops are moving toward their biggest target yet."),
    ("SEOUL, SOUTH KOREA — The move didn't make sense to the humans packed into the room.",
     "The move didn't make sense to the humans packed into the room."),
    ("FORT WORTH, Texas (AP) — The Texas teenager who used an affluenza defense appeared in court.",
     "The Texas teenager who used an affluenza defense appeared in court."),
    ("CAIRO—Five years ago, massive street protests swept out Egypt's strongman president.",
     "Five years ago, massive street protests swept out Egypt's strongman president."),
    ("NEW DELHI: India's military prowess was on show at the parade.", "India's military prowess was on show at the parade."),
    ("WASHINGTON/NAVAL AIR WEAPONS STATION CHINA LAKE, Calif. U.S. Defense Secretary Ash Carter said on Tuesday the budget grew.",
     "U.S. Defense Secretary Ash Carter said on Tuesday the budget grew."),
    # the region in title case and no dash (Reuters, 2016): one word, or the words of a region name
    ("NEUBRANDENBURG, Germany German Chancellor Angela Merkel tried on Saturday to placate her critics.",
     "German Chancellor Angela Merkel tried on Saturday to placate her critics."),
    ("GENEVA/ONCUPINAR, Turkey Hundreds of thousands of civilians could be cut off from food.",
     "Hundreds of thousands of civilians could be cut off from food."),
    ("PAJU, South Korea North Korea said it was kicking out all South Koreans from the zone.",
     "North Korea said it was kicking out all South Koreans from the zone."),
    ("BOSTON, Mass A dangerous cold snap seized the northeastern United States on Saturday.",
     "A dangerous cold snap seized the northeastern United States on Saturday."),
    ("WASHINGTON, March 17 The number of Americans filing for unemployment benefits rose.", None),  # a date, not a region
    ("FBI, Apple Inc and the Justice Department met on Tuesday to discuss the phone.", None),  # "FBI" is in capitals elsewhere
    # the text's own acronyms stay: named in capitals elsewhere in the article, two letters, or an initialism
    ("LONDON ARM Holdings, the British chip designer, said its royalties rose.", "ARM Holdings, the British chip designer, said its royalties rose."),
    ("WASHINGTON FBI Director James Comey said on Tuesday that investigators could not unlock the phone.",
     "FBI Director James Comey said on Tuesday that investigators could not unlock the phone."),
    ("SEOUL LG Electronics Inc on Wednesday said it will invest in solar panels.", "LG Electronics Inc on Wednesday said it will invest in solar panels."),
    ("TEL AVIV U.S.-Israeli start-up Neura said it raised $11 million.", "U.S.-Israeli start-up Neura said it raised $11 million."),
    # not datelines: a headline, an acronym that is the subject, a kicker, a credit, a photo caption's label
    ("NYPD Has Used Stingrays More Than 1,000 Times Since 2008", None),
    ("NATO said on Tuesday it would send ships to the Aegean.", None),
    ("NATO Secretary-General Jens Stoltenberg called the move a clear sign.", None),
    ("CRUZ CATCHES MITT: With more of a whimper than a bang, the 2012 GOP nominee has made his preference clear.", None),
    ("NASA/JHUAPL/SwRI", None),
    ("FILE - In this file photo taken in 1945, children stand behind barbed wire.", None),
])
def test_a_dateline_opening_the_story_is_dropped_and_its_sentence_kept(first, text):
    """issue 21: glued datelines ("WASHINGTON The ...") were left in the sentence; only the dateline goes."""
    title = "ARM and the FBI: what NATO and the NYPD said"  # the headline names the article's acronyms
    rest = ["The vote was 98 to 0, the ARM, FBI and NATO officials said."]
    assert strip_dateline([first, *rest], title) == [text or first, *rest]


def test_a_dateline_is_dropped_once_and_only_near_the_top():
    lead = "BEIRUT Syrian rebels said on Wednesday they were under fierce attack."
    dek = "Reports of an officer down rallied forces."
    assert strip_dateline([dek, "SEASIDE — A police officer was shot on Friday night."]) == [dek, "A police officer was shot on Friday night."]
    assert strip_dateline([lead, "HONOLULU — The search went on."]) == ["Syrian rebels said on Wednesday they were under fierce attack.",
                                                                      "HONOLULU — The search went on."]
    later = ["One.", "Two.", "Three.", lead]
    assert strip_dateline(later) == later  # a dateline further down is a second story's, or no dateline


def test_a_dateline_after_a_pages_header_lines_is_dropped():
    """Sub-headings and captions that end in a credit or are cut short do not count as the story's paragraphs."""
    header = ["Cause of deadly NYC crane collapse is under investigation",
              "A collapsed crane fills the street on Friday, Feb. 5, 2016, in New York. (Brian Marrone via AP)",
              "A collapsed crane fills the street on Friday, Feb. 5, 2016, in New..."]
    story = "NEW YORK (AP) — Officials are working to determine why a huge construction crane came crashing down."
    assert strip_dateline([*header, story, "Three other people were hurt."]) == [
        *header, "Officials are working to determine why a huge construction crane came crashing down.", "Three other people were hurt."]
    # three paragraphs of the story before it: a second story's dateline, kept
    later = [header[0], "One.", header[1], "Two.", "Three.", story]
    assert strip_dateline(later) == later
    # and never past the first ten paragraphs
    headings = [f"Heading number {i}" for i in range(10)]
    assert strip_dateline([*headings, story]) == [*headings, story]


def test_related_coverage_links_glued_to_their_source_are_dropped(tmp_path):
    """An aggregator's cluster: each headline a link with its outlet in an element of its own, no space between."""
    link = '<font size="-1"><a href="http://x.example/{0}">{1}</a><font size="-1" color="#6f6f6f">{2}</font></font><br>'
    body = ('<table><tr><td><div class="lh"><a href="http://x.example/main"><b>IRS website hit with hardware failure</b></a><br>'
            '<font size="-1">Some taxpayers who visited the IRS website today noticed a problem. The IRS is working on it.</font><br>'
            + link.format("a", "IRS computer problems shut down e-file system", "USA TODAY")
            + link.format("b", "Support leg breaks as SpaceX rocket lands on ocean barge", "kwwl.com")
            + '<font size="-1" class="p"><a href="http://x.example/c">New York Times</a>&nbsp;-<a href="http://x.example/d">'
            'PolitiFact</a>&nbsp;-<a href="http://x.example/e">Newsmax</a></font>'
            '</div></td></tr></table><p>Talks resume on Monday, <a href="/x">the U.N. said</a>.</p>'
            '<h3><a href="http://x.example/f">Google CEO Sides With Apple in FBI Battle</a></h3>'
            '<p>Sundar Pichai said that forcing companies to enable hacking could compromise users\' privacy.</p>')
    (tmp_path / "gn.md").write_text(f"---\ntitle: IRS website hit\ndate: 2016-02-04\n---\n{body}\n", encoding="utf-8")
    assert read_article(tmp_path / "gn.md").paragraphs == (
        "Some taxpayers who visited the IRS website today noticed a problem. The IRS is working on it.",
        "Talks resume on Monday, the U.N. said.",
        "Google CEO Sides With Apple in FBI Battle",  # a heading that is one link stays (a roundup's item)
        "Sundar Pichai said that forcing companies to enable hacking could compromise users' privacy.",
    )


def test_ingest_reads_the_agency_from_the_dateline_it_drops(tmp_path):
    path = tmp_path / "afp.txt"
    path.write_text("Syria peace talks face deadlock\n\nGENEVA (AFP) - Syria's faltering peace process ground to total "
                    "deadlock on Friday.\n\nThe death toll continued to soar.\n", encoding="utf-8")
    art = read_article(path)
    assert art.outlet == "AFP"
    assert art.paragraphs[0] == "Syria's faltering peace process ground to total deadlock on Friday."
