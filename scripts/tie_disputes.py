"""List the blame sentences whose two blind tie passes differ, with context, for a third reader.

Writes ``<round>/adjudication.md``: per sentence its id, article, the three
sentences before and the one after, and each pass's ties.  The third reader
writes ``<round>/adjudication.jsonl`` (same format as a pass); ``gold_ties``
takes it where the passes differ.
Usage: python scripts/tie_disputes.py labels/ties/round1
"""
from __future__ import annotations

import sys
from pathlib import Path

from pipeline.corpus.store import load_sentences
from pipeline.labels.ties import differs, read_tie_file
from pipeline.project import Project
from pipeline.store import atomic_write_text


def main(argv: list[str]) -> int:
    rnd = Path(argv[0])
    a: dict = {}
    b: dict = {}
    for f in sorted((rnd / "pass1").glob("*.jsonl")):
        a.update(read_tie_file(f))
    for f in sorted((rnd / "pass2").glob("*.jsonl")):
        b.update(read_tie_file(f))
    sents = load_sentences(Project().corpus)
    idx = {sid: i for i, sid in enumerate(sents["sentence_id"])}
    text, art = sents["text"].tolist(), sents["article_id"].tolist()
    out = []
    for sid in sorted(set(a) & set(b), key=lambda s: idx[s]):
        if not differs(a[sid], b[sid]):
            continue
        i = idx[sid]
        ctx = [text[j] for j in range(max(0, i - 3), i) if art[j] == art[i]]
        after = text[i + 1] if i + 1 < len(text) and art[i + 1] == art[i] else ""
        fmt = lambda ties: "; ".join(f"{s} -> {t}" for s, t in ties) or "(none)"  # noqa: E731
        out.append(f"\n## [{sid}] article {art[i]}\n" + "".join(f"   before: {c}\n" for c in ctx)
                   + f">>> {text[i]}\n   after: {after}\nreader A: {fmt(a[sid])}\nreader B: {fmt(b[sid])}\n")
    atomic_write_text(rnd / "adjudication.md", f"# Tie disagreements to decide ({len(out)} sentences)\n" + "".join(out))
    print(f"{len(out)} of {len(set(a) & set(b))} sentences differ; wrote {rnd / 'adjudication.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
