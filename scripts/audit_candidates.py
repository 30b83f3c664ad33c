"""Find the gold sentences each guideline edge rule could touch, for a rule-by-rule audit.

A text search only *finds* candidates; a reader who did not label them
decides each one against the rule (labels/audit/decisions-<rule>.csv), and
corrections become adjudications whose annotator is ``audit-<rule>``.
Usage: python scripts/audit_candidates.py [--labels labels] [--root corpus] [--out labels/audit]
       [--stores ann13,ann14,...] [--rules RULE,...] [--skip-audited labels/audit]
Writes <out>/candidates-<rule>.csv (sentence id, article, position, the gold
labels, previous/next sentence for context, text).  ``--stores`` limits the
audit to sentences labelled in those annotator stores (a round); ``--skip-audited``
leaves out sentences already a candidate of the same rule in an earlier audit.
Round 2's audit: --out labels/audit-r2 --stores ann13..ann34, and the widened
hypothetical search over rounds 1 and 2 (``hypothetical-violence-wide``).
"""
from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from pipeline.corpus.store import load_sentences
from pipeline.labels.gold import gold_labels
from pipeline.project import Project
from pipeline.records import LABELS
from pipeline.store import write_table

# rule -> (what the reader decides, a filter over gold rows).  Nets are wide on purpose.
ACCUSE = r"accus|blam|den(?:y|ied|ies|ial)|condemn|responsib|allegation|alleg|charg|reproach|slam|criticiz|criticis|terroris|sham|sabotag|violat"
RULES = {
    "hypothetical-violence": ("violence", lambda g, t: (g["violence"] == 1) & t.str.contains(
        r"\b(?:would|could|might|may|plan(?:s|ned|ning)?|prepar|ready to|threat|warn|if\b|possible|possibility|prospect|expected to|consider|floated|propos|intend|option|ground troops|send(?:ing)? (?:troops|commandos|forces))",
        case=False)),
    "accusation-violence": ("violence", lambda g, t: (g["blame"] == 1)),
    "vague-accusation": ("blame", lambda g, t: t.str.contains(ACCUSE, case=False) | (g["blame"] == 1)),
    "hospitals": ("humanitarian violence", lambda g, t: t.str.contains(r"hospital|clinic|medic|doctor|MSF|health|patient", case=False)),
    "truce-relative-clause": ("diplomacy", lambda g, t: t.str.contains(r"truce|cease-?fire|cessation", case=False)),
    "non-syria-diplomacy": ("diplomacy", lambda g, t: (g["diplomacy"] == 1) & t.str.contains(
        r"Iran|nuclear|migra|refugee deal|\bEU\b|European Union|Turk|Ukrain|Yemen|Liby|Iraq|Saudi|Israel|Palestin|NATO|trade|Brexit|Afghan|Korea|Crimea|sanction",
        case=True)),
    "civilians-fear": ("humanitarian", lambda g, t: t.str.contains(r"afraid|fear|scared|terrif|panic|living conditions|shelter|fle(?:e|d|eing)\b|trapped|hunger|starv", case=False)),
    "headlines": ("all", lambda g, t: g["position"] == 0),
    # round 3 (guidelines 1.3): the wider hypothetical net, planned refugee policy, charges, tolls in relative clauses
    "hypothetical-violence-wide": ("violence", lambda g, t: (g["violence"] == 1) & t.str.contains(
        r"\b(?:aim(?:s|ed|ing)?\b|hop(?:e|es|ed|ing)\b|vow|poised|offer|ready to|threat|plan|would|could|unlikely|expected to|"
        r"might|may\b|intend|prepar|seek(?:s|ing)? to|set to|going to|will\b|if\b|potential|risk|deploy|ground troops|"
        r"ground operation|readiness|willing)", case=False)),
    "planned-refugee-policy": ("humanitarian", lambda g, t: (g["humanitarian"] == 1) & t.str.contains(
        r"refugee|migrant|asylum|deport|border|quota|resettle|relocat", case=False)),
    "indictments-charges": ("blame", lambda g, t: t.str.contains(
        r"indict|charg|alleg|prosecut|grand jury|lawsuit|\bsued\b|\bsues?\b|arrest|plead|plea\b|accus|suspect", case=False)),
    "toll-relative-clause": ("violence", lambda g, t: t.str.contains(
        r"\b(?:which|who|where|that|since)\b[^.;]{0,80}\b(?:kill|dead|died|death|wound|injur)", case=False)),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labels", default="labels")
    ap.add_argument("--root", default="corpus")
    ap.add_argument("--out", help="folder for the candidate files (default: <labels>/audit)")
    ap.add_argument("--stores", help="comma-separated annotator stores: audit only the sentences they labelled")
    ap.add_argument("--rules", help="comma-separated rules (default: all)")
    ap.add_argument("--skip-audited", help="an earlier audit folder: leave out its candidates of the same rule")
    args = ap.parse_args()
    sents = load_sentences(args.root)
    pos = dict(zip(sents["sentence_id"], sents["position"].astype(int)))
    text_of = dict(zip(sents["sentence_id"], sents["text"]))
    order = sents["sentence_id"].tolist()
    index = {sid: i for i, sid in enumerate(order)}
    art = sents["article_id"].tolist()
    gold = gold_labels(Project(corpus=Path(args.root), labels=Path(args.labels)))
    gold["position"] = gold["sentence_id"].map(pos)
    if args.stores:
        from pipeline.labels.gold import read_store
        from pipeline.labels.store import store_path

        scope = set().union(*(set(read_store(store_path(args.labels, name))["sentence_id"]) for name in args.stores.split(",")))
        gold = gold[gold["sentence_id"].isin(scope)]

    def neighbour(sid: str, step: int) -> str:
        i = index[sid] + step
        return text_of[order[i]] if 0 <= i < len(order) and art[i] == art[index[sid]] else ""

    out = Path(args.out) if args.out else Path(args.labels) / "audit"
    for rule, (decides, pick) in RULES.items():
        if args.rules and rule not in args.rules.split(","):
            continue
        rows = gold[pick(gold, gold["text"]).to_numpy()].copy()
        if args.skip_audited:
            base = rule.removesuffix("-wide")
            done = Path(args.skip_audited) / f"candidates-{base}.csv"
            if done.exists():
                rows = rows[~rows["sentence_id"].isin(set(pd.read_csv(done, dtype=str)["sentence_id"]))]
        rows["prev"] = rows["sentence_id"].map(lambda s: neighbour(s, -1))
        rows["next"] = rows["sentence_id"].map(lambda s: neighbour(s, 1))
        rows["decides"] = decides
        cols = ["sentence_id", "article_id", "position", *LABELS, "decides", "prev", "text", "next"]
        write_table(rows[cols].sort_values(["article_id", "position"]), out / f"candidates-{rule}.csv")
        print(f"{rule}: {len(rows)} candidates")


if __name__ == "__main__":
    main()
