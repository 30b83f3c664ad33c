"""Stage 1d: the paragraph rules that drop what is not article text.

Template and ad markers, photo captions and credits, bylines and reporting
credits, share/newsletter prompts, "Related" blocks, comment-policy lines,
all-caps section headings and "Source" links.  The rules describe *kinds* of
boilerplate, not this corpus's strings, so they hold on unseen coverage.
Every format's paragraphs pass the same rules (:func:`clean_paragraphs`).
"""
from __future__ import annotations

import html
import re
from collections.abc import Iterable

from pipeline.corpus.metadata import find_dateline
from pipeline.corpus.split import MAX_PIECE_CHARS, cut_spans


_TEMPLATE = re.compile(r"\{\{.{0,200}?\}\}|\[ad_\d+\]|\[/?[a-z_]+\]|\{%.{0,200}?%\}")
_SPACES = re.compile(r"[ \t\u00a0\u2009\u202f]+")

_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
_WEEKDAY = r"(?:Mon|Tue|Tues|Wed|Thu|Thur|Thurs|Fri|Sat|Sun)[a-z]*\.?"
_DATE_TOKEN = re.compile(rf"^(?:{_MONTH}|{_WEEKDAY}|\d[\d:.,/-]*(?:[ap]\.?m\.?)?|[ap]\.?m\.?|GMT|UTC|ET|EST|[-–—|,•]+)$", re.I)
# The labels of a time stamp, anywhere in it: "February 5, 2016 Updated: February 6, 2016 7:53am".
_STAMP_WORD = re.compile(r"^(?:updated|modified|published|posted|created)$", re.I)
_STAMP_LINK = re.compile(r"^(?:last|on|at)$", re.I)  # "Last modified", "Updated on ...": only beside a label ("Last May." is text)

_PROMPT = re.compile(
    r"^(sign up|subscribe|join |follow us|follow @|like us|click here|get (email|the latest|our)|"
    r"share (this|on)|download (our|the) app|read more|see also|more coverage|watch:|listen:|"
    r"find .{0,40} on your tv|recommended|advertisement|sponsored)",
    re.I,
)
_PROMPT_ANY = re.compile(
    r"(telegram channel|whatsapp channel|delivered to your inbox|"
    r"all rights reserved|copyright ©|©\s*\d{4}|cookie|javascript)",
    re.I,
)
# Share and newsletter prompts ("Follow us on Twitter", "Get our newsletter"):
# only in a short line, as a long paragraph can discuss Twitter or a newsletter.
_SOCIAL_PROMPT = re.compile(r"(newsletter|on facebook|on twitter)", re.I)
MAX_PROMPT_WORDS = 25
_COMMENT_POLICY = re.compile(r"comment(s|ing)? (guidelines|policy|are closed|section)|^comments\b|^leave a (comment|reply)", re.I)
_CREDIT_LINE = re.compile(
    r"^\(?\s*((additional )?reporting|writing|editing|compiled|produced|translated|edited) by\b|"
    r"^\(\s*(writing and )?(additional )?(reporting|writing|editing)\b|"
    r"contributed (to )?(this )?report|"
    r"^(photo|image|picture|video|file photo)( credit)?\s*[:|]",
    re.I,
)
# "Thaer Al Khalidiya/Reuters", "Safin Hamed/AFP/Getty Images": a name over an agency.
_PHOTO_CREDIT = re.compile(r"^[A-Z][\w.'-]*( [A-Z][\w.'-]*){0,4}\s*/\s*[A-Z][\w.&' -]*(/[A-Z][\w.&' -]*)*$")
# A caption that ends in its credit: "... in Geneva, Switzerland - Reuters"
_CAPTION_CREDIT_TAIL = re.compile(r"\s[-–—|]\s*(Reuters|AFP|AP|Getty Images|EPA|AP Photo|Photo|File)\s*$|\((Reuters|AFP|AP|EPA|Getty Images)( Photo)?\)\s*$", re.I)
# A caption that ends with the photo's date: "... in Homs, Feb. 9, 2014."
_CAPTION_DATE_TAIL = re.compile(rf",\s+{_MONTH}\s+\d{{1,2}},\s+\d{{4}}\.?$")
# A byline: "By John Smith", "By Jane Doe and Ann Roe, Associated Press".  Case
# matters (capitalised names), and it is a short line with no sentence end, so
# "By contrast, ..." and "By Monday, the rebels had retreated." stay.
_BYLINE = re.compile(r"^[Bb][Yy] [A-Z][\w.'-]+( [A-Z][\w.'-]+){0,3}(,| and| in|$)")
MAX_BYLINE_WORDS = 12
# An embedded post's credit line: "— Jane Doe (@janedoe) March 26, 2016".
_POST_CREDIT = re.compile(rf"^[-–—]\s*[^()]{{1,80}}\(@\w{{1,30}}\)\s*{_MONTH}\s+\d{{1,2}},\s+\d{{4}}$")
# A time stamp with its label: "Last Updated Feb 10, 2016 11:03 AM EST", "Published: 9:00 p.m.",
# "Posted in National, News on Saturday, March 5, 2016 3:31 pm." (its section links may be gone: "Posted in , on ...").
_STAMP_LABEL = re.compile(r"^(posted in\b[^.]{0,80}?\s(on|at)|(last )?(updated|modified|published|posted)( on| at)?:?)\s+", re.I)
# A headline teaser closing with its stamp: "Search for 12 Marines enters 3rd day 01/17/16 [Last modified: Sunday, January 17, 2016 3:32pm]".
_STAMP_TAIL = re.compile(r"\s\[((?:last )?(?:updated|modified|published|posted)\b[^\[\]]{0,80})\]$", re.I)
MAX_TEASER_WORDS = 30
# Page navigation: "Go Back to Top.", "Skip To: Start of Article.", "Skip to main content".
_NAVIGATION = re.compile(r"^((go )?back to top|skip to\b|jump to (top|navigation|content))", re.I)
# Paywall and account messages: "... needed to view this article in its entirety",
# "Already a subscriber? Log in", "Choose an online service", "no digital access".
_PAYWALL = re.compile(
    r"to (view|read|access|continue reading) (this|the) (full )?(article|story|content)|already a subscriber|"
    r"subscribers? only|^(log|sign) in to (continue|read|view)|^choose (an? |your )?(online |digital )?"
    r"(service|subscription|plan)\b|\bno digital access\b",
    re.I,
)
# A metered paywall's notice, longer than other paywall messages: "Thank you for reading 15 free
# articles on our site. You can come back at the end of your 30-day period for another 15 ..."
_PAYWALL_METER = re.compile(r"^thank you for reading\b.{0,200}\b(free articles|purchase a subscription)\b", re.I)
# A teaser for another story, set in brackets as its own paragraph:
# "[Brace yourself for a long battle about the court]".
_BRACKET_TEASER = re.compile(r"^\[[^\[\]]{10,200}\]$")
# Promos that address the reader: a question to "you" answered with an offer
# ("Want to explore ...? Check out our eBook", "Need a break? Try playing our
# games."), "You can subscribe to ...", "If you missed ..., we've got you
# covered", "Full coverage of X is here", and a short "Watch ..." video teaser.
_READER_PROMO = re.compile(
    r"^(want|need|looking for|craving|wondering)\b[^?]{0,120}\?\s+(check out|try|click|sign up|subscribe|get|"
    r"download|visit|follow|listen|watch|read|see)\b|"
    r"^you can (subscribe|sign up|follow|download|listen|watch|find|get)\b|"
    r"^if you missed\b.{0,80}\bwe('ve| have) got you covered|"
    r"^(full|more|complete|all|our) .{0,80}\bcoverage\b.{0,80}\b(is|are) here\b",
    re.I,
)
_WATCH_TEASER = re.compile(r"(^|[.!?]\s+)(watch|see|listen)\b(?! out\b)", re.I)
MAX_PROMO_WORDS = 40
# Syndication notes: "This article originally appeared on MSNBC.com.",
# "A version of this story first appeared in ...", "Original story reprinted with permission from Quanta Magazine".
_SYNDICATION = re.compile(r"^(this|a version of this) (article|story|post|piece|column)\b.{0,40}\b(originally|first) "
                          r"(appeared|published|ran)\b|^this (article|story|post) was (originally|first) published\b|"
                          r"^(original (story|article) )?reprinted with permission\b", re.I)
# A caption that names its photo: "Kim inspects ... in this undated picture
# released by KCNA", "This undated photo, released Tuesday, shows ...".
_CAPTION_PHRASE = re.compile(
    r"\bin (this|an?) (undated |handout |file |undated handout )?(photo|picture|image|photograph)(?![-\w])|"
    r"^(this|an?) (undated |handout |file )?(photo|picture|image|photograph)(?![-\w])[^.]{0,100}\bshows\b",
    re.I,
)
MAX_CAPTION_WORDS = 60
# A closing author bio: "Jane Doe is The Washington Post's White House bureau
# chief, covering ...", "John Roe is a reporter at Wired.", "Jane Doe covers
# the White House.", "John Roe writes about politics for The Fix."  Only
# among an article's last paragraphs, where bios sit; a sentence about a
# journalist in the story's body stays.
_AUTHOR_BIO = re.compile(
    r"^[A-Z][\w.'-]+( [A-Z][\w.'-]+){1,3} ((is|was) (a|an|the|[A-Z][\w.&' ]{0,40}'s)\b.{0,80}?\b"
    r"(reporter|correspondent|writer|editor|columnist|bureau chief|contributor|producer|journalist)\b|"
    r"(covers|writes about|reports on) )"
)
BIO_TAIL = 3
# Ciphered or scrambled text (a paywall's obfuscated body): most "words" mix
# letters with digits or symbols ("kAm|2?<2E@ A@=:46 D2J E96").
CIPHER_WORD = re.compile(r"^(?=.*[A-Za-z])(?=.*[\d|<>=@$%^&*;:?!\[\]{}~]).+$")
CIPHER_CHAR = re.compile(r"[\d|<>=@$%^&*;:?!\[\]{}~]")
# Where the reporters were: "Faiola reported from Berlin.", "Helderman and
# Fahrenthold reported from Washington." (names only, then one place), alone
# or followed by a line of other contributors ("... also contributed.").
_NAME = r"[A-Z][\w.'’-]+(?: [A-Z][\w.'’-]+){0,2}"
_REPORTED_FROM = re.compile(rf"^{_NAME}(?:(?:,| and|, and) {_NAME}){{0,5}} reported from [A-Z][\w'’-]+(?:,? [A-Z][\w'’-]+){{0,3}}\.(?:\s|$)")
_ALSO_CONTRIBUTED = re.compile(r"\b(also )?contributed( reporting)?( to this (report|story|article))?\.?$")
# A wire story's credits in parentheses, alone or closing the last paragraph:
# "(Additional reporting by ...; Writing by ...; Editing by ...)", also when
# the first word is misspelt ("Additonal", "Roporting"): a credit names who
# reported, wrote or edited.
_CREDIT_PARENS = re.compile(r"\s*\((?=[^()]{0,300}\b(?:reporting|editing|writing|reported) (?:by|from)\b)[^()]{1,600}\)\.?$", re.I)
# A blog feed's footer: "The post <headline> appeared first on WIRED."
_FEED_FOOTER = re.compile(r"^The post .{1,300} appeared first on .{1,60}\.?$")
# A trailing link, picture link or hashtag of a quoted post: not part of its sentence.
_TRAILING_LINKS = re.compile(r"(\s+(https?://\S+|pic\.twitter\.com/\S+|#\w+))+$")
_RELATED = re.compile(r"^(related( news| stories| articles| coverage| content| links)?|more (news|stories) on|read next|you may also like|top stories|most (read|popular))\s*:?$", re.I)
_SOURCE_LINK = re.compile(r"^(source|via|original article|read the original)\s*[:.]?\s*(\S+)?$", re.I)
_LIVEBLOG_TEMPLATE = re.compile(r"\(all times (local|[A-Z]{2,4})\):?\s*$", re.I)
_RULE = re.compile(r"^[\W_]+$")
# A dateline opens one of the story's first paragraphs: a dek or a caption the rules kept can come first.
# Only paragraphs that end like a sentence count: a page's header can keep a sub-heading, a caption ending
# in its credit "(Brian Marrone via AP)" or a truncated one ("... in New...") before the story.
DATELINE_PARAGRAPHS = 3
MAX_DATELINE_PARAGRAPHS = 10  # and never further down than this
_STORY_END = re.compile(r"(?<!\.\.)[.!?][\"”’']?$")


def clean_inline(text: str) -> str:
    """Strip template markers and normalise spacing inside one paragraph."""
    text = _TEMPLATE.sub(" ", html.unescape(text))
    return _SPACES.sub(" ", text).strip()


def is_stamp(text: str) -> bool:
    """True when ``text`` is only dates, times and a stamp's labels ("Posted in News on March 5, 2016 3:31 pm.",
    "February 5, 2016 Updated: February 6, 2016 7:53am"); a label alone is no stamp."""
    stripped = text.strip()
    rest = _STAMP_LABEL.sub("", stripped)
    dates = labels = 0
    links = False
    # Word by word, leaving at the first word that is neither a date, a label nor a link: most paragraphs
    # are prose, and checking all their words was the largest cost of cleaning.
    for w in rest.split():
        w = w.strip(",;()[]").rstrip(":")
        if not w:
            continue
        if _DATE_TOKEN.match(w):
            dates += 1
        elif _STAMP_WORD.match(w):
            labels += 1
        elif _STAMP_LINK.match(w):
            links = True
        else:
            return False
    # "on", "at", "last" count only beside a label: "Last May." is text
    return dates > 0 and (not links or labels > 0 or len(rest) < len(stripped))


def is_boilerplate(para: str) -> bool:
    """True when a paragraph is not article text (see the module docstring)."""
    p = para.strip()
    if not p or _RULE.match(p):
        return True
    words = p.split()
    if is_stamp(p):
        return True  # a date or time stamp: "Thursday, 4 February 2016 00:00", "Last Updated Feb 10, 2016 11:03 AM EST"
    if len(words) <= MAX_TEASER_WORDS and (m := _STAMP_TAIL.search(p)) and is_stamp(m.group(1)):
        return True  # a headline teaser with its stamp
    if _PROMPT.match(p) or _PROMPT_ANY.search(p) or _COMMENT_POLICY.search(p):
        return True
    if len(words) <= MAX_PROMPT_WORDS and (_SOCIAL_PROMPT.search(p) or _NAVIGATION.match(p) or _PAYWALL.search(p)):
        return True  # share/newsletter prompts, page navigation, paywall messages
    if len(words) <= 80 and _PAYWALL_METER.match(p):
        return True
    if len(words) <= 80 and _CREDIT_LINE.search(p):
        return True
    if len(words) <= 80 and (_FEED_FOOTER.match(p) or (p.startswith("(") and _CREDIT_PARENS.match(p))):
        return True
    if len(words) <= 60 and (m := _REPORTED_FROM.match(p)) and (m.end() == len(p) or _ALSO_CONTRIBUTED.search(p)):
        return True  # "X reported from Y." and the contributors after it
    if len(words) <= MAX_BYLINE_WORDS and _BYLINE.match(p) and not re.search(r"[.!?][\"”’']?$", p):
        return True
    if _POST_CREDIT.match(p) or _BRACKET_TEASER.match(p) or _SYNDICATION.match(p):
        return True
    if len(words) <= MAX_PROMO_WORDS and _READER_PROMO.search(p):
        return True
    if len(words) <= 12 and not re.search(r"[\"“@]|https?://", p) and _WATCH_TEASER.search(p):
        return True  # a video teaser: "Watch the highlights from last night!" (a quote or a post with links stays)
    if len(words) <= MAX_CAPTION_WORDS and _CAPTION_PHRASE.search(p):
        return True
    # Each ciphered word holds a digit or symbol, so too few of those in the
    # whole paragraph settles it without looking at every word.
    if (len(words) >= 5 and len(CIPHER_CHAR.findall(p)) >= 0.4 * len(words)
            and sum(bool(CIPHER_WORD.match(w.strip(".,;:!?\"'()"))) and not re.match(r"[@#]|https?:|pic\.", w) for w in words) >= 0.4 * len(words)):
        return True  # ciphered text
    if len(words) <= 8 and _PHOTO_CREDIT.match(p):
        return True
    if _CAPTION_CREDIT_TAIL.search(p) and not re.search(r"[.!?\"”]\s*[-–—|(]", p):
        return True
    if len(words) <= 40 and _CAPTION_DATE_TAIL.search(p):
        return True
    if _SOURCE_LINK.match(p) or _RELATED.match(p) or _LIVEBLOG_TEMPLATE.search(p):
        return True
    letters = [c for c in p if c.isalpha()] if len(words) <= 12 else None
    if letters and sum(c.isupper() for c in letters) / len(letters) > 0.8:
        return True  # all-caps section heading
    if len(words) <= 6 and not re.search(r"[.!?…][\"”’']?$", _TRAILING_LINKS.sub("", p)):
        return True  # a short line with no sentence end (a trailing link or hashtag aside): a sub-heading
    return False


def clean_paragraphs(paragraphs: Iterable[str]) -> list[str]:
    """Drop boilerplate paragraphs; everything after a 'Related' heading goes too.

    A paragraph over :data:`~pipeline.corpus.split.MAX_PIECE_CHARS` (a whole article
    on one line) is cut into pieces first (:func:`~pipeline.corpus.split.cut_spans`),
    each judged and kept as a paragraph of its own.
    """
    out: list[str] = []
    pieces = (para[s:e] for para in paragraphs for s, e in cut_spans(para, MAX_PIECE_CHARS))
    for piece in pieces:
        p = _CREDIT_PARENS.sub("", clean_inline(piece))  # credits closing a paragraph: "... 1928. (Reporting by ...)"
        if _RELATED.match(p):
            break  # the rest of the page is link lists and prompts
        if not is_boilerplate(p):
            out.append(p)
    # A gallery or page template: a short line without a sentence end that
    # repeats 3+ times in one article (a gallery title before every caption).
    counts: dict[str, int] = {}
    for p in out:
        if len(p.split()) <= 12 and not re.search(r"[.!?…][\"”’']?$", p):
            counts[p] = counts.get(p, 0) + 1
    out = [p for p in out if counts.get(p, 0) < 3]
    # A closing author bio among the last paragraphs.
    tail = max(0, len(out) - BIO_TAIL)
    return out[:tail] + [p for p in out[tail:] if not (len(p.split()) <= 80 and _AUTHOR_BIO.match(p))]


def strip_dateline(paragraphs: list[str], title: str = "") -> list[str]:
    """``paragraphs`` with the dateline that opens the story dropped ("WASHINGTON The ..." -> "The ...").

    Only the first paragraph that opens with one
    (:func:`~pipeline.corpus.metadata.find_dateline`) among the first
    :data:`DATELINE_PARAGRAPHS` that end like a sentence (and the lines without
    a sentence end before and between them, up to
    :data:`MAX_DATELINE_PARAGRAPHS` in all): a dek, a sub-heading or a
    surviving caption can come before it, and an upper-case word further down
    is a kicker or the text's own acronym.  The rest of the article, headline
    included, tells the text's acronyms from places ("LONDON ARM Holdings ...").
    A photo caption's label ("FILE - In this file photo ...") is no dateline.
    """
    sentences = 0
    for i, p in enumerate(paragraphs[:MAX_DATELINE_PARAGRAPHS]):
        d = find_dateline(p, "\n".join([title, *paragraphs[:i], *paragraphs[i + 1:]]))
        if d is not None and not _CAPTION_PHRASE.match(p[d.end:]):
            return [*paragraphs[:i], p[d.end:], *paragraphs[i + 1:]]
        sentences += bool(_STORY_END.search(p))
        if sentences == DATELINE_PARAGRAPHS:
            break
    return paragraphs
