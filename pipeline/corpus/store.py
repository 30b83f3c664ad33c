"""The corpus store: ingest + split, written as ``corpus/articles.jsonl`` and
``corpus/sentences.csv``, and read back by labels, train and evaluate.

JSONL keeps an article's paragraphs together and diffs line by line; the
sentence table is CSV so it opens in pandas, a spreadsheet or ``git diff``.

The two files are one generation, tied by ``corpus/manifest.json`` (each
file's sha256 and row count); see :func:`_write_generation` for how a kill at
any moment leaves the old corpus or the new one, never a mix.  The loaders
check the files against the manifest.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path

from pipeline.errors import CorpusError, PipelineError
from pipeline.corpus.discover import expand_inputs
from pipeline.corpus.ingest import iter_articles
from pipeline.records import SENTENCE_FIELDS, Article, normalise_text
from pipeline.corpus.split import split_article
from pipeline.store import atomic_write_text, read_table, sha256_file

DEFAULT_RAW = Path("corpus/raw")
DEFAULT_ROOT = Path("corpus")
FILES = {"articles": "articles.jsonl", "sentences": "sentences.csv"}
MANIFEST = "manifest.json"
_REBUILD = "rebuild the corpus: talks ingest corpus/raw --replace (with your own article folders, if any)"


def articles_path(root: str | Path = DEFAULT_ROOT) -> Path:
    return Path(root) / FILES["articles"]


def sentences_path(root: str | Path = DEFAULT_ROOT) -> Path:
    return Path(root) / FILES["sentences"]


def manifest_path(root: str | Path = DEFAULT_ROOT) -> Path:
    return Path(root) / MANIFEST


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
    starts from an empty corpus instead.  A bad file (one that cannot be
    read, cleaned or split) is reported in ``errors`` and skipped; so is what
    the inputs hold that cannot be ingested (an unreadable folder, a PDF).
    The two files are written as one generation (:func:`_write_generation`).
    """
    import pandas as pd

    errors: list[CorpusError] = []
    files = expand_inputs(inputs, errors)
    fresh = list(iter_articles(_ticking(files, progress), errors))
    keep_corpus = not replace and articles_path(root).exists()
    old = load_articles(root) if keep_corpus else []
    merged = {a.article_id: a for a in old}
    by_source = {_source_key(a.source): a.article_id for a in old}
    by_text = {_text_key(a): a.article_id for a in old}
    counts = {"added": 0, "updated": 0, "unchanged": 0}
    duplicates: list[str] = []
    new_rows: dict[str, list[dict]] = {}
    for art in fresh:
        aid = by_source.get(_source_key(art.source))
        if aid is None:
            aid = _free_id(art.article_id, merged)
            twin = by_text.get(_text_key(art))
            if twin is not None:
                duplicates.append(f"{art.source}: same text as article {twin} ({merged[twin].source}); not added twice")
                continue
            change = "added"
        else:
            change = "unchanged" if merged[aid] == replace_id(art, aid) else "updated"
        art = replace_id(art, aid)  # ids are final before splitting: sentence ids hash the article id
        try:
            new_rows[aid] = [s.to_dict() for s in split_article(art)]
        except CorpusError as e:
            errors.append(e)
            continue
        counts[change] += 1
        merged[aid] = art
        by_source[_source_key(art.source)] = aid
        by_text[_text_key(art)] = aid
    if not new_rows and not duplicates:
        # Never replace a corpus with an empty one because every input failed.
        why = f" ({errors[0]})" if errors else ""
        if not files:  # an unreadable folder, only PDFs: "none of the 0 files" would blame files that are not there
            raise CorpusError(f"no article file found in the inputs{why}; the corpus was left unchanged")
        raise CorpusError(f"none of the {len(files)} file(s) could be read{why}; the corpus was left unchanged")
    kept = load_sentences(root) if keep_corpus else pd.DataFrame(columns=list(SENTENCE_FIELDS))
    kept = kept[~kept["article_id"].isin(new_rows)]
    fresh_table = pd.DataFrame([row for aid in sorted(new_rows) for row in new_rows[aid]], columns=list(SENTENCE_FIELDS))
    order = sorted(merged)
    table = pd.concat([kept, fresh_table], ignore_index=True)
    table["_a"] = table["article_id"].map({a: i for i, a in enumerate(order)})
    table = table.sort_values(["_a", "position"], kind="stable").drop(columns="_a")
    _write_generation(Path(root), [merged[a].to_dict() for a in order], table[list(SENTENCE_FIELDS)])
    return {
        "files": len(files),
        "articles": sum(counts.values()),
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


def _write_generation(root: Path, articles: list[dict], table) -> None:
    """Write ``articles.jsonl`` and ``sentences.csv`` so that no kill can tear them apart.

    1. Both files are written in full (each atomically) under staged names,
       ``.<sha256[:16]>.articles.jsonl`` and ``.<sha256[:16]>.sentences.csv``.
    2. ``manifest.json``, naming each file with its sha256 and row count,
       replaces the old one: that rename is the commit.
    3. The staged files are renamed over the public ones, and staged files
       left by killed runs are removed.

    Killed before 2, the old files still match the old manifest: the old
    corpus.  Killed after it, the loaders find each file either in place or
    under its staged name: the new corpus.  The manifest depends only on the
    content, so re-ingesting the same articles leaves every file unchanged.
    """
    data = {
        "articles": "".join(json.dumps(a, ensure_ascii=False) + "\n" for a in articles),
        "sentences": table.to_csv(index=False, lineterminator="\n"),
    }
    rows = {"articles": len(articles), "sentences": len(table)}
    manifest = {part: {"file": FILES[part], "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(), "rows": rows[part]}
                for part, text in data.items()}
    staged = [_staged_path(root, manifest[part]) for part in data]
    written: list[Path] = []
    try:
        for path, text in zip(staged, data.values()):
            if not path.exists():  # named by its content: one a killed run left is already right, and may be in use
                atomic_write_text(path, text)
                written.append(path)
    except BaseException:  # a full disk, say: the old corpus stays, without debris
        for path in written:
            path.unlink(missing_ok=True)
        raise
    atomic_write_text(manifest_path(root), json.dumps(manifest, indent=2) + "\n")
    for path, part in zip(staged, data):
        os.replace(path, root / FILES[part])
    for leftover in root.iterdir():
        if _STAGED.fullmatch(leftover.name):
            leftover.unlink(missing_ok=True)


_STAGED = re.compile(r"\.[0-9a-f]{16}\.(articles\.jsonl|sentences\.csv)")


def _staged_path(root: Path, entry: dict) -> Path:
    return root / f".{entry['sha256'][:16]}.{entry['file']}"


def _current_file(root: str | Path, part: str) -> Path:
    """The file holding the corpus's ``part`` as ``manifest.json`` names it.

    That is the public file, or its staged copy when a run was killed
    between committing the manifest and renaming the files.  A corpus from
    before manifests has nothing to check against: its files are read as
    they are.
    """
    root = Path(root)
    public = root / FILES[part]
    if not manifest_path(root).exists():
        if not public.exists():
            raise CorpusError("corpus not ingested yet; run 'talks ingest' first", public)
        return public
    try:
        entry = json.loads(manifest_path(root).read_text(encoding="utf-8"))[part]
        candidates = (public, _staged_path(root, entry))
        sha = entry["sha256"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise CorpusError(f"not a valid corpus manifest ({type(e).__name__}: {e}); {_REBUILD}", manifest_path(root)) from None
    for path in candidates:
        if path.exists() and sha256_file(path) == sha:
            return path
    raise CorpusError(f"does not match {MANIFEST} (changed or restored by hand, without the rest of the corpus); {_REBUILD}", public)


def load_articles(root: str | Path = DEFAULT_ROOT) -> list[Article]:
    path = _current_file(root, "articles")
    out = []
    # Records end in "\n" only: str.splitlines() would also cut at U+2028 or U+0085 inside a paragraph.
    for n, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
        if line.strip():
            try:
                out.append(_checked_article(Article.from_dict(json.loads(line))))
            except (ValueError, KeyError, TypeError) as e:
                raise CorpusError(f"bad article record ({e}); {_REBUILD}", path, n) from None
    return out


def _checked_article(art: Article) -> Article:
    """The record as ingest writes it: text where text belongs (a front-matter
    mapping stored by an older version would break every reader)."""
    if not all(isinstance(v, str) for v in (art.article_id, art.source, art.title, *art.paragraphs)):
        raise ValueError("id, source, title and paragraphs must be text")
    bad = [k for k in ("date", "outlet", "url") if not isinstance(getattr(art, k), (str, type(None)))]
    if bad:
        raise ValueError(f"{', '.join(bad)} must be text")
    return art


def load_sentences(root: str | Path = DEFAULT_ROOT):
    """The sentence table as a DataFrame (one row per sentence, corpus order)."""
    path = _current_file(root, "sentences")
    df = read_table(path, dtype={"sentence_id": str, "article_id": str, "text": str})
    missing = set(SENTENCE_FIELDS) - set(df.columns)
    if missing:
        raise PipelineError(f"missing columns {sorted(missing)}; {_REBUILD}", path)
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
