"""Stage 1: raw article files -> :class:`Article` records, one file at a time and in batches.

The orchestration of the corpus modules, whose data flows one way:
``discover`` (inputs -> files) -> ``readers`` (a file -> an Article, taking
its metadata from ``metadata`` and dropping ``boilerplate`` paragraphs).

One bad file never sinks a batch: everything that goes wrong with one file
is a :class:`CorpusError` naming it (:func:`read_article` raises nothing
else), and :func:`iter_articles` can collect those and go on.

Output of the corpus: ``corpus/articles.jsonl`` (one article per line) and
``corpus/sentences.csv`` (written by :func:`pipeline.corpus.store.build_corpus`, after ``split``).
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from pipeline.corpus.readers import from_front_matter, from_html_page, from_plain_text, looks_like_html, read_text, text_body
from pipeline.errors import CorpusError, blame_file
from pipeline.records import Article

# Temporary: pipeline/cli/ and pipeline/tagging/tag.py still import it from here (it is in discover now).


def read_article(path: str | Path) -> Article:
    """Parse one article file of any supported format.

    Raises only CorpusError (and MemoryError): whatever else goes wrong with
    the file is reported as that file's problem.
    """
    path = Path(path)
    with blame_file(path):
        text = read_text(path)
        if text.startswith("---\n"):
            return from_front_matter(path, text)
        if looks_like_html(path, text):
            return from_html_page(path, text)
        return from_plain_text(path, text_body(path, text))


def iter_articles(paths: Iterable[Path], errors: list[CorpusError] | None = None) -> Iterator[Article]:
    """Articles from files, in order.  With ``errors`` given, a bad file is
    recorded there and skipped so the rest of the batch goes through."""
    seen: dict[str, int] = {}
    for path in paths:
        try:
            art = read_article(path)
        except CorpusError as e:
            if errors is None:
                raise
            errors.append(e)
            continue
        # Two files with one stem (corpus/a/x.md, corpus/b/x.md) must not share an id.
        n = seen[art.article_id] = seen.get(art.article_id, 0) + 1
        if n > 1:
            art = Article(**{**art.__dict__, "article_id": f"{art.article_id}-{n}"})
        yield art
