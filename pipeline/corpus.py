"""The corpus store: ingest + split, written as ``corpus/articles.jsonl`` and
``corpus/sentences.csv``, and read back by labels, train and evaluate.

JSONL keeps an article's paragraphs together and diffs line by line; the
sentence table is CSV so it opens in pandas, a spreadsheet or ``git diff``.
"""
from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path

from .errors import CorpusError, PipelineError
from .ingest import expand_inputs, iter_articles
from .records import SENTENCE_FIELDS, Article, Sentence
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
) -> dict:
    """Ingest and split every input file; write the corpus files atomically.

    A bad file is reported in ``errors`` and skipped; the rest still go
    through.  Returns counts, the errors and the output paths.
    """
    files = expand_inputs(inputs)
    errors: list[CorpusError] = []
    articles: list[Article] = []
    sentences: list[Sentence] = []
    for art in iter_articles(_ticking(files, progress), errors):
        articles.append(art)
        sentences.extend(split_article(art))
    if not articles:
        # Never replace a corpus with an empty one because every input failed.
        raise CorpusError(f"none of the {len(files)} file(s) could be read ({errors[0]}); the corpus was left unchanged")
    import pandas as pd

    write_jsonl(articles_path(root), (a.to_dict() for a in articles))
    table = pd.DataFrame([s.to_dict() for s in sentences], columns=list(SENTENCE_FIELDS))
    write_table(table, sentences_path(root))
    return {
        "files": len(files),
        "articles": len(articles),
        "sentences": len(sentences),
        "errors": [str(e) for e in errors],
        "articles_path": str(articles_path(root)),
        "sentences_path": str(sentences_path(root)),
    }


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
