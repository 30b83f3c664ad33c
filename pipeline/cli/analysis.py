"""``talks trends``: label shares over time from a tags file (stage 7)."""
from __future__ import annotations

import argparse

from pipeline.cli._util import add_command, say, warn
from pipeline.errors import PipelineError


def cmd_trends(args: argparse.Namespace) -> int:
    from pipeline.analysis.coverage import trends_text, write_coverage, write_plot
    from pipeline.analysis.trends import load_tags, trends
    from pipeline.store import table_format, write_table

    for target in (args.out, args.ties):
        if target:
            table_format(target)  # an unknown extension stops the run before the work
    if args.outlets < 1:
        raise PipelineError("--outlets must be 1 or more")
    res = trends(load_tags(args.tags), by=args.by, on_topic=args.on_topic, outlets=args.outlets)
    res["source"] = args.tags
    if res["counts"]["undated"]:
        warn(f"{res['counts']['undated']} article(s) without a date (YYYY-MM-DD) left out; tag article files, "
             "or give the sentence table a date column")
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


def register(sub: argparse._SubParsersAction) -> None:
    sp = add_command(sub, "trends", cmd_trends, "Label shares per outlet and period (ISO week by default) from a tags file, "
                     "with 95% article-bootstrap intervals, each label's biggest rise and the sentences behind it; plots and "
                     "an HTML coverage page.")
    sp.add_argument("tags", help="a tags file written by 'talks tag' from article files (.csv/.jsonl/.parquet): its rows carry date and outlet")
    sp.add_argument("--by", default="week", choices=["week", "day", "month"], help="period (default: week, ISO weeks from Monday)")
    sp.add_argument("--out", help="write the tidy table (outlet, period, start, label, articles, sentences, tagged, share, "
                    "ci_low, ci_high, change, change_low, change_high) to this .csv, .jsonl or .parquet")
    sp.add_argument("--plot", help="write the plots (shares over time, outlets side by side, spikes) to this PNG")
    sp.add_argument("--outlets", type=int, default=6, help="outlets side by side: the N with the most sentences (default: 6)")
    sp.add_argument("--on-topic", action="store_true", help="count only the articles flagged on topic (about Syria: see the "
                    "summary's on_topic column)")
    sp.add_argument("--ties", help="also write who blames whom by period and outlet (source, target, sentences, articles, "
                    "share of the period's blame sentences with a 95%% article-bootstrap interval) to this .csv, .jsonl or .parquet")
    sp.add_argument("--report", help="write DIR/coverage.html, a self-contained page: counts, plots, most-tagged articles, "
                    "example sentences, a table filterable by label")
