"""A reading sheet of the sentences two blind passes disagree on, for the third reader.

Input: the disagreements CSV of ``talks labels agree ... --out FILE``.  Output:
per sentence its id, article, the sentence before and after, each pass's
labels and the labels they differ on.  The third reader writes a JSONL of
decisions (``{"sentence_id", "label": [...]}``) imported with
``python scripts/import_round.py FILE=adjudications:<name>``.
Usage: python scripts/label_disputes.py labels/disagreements-r3a.csv labels/round3/adjudication-a.md
"""
from __future__ import annotations

import sys

from pipeline.corpus.store import load_sentences
from pipeline.project import Project
from pipeline.store import atomic_write_text, read_table

VALUES = ("diplomacy", "violence", "humanitarian", "blame", "junk")


def main(argv: list[str]) -> int:
    src, out = argv
    d = read_table(src, dtype=str)
    s = load_sentences(Project().corpus)
    idx = {sid: i for i, sid in enumerate(s["sentence_id"])}
    text, art = s["text"].tolist(), s["article_id"].tolist()
    md = [f"# Disagreements to adjudicate ({d['sentence_id'].nunique()} sentences)\n"]
    for sid, g in d.groupby("sentence_id", sort=False):
        r, i = g.iloc[0], idx[sid]
        prev = text[i - 1] if i > 0 and art[i - 1] == r["article_id"] else ""
        nxt = text[i + 1] if i + 1 < len(text) and art[i + 1] == r["article_id"] else ""
        a = [v for v in VALUES if r[f"a_{v}"] == "1"]
        b = [v for v in VALUES if r[f"b_{v}"] == "1"]
        md.append(f"\n## [{sid}] article {r['article_id']}\n   before: {prev}\n>>> {r['text']}\n   after: {nxt}\n"
                  f"reader A: {a or ['none']}   reader B: {b or ['none']}   (they differ on: {', '.join(g['label'])})\n")
    atomic_write_text(out, "\n".join(md))
    print(f"{d['sentence_id'].nunique()} sentences; wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
