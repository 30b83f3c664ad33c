"""Cut a labelling round into batches for independent annotators, with each sentence's context.

Input: a queue file (``talks queue --out``) and/or whole articles (the
held-out articles nobody has labelled yet, or a list of article ids).  Sentences are grouped by
article (an article is never split across batches) and dealt into ``--batches``
batches of about equal size.  Each batch is written twice under ``--out``:
``batch-NN.csv`` (the sentence ids, the labelling order) and
``batch-NN.md`` (for reading: per article its headline and, per sentence,
the two sentences before and the one after; whole articles are shown in
full).  The same batch goes to two annotators who label it blind.
Usage: python scripts/label_batches.py --queue labels/queue-r2.csv --heldout --batches 8 --out labels/round2
"""
from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from pipeline.corpus.store import load_articles, load_sentences
from pipeline.labels.heldout import heldout_articles
from pipeline.labels.gold import collect_labels
from pipeline.project import Project
from pipeline.store import atomic_write_text, read_table, write_table


def deal(targets: dict[str, set[str]], n: int) -> tuple[list[list[str]], list[int]]:
    """(article ids per batch, sentences per batch): articles dealt, largest first, to the batch with the fewest
    sentences so far, so no article is split and the batches come out about equal."""
    batches: list[list[str]] = [[] for _ in range(n)]
    sizes = [0] * n
    for aid in sorted(targets, key=lambda a: (-len(targets[a]), a)):
        k = sizes.index(min(sizes))
        batches[k].append(aid)
        sizes[k] += len(targets[aid])
    return batches, sizes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--queue", help="queue CSV with a sentence_id column")
    ap.add_argument("--heldout", action="store_true", help="add every sentence of unlabelled held-out articles")
    ap.add_argument("--articles", help="a file of article ids (one per line): add their sentences nobody has labelled or queued")
    ap.add_argument("--exclude", nargs="*", default=[], help="queue files whose sentences are already being labelled")
    ap.add_argument("--batches", type=int, default=8)
    ap.add_argument("--out", required=True)
    ap.add_argument("--labels", default="labels")
    ap.add_argument("--root", default="corpus")
    args = ap.parse_args()
    sents = load_sentences(args.root)
    titles = {a.article_id: (a.title, a.outlet or "", a.date or "") for a in load_articles(args.root)}
    targets: dict[str, set[str]] = {}
    whole: set[str] = set()
    if args.queue:
        q = read_table(args.queue, dtype=str)
        art = dict(zip(sents["sentence_id"], sents["article_id"]))
        for sid in q["sentence_id"]:
            targets.setdefault(art[sid], set()).add(sid)
    if args.heldout:
        rows, _, _ = collect_labels(Project(corpus=Path(args.root), labels=Path(args.labels)))
        labelled_articles = {r["article_id"].strip() for r in rows}
        for aid in sorted(heldout_articles(args.labels) - labelled_articles):
            whole.add(aid)
            targets[aid] = set(sents.loc[sents["article_id"] == aid, "sentence_id"])
    if args.articles:
        rows, _, _ = collect_labels(Project(corpus=Path(args.root), labels=Path(args.labels)))
        taken = {r["sentence_id"].strip() for r in rows}
        for ex in args.exclude:
            taken |= set(read_table(ex, dtype=str)["sentence_id"])
        for aid in Path(args.articles).read_text().split():
            whole.add(aid)
            ids = set(sents.loc[sents["article_id"] == aid, "sentence_id"]) - taken
            if ids:
                targets[aid] = ids
    by_article = {aid: g.reset_index(drop=True) for aid, g in sents[sents["article_id"].isin(list(targets))].groupby("article_id")}
    batches, sizes = deal(targets, args.batches)
    out = Path(args.out)
    for k, arts in enumerate(batches, 1):
        ids, md = [], [f"# Batch {k:02d}: {sizes[k - 1]} sentences to label\n",
                       "Each article: its headline, then every sentence to label (marked >>>, with its id) with the two "
                       "sentences before it and the one after it. Read the whole article with "
                       "`grep ',ARTICLE_ID,' corpus/sentences.csv` when the context is not enough.\n"]
        for aid in sorted(arts):
            g = by_article[aid]
            title, outlet, date = titles[aid]
            md.append(f"\n## {aid}\n{title} ({outlet}, {date}){'  [whole article]' if aid in whole else ''}\n")
            shown = -1
            for i, r in g.iterrows():
                if r["sentence_id"] not in targets[aid]:
                    continue
                lo = shown + 1 if aid in whole else max(0, i - 2)
                if lo > shown + 1:
                    md.append("   ...")
                for j in range(max(lo, shown + 1), i):
                    md.append(f"       {g.at[j, 'text']}")
                md.append(f">>> [{r['sentence_id']}] {r['text']}")
                ids.append({"sentence_id": r["sentence_id"], "article_id": aid, "text": r["text"]})
                shown = i
                if aid not in whole and i + 1 < len(g) and g.at[i + 1, "sentence_id"] not in targets[aid]:
                    md.append(f"       {g.at[i + 1, 'text']}")
                    shown = i + 1
        write_table(pd.DataFrame(ids, columns=["sentence_id", "article_id", "text"]), out / f"batch-{k:02d}.csv")
        atomic_write_text(out / f"batch-{k:02d}.md", "\n".join(md) + "\n")
        print(f"batch {k:02d}: {len(arts)} articles, {len(ids)} sentences")


if __name__ == "__main__":
    main()
