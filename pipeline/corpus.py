"""The corpus store: ingest + split, written as ``corpus/articles.jsonl`` and
``corpus/sentences.csv``, and read back by labels, train and evaluate.

JSONL keeps an article's paragraphs together and diffs line by line; the
sentence table is CSV so it opens in pandas, a spreadsheet or ``git diff``.
"""
from __future__ import annotations

import dataclasses
import json
import os
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path

from .errors import CorpusError, PipelineError
from .ingest import expand_inputs, iter_articles
from .records import SENTENCE_FIELDS, Article, normalise_text
from .split import split_article
from .store import read_table, write_jsonl, write_table

DEFAULT_RAW = Path("corpus/raw")
DEFAULT_ROOT = Path("corpus")


def articles_path(root: str | Path = DEFAULT_ROOT) -> Path:
    return Path(root) / "articles.jsonl"


def sentences_path(root: str | Path = DEFAULT_ROOT) -> Path:
    return Path(root) / "sentences.csv"


def build_corpus(
    inputs: Iterable[str | Path] = (DEFAULT_RAW,),
    root: str | Path = DEFAULT_ROOT,
    progress: Callable[[int], None] | None = None,
    replace: bool = False,
) -> dict:
    """Ingest and split the input files into the corpus, next to what is there.

    Articles already in the corpus stay (their labels must never become
    orphans because a run named fewer files); a file ingested before (same
    source path) is re-read and replaces its old version under the same id;
    a new file whose stem is taken by another article gets the next free
    ``-N`` suffix; a file with the same text as an article already in the
    corpus is not added twice (reported in ``duplicates``).  ``replace``
    starts from an empty corpus instead.  A bad file is reported in
    ``errors`` and skipped.  Both files are written atomically.
    """
    import pandas as pd

    files = expand_inputs(inputs)
    errors: list[CorpusError] = []
    fresh = list(iter_articles(_ticking(files, progress), errors))
    if not fresh:
        # Never replace a corpus with an empty one because every input failed.
        raise CorpusError(f"none of the {len(files)} file(s) could be read ({errors[0]}); the corpus was left unchanged")
    keep_corpus = not replace and articles_path(root).exists()
    old = load_articles(root) if keep_corpus else []
    merged = {a.article_id: a for a in old}
    by_source = {_source_key(a.source): a.article_id for a in old}
    by_text = {_text_key(a): a.article_id for a in old}
    counts = {"added": 0, "updated": 0, "unchanged": 0}
    duplicates: list[str] = []
    resplit: set[str] = set()
    for art in fresh:
        aid = by_source.get(_source_key(art.source))
        if aid is None:
            aid = _free_id(art.article_id, merged)
            twin = by_text.get(_text_key(art))
            if twin is not None:
                duplicates.append(f"{art.source}: same text as article {twin} ({merged[twin].source}); not added twice")
                continue
            counts["added"] += 1
        else:
            counts["unchanged" if merged[aid] == replace_id(art, aid) else "updated"] += 1
        art = replace_id(art, aid)
        merged[aid] = art
        by_source[_source_key(art.source)] = aid
        by_text[_text_key(art)] = aid
        resplit.add(aid)
    kept = load_sentences(root) if keep_corpus else pd.DataFrame(columns=list(SENTENCE_FIELDS))
    kept = kept[~kept["article_id"].isin(resplit)]
    new_rows = pd.DataFrame([s.to_dict() for aid in sorted(resplit) for s in split_article(merged[aid])],
                            columns=list(SENTENCE_FIELDS))
    order = sorted(merged)
    table = pd.concat([kept, new_rows], ignore_index=True)
    table["_a"] = table["article_id"].map({a: i for i, a in enumerate(order)})
    table = table.sort_values(["_a", "position"], kind="stable").drop(columns="_a")
    write_jsonl(articles_path(root), (merged[a].to_dict() for a in order))
    write_table(table[list(SENTENCE_FIELDS)], sentences_path(root))
    return {
        "files": len(files),
        "articles": len(fresh) - len(duplicates),
        **counts,
        "corpus_articles": len(merged),
        "sentences": int(len(table)),
        "errors": [str(e) for e in errors],
        "duplicates": duplicates,
        "articles_path": str(articles_path(root)),
        "sentences_path": str(sentences_path(root)),
    }


def _source_key(source: str) -> str:
    """The same file named two ways (``./corpus/raw/x.md``, ``corpus/raw/x.md``) is one source."""
    return os.path.normpath(os.path.abspath(source))


def _text_key(art: Article) -> str:
    return normalise_text(art.body)


def _free_id(article_id: str, taken: dict) -> str:
    if article_id not in taken:
        return article_id
    n = 2
    while f"{article_id}-{n}" in taken:
        n += 1
    return f"{article_id}-{n}"


def replace_id(art: Article, article_id: str) -> Article:
    return art if art.article_id == article_id else dataclasses.replace(art, article_id=article_id)


def _ticking(items: list, progress: Callable[[int], None] | None):
    for item in items:
        yield item
        if progress:
            progress(1)


def load_articles(root: str | Path = DEFAULT_ROOT) -> list[Article]:
    path = articles_path(root)
    if not path.exists():
        raise CorpusError("corpus not ingested yet; run 'talks ingest' first", path)
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                out.append(Article.from_dict(json.loads(line)))
            except (ValueError, KeyError) as e:
                raise CorpusError(f"bad article record ({e}); re-run 'talks ingest'", path, n) from None
    return out


def load_sentences(root: str | Path = DEFAULT_ROOT):
    """The sentence table as a DataFrame (one row per sentence, corpus order)."""
    path = sentences_path(root)
    if not path.exists():
        raise CorpusError("corpus not ingested yet; run 'talks ingest' first", path)
    df = read_table(path, dtype={"sentence_id": str, "article_id": str, "text": str})
    missing = set(SENTENCE_FIELDS) - set(df.columns)
    if missing:
        raise PipelineError(f"missing columns {sorted(missing)}; re-run 'talks ingest'", path)
    return df


def corpus_stats(root: str | Path = DEFAULT_ROOT) -> dict:
    """Article and sentence counts per outlet and per year."""
    articles = load_articles(root)
    sents = load_sentences(root)
    per_article = Counter(sents["article_id"])
    by_outlet: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_year: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for a in articles:
        for key, table in ((a.outlet or "unknown", by_outlet), ((a.date or "unknown")[:4], by_year)):
            table[key][0] += 1
            table[key][1] += per_article.get(a.article_id, 0)
    fmt = lambda t: [{"key": k, "articles": v[0], "sentences": v[1]} for k, v in sorted(t.items(), key=lambda kv: (-kv[1][1], kv[0]))]
    return {
        "articles": len(articles),
        "sentences": int(len(sents)),
        "by_outlet": fmt(by_outlet),
        "by_year": fmt(by_year),
    }
