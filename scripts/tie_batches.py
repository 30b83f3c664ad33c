"""Cut the gold blame sentences into batches for tie labelling (who blames whom), with context.

Every gold sentence with blame (training and held-out articles alike) is listed
once, grouped by article (an article is never split across batches) and dealt
into ``--batches`` batches of about equal size.  Each batch is written as
``batch-NN.csv`` (the sentence ids in order) and ``batch-NN.md`` (per article
its headline, and per blame sentence the three sentences before it and the one
after).  Two annotators label each batch blind; a third reader decides where
their ties differ.
Usage: python scripts/tie_batches.py --batches 6 --out labels/ties/round1
"""
from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from label_batches import deal  # noqa: E402  (scripts/ is on the path when a script runs)

from pipeline.corpus.store import load_articles, load_sentences
from pipeline.labels.gold import gold_labels
from pipeline.project import Project
from pipeline.store import atomic_write_text, write_table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batches", type=int, default=6)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    project = Project()
    gold = gold_labels(project)
    blame = gold[gold["blame"] == 1]
    sents = load_sentences(project.corpus)
    titles = {a.article_id: (a.title, a.outlet or "", a.date or "") for a in load_articles(project.corpus)}
    targets = {aid: set(g["sentence_id"]) for aid, g in blame.groupby("article_id")}
    by_article = {aid: g.reset_index(drop=True) for aid, g in sents[sents["article_id"].isin(list(targets))].groupby("article_id")}
    batches, sizes = deal(targets, args.batches)
    out = Path(args.out)
    for k, arts in enumerate(batches, 1):
        ids, md = [], [f"# Tie batch {k:02d}: {sizes[k - 1]} blame sentences\n",
                       "Per article: its headline, then every blame sentence (>>> with its id) with the three sentences "
                       "before it and the one after. Read the whole article with `grep ',ARTICLE_ID,' corpus/sentences.csv` "
                       "when the context is not enough to resolve who blames whom.\n"]
        for aid in sorted(arts):
            g = by_article[aid]
            title, outlet, date = titles[aid]
            md.append(f"\n## {aid}\n{title} ({outlet}, {date})\n")
            for i, r in g.iterrows():
                if r["sentence_id"] not in targets[aid]:
                    continue
                for j in range(max(0, i - 3), i):
                    md.append(f"       {g.at[j, 'text']}")
                md.append(f">>> [{r['sentence_id']}] {r['text']}")
                if i + 1 < len(g):
                    md.append(f"       {g.at[i + 1, 'text']}")
                md.append("")
                ids.append({"sentence_id": r["sentence_id"], "article_id": aid, "text": r["text"]})
        write_table(pd.DataFrame(ids, columns=["sentence_id", "article_id", "text"]), out / f"batch-{k:02d}.csv")
        atomic_write_text(out / f"batch-{k:02d}.md", "\n".join(md) + "\n")
        print(f"batch {k:02d}: {len(arts)} articles, {len(ids)} sentences")


if __name__ == "__main__":
    main()
