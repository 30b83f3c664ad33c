"""``talks tag`` and ``talks explain``: a model applied to new text (stage 5)."""
from __future__ import annotations

import argparse
import json

from pipeline.cli._util import MODEL_NAME, add_command, is_stdout, labels_opt, models_opt, progress, project_of, root_opt, say, warn
from pipeline.errors import PipelineError


def _thresholds(items: list[str] | None) -> dict[str, float]:
    """``--threshold LABEL=VALUE`` options as a dict."""
    out = {}
    for item in items or []:
        label, _, value = item.partition("=")
        try:
            out[label.strip()] = float(value)
        except ValueError:
            raise PipelineError(f"--threshold {item!r}: write LABEL=VALUE, e.g. --threshold blame=0.4") from None
    return out


def cmd_tag(args: argparse.Namespace) -> int:
    if args.engine == "dask":
        return _tag_dask(args)
    if args.scheduler:
        raise PipelineError("--scheduler is the address of a Dask scheduler; add --engine dask")
    from pipeline.tagging.tag import tag

    with progress(None, "tagging") as tick:
        res = tag(args.inputs, args.out, summary=args.summary, model=args.model, models_dir=args.models,
                  jobs=1 if args.jobs is None else args.jobs, progress=tick, raw_csv=args.raw_csv, thresholds=_thresholds(args.threshold))
    on_stdout = is_stdout(args.out)  # then only the tags go there
    wrote = None if on_stdout else f": wrote {res['out']}"
    return _tag_outcome(res, wrote, "the outputs were left as they were", None if args.out == "-" else args.out)


def _tag_outcome(res: dict, wrote: str | None, kept: str, out: str | None) -> int:
    """What both engines say after a run: its warnings, the inputs skipped, what was written; the exit code."""
    for w in res["warnings"]:
        warn(w)
    for e in res["errors"]:
        warn(f"{e} (skipped)")
    if not res["written"]:
        raise PipelineError(f"every input failed, nothing was tagged: {kept}; fix the inputs named above", out)
    if wrote:
        say(f"tagged {res['sentences']} sentences with model {res['model_id']}{wrote}")
        if res.get("summary"):
            say(f"per-article summary of {res['articles']} articles: {res['summary']}")
    return 1 if res["errors"] else 0


def _tag_dask(args: argparse.Namespace) -> int:
    from pipeline.tagging.cluster import tag_dask
    from pipeline.tagging.tag import resolve_jobs

    if args.scheduler and args.jobs is not None:
        raise PipelineError("--jobs sets the workers of the LocalCluster started without --scheduler; "
                            "an existing cluster has its own workers")
    with progress(None, "tagging") as tick:
        res = tag_dask(args.inputs, args.out, summary=args.summary, model=args.model, models_dir=args.models,
                       scheduler=args.scheduler, workers=None if args.jobs is None else resolve_jobs(args.jobs),
                       thresholds=_thresholds(args.threshold), progress=tick, raw_csv=args.raw_csv)
    return _tag_outcome(res, f" on {res['workers'] or 0} Dask workers: wrote {res['partitions']} Parquet files to {res['out']}",
                        "the output folder was left as it was", args.out)


def cmd_explain(args: argparse.Namespace) -> int:
    from pipeline.model.loading import load_model
    from pipeline.evaluation.explain import explain

    res = explain(load_model(args.model, args.models), args.text, top=args.top, project=project_of(args))
    if args.json:
        say(json.dumps(res, indent=2))
        return 0
    for lab in res["labels"]:
        mark = "YES" if lab["tagged"] else "no "
        say(f"{mark} {lab['label']:<13} p={lab['probability']:.3f} (threshold {lab['threshold']:.3f})")
        if lab["up"]:
            say("      up:   " + ", ".join(f"{t['term']} +{t['weight']:.2f}" for t in lab["up"]))
        if lab["down"]:
            say("      down: " + ", ".join(f"{t['term']} {t['weight']:.2f}" for t in lab["down"]))
    if res["nearest"]:
        say("\nmost similar labelled sentences:")
        for n in res["nearest"]:
            say(f"  {n['similarity']:.2f}  [{', '.join(n['labels']) or 'none'}]  {n['text']}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    sp = add_command(sub, "tag", cmd_tag, "Tag every sentence of article files/folders/globs or of a sentence table "
                     "(CSV/JSONL/Parquet with a 'text' column).")
    sp.add_argument("inputs", nargs="+", help="article files, folders, globs, or .csv/.jsonl/.parquet sentence tables")
    sp.add_argument("--out", required=True, help="output .csv, .jsonl or .parquet; '-' writes CSV to stdout; "
                    "with --engine dask a folder (part-00000.parquet, ...)")
    sp.add_argument("--summary", help="also write a per-article summary (.csv/.jsonl/.parquet)")
    sp.add_argument("--model", help=f"{MODEL_NAME} (default: current)")
    models_opt(sp)
    sp.add_argument("--jobs", type=int, default=None, help="worker processes; -1 or 0: one per core (default: 1; "
                    "with --engine dask and no --scheduler: the LocalCluster's workers, default one per core)")
    sp.add_argument("--engine", choices=("local", "dask"), default="local", help="local: this machine's processes (default); "
                    "dask: a Dask cluster, article files only, --out a folder (needs pip install 'talks[dask]')")
    sp.add_argument("--scheduler", metavar="ADDRESS", help="with --engine dask: a running Dask scheduler, e.g. tcp://10.0.0.5:8786 "
                    "(default: start a LocalCluster); its workers need talks installed and the input files at the same paths")
    sp.add_argument("--threshold", action="append", metavar="LABEL=VALUE", help="tag LABEL at this probability instead of the "
                    "model's stored threshold (repeatable); recorded in the model_id column, e.g. tfidf-a5739769ea+blame=0.4")
    sp.add_argument("--raw-csv", action="store_true", help="write CSV cells as they are; by default a cell starting with = + - @ "
                    "(a spreadsheet formula) gets a leading ' so that opening the file cannot run it")

    sp = add_command(sub, "explain", cmd_explain, "Show each label's probability for a sentence and the terms that pushed it up or down.")
    sp.add_argument("text", help="the sentence to explain")
    sp.add_argument("--model", help=f"{MODEL_NAME} (default: current)")
    models_opt(sp)
    sp.add_argument("--top", type=int, default=6, help="terms to show per direction, and similar labelled sentences for "
                    "embedding models (default: 6)")
    labels_opt(sp)
    root_opt(sp)
    sp.add_argument("--json", action="store_true", help="print JSON")
