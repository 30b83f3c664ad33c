"""Precision and recall of the summary's ``on_topic`` flag against the hand-judged sample.

Reads ``benchmarks/relevance/sample.csv`` (see ``sample.py``) and a per-article
summary written by ``talks tag ... --summary`` over the feed (``make run``
writes ``out/feed-summary.csv``).  Every article that names Syria, Syrian(s),
Assad, Damascus or Aleppo was judged, so among those the counts are exact;
the articles naming none of them are taken as not about the war, which the
random stratum checks (its positives would be scaled up to all such articles).
Also reported: the tags alone (relevance at least 0.2, without the name
test), for comparison.  Writes ``benchmarks/relevance/results.json``.

    .venv/bin/python benchmarks/relevance/measure.py [--summary out/feed-summary.csv]
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(REPO))

from pipeline.model.relevance import ON_TOPIC_RELEVANCE, ON_TOPIC_SYRIA

HERE = Path(__file__).parent


def wilson(k: float, n: float) -> list[float]:
    """95% Wilson interval of a proportion k/n."""
    if n == 0:
        return [math.nan, math.nan]
    z, p = 1.96, k / n
    mid, half = (p + z * z / (2 * n)) / (1 + z * z / n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return [round(mid - half, 3), round(mid + half, 3)]


def score(flag: dict[str, bool], sample: list[dict], feed_ids: set[str]) -> dict:
    cand = [r for r in sample if r["stratum"] == "candidate"]
    rand = [r for r in sample if r["stratum"] == "random"]
    cand_ids = {r["article_id"] for r in cand}
    tp = sum(flag[r["article_id"]] and r["about_syria"] == "1" for r in cand)
    fp_cand = sum(flag[r["article_id"]] and r["about_syria"] == "0" for r in cand)
    fn_cand = sum(not flag[r["article_id"]] and r["about_syria"] == "1" for r in cand)
    # Outside the candidates: judged on the random stratum only, scaled to all of them.
    others = len(feed_ids - cand_ids)
    scale = others / len(rand)
    fp_other = sum(flag[i] for i in feed_ids - cand_ids)  # taken as not about the war (no name in the text)
    fn_other = scale * sum(not flag[r["article_id"]] and r["about_syria"] == "1" for r in rand)
    flagged = tp + fp_cand + fp_other
    positives = tp + fn_cand + fn_other
    return {"flagged": flagged, "true_positives": tp, "false_positives": fp_cand + fp_other, "false_negatives": round(fn_cand + fn_other, 1),
            "precision": round(tp / flagged, 3) if flagged else None, "precision_ci": wilson(tp, flagged),
            "recall": round(tp / positives, 3) if positives else None, "recall_ci": wilson(tp, positives),
            "missed": sorted(r["article_id"] for r in cand + rand if not flag[r["article_id"]] and r["about_syria"] == "1"),
            "wrongly_flagged": sorted(r["article_id"] for r in cand if flag[r["article_id"]] and r["about_syria"] == "0")}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--summary", default="out/feed-summary.csv", help="a tag summary covering the feed (relative: to the repo)")
    ap.add_argument("--out", default=str(HERE / "results.json"))
    args = ap.parse_args()
    sample = list(csv.DictReader((HERE / "sample.csv").open(encoding="utf-8")))
    with (REPO / args.summary).open(encoding="utf-8") as f:
        summary = {r["article_id"]: r for r in csv.DictReader(f) if r["source"].replace("\\", "/").lstrip("'").startswith("corpus/raw/feed-2016q1/")}
    missing = [r["article_id"] for r in sample if r["article_id"] not in summary]
    if missing:
        print(f"error: {len(missing)} sampled articles are not in {args.summary} (e.g. {missing[0]}); tag the feed first", file=sys.stderr)
        return 1
    feed = set(summary)
    on_topic = {i: r["on_topic"] == "True" for i, r in summary.items()}
    tags_only = {i: float(r["relevance"]) >= ON_TOPIC_RELEVANCE for i, r in summary.items()}
    res = {"summary": args.summary, "feed_articles": len(feed), "judged": len(sample),
           "about_syria": sum(r["about_syria"] == "1" for r in sample),
           "rule": f"relevance >= {ON_TOPIC_RELEVANCE} and syria_share >= {ON_TOPIC_SYRIA}",
           "on_topic": score(on_topic, sample, feed), "tags_only": score(tags_only, sample, feed)}
    Path(args.out).write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")
    for name in ("on_topic", "tags_only"):
        s = res[name]
        print(f"{name}: {s['flagged']} of {len(feed)} feed articles flagged; precision {s['precision']} {s['precision_ci']}, "
              f"recall {s['recall']} {s['recall_ci']} ({s['true_positives']} right, {s['false_positives']} wrongly flagged, "
              f"{s['false_negatives']} missed)")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
