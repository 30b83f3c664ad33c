"""``talks ties train|evaluate|agree``: who blames whom (the blame-tie extractor)."""
from __future__ import annotations

import argparse
import json

from pipeline.cli._util import MODEL_NAME, add_command, add_group, labels_opt, models_opt, project_of, root_opt, say


def cmd_ties_train(args: argparse.Namespace) -> int:
    from pipeline.model.tie_training import train_ties

    res = train_ties(project_of(args))
    c = res.card
    say(f"trained the tie extractor on {c['training']['ties']} ties of {c['training']['sentences']} gold blame sentences "
        f"(C={c['C']}, threshold {c['threshold']}; {c['training']['gold_ties_among_candidates']:.0%} of the gold ties among "
        "its candidate pairs)")
    say(f"cross-validated tie F1 {c['cv']['tie_f1']:.3f} (precision {c['cv']['precision']:.3f}, recall {c['cv']['recall']:.3f}; "
        f"{c['cv']['folds']} folds grouped by story)")
    if h := c.get("heldout_gold_blame"):
        say(f"held-out gold blame sentences, extraction alone: tie F1 {h['f1']:.3f}; end to end: talks ties evaluate")
    say(f"wrote {res.path}/")
    return 0


def cmd_ties_evaluate(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from pipeline.evaluation.ties import evaluate_ties
    from pipeline.metrics import format_interval

    ev = evaluate_ties(project_of(args), model=args.model)
    if args.json:
        say(json.dumps(asdict(ev), indent=2))
        return 0
    say(f"blame ties end to end on the held-out set ({ev.sentences} sentences, {ev.articles} articles; blame tagged by "
        f"{ev.model_id}): precision {ev.precision:.3f}, recall {ev.recall:.3f}, F1 {ev.f1:.3f} {format_interval(ev.f1_ci)}")
    say(f"{ev.matched} of {ev.predicted_ties} predicted ties match one of the {ev.gold_ties} gold ties; on the gold blame "
        f"sentences alone (extraction only) tie F1 {ev.extraction_only_f1:.3f}")
    return 0


def cmd_ties_agree(args: argparse.Namespace) -> int:
    from pipeline.model.tie_training import tie_agreement

    a = tie_agreement(project_of(args))
    say(f"two blind passes over {a['sentences']} blame sentences: tie F1 {a['tie_f1']:.3f} ({a['ties_pass1']} and "
        f"{a['ties_pass2']} ties); {a['differing_sentences']} sentences differ, {a['adjudicated']} decided by a third reader")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    tsub = add_group(sub, "ties", "Who blames whom: train and evaluate the blame-tie extractor, and the tie labels' agreement.")
    sp = add_command(tsub, "train", cmd_ties_train, "Train the tie extractor on the gold ties (labels/ties/) into models/ties/.")
    labels_opt(sp)
    root_opt(sp)
    models_opt(sp)
    sp = add_command(tsub, "evaluate", cmd_ties_evaluate, "Tie precision, recall and F1 end to end on the held-out set, "
                     "with article-bootstrap intervals.")
    sp.add_argument("--model", help=f"the sentence model that decides blame: {MODEL_NAME} (default: current)")
    sp.add_argument("--json", action="store_true", help="print JSON")
    labels_opt(sp)
    root_opt(sp)
    models_opt(sp)
    sp = add_command(tsub, "agree", cmd_ties_agree, "Tie-level agreement of the two blind passes of the tie labels.")
    labels_opt(sp)
    root_opt(sp)
