"""``talks trends``: label shares over time from a tags file (stage 7)."""
from __future__ import annotations

import argparse
import json

from pipeline.cli._util import add_command, labels_opt, models_opt, project_of, root_opt, say, warn
from pipeline.errors import PipelineError


def cmd_trends(args: argparse.Namespace) -> int:
    from pipeline.analysis.coverage import trends_text, write_coverage, write_plot
    from pipeline.analysis.share_error import adopted_corrections, tagging_model
    from pipeline.analysis.trends import FIRST_YEAR, LAST_YEAR, UNKNOWN_OUTLET, load_tags, trends
    from pipeline.store import table_format, write_table

    for target in (args.out, args.ties):
        if target:
            table_format(target)  # an unknown extension stops the run before the work
    if args.outlets < 1:
        raise PipelineError("--outlets must be 1 or more")
    tags = load_tags(args.tags)
    heldout, why = tagging_model(project_of(args), tags)
    if why:
        warn(f"{args.tags}: the intervals leave out the model's error (err_low, err_high empty): {why}")
    corrections = None
    if args.share_error:
        if heldout is None:
            raise PipelineError(f"--share-error: the corrections need the model that tagged the file ({why})", args.tags)
        corrections = adopted_corrections(args.share_error, heldout.model_id)
        say("corrected shares: " + (", ".join(f"{lab} by {m}" for lab, m in corrections.items()) or
                                    f"none (no correction beat raw shares in {args.share_error})"))
    res = trends(tags, by=args.by, on_topic=args.on_topic, outlets=args.outlets, heldout=heldout, corrections=corrections)
    res["source"] = args.tags
    if res["counts"]["undated"]:
        warn(f"{args.tags}: {res['counts']['undated']} article(s) without a date (YYYY-MM-DD) left out; tag article files, "
             "or give the sentence table a date column")
    if res["counts"]["out_of_range"]:
        warn(f"{args.tags}: {res['counts']['out_of_range']} article(s) dated before {FIRST_YEAR} or after {LAST_YEAR} left out; "
             "correct their date column")
    if res["missing_labels"]:
        warn(f"{args.tags}: no {', '.join(res['missing_labels'])} column (with its p_ column): left out of the trends; tag the "
             "articles again with 'talks tag' to have every label")
    if "outlet" not in tags.columns:
        warn(f"{args.tags}: no outlet column: every article counts as {UNKNOWN_OUTLET} and there are no outlet panels; "
             "tag article files, or give the sentence table an outlet column")
    say(trends_text(res))
    if args.out:
        write_table(res["table"], args.out, spreadsheet=True)
        say(f"wrote {args.out}")
    if args.plot:
        write_plot(res, args.plot)
        say(f"wrote {args.plot}")
    if args.report:
        say(f"wrote {write_coverage(res, args.report)}")
    if args.ties:
        table = res["ties"]
        if table is None:
            raise PipelineError("the tags carry no blame ties; tag the articles again with a tie extractor in models/ties/ "
                                "('talks ties train')", args.tags)
        write_table(table, args.ties, spreadsheet=True)
        top = table[table["outlet"] == "(all)"].groupby(["source", "target"])["sentences"].sum().nlargest(5)
        say("who blames whom, most sentences: " + "; ".join(f"{s} -> {t} {n}" for (s, t), n in top.items()))
        say(f"wrote {args.ties} ({len(table)} rows: period, outlet, source, target, sentences, articles, share with 95% interval)")
    return 0


def cmd_share_error(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from pipeline.analysis.share_error import share_error
    from pipeline.store import atomic_write_text

    parts = tuple(p for p in args.parts.split(",") if p) if args.parts else None
    res = share_error(project_of(args), model=args.model, by=args.by, parts=parts, n_boot=args.n_boot)
    say(f"{res.model_id} on {res.articles} held-out articles ({res.sentences} sentences; {res.note}), by {res.by}"
        + (f"; {res.undated_articles} undated article(s) left out" if res.undated_articles else ""))
    say("mean absolute error of the label shares against the hand-labelled shares (raw: the model's share; rates, acc, "
        "pacc: corrected with rates from the other periods' articles):")
    for lab, e in res.labels.items():
        say(f"  {lab:<13} " + "  ".join(f"{m} {v:.3f}" for m, v in e.mae.items())
            + f"  -> {('adopted: ' + e.adopted) if e.adopted else 'raw (no correction is better in 97.5% of resamples)'}; "
            f"hand-labelled share inside the interval in {e.covered}/{e.periods} periods, {e.covered_error}/{e.periods} with the "
            "model's error")
    say("  all labels    " + "  ".join(f"{m} {v:.3f}" for m, v in res.overall.items()))
    if args.out:
        atomic_write_text(args.out, json.dumps(asdict(res), indent=1) + "\n")
        say(f"wrote {args.out}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    sp = add_command(sub, "trends", cmd_trends, "Label shares per outlet and period (ISO week by default) from a tags file, "
                     "with 95% article-bootstrap intervals, each label's biggest rise and the sentences behind it; plots and "
                     "an HTML coverage page.")
    sp.add_argument("tags", help="a tags file written by 'talks tag' from article files (.csv/.jsonl/.parquet): its rows carry date and outlet")
    sp.add_argument("--by", default="week", choices=["week", "day", "month"], help="period (default: week, ISO weeks from Monday)")
    sp.add_argument("--out", help="write the tidy table (outlet, period, start, label, articles, sentences, tagged, share, "
                    "ci_low, ci_high, err_low, err_high, corrected, change, change_low, change_high) to this .csv, .jsonl or .parquet")
    sp.add_argument("--share-error", help="a 'talks share-error --out' file of the tagging model: fill the corrected column "
                    "for the labels where a correction beat raw shares on held-out text")
    sp.add_argument("--plot", help="write the plots (shares over time, outlets side by side, spikes) to this PNG")
    sp.add_argument("--outlets", type=int, default=6, help="outlets side by side: the N with the most sentences (default: 6)")
    sp.add_argument("--on-topic", action="store_true", help="count only the articles flagged on topic (about Syria: see the "
                    "summary's on_topic column)")
    sp.add_argument("--ties", help="also write who blames whom by period and outlet (source, target, sentences, articles, "
                    "share of the period's blame sentences with a 95%% article-bootstrap interval) to this .csv, .jsonl or .parquet")
    sp.add_argument("--report", help="write DIR/coverage.html, a self-contained page: counts, plots, most-tagged articles, "
                    "example sentences, and every tagged sentence, searchable by text and filterable by outlet, label and period")
    root_opt(sp)
    labels_opt(sp)
    models_opt(sp, "models folder: the model named in the tags' model_id column is looked for here, for its error rates on the "
               "held-out set (default: models)")

    sp = add_command(sub, "share-error", cmd_share_error, "How far the model's label shares fall from the hand-labelled shares "
                     "per label and period on the held-out articles it never trained on, raw and corrected (error rates, "
                     "QuaPy's ACC and PACC fitted on the other periods).")
    sp.add_argument("--model", default=None, help="model id or folder (default: current)")
    sp.add_argument("--by", default="month", choices=["week", "day", "month"], help="period (default: month)")
    sp.add_argument("--parts", help="only these held-out parts (comma-separated: stratified, random, hand-picked, story); "
                    "default: the articles the model's card says it was kept from")
    sp.add_argument("--n-boot", type=int, default=200, help="article resamples of the adoption test (default: 200)")
    sp.add_argument("--out", help="write the result as JSON to this file")
    root_opt(sp)
    labels_opt(sp)
    models_opt(sp)
