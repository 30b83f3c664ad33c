"""The hand-judged sample behind the on-topic flag's precision and recall (README, "For the analyst").

From the feed ``corpus/raw/feed-2016q1`` (as ingested into ``corpus/``):

- every article whose title or text names Syria, Syrian(s), Assad, Damascus
  or Aleppo (stratum ``candidate``: a search to find the articles that could
  be about the Syrian war, not the flag), and
- 20 of the other articles drawn at random (stratum ``random``, seed 13), to
  check that an article naming none of them is not about the war.

Rows come in an order that hides the flag (by a hash of the id), with the
title and the opening paragraphs, which is what the judge read.  Existing
judgments (``about_syria``, ``note``) of articles still in the sample are
kept when the sample is rebuilt.

    .venv/bin/python benchmarks/relevance/sample.py
"""
from __future__ import annotations

import csv
import hashlib
import random
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(REPO))

from pipeline.corpus.store import load_articles
from pipeline.analysis.trends import SYRIA

FEED = "corpus/raw/feed-2016q1/"
SAMPLE = Path(__file__).parent / "sample.csv"
RANDOM = 20
SEED = 13
OPENING = 600  # characters of the opening paragraphs shown
COLUMNS = ["article_id", "stratum", "title", "opening", "about_syria", "note"]


def build() -> list[dict]:
    feed = sorted((a for a in load_articles(REPO / "corpus") if a.source.replace("\\", "/").startswith(FEED)), key=lambda a: a.article_id)
    names = [a for a in feed if SYRIA.search(a.title + "\n" + "\n".join(a.paragraphs))]
    found = {a.article_id for a in names}
    others = random.Random(SEED).sample([a for a in feed if a.article_id not in found], RANDOM)
    old = {r["article_id"]: r for r in csv.DictReader(SAMPLE.open(encoding="utf-8"))} if SAMPLE.exists() else {}
    rows = []
    for stratum, arts in (("candidate", names), ("random", others)):
        for a in arts:
            kept = old.get(a.article_id, {})
            rows.append({"article_id": a.article_id, "stratum": stratum, "title": a.title,
                         "opening": " ".join(a.paragraphs)[:OPENING], "about_syria": kept.get("about_syria", ""),
                         "note": kept.get("note", "")})
    rows.sort(key=lambda r: hashlib.sha1(r["article_id"].encode()).hexdigest())
    return rows


if __name__ == "__main__":
    rows = build()
    with SAMPLE.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    print(f"{len(rows)} articles ({sum(r['stratum'] == 'candidate' for r in rows)} candidates) in {SAMPLE}; "
          f"{sum(not r['about_syria'] for r in rows)} not judged yet")
