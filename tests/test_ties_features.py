"""The tie extractor's mentions and pair feature strings on hand-written sentences.  The expected strings are those
the shipped pair classifier (models/ties/) was trained on, written out as the extractor gave them before its
features were read from per-sentence words and per-article mentions: a change here changes the model's inputs."""
from __future__ import annotations

import re

import pipeline.model.ties as ties
from pipeline.model.ties import Aliases, PairFeatures, alias_pattern, article_candidates, candidates, mentions, \
    own_mentions, resolve

ACTORS = {"Damascus": "Syrian government", "Syrian government": "Syrian government", "the government": "Syrian government",
          "Russia": "Russia", "Moscow": "Russia", "Turkey": "Turkey", "Ankara": "Turkey",
          "the opposition": "Syrian opposition", "Syrian opposition": "Syrian opposition"}
PATTERN = alias_pattern(ACTORS)
ARTICLE = ["Russia and Turkey traded accusations on Monday, said Sergei Lavrov.",
           "Moscow said Ankara had shot down the jet.",
           "It called the attack a crime.",
           "He denied that the jet had crossed into Turkish airspace.",
           "The ministry rejected the claim, the opposition said."]


def test_pair_feature_strings_are_the_ones_the_model_was_trained_on():
    text = "The opposition accused the government of lying about Homs, a charge denied by Damascus."
    assert candidates(text, mentions(text, ACTORS, PATTERN, [])) == [
        ("UNKNOWN", "Syrian opposition", "tk=listed nm=4 tr=accused tr=the tr=government t_first sk=unknown "
                                         "kinds=unknown>listed ua_accuse ua_deny u_nothing_before"),
        ("Syrian government", "Syrian opposition", "tk=listed nm=4 tr=accused tr=the tr=government t_first sk=listed t<s "
                                                   "kinds=listed>listed b=accused dist=0 cb_accuse t<s_cb_accuse ca_accuse "
                                                   "ca_deny sl=the sl=opposition sl=accused sr=of sr=lying sr=about s_later"),
        ("Homs", "Syrian opposition", "tk=listed nm=4 tr=accused tr=the tr=government t_first sk=name t<s kinds=name>listed "
                                      "b=accused b=the b=government b=of b=lying b=about dist=1 cb_accuse t<s_cb_accuse "
                                      "ca_accuse ca_deny sl=of sl=lying sl=about sr=a sr=charge sr=denied s_later"),
        ("UNKNOWN", "Syrian government", "tk=listed nm=4 tl=the tl=opposition tl=accused tr=of tr=lying tr=about t_later "
                                         "sk=unknown kinds=unknown>listed ub_accuse ua_accuse ua_deny u_named_before"),
        ("Syrian opposition", "Syrian government", "tk=listed nm=4 tl=the tl=opposition tl=accused tr=of tr=lying tr=about "
                                                   "t_later sk=listed s<t kinds=listed>listed b=accused dist=0 cb_accuse "
                                                   "s<t_cb_accuse ca_accuse ca_deny sr=accused sr=the sr=government s_first"),
        ("Homs", "Syrian government", "tk=listed nm=4 tl=the tl=opposition tl=accused tr=of tr=lying tr=about t_later "
                                      "sk=name t<s kinds=name>listed b=of b=lying b=about dist=0 cb_accuse t<s_cb_accuse "
                                      "ca_accuse ca_deny cf_accuse sl=of sl=lying sl=about sr=a sr=charge sr=denied s_later"),
        ("UNKNOWN", "Homs", "tk=name nm=4 tl=of tl=lying tl=about tr=a tr=charge tr=denied t_later sk=unknown "
                            "kinds=unknown>name ub_accuse ua_accuse ua_deny u_named_before"),
        ("Syrian opposition", "Homs", "tk=name nm=4 tl=of tl=lying tl=about tr=a tr=charge tr=denied t_later sk=listed s<t "
                                      "kinds=listed>name b=accused b=the b=government b=of b=lying b=about dist=1 cb_accuse "
                                      "s<t_cb_accuse ca_accuse ca_deny sr=accused sr=the sr=government s_first"),
        ("Syrian government", "Homs", "tk=name nm=4 tl=of tl=lying tl=about tr=a tr=charge tr=denied t_later sk=listed s<t "
                                      "kinds=listed>name b=of b=lying b=about dist=0 cb_accuse s<t_cb_accuse ca_accuse "
                                      "ca_deny cf_accuse sl=the sl=opposition sl=accused sr=of sr=lying sr=about s_later"),
    ]


def test_words_cut_by_a_mention_stay_cut_in_the_features():
    # "Cosby's": the name ends before "'s", which is then a word of its own after it and between the mentions
    text = 'Bill Cosby\'s lawyer said "Victory" was near, blaming prosecutors.'
    assert candidates(text, mentions(text, ACTORS, PATTERN, [])) == [
        ("UNKNOWN", "Bill Cosby", "tk=name nm=2 tr='s tr=lawyer tr=said t_first sk=unknown kinds=unknown>name ua_accuse "
                                  "ua_say u_nothing_before"),
        ("blaming prosecutors", "Bill Cosby", "tk=name nm=2 tr='s tr=lawyer tr=said t_first sk=common t<s kinds=common>name "
                                              "b='s b=lawyer b=said b=victory b=was b=near dist=1 cb_say t<s_cb_say "
                                              "sl=victory sl=was sl=near s_later"),
        ("UNKNOWN", "blaming prosecutors", "tk=common nm=2 tl=victory tl=was tl=near t_later sk=unknown "
                                           "kinds=unknown>common ub_say u_named_before"),
        ("Bill Cosby", "blaming prosecutors", "tk=common nm=2 tl=victory tl=was tl=near t_later sk=name s<t "
                                              "kinds=name>common b='s b=lawyer b=said b=victory b=was b=near dist=1 cb_say "
                                              "s<t_cb_say sr='s sr=lawyer sr=said s_first"),
    ]
    words = PairFeatures("Cosby's lawyer", [])
    assert words.words(0) == ["cosby's", "lawyer"] and words.words(5) == ["'s", "lawyer"]
    assert words.words(1, 3) == ["os"] and words.words(3, 1) == [] and words.words(6, 9) == ["s", "l"]


def test_a_sentence_whose_lowering_adds_characters_splits_each_stretch_alone():
    # "İ" lowers to "i" and a combining dot, so the sentence's words are not its stretches' words: the slow path
    text = "Turkey was blamed by Russia for the jet downed near İskenderun, officials said."
    assert candidates(text, mentions(text, ACTORS, PATTERN, [])) == [
        ("UNKNOWN", "Turkey", "tk=listed nm=3 tr=was tr=blamed tr=by t_first sk=unknown kinds=unknown>listed ua_accuse "
                              "ua_say u_nothing_before"),
        ("Russia", "Turkey", "tk=listed nm=3 tr=was tr=blamed tr=by t_first sk=listed t<s kinds=listed>listed b=was "
                             "b=blamed b=by dist=0 cb_accuse t<s_cb_accuse ca_say sl=was sl=blamed sl=by sr=for sr=the "
                             "sr=jet s_after_by s_later"),
        ("officials", "Turkey", "tk=listed nm=3 tr=was tr=blamed tr=by t_first sk=common t<s kinds=common>listed b=was "
                                "b=blamed b=by b=russia b=for b=the b=jet b=downed b=near b=i dist=2 cb_accuse "
                                "t<s_cb_accuse ca_say sl=near sl=i sl=skenderun sr=said s_later"),
        ("UNKNOWN", "Russia", "tk=listed nm=3 tl=was tl=blamed tl=by tr=for tr=the tr=jet t_later sk=unknown "
                              "kinds=unknown>listed ub_accuse ua_say u_named_before"),
        ("Turkey", "Russia", "tk=listed nm=3 tl=was tl=blamed tl=by tr=for tr=the tr=jet t_later sk=listed s<t "
                             "kinds=listed>listed b=was b=blamed b=by dist=0 cb_accuse s<t_cb_accuse ca_say sr=was "
                             "sr=blamed sr=by t_after_by s_first"),
        ("officials", "Russia", "tk=listed nm=3 tl=was tl=blamed tl=by tr=for tr=the tr=jet t_later sk=common t<s "
                                "kinds=common>listed b=for b=the b=jet b=downed b=near b=i b=skenderun dist=1 ca_say "
                                "cf_accuse sl=near sl=i sl=skenderun sr=said t_after_by s_later"),
        ("UNKNOWN", "officials", "tk=common nm=3 tl=near tl=i tl=skenderun tr=said t_later sk=unknown "
                                 "kinds=unknown>common ub_accuse ua_say u_named_before"),
        ("Turkey", "officials", "tk=common nm=3 tl=near tl=i tl=skenderun tr=said t_later sk=listed s<t "
                                "kinds=listed>common b=was b=blamed b=by b=russia b=for b=the b=jet b=downed b=near b=i "
                                "dist=2 cb_accuse s<t_cb_accuse ca_say sr=was sr=blamed sr=by s_first"),
        ("Russia", "officials", "tk=common nm=3 tl=near tl=i tl=skenderun tr=said t_later sk=listed s<t "
                                "kinds=listed>common b=for b=the b=jet b=downed b=near b=i b=skenderun dist=1 ca_say "
                                "cf_accuse sl=was sl=blamed sl=by sr=for sr=the sr=jet s_after_by s_later"),
    ]
    words = PairFeatures("near İskenderun", [])
    assert words.words(5) == ["i", "skenderun"] and words.words(6) == ["skenderun"] and words.words(5, 7) == ["i", "s"]


def test_references_resolve_from_the_named_mentions_of_the_sentences_before():
    previous, found = [], []
    for text in ARTICLE:
        found.append([(m.name, m.start, m.end, m.kind) for m in mentions(text, ACTORS, PATTERN, previous)])
        previous.append(mentions(text, ACTORS, PATTERN, previous))
    assert found == [
        [("Russia", 0, 6, "listed"), ("Turkey", 11, 17, "listed"), ("Sergei Lavrov", 53, 66, "name")],
        [("Russia", 0, 6, "listed"), ("Turkey", 12, 18, "listed"), ("Sergei Lavrov", 41, 41, "context")],
        [("Turkey", 0, 2, "reference"), ("Russia", 29, 29, "context"), ("Sergei Lavrov", 29, 29, "context")],
        # "He" is a person's: Sergei Lavrov, named three sentences before, not the context mentions in between
        [("Sergei Lavrov", 0, 2, "reference"), ("Turkish", 40, 47, "name"), ("Turkey", 57, 57, "context"),
         ("Russia", 57, 57, "context")],
        [("Turkey", 0, 12, "reference"), ("Syrian opposition", 33, 47, "listed"), ("Turkish", 53, 53, "context"),
         ("Russia", 53, 53, "context")],
    ]
    # the sentences before given by their own named mentions alone, by position, resolve the same
    named = [sorted(own_mentions(t, ACTORS, PATTERN).named, key=lambda m: m.start) for t in ARTICLE]
    for k, text in enumerate(ARTICLE):
        got = resolve(text, own_mentions(text, ACTORS, PATTERN), named[:k])
        assert [(m.name, m.start, m.end, m.kind) for m in got] == found[k]


def test_an_article_reads_only_the_sentences_a_wanted_one_looks_back_at():
    aliases = Aliases(ACTORS, PATTERN)
    every = article_candidates(ARTICLE, ["a"] * 5, aliases)
    one = article_candidates(ARTICLE, ["a"] * 5, aliases, [False, False, False, True, False])
    assert one[:3] == [[], [], []] and one[4] == [] and one[3] == every[3]
    assert [(s, t) for s, t, _ in one[3]] == [
        ("UNKNOWN", "Sergei Lavrov"), ("Turkish", "Sergei Lavrov"), ("Turkey", "Sergei Lavrov"), ("Russia", "Sergei Lavrov"),
        ("UNKNOWN", "Turkish"), ("Sergei Lavrov", "Turkish"), ("Turkey", "Turkish"), ("Russia", "Turkish"),
        ("UNKNOWN", "Turkey"), ("Sergei Lavrov", "Turkey"), ("Turkish", "Turkey"), ("Russia", "Turkey"),
        ("UNKNOWN", "Russia"), ("Sergei Lavrov", "Russia"), ("Turkish", "Russia"), ("Turkey", "Russia")]
    assert one[3][11][2] == ("tk=context nm=4 tl=into tl=turkish tl=airspace t_later sk=context t<s "
                             "kinds=context>context dist=0 cf_deny sl=into sl=turkish sl=airspace s_later")
    # a new article wherever the id changes: the last row, back in article "a", has nothing before it to resolve "He"
    texts = ARTICLE[:2] + ["Ankara denied it."] + ARTICLE[3:4]
    assert article_candidates(texts, ["a", "a", "b", "a"], aliases, [False, False, True, True]) == [[], [], [
        ("UNKNOWN", "Turkey", "tk=listed nm=2 tr=denied tr=it t_first sk=unknown kinds=unknown>listed ua_deny "
                              "u_nothing_before")], [
        ("UNKNOWN", "Turkish", "tk=name nm=1 tl=had tl=crossed tl=into tr=airspace t_first sk=unknown kinds=unknown>name "
                               "ub_deny u_nothing_before")]]


def test_a_stretch_holds_the_cues_its_own_text_holds_even_where_it_cuts_a_word():
    # The cues are found once per sentence; a stretch cut inside a word sees word boundaries the sentence has not
    # ("pur|sued" holds "sued", "false|hood" holds "false", "do|n't" holds "n't"), and those still count.
    pursued = PairFeatures("He pursued the case.", [])
    assert pursued.cues(0) == [] and pursued.cues(3, 10) == []
    assert pursued.cues(6) == ["accuse"] and pursued.cues(6, 10) == ["accuse"]
    falsehood = PairFeatures("It was a falsehood, he said.", [])
    assert falsehood.cues(0) == ["say"] and falsehood.cues(9, 18) == [] and falsehood.cues(0, 14) == ["deny"]
    assert falsehood.cues(20) == ["say"] and falsehood.cues(20, 25) == []
    dont = PairFeatures("They don't agree.", [])
    assert dont.cues(0) == [] and dont.cues(7) == ["neg"]
    no = PairFeatures("There is no deal.", [])
    assert no.cues(0) == ["neg"] and no.cues(9, 11) == ["neg"] and no.cues(8, 12) == ["neg"] and no.cues(12) == []
    know = PairFeatures("I know it.", [])
    assert know.cues(3, 5) == ["neg"] and know.cues(2, 6) == []


def test_a_match_of_the_sentence_on_a_stretch_edge_is_searched_again(monkeypatch):
    # A boundary next to a non-word character: the sentence has one before "-" in "well-known", the stretch that
    # starts at "-" has none, so its "-" is no match (no cue of today's list is written so, hence this one).
    dash = re.compile(r"\b-")
    monkeypatch.setitem(ties.CUES, "dash", dash)
    monkeypatch.setitem(ties._CUE_MATCHES, "dash", ties._match_finder(dash))
    hyphen = PairFeatures("well-known", [])
    assert hyphen.cues(0) == ["dash"] and hyphen.cues(2, 6) == ["dash"] and hyphen.cues(4) == []
