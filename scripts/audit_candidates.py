"""Find the gold sentences each guideline edge rule could touch, for a rule-by-rule audit.

A text search only *finds* candidates; a reader who did not label them
decides each one against the rule (labels/audit/decisions-<rule>.csv), and
corrections become adjudications whose annotator is ``audit-<rule>``.
Usage: python scripts/audit_candidates.py [--labels labels] [--root corpus]
Writes labels/audit/candidates-<rule>.csv (sentence id, article, position,
the gold labels, previous/next sentence for context, text).
"""
from __future__ import annotations

import argparse
from pathlib import Path

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
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labels", default="labels")
    ap.add_argument("--root", default="corpus")
    args = ap.parse_args()
    sents = load_sentences(args.root)
    pos = dict(zip(sents["sentence_id"], sents["position"].astype(int)))
    text_of = dict(zip(sents["sentence_id"], sents["text"]))
    order = sents["sentence_id"].tolist()
    index = {sid: i for i, sid in enumerate(order)}
    art = sents["article_id"].tolist()
    gold = gold_labels(Project(corpus=Path(args.root), labels=Path(args.labels)))
    gold["position"] = gold["sentence_id"].map(pos)

    def neighbour(sid: str, step: int) -> str:
        i = index[sid] + step
        return text_of[order[i]] if 0 <= i < len(order) and art[i] == art[index[sid]] else ""

    out = Path(args.labels) / "audit"
    for rule, (decides, pick) in RULES.items():
        rows = gold[pick(gold, gold["text"]).to_numpy()].copy()
        rows["prev"] = rows["sentence_id"].map(lambda s: neighbour(s, -1))
        rows["next"] = rows["sentence_id"].map(lambda s: neighbour(s, 1))
        rows["decides"] = decides
        cols = ["sentence_id", "article_id", "position", *LABELS, "decides", "prev", "text", "next"]
        write_table(rows[cols].sort_values(["article_id", "position"]), out / f"candidates-{rule}.csv")
        print(f"{rule}: {len(rows)} candidates")


if __name__ == "__main__":
    main()
