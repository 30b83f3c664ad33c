"""split: news abbreviations, quotes, numbers, id stability and the no-text-lost property."""
from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.records import Article, sentence_ids_for
from pipeline.corpus.split import split_article, split_paragraph


def sents(text: str) -> list[str]:
    return [text[s:e] for s, e in split_paragraph(text)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("The U.N. envoy arrived. He met both sides.", 2),
        ("The U.S. and Russia agreed on Feb. 7 to meet again. Talks resume Monday.", 2),
        ("Gen. Ali Mayhoub spoke. Mr. Kerry replied.", 2),
        ("Brig. Gen. Samir Suleiman said the army advanced.", 1),
        ("J. R. Smith said the talks would go on.", 1),
        ('"We will not negotiate while they bomb our people," he said. The government denied it.', 2),
        ('"Why is the onus on the opposition?" Hijab said.', 1),
        ('"Who started this?" asked the envoy.', 1),
        ("About 1,400 people left and 2.5 percent returned. Aid arrived.", 2),
        ("The talks... stalled again. Nobody was surprised.", 2),
        ("Training was overseen by the U.S. Central Intelligence Agency.", 1),
        ("He went to the U.S. The talks stalled.", 2),
        ("“If there is a failure, there will be no more hope. We must try,” he said.", 2),
        ("Fighting raged near Aleppo on Friday, said Observatory.", 1),
    ],
)
def test_news_cases(text, expected):
    assert len(sents(text)) == expected, sents(text)


def test_headline_is_first_sentence_and_offsets_point_into_body():
    art = Article("a1", "a1.txt", "Talks stall", ("The envoy left. Both sides stayed.", "Fighting went on."))
    out = split_article(art)
    assert [s.text for s in out] == ["Talks stall", "The envoy left.", "Both sides stayed.", "Fighting went on."]
    assert [s.position for s in out] == [0, 1, 2, 3]
    assert [s.paragraph for s in out] == [0, 1, 1, 2]
    for s in out:
        assert art.body[s.start : s.end] == s.text


def test_ids_stable_across_runs_and_edits_elsewhere():
    a = Article("a1", "a1.txt", "T", ("First point. Second point.", "Third point."))
    b = Article("a1", "a1.txt", "T", ("A new opening sentence. First point. Second point.", "Third point."))
    ids_a = {s.text: s.sentence_id for s in split_article(a)}
    ids_b = {s.text: s.sentence_id for s in split_article(b)}
    assert ids_a == {s.text: s.sentence_id for s in split_article(a)}  # same run twice
    for text in ("First point.", "Second point.", "Third point."):
        assert ids_a[text] == ids_b[text]


def test_ids_ignore_typography_and_number_repeats():
    assert sentence_ids_for("a", ["“Yes,” he said."]) == sentence_ids_for("a", ['"Yes,"  he said.'])
    ids = sentence_ids_for("a", ["No.", "Yes.", "No."])
    assert ids[2] == ids[0] + "-2" and len(set(ids)) == 3
    assert sentence_ids_for("a", ["No."]) != sentence_ids_for("b", ["No."])


words = st.text(alphabet=st.characters(codec="utf-8", categories=("L", "N", "P", "Zs")), min_size=1, max_size=12)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(words, st.sampled_from(["U.S.", "Feb.", "said.", '"', "...", "1,400", "2.5", "Mr.", "?", "!"])), max_size=40))
def test_splitting_loses_no_text(tokens):
    text = " ".join(tokens)
    spans = split_paragraph(text)
    joined = "".join(text[s:e] for s, e in spans)
    assert re.sub(r"\s", "", joined) == re.sub(r"\s", "", text)
    # spans are ordered, disjoint and trimmed
    for (s1, e1), (s2, e2) in zip(spans, spans[1:]):
        assert e1 <= s2
    for s, e in spans:
        assert text[s:e] == text[s:e].strip() and e > s


@pytest.mark.parametrize(
    "text, limit, pieces",
    [
        ("One. Two. Three four five six.", 100, ["One. Two. Three four five six."]),  # under the limit: untouched
        ("Aaaa bbbb. Cc dd ee ff", 16, ["Aaaa bbbb. ", "Cc dd ee ff"]),  # the last sentence end in the second half
        ("Aaaa bbbb cccc dddd", 16, ["Aaaa bbbb cccc ", "dddd"]),  # else the last space
        ("No. Aaaaaaaaaaaaaaa bb", 16, ["No. Aaaaaaaaaaaa", "aaa bb"]),  # an end or space only in the first half: hard cut
        ("x" * 25, 10, ["x" * 10, "x" * 10, "x" * 5]),
    ],
)
def test_cut_spans_cuts_long_text_on_a_simple_rule(text, limit, pieces):
    from pipeline.corpus.split import cut_spans

    spans = cut_spans(text, limit)
    assert [text[s:e] for s, e in spans] == pieces
    assert all(e - s <= limit for s, e in spans)
