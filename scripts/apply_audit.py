"""Turn the audit readers' decisions into adjudications, one rule at a time.

Two readers who had not labelled the sentences decided every candidate of a
rule independently (``labels/audit/verdicts-<rule>.csv`` and
``decisions-<rule>.csv``); where they differ, a third reader decided
(``labels/audit/disputes.csv``).  The final value of each governed label is
compared with the gold decision recorded in the candidates file (so
re-running gives the same result); each difference becomes (or updates) a
row of ``labels/adjudications.csv`` whose annotator is ``audit-<rule>``, so
the rule a correction applies stays on record.  The per-rule table
(candidates, agreed, disputed, corrections) goes to ``labels/audit/summary.json``.
Usage: python scripts/apply_audit.py [--labels labels] [--root corpus] [--audit labels/audit-r2]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from pipeline.labels.gold import gold_with_junk, read_store
from pipeline.labels.store import ADJUDICATIONS, STORE_COLUMNS, VALUE_COLUMNS, now_utc, write_store
from pipeline.project import Project
from pipeline.records import LABELS
from pipeline.store import atomic_write_text, read_table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labels", default="labels")
    ap.add_argument("--root", default="corpus")
    ap.add_argument("--audit", help="the audit folder (default: <labels>/audit; round 2's audit: labels/audit-r2)")
    args = ap.parse_args()
    audit = Path(args.audit) if args.audit else Path(args.labels) / "audit"
    gold = gold_with_junk(Project(corpus=Path(args.root), labels=Path(args.labels))).set_index("sentence_id")
    decided: dict[str, dict] = {}
    rules: dict[str, str] = {}
    summary = []
    third = {(r["rule"], r["sentence_id"], r["label"]): r["decision"].strip()
             for r in read_table(audit / "disputes.csv", dtype=str).to_dict("records")}
    for vpath in sorted(audit.glob("verdicts-*.csv")):
        rule = vpath.stem.removeprefix("verdicts-")
        cand = read_table(audit / f"candidates-{rule}.csv", dtype=str)
        readers = [read_table(path, dtype=str).set_index("sentence_id") for path in (vpath, audit / f"decisions-{rule}.csv")]
        for r in readers:
            missing = set(cand["sentence_id"]) - set(r.index)
            if missing:
                raise SystemExit(f"{audit}: a reader gave no decision for {len(missing)} {rule} candidate(s), e.g. {sorted(missing)[0]}")
        n = agreed = disputed = 0
        for c in cand.to_dict("records"):
            sid = c["sentence_id"]
            before = {**{lab: int(c[lab]) for lab in LABELS}, "junk": 0}
            row = decided.get(sid) or dict(before)
            changed = False
            for col in VALUE_COLUMNS:
                a, b = (str(r.at[sid, col]).strip() if col in r.columns else "" for r in readers)
                a, b = (v if v in ("0", "1") else "" for v in (a, b))
                if not a and not b:
                    continue  # the rule does not govern this label
                if a == b:
                    agreed += 1
                    final = a
                else:
                    disputed += 1
                    final = third.get((rule, sid, col), "")
                    if final not in ("0", "1"):
                        raise SystemExit(f"{audit}/disputes.csv: no third-reader decision for {rule} {sid} {col}")
                if int(final) != before[col]:  # counted against the gold, whatever other rules did
                    row[col], changed = int(final), True
            if changed:
                if row["junk"]:
                    row.update({lab: 0 for lab in LABELS})
                decided[sid] = row
                rules[sid] = "+".join(sorted(set(rules.get(sid, "").split("+")) - {""} | {rule}))
                n += 1
        summary.append({"rule": rule, "candidates": int(len(cand)), "agreed": agreed, "disputed": disputed, "corrections": n})
    adj_path = Path(args.labels) / ADJUDICATIONS
    adj = read_store(adj_path)[list(STORE_COLUMNS)]
    new = pd.DataFrame([{"sentence_id": sid, "article_id": gold.at[sid, "article_id"], "text": gold.at[sid, "text"],
                         **row, "annotator": f"audit-{rules[sid]}", "timestamp": now_utc()} for sid, row in decided.items()],
                       columns=list(STORE_COLUMNS))
    merged = pd.concat([adj[~adj["sentence_id"].isin(decided)], new], ignore_index=True)
    write_store(merged, adj_path)
    atomic_write_text(audit / "summary.json", json.dumps(summary, indent=2) + "\n")
    for s in summary:
        print(f"{s['rule']}: {s['candidates']} candidates, {s['disputed']} decisions disputed, {s['corrections']} corrections")
    print(f"{len(decided)} sentences corrected; wrote {adj_path}")


if __name__ == "__main__":
    main()
