"""``talks ingest`` and ``talks corpus stats|build-punkt``: the corpus (stage 1)."""
from __future__ import annotations

import argparse
import json

from pipeline.cli._util import Default, add_command, add_group, progress, root_opt, say, table, warn


def cmd_ingest(args: argparse.Namespace) -> int:
    from pipeline.corpus.discover import expand_inputs
    from pipeline.corpus.store import build_corpus

    problems: list = []  # what the inputs hold that cannot be ingested: an unreadable folder, a PDF
    files = expand_inputs(args.paths, problems)  # once: the bar needs the count, build_corpus the files
    for e in problems:
        warn(f"{e} (skipped)")
    with progress(len(files), "ingest") as tick:
        res = build_corpus(files, args.root, progress=tick, replace=args.replace)
    for e in res["errors"]:
        warn(f"{e} (skipped)")
    for d in res["duplicates"]:
        warn(d)
    say(f"read {res['files']} files: {res['added']} articles added, {res['updated']} updated, {res['unchanged']} unchanged; "
        f"the corpus has {res['corpus_articles']} articles, {res['sentences']} sentences"
        + ("" if args.replace else " (articles from earlier runs kept; --replace starts afresh)"))
    say(f"wrote {res['articles_path']} and {res['sentences_path']}")
    return 1 if problems or res["errors"] else 0


def cmd_corpus_stats(args: argparse.Namespace) -> int:
    from pipeline.corpus.store import corpus_stats

    st = corpus_stats(args.root)
    if args.json:
        say(json.dumps(st, indent=2))
        return 0
    say(f"{st['articles']} articles, {st['sentences']} sentences\n")
    for rows, name in ((st["by_outlet"], "outlet"), (st["by_year"], "year")):
        say(table([{name: r["key"], **r} for r in rows], [name, "articles", "sentences"]) + "\n")
    return 0


def cmd_corpus_build_punkt(args: argparse.Namespace) -> int:
    from pipeline.corpus.split import PUNKT_PATH, train_punkt
    from pipeline.corpus.store import load_articles

    res = train_punkt((p for a in load_articles(args.root) for p in a.paragraphs), out=args.out)
    say(f"learnt {res['abbreviations']} abbreviations from {res['texts']} unique paragraphs; wrote {res['path']}")
    say(f"the tokenizer reads only the shipped {PUNKT_PATH.name}: to use these, copy the file over {PUNKT_PATH} "
        "in a reviewed commit (every sentence id depends on it), then re-run 'talks ingest'")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    sp = add_command(sub, "ingest", cmd_ingest, "Read article files (txt, Markdown with front matter, HTML) into the clean "
                     "corpus, next to the articles already there.")
    sp.add_argument("paths", nargs="*", default=[Default("corpus/raw")], help="files, folders or globs (default: corpus/raw)")
    sp.add_argument("--replace", action="store_true", help="rebuild the corpus from these files only, dropping articles "
                    "ingested earlier (their labels become orphans); by default new articles are added next to the corpus")
    root_opt(sp)

    csub = add_group(sub, "corpus", "Inspect the corpus.")
    sp = add_command(csub, "stats", cmd_corpus_stats, "Print article and sentence counts per outlet and year.")
    root_opt(sp)
    sp.add_argument("--json", action="store_true", help="print JSON instead of tables")
    sp = add_command(csub, "build-punkt", cmd_corpus_build_punkt, "Learn Punkt parameters from the ingested corpus into a "
                     "file of the project (the shipped ones are never overwritten).")
    root_opt(sp)
    sp.add_argument("--out", default=Default("out/punkt_news.json"), help="file to write (default: out/punkt_news.json)")
