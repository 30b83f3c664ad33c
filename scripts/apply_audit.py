"""Turn the audit readers' verdicts into adjudications, one rule at a time.

For every ``labels/audit/verdicts-<rule>.csv`` the governed label(s) the
reader decided are compared with the gold decision recorded in the
candidates file (so re-running gives the same result); each difference becomes
(or updates) a row of ``labels/adjudications.csv`` whose annotator is
``audit-<rule>``, so the rule a correction applies stays on record.  The
per-rule table (candidates, corrections) goes to ``labels/audit/summary.json``.
Usage: python scripts/apply_audit.py [--labels labels] [--root corpus]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from pipeline.labels import ADJUDICATIONS, STORE_COLUMNS, VALUE_COLUMNS, gold_with_junk, now_utc, read_store, write_store
from pipeline.records import LABELS
from pipeline.store import atomic_write_text, read_table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labels", default="labels")
    ap.add_argument("--root", default="corpus")
    args = ap.parse_args()
    audit = Path(args.labels) / "audit"
    gold = gold_with_junk(args.labels, args.root).set_index("sentence_id")
    decided: dict[str, dict] = {}
    rules: dict[str, str] = {}
    summary = []
    for vpath in sorted(audit.glob("verdicts-*.csv")):
        rule = vpath.stem.removeprefix("verdicts-")
        cand = read_table(audit / f"candidates-{rule}.csv", dtype=str)
        verd = read_table(vpath, dtype=str)
        missing = set(cand["sentence_id"]) - set(verd["sentence_id"])
        if missing:
            raise SystemExit(f"{vpath}: no verdict for {len(missing)} candidate(s), e.g. {sorted(missing)[0]}")
        before = {r["sentence_id"]: {**{lab: int(r[lab]) for lab in LABELS}, "junk": 0} for r in cand.to_dict("records")}
        n = 0
        for r in verd.to_dict("records"):
            sid = r["sentence_id"]
            row = decided.get(sid) or dict(before[sid])
            changed = False
            for c in VALUE_COLUMNS:
                v = str(r.get(c, "")).strip()
                if v in ("0", "1") and int(v) != before[sid][c]:  # counted against the gold, whatever other rules did
                    row[c], changed = int(v), True
            if changed:
                if row["junk"]:
                    row.update({lab: 0 for lab in LABELS})
                decided[sid] = row
                rules[sid] = "+".join(sorted(set(rules.get(sid, "").split("+")) - {""} | {rule}))
                n += 1
        summary.append({"rule": rule, "candidates": int(len(cand)), "corrections": n})
    adj_path = Path(args.labels) / ADJUDICATIONS
    adj = read_store(adj_path)[list(STORE_COLUMNS)]
    new = pd.DataFrame([{"sentence_id": sid, "article_id": gold.at[sid, "article_id"], "text": gold.at[sid, "text"],
                         **row, "annotator": f"audit-{rules[sid]}", "timestamp": now_utc()} for sid, row in decided.items()],
                       columns=list(STORE_COLUMNS))
    merged = pd.concat([adj[~adj["sentence_id"].isin(decided)], new], ignore_index=True)
    write_store(merged, adj_path)
    atomic_write_text(audit / "summary.json", json.dumps(summary, indent=2) + "\n")
    for s in summary:
        print(f"{s['rule']}: {s['candidates']} candidates, {s['corrections']} corrections")
    print(f"{len(decided)} sentences corrected; wrote {adj_path}")


if __name__ == "__main__":
    main()
