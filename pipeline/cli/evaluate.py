"""``talks evaluate`` and ``talks simulate``: how good the model and the labelling queue are (stage 6)."""
from __future__ import annotations

import argparse
import json

from pipeline.cli._util import MODEL_NAME, Default, add_command, labels_opt, models_opt, progress, project_of, root_opt, say, warn
from pipeline.errors import PipelineError

# ``--compare`` once meant what --compare-settings does, and read as if it compared trained models.
RENAMED_COMPARE = ("--compare is gone: 'talks compare A B' compares two trained models as they are; "
                   "'talks evaluate --compare-settings MODEL' refits MODEL's features and C on the same folds")


def cmd_evaluate(args: argparse.Namespace) -> int:
    from pipeline.evaluation.evaluate import evaluate
    from pipeline.evaluation.report import write_report
    from pipeline.evaluation.report_text import console_summary

    if args.compare is not None:
        raise PipelineError(RENAMED_COMPARE)
    with progress(None, "evaluating", unit="fit") as tick:
        res = evaluate(project_of(args), model=args.model, data=args.data, progress=tick, compare=args.compare_settings)
    if args.simulate:
        from pipeline.labelling.simulate import simulate

        with progress(None, "simulating", unit="fit") as tick:
            res["simulation"] = simulate(project_of(args), progress=tick)
    paths = write_report(res, args.report)
    for w in res["warnings"]:
        warn(w)
    say(console_summary(res, paths))
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    from pipeline.evaluation.report_text import simulation_text
    from pipeline.labelling.simulate import SEEDS, STRATEGIES, simulate
    from pipeline.store import atomic_write_text

    if args.seeds < 1:
        raise PipelineError("--seeds must be 1 or more")
    seeds = tuple(range(SEEDS[0], SEEDS[0] + args.seeds))
    with progress(1 + len(seeds) * len(STRATEGIES) * (args.rounds + 1), "simulating", unit="fit") as tick:
        sim = simulate(project_of(args), seeds=seeds, start=args.start, step=args.step, rounds=args.rounds,
                       random_share=args.random_share, per_article=args.per_article, progress=tick)
    say(simulation_text(sim))
    if args.out:
        atomic_write_text(args.out, json.dumps(sim, indent=2) + "\n")
        say(f"wrote {args.out}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    sp = add_command(sub, "evaluate", cmd_evaluate, "Measure the model: grouped CV on the gold labels (or --data FILE held out), "
                     "with bootstrap CIs, baselines, curves and a learning curve; writes an HTML report.")
    sp.add_argument("--data", help="a held-out label-store CSV to score the model on as it is (default: cross-validate on the gold labels)")
    sp.add_argument("--model", help=f"{MODEL_NAME} (default: current)")
    sp.add_argument("--compare-settings", nargs="+", metavar="MODEL", help="also cross-validate each MODEL's settings "
                    "(features and C, refitted on the same folds as --model) and compare them with --model's: F1 with paired "
                    "bootstrap CIs, learning curves, speed, install size. This compares settings, not trained models: a "
                    "retrain with the same settings shows +0.000; to compare trained models use 'talks compare A B'. "
                    "With --data the models are scored as they are on FILE")
    sp.add_argument("--compare", nargs="*", help=argparse.SUPPRESS)  # only to say where it went (RENAMED_COMPARE)
    sp.add_argument("--report", default=Default("out/report"), help="folder for report.html, metrics.json, summary.md (default: out/report)")
    sp.add_argument("--simulate", action="store_true", help="also simulate labelling with the queue against random order "
                    "(as 'talks simulate', about two minutes) and add the curves to the report")
    labels_opt(sp)
    root_opt(sp)
    models_opt(sp)

    sp = add_command(sub, "simulate", cmd_simulate, "Does the labelling queue beat random order? Replays labelling on the gold "
                     "labels with both and prints macro-F1 on the held-out articles against the number of labels.")
    sp.add_argument("--seeds", type=int, default=3, help="repetitions with seeds 13, 14, ... (default: 3)")
    sp.add_argument("--start", type=int, default=100, help="random sentences labelled before the first round (default: 100)")
    sp.add_argument("--step", type=int, default=None, help="sentences added per round (default: cover the pool in --rounds rounds, a multiple of 50)")
    sp.add_argument("--rounds", type=int, default=25, help="rounds (default: 25)")
    sp.add_argument("--random-share", type=float, default=0.2, help="random share of the queue's picks (default: 0.2)")
    sp.add_argument("--per-article", type=int, default=3, help="at most this many uncertain picks per article and round (default: 3)")
    sp.add_argument("--out", help="also write the whole result to this JSON file")
    labels_opt(sp)
    root_opt(sp)
