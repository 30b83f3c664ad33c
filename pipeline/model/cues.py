"""Blame cues: a few dense, readable features that carry who accuses whom.

TF-IDF sees words one or two at a time.  Whether a sentence is *blame*
depends on how they are arranged: the guidelines (``labels/GUIDELINES.md``,
"blame" and edge rules 6 and 7) ask for an actor who holds another responsible
or rejects a charge ("The opposition accused Russia of bombing hospitals"),
not a reporter's neutral account of who did what, nor a passive "was blamed
on" with no blamer.  :class:`BlameCues` turns each sentence into
:data:`CUE_FEATURES`: flags for the guideline's kinds of wording and for
their order around the accusing word.

The word lists below are data, drawn from the guidelines' definition of blame
and its rulings (blaming, accusing, condemning, reproaching, calling acts
crimes or "terrorism", calling a process a sham, denying charges, ceasefire
violations, legal accusations by prosecutors or plaintiffs, arrests by a named
authority) and from the kinds of actors the guidelines name (governments,
the regime, the opposition, rebels, foreign powers, police, prosecutors,
campaigns, companies); they are not taken from the labelled sentences.  A
capitalised word inside the sentence that is not an English stop word counts
as an actor too, so names the list lacks ("Hijab", "Gawker") still count.

Tokens come from scikit-learn's tokenizer (the word vectoriser's regular
expression, keeping one-letter tokens so "U.S." is seen); no parser, so
"before" and "after" are token order.  Fitting learns nothing and the
transformer has no parameters, so a saved model stores nothing of it but its
class name (``artefact.py``).
"""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

# One-letter tokens kept (unlike TF-IDF's default): "U.S." -> "U", "S", both capitalised names.
TOKEN_PATTERN = r"(?u)\b\w+\b"
_tokenize = CountVectorizer(token_pattern=TOKEN_PATTERN).build_tokenizer()

# --------------------------------------------------------------------------
# Lexicons (lower case, every inflected form spelt out: a lookup, no stemming)
# --------------------------------------------------------------------------
# Guidelines, blame: "blaming, accusing, condemning, reproaching"; ordinary
# criticism counts when it holds someone responsible, so the verbs of
# criticising are here too.  "blast" is left out: in this coverage it is
# mostly an explosion.
ACCUSE_VERBS = """
accuse accuses accused accusing blame blames blamed blaming condemn condemns condemned condemning
denounce denounces denounced denouncing criticise criticises criticised criticising criticize criticizes
criticized criticizing chastise chastises chastised chastising rebuke rebukes rebuked rebuking reproach
reproaches reproached reproaching castigate castigates castigated castigating lambast lambasts lambasted
lambasting lambaste lambastes decry decries decried decrying deplore deplores deplored deploring slam slams
slammed slamming fault faults faulted faulting complain complains complained complaining
"""
# The same acts as nouns ("the accusations", "a complaint").
ACCUSE_NOUNS = """
accusation accusations allegation allegations condemnation condemnations criticism criticisms complaint
complaints denunciation denunciations recrimination recriminations reproaches smear smears slander
"""
# Guidelines, blame: "... and denying such charges" (the denial example:
# "These allegations are totally unfounded").
DENIAL = """
deny denies denied denying denial denials refute refutes refuted refuting rebut rebuts rebutted rebutting
unfounded baseless groundless fabricated fabrication fabrications untrue
"""
# Guidelines: "calling the other side's acts crimes or 'terrorism' as an
# accusation"; rule 7: "calling a vote or a process a sham is blame";
# adjudication: "a ploy", "terrorists" as a quoted charge.
CHARGE_WORDS = """
terrorist terrorists terrorism crime crimes criminal criminals atrocity atrocities genocide sham farce ploy
propaganda lie lies lying liar liars hypocrisy hypocritical aggression aggressor provocation provocations
illegal illegitimate irresponsible barbaric despicable disgraceful shameful outrageous
"""
# Adjudication rulings: mutual accusations of truce breaches are blame.
VIOLATION = """
violation violations violate violates violated violating breach breaches breached breaching flout flouts
flouted flouting
"""
# Guidelines: "one actor holds another responsible, or rejects responsibility".
RESPONSIBILITY = """
responsible responsibility culpable culpability guilty accountable accountability
"""
# Rulings for news beyond Syria: legal accusations by a named accuser
# (prosecutors, police, a plaintiff's lawsuit, an indictment that
# "alleges"), a defendant's denial or not-guilty plea, arrests by a named
# authority.
LEGAL = """
prosecutor prosecutors prosecution prosecute prosecutes prosecuted indict indicts indicted indictment
indictments charge charges charged charging lawsuit lawsuits sue sues sued suing plaintiff plaintiffs
allege alleges alleged allegedly alleging plea pleaded arrest arrests arrested arresting
"""
# Attribution: the guidelines label reported speech and quotes like the
# speaker's own claim (edge rule 2), and "no blamer, no blame" (rule 7)
# makes a named speaker part of the structure.
SPEECH = """
said say says saying told tell tells telling according statement statements stated quoted quoting added
declared claimed claim claims insisted insists warned warns wrote tweeted announced argued argues asserted
testified spokesman spokeswoman spokesperson spokesmen interview
"""
NEGATION = """
not no never nor neither without nothing none nobody didn doesn don isn wasn weren aren hasn haven hadn
wouldn couldn shouldn cannot
"""
# "calls X terrorists", "branded the vote a sham".
NAMING_VERBS = """
call calls called calling brand brands branded branding label labels labelled labeled labelling labeling
dub dubs dubbed term termed describe describes described describing
"""
# Passive auxiliaries: "was blamed on", "has been accused of" (rule 7: a
# passive charge with no accuser is not blame).
PASSIVE_AUX = "is are was were be been being get gets got"
# "accused X of ...", "blamed X for ...", "condemned X over ...".
OF_FOR = "of for over"
BY = "by"
# Actors the guidelines name or imply, in the Syria coverage (governments,
# the regime, the opposition and rebels, jihadist groups, foreign powers and
# their capitals and leaders) and in general news (police, prosecutors,
# courts, parties and campaigns, companies).  Capitalised names beyond this
# list are caught by the capitalisation rule in _flags.
ACTORS = """
government governments regime regimes administration authorities authority official officials ministry
ministries minister ministers president presidents spokesman spokeswoman spokesperson spokesmen army armies
military forces troops soldiers police policemen officers prosecutor prosecutors attorney attorneys court courts
judge judges lawyer lawyers opposition rebels rebel insurgents insurgent militants militant militia militias
jihadists jihadist fighters group groups party parties campaign company companies firm state states country
countries nation nations allies ally coalition delegation delegations envoy envoys diplomat diplomats leader
leaders lawmakers legislators senator senators congressman congresswoman democrats republicans activists
activist monitor monitors observatory agency agencies kremlin pentagon moscow washington damascus ankara
tehran riyadh beijing russia russian russians turkey turkish syria syrian syrians iran iranian iranians
america american americans saudi saudis israel israeli israelis kurds kurdish pkk ypg hnc isis isil daesh
hezbollah assad nusra qaeda taliban nato un eu west western china chinese europe european ukraine ukrainian
obama putin erdogan kerry lavrov trump clinton
"""
# Capitalised but not names: besides stop words, calendar words and titles.
NOT_NAMES = frozenset(ENGLISH_STOP_WORDS) | frozenset("""
monday tuesday wednesday thursday friday saturday sunday january february march april may june july august
september october november december mr mrs ms dr st
""".split())

# Bit flags: a word may be in several lists ("prosecutors" is legal and an actor).
(ACCUSE_VERB, ACCUSE_NOUN, DENY, CHARGE, VIOLATE, RESPONSIBLE, LEGAL_WORD, SPEAK, NEGATE, NAMING, AUX, OF, BY_WORD,
 ACTOR) = (1 << i for i in range(14))
_LISTS = ((ACCUSE_VERBS, ACCUSE_VERB), (ACCUSE_NOUNS, ACCUSE_NOUN), (DENIAL, DENY), (CHARGE_WORDS, CHARGE),
          (VIOLATION, VIOLATE), (RESPONSIBILITY, RESPONSIBLE), (LEGAL, LEGAL_WORD), (SPEECH, SPEAK),
          (NEGATION, NEGATE), (NAMING_VERBS, NAMING), (PASSIVE_AUX, AUX), (OF_FOR, OF), (BY, BY_WORD), (ACTORS, ACTOR))


def _lexicon() -> dict[str, int]:
    lex: dict[str, int] = {}
    for words, flag in _LISTS:
        for w in words.split():
            lex[w] = lex.get(w, 0) | flag
    return lex


LEXICON = _lexicon()
# The words that make a statement a charge; their order relative to actors is what the relation features read.
BLAME_WORD = ACCUSE_VERB | ACCUSE_NOUN | DENY | RESPONSIBLE | VIOLATE | LEGAL_WORD
QUOTE_MARKS = "\"“”«»"
WINDOW = 4  # tokens: how far "accused X of", "did not blame", "called X terrorists" may stretch

CUE_FEATURES: tuple[tuple[str, str], ...] = (
    ("accuse_verb", "a verb of accusing, blaming, condemning or criticising (accused, blames, condemned)"),
    ("accuse_noun", "the same as a noun (accusation, allegations, criticism)"),
    ("denial", "denying a charge (denied, refuted, unfounded, baseless)"),
    ("charge_word", "a word that brands an act or a side (terrorists, war crimes, sham, ploy, lies)"),
    ("violation", "a violation or breach (of a truce, a law)"),
    ("responsibility", "responsible, responsibility, guilty, accountable"),
    ("legal", "a legal accusation (prosecutors, charged, indictment, lawsuit, alleged, arrested)"),
    ("speech", "attribution: said, told, according to, a statement, a spokesman"),
    ("quote", "quotation marks in the sentence"),
    ("negation", "not, no, never, didn't ..."),
    ("actors", "actor mentions (listed actors and capitalised names), 0 to 1 for 0 to 4 or more"),
    ("blame_words", "words of any blame kind above, 0 to 1 for 0 to 3 or more"),
    ("actor_before_blame", "an actor before a blame word: someone makes the charge"),
    ("actor_after_blame", "an actor after a blame word: someone is charged"),
    ("actor_blame_actor", "an actor, then a blame word, then another actor: who accuses whom"),
    ("accuse_of", f"an accusing verb followed within {WINDOW} tokens by of/for/over (accused Russia of bombing)"),
    ("passive_blame", "a passive charge (was accused, were blamed, has been charged)"),
    ("passive_by", "a passive charge whose accuser is named with 'by'"),
    ("negated_blame", f"a negation up to {WINDOW} tokens before a blame word (did not blame, not responsible)"),
    ("naming_charge", f"a naming verb followed within {WINDOW} tokens by a charge word (called them terrorists)"),
    ("speech_blame", "attribution and a blame word in one sentence"),
    ("speech_blame_actor", "attribution, a blame word and an actor in one sentence"),
)
CUE_NAMES: tuple[str, ...] = tuple(name for name, _ in CUE_FEATURES)


def _flags(tokens: list[str]) -> list[int]:
    out = []
    for i, tok in enumerate(tokens):
        low = tok.lower()
        f = LEXICON.get(low, 0)
        # A capitalised word inside the sentence is most often a name: a person, party, country or company.
        if not f and i and tok[0].isupper() and low not in NOT_NAMES:
            f = ACTOR
        out.append(f)
    return out


def sentence_cues(text: str) -> list[float]:
    """The :data:`CUE_FEATURES` of one sentence, in order: their definition, one sentence at a time
    (:func:`batch_cues` computes the same for a whole batch)."""
    flags = _flags(_tokenize(text))
    present = 0
    actors: list[int] = []
    blame: list[int] = []
    accuse_of = passive = passive_by = negated = naming = False
    for i, f in enumerate(flags):
        present |= f
        if f & ACTOR:
            actors.append(i)
        if f & BLAME_WORD:
            blame.append(i)
            near = flags[i + 1 : i + 1 + WINDOW]
            before = flags[max(0, i - WINDOW) : i]
            if f & ACCUSE_VERB and any(g & OF for g in near):
                accuse_of = True
            if f & (ACCUSE_VERB | LEGAL_WORD) and any(g & AUX for g in before[-2:]):
                passive = True
                if any(g & BY_WORD for g in flags[i + 1 : i + 1 + 2 * WINDOW]):
                    passive_by = True
            if any(g & NEGATE for g in before):
                negated = True
        if f & NAMING and any(g & CHARGE for g in flags[i + 1 : i + 1 + WINDOW]):
            naming = True
    quote = any(q in text for q in QUOTE_MARKS)
    speech = bool(present & SPEAK)
    before = bool(actors and blame and actors[0] < blame[-1])
    after = bool(actors and blame and actors[-1] > blame[0])
    between = bool(actors and any(actors[0] < b < actors[-1] for b in blame))
    any_blame = bool(blame)
    return [
        float(bool(present & ACCUSE_VERB)), float(bool(present & ACCUSE_NOUN)), float(bool(present & DENY)),
        float(bool(present & CHARGE)), float(bool(present & VIOLATE)), float(bool(present & RESPONSIBLE)),
        float(bool(present & LEGAL_WORD)), float(speech), float(quote), float(bool(present & NEGATE)),
        min(len(actors), 4) / 4, min(len(blame), 3) / 3,
        float(before), float(after), float(between), float(accuse_of), float(passive), float(passive_by),
        float(negated), float(naming), float(speech and any_blame), float(speech and any_blame and bool(actors)),
    ]


def batch_cues(texts: list[str]) -> np.ndarray:
    """The :data:`CUE_FEATURES` of many sentences at once, an ``(n, len(CUE_NAMES))`` float32 array.

    The same values as :func:`sentence_cues` row by row (``tests/test_speed.py``
    compares them on the corpus), computed with array operations over all
    the batch's tokens: a word's flags are looked up once per distinct
    word, and the windows ("accused X of", "did not blame") are shifted
    copies of the flag array, cut at sentence boundaries.
    """
    import pandas as pd

    n = len(texts)
    token_lists = [_tokenize(t) for t in texts]
    lengths = np.fromiter((len(t) for t in token_lists), dtype=np.int64, count=n)
    tokens = [tok for toks in token_lists for tok in toks]
    out = np.zeros((n, len(CUE_NAMES)), dtype=np.float32)
    out[:, 8] = [any(q in t for q in QUOTE_MARKS) for t in texts]
    if not tokens:
        return out
    sent = np.repeat(np.arange(n), lengths)  # the sentence of each token
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    pos = np.arange(len(tokens)) - starts[sent]  # each token's place in its sentence
    inverse, uniq = pd.factorize(np.array(tokens, dtype=object))  # each distinct word's number (a hash table: sorting strings is slower)
    lex = np.array([LEXICON.get(u.lower(), 0) for u in uniq], dtype=np.int64)
    name = np.array([u[0].isupper() and u.lower() not in NOT_NAMES for u in uniq], dtype=bool)
    flags = lex[inverse]
    # A capitalised word inside the sentence is most often a name (as in _flags).
    flags = np.where((flags == 0) & name[inverse] & (pos > 0), ACTOR, flags)

    def per_sentence(op, values, empty):
        res = np.full(n, empty, dtype=values.dtype)
        has = lengths > 0
        res[has] = op.reduceat(values, starts[has])
        return res

    def within(mask_flag: int, lo: int, hi: int) -> np.ndarray:
        """For each token: does a token of the same sentence lo..hi places away (hi included) carry ``mask_flag``?"""
        hit = np.zeros(len(flags), dtype=bool)
        carries = (flags & mask_flag) != 0
        for d in range(lo, hi + 1):
            if d == 0 or abs(d) >= len(flags):
                continue
            other = np.zeros(len(flags), dtype=bool)
            if d > 0:
                other[:-d] = carries[d:] & (sent[d:] == sent[:-d])
            else:
                other[-d:] = carries[:d] & (sent[:d] == sent[-d:])
            hit |= other
        return hit

    present = per_sentence(np.bitwise_or, flags, 0)
    is_actor, is_blame = (flags & ACTOR) != 0, (flags & BLAME_WORD) != 0
    big = np.iinfo(np.int64).max
    first_actor = per_sentence(np.minimum, np.where(is_actor, pos, big), big)
    last_actor = per_sentence(np.maximum, np.where(is_actor, pos, -1), -1)
    first_blame = per_sentence(np.minimum, np.where(is_blame, pos, big), big)
    last_blame = per_sentence(np.maximum, np.where(is_blame, pos, -1), -1)
    n_actors = per_sentence(np.add, is_actor.astype(np.int64), 0)
    n_blame = per_sentence(np.add, is_blame.astype(np.int64), 0)
    between_tok = is_blame & (pos > first_actor[sent]) & (pos < last_actor[sent])
    accuse_of_tok = ((flags & ACCUSE_VERB) != 0) & within(OF, 1, WINDOW)
    passive_tok = ((flags & (ACCUSE_VERB | LEGAL_WORD)) != 0) & within(AUX, -2, -1)
    passive_by_tok = passive_tok & within(BY_WORD, 1, 2 * WINDOW)
    negated_tok = is_blame & within(NEGATE, -WINDOW, -1)
    naming_tok = ((flags & NAMING) != 0) & within(CHARGE, 1, WINDOW)
    any_tok = {name: per_sentence(np.logical_or, tok, False)
               for name, tok in (("between", between_tok), ("accuse_of", accuse_of_tok), ("passive", passive_tok),
                                 ("passive_by", passive_by_tok), ("negated", negated_tok), ("naming", naming_tok))}
    has_actor, has_blame = n_actors > 0, n_blame > 0
    speech = (present & SPEAK) != 0
    for j, flag in enumerate((ACCUSE_VERB, ACCUSE_NOUN, DENY, CHARGE, VIOLATE, RESPONSIBLE, LEGAL_WORD)):
        out[:, j] = (present & flag) != 0
    out[:, 7] = speech
    out[:, 9] = (present & NEGATE) != 0
    out[:, 10] = np.minimum(n_actors, 4) / 4
    out[:, 11] = np.minimum(n_blame, 3) / 3
    out[:, 12] = has_actor & has_blame & (first_actor < last_blame)
    out[:, 13] = has_actor & has_blame & (last_actor > first_blame)
    out[:, 14] = has_actor & any_tok["between"]
    for j, key in zip(range(15, 20), ("accuse_of", "passive", "passive_by", "negated", "naming")):
        out[:, j] = any_tok[key]
    out[:, 20] = speech & has_blame
    out[:, 21] = speech & has_blame & has_actor
    return out


class BlameCues(TransformerMixin, BaseEstimator):
    """Sentences -> (n, len(CUE_FEATURES)) float32 cue features; fitting learns nothing."""

    def fit(self, X, y=None):
        return self

    def transform(self, X) -> np.ndarray:
        if isinstance(X, str):
            raise TypeError("BlameCues.transform expects a list of sentences, not one string")
        return batch_cues([str(t) for t in X])

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return np.array(CUE_NAMES, dtype=object)
