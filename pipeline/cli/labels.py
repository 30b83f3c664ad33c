"""``talks labels check|stats|agree|import|export|migrate``, ``talks label`` and ``talks queue``: the hand labels
(stage 2) and labelling with a model's help (stage 4)."""
from __future__ import annotations

import argparse
import json
import sys

from pipeline.cli._util import (MODEL_NAME, Default, add_command, add_group, is_stdout, labels_opt, models_opt, project_of,
                                root_opt, say, table, warn)
from pipeline.errors import PipelineError


def cmd_labels_check(args: argparse.Namespace) -> int:
    from pipeline.labels.gold import find_problems

    problems = find_problems(project_of(args))
    for p in problems:
        say(str(p))
    errors = sum(1 for p in problems if not p.warning)
    if problems:
        say(f"{errors} problem(s), {len(problems) - errors} warning(s)")
    if errors:
        return 1
    say("labels OK")
    return 0


def cmd_labels_stats(args: argparse.Namespace) -> int:
    from pipeline.labels.agreement import label_stats

    st = label_stats(project_of(args))
    if args.json:
        say(json.dumps(st, indent=2))
        return 0
    say(f"{st['labelled']} of {st['corpus_sentences']} corpus sentences labelled "
        f"({st['coverage']:.0%}) in {st['articles_labelled']} of {st['corpus_articles']} articles; "
        f"{st['junk']} junk; annotators: {', '.join(st['annotators']) or '-'}\n")
    sg = st["suggestions"]
    if sg["shown"]:
        changes = "".join(f"; {r['label']} added {r['added']}, removed {r['removed']}" for r in sg["per_label"] if r["added"] or r["removed"])
        say(f"suggestions: {sg['shown']} shown, {sg['accepted']} accepted as is{changes}\n")
    say(table(st["per_label"], ["label", "positive", "share"]))
    say("\nco-occurrence (sentences carrying both labels):")
    labels = [r["label"] for r in st["per_label"]]
    say(table([{"label": a, **{b: st["cooccurrence"][a][b] for b in labels}} for a in labels], ["label", *labels]))
    say("\nper article:")
    say(table(st["per_article"], ["article_id", "labelled", "sentences", *labels]))
    if st.get("problems"):
        warn(f"{st['problems']} label row problem(s) left out of these counts; run 'talks labels check'")
    return 0


def cmd_labels_agree(args: argparse.Namespace) -> int:
    from pipeline.labels.agreement import agreement

    res = agreement(args.a.split(","), args.b.split(","), args.out, articles=args.articles.split(",") if args.articles else None)
    say(f"{res['n']} sentences labelled by both ({res['a']} vs {res['b']})\n")
    say(table(res["per_label"], ["label", "agreement", "kappa", "alpha", "a_pos", "b_pos"]))
    say(f"\n{res['junk_disagreements']} sentence(s) junk for one annotator only")
    say(f"{res['disagreements']} disagreement(s) written to {res['out']} for adjudication")
    return 0


def cmd_labels_import(args: argparse.Namespace) -> int:
    from pipeline.labels.interop import import_labels

    res = import_labels(args.file, args.format, args.annotator, project_of(args))
    if res["rows"]:
        say(f"imported {res['rows']} labelled sentences into {res['path']}")
    else:
        say(f"nothing imported; {res['path']} " + ("left as it was" if res["total"] else "not created"))
    for w in res["warnings"]:
        warn(w)
    # a skipped item is a label the user meant to bring in
    return 1 if res["skipped"] or not res["rows"] else 0


def cmd_labels_export(args: argparse.Namespace) -> int:
    from pipeline.labels.interop import export_labels

    res = export_labels(args.out, args.format, project_of(args), all_sentences=args.all)
    if not is_stdout(args.out):  # on stdout only the export
        say(f"exported {res['rows']} sentences to {res['path']} ({args.format})")
    return 0


def cmd_labels_migrate(args: argparse.Namespace) -> int:
    from pipeline.labels.migrate import migrate_labels

    res = migrate_labels(project_of(args), args.old, drop_removed=args.drop_removed, dry_run=args.dry_run)
    rows = sum(res.rewritten.values())
    say(f"{'would move' if res.dry_run else 'moved'} {len(res.moves)} sentence id(s) to the sentences they became: "
        f"{rows} row(s) in {len(res.rewritten)} of {res.tables} label tables"
        + (f" ({res.dropped} row(s) of removed sentences deleted)" if res.dropped else ""))
    for w in res.warnings:
        warn(str(w).replace(": warning: ", ": ", 1))
    if res.unmatched_in_stores:
        warn(f"{res.unmatched_in_stores} label store row(s) still name sentences not in the corpus; see the warnings above")
    return 1 if res.unmatched_in_stores else 0


def cmd_label(args: argparse.Namespace) -> int:
    common = dict(annotator=args.annotator, project=project_of(args), order=args.order,
                  queue=args.queue, article=args.article, suggestions=not args.no_suggest, revisit=args.revisit)
    if args.web:
        from pipeline.labelling.web import run_web_labeller

        def ready(server, notice: str | None) -> None:
            if notice:
                warn(notice)
            say(f"serving {server.url} — Ctrl-C to stop")
            sys.stdout.flush()  # whoever started us (a script, a test) waits for this line

        res = run_web_labeller(**common, port=args.port or 0, ready=ready)
        if res["errors"]:
            warn(f"{len(res['errors'])} request(s) failed unexpectedly (first: {res['errors'][0]}); "
                 "please report it as a bug")
    else:
        from pipeline.labelling.terminal import run_labeller

        if args.port is not None:
            raise PipelineError("--port only goes with --web")
        res = run_labeller(**common)
    say(f"saved {res['saved']} decision(s) to {res['path']}; {res['remaining']} sentence(s) left in this queue")
    return 0


def cmd_queue(args: argparse.Namespace) -> int:
    from pipeline.labelling.queue import build_queue
    from pipeline.labels.pool import MIN_WORDS

    res = build_queue(project_of(args), model=args.model, size=args.size, random_share=args.random_share, seed=args.seed,
                      per_article=args.per_article, out=args.out, topic_weight=args.topic_weight,
                      positive_share=args.positive_share,
                      positive_labels=tuple(x.strip() for x in args.positive_labels.split(",") if x.strip()))
    for w in res["warnings"]:
        warn(w)
    c = res["counts"]
    say(f"pool: {c['pool']} of {c['corpus']} corpus sentences, {c['pool_topic']} of them in coverage of the war or the talks "
        f"({c['labelled']} labelled, {c['heldout']} in held-out articles or their stories "
        f"and {c['short']} shorter than {MIN_WORDS} words left out)")
    say(f"queued {c['uncertain'] + c['random'] + c['likely']} with model {res['model_id']}: {c['uncertain']} the model is least sure of, "
        f"{c['random']} drawn at random" + (f", {c['likely']} likely positives of the rare labels" if c["likely"] else ""))
    for part, mk in res["makeup"].items():
        n = max(mk["sentences"], 1)
        say(f"  {part}: {mk['sentences']} sentences, {mk['syria_coverage'] / n:.0%} from coverage of the war or the talks "
            f"({mk['on_topic'] / n:.0%} on-topic by the tag's flag); pre-ticked: "
            + ", ".join(f"{lab} {k}" for lab, k in mk["suggested"].items()))
    say(f"wrote {res['path']}")
    # the next command repeats only the folders the user typed: defaults are found again from the project root
    where = ("" if isinstance(args.labels, Default) else f" --labels {args.labels}") + ("" if isinstance(args.root, Default) else f" --root {args.root}")
    say(f"next: talks label --annotator NAME --queue {res['path']}{where}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    lsub = add_group(sub, "labels", "Check, summarise, compare, import and export hand labels.")
    sp = add_command(lsub, "check", cmd_labels_check, "Validate every label file against the corpus; list every problem with file and line.")
    labels_opt(sp)
    root_opt(sp)
    sp = add_command(lsub, "stats", cmd_labels_stats, "Counts per label and article, label co-occurrence, share of the corpus labelled.")
    labels_opt(sp)
    root_opt(sp)
    sp.add_argument("--json", action="store_true", help="print JSON instead of tables")
    sp = add_command(lsub, "agree", cmd_labels_agree, "Agreement (percent, Cohen's kappa, Krippendorff's alpha) between two annotators' files.")
    sp.add_argument("a", help="first annotator's label file (or several, comma-separated: one side of a double pass)")
    sp.add_argument("b", help="second annotator's label file (or several, comma-separated)")
    sp.add_argument("--out", default=Default("labels/disagreements.csv"), help="where to write the disagreements for adjudication")
    sp.add_argument("--articles", help="only these article ids (comma-separated), e.g. the ones labelled first")
    sp = add_command(lsub, "import", cmd_labels_import, "Import labels from Label Studio JSON or doccano JSONL.")
    sp.add_argument("file", help="the export file")
    sp.add_argument("--format", required=True, choices=["labelstudio", "doccano"], help="format of the file")
    sp.add_argument("--annotator", required=True, help="annotator name; rows go to labels/<annotator>.csv")
    labels_opt(sp)
    root_opt(sp)
    sp = add_command(lsub, "export", cmd_labels_export, "Export sentences with their gold labels as Label Studio JSON or doccano JSONL.")
    sp.add_argument("--out", required=True, help="output file")
    sp.add_argument("--format", required=True, choices=["labelstudio", "doccano"], help="output format")
    sp.add_argument("--all", action="store_true", help="also export unlabelled corpus sentences (as tasks without annotations)")
    labels_opt(sp)
    root_opt(sp)
    sp = add_command(lsub, "migrate", cmd_labels_migrate, "After a cleaning change re-ingested the corpus: move every label "
                     "file's sentence ids to the sentences they became (same article, the old text or most of it).")
    sp.add_argument("--from", dest="old", required=True, metavar="OLD_SENTENCES_CSV",
                    help="a copy of corpus/sentences.csv made before the change")
    sp.add_argument("--drop-removed", action="store_true", help="delete label store rows of sentences the cleaning "
                    "removed (each is reported); by default they stay, and 'talks labels check' lists them")
    sp.add_argument("--dry-run", action="store_true", help="say what would move; write nothing")
    labels_opt(sp)
    root_opt(sp)

    sp = add_command(sub, "label", cmd_label, "Label sentences in the terminal, or in the browser with --web (keys 1-4 toggle, "
                     "0 none, j junk, Enter save, u undo, s skip, q quit); the current model's suggestions come pre-ticked "
                     "unless --no-suggest.")
    sp.add_argument("--annotator", required=True, help="your name; decisions go to labels/<annotator>.csv")
    sp.add_argument("--order", default="articles", choices=["articles", "unlabelled"], help="what to show next: whole articles "
                    "in order, or any unlabelled sentence (default: articles)")
    sp.add_argument("--queue", help="a file of sentence ids (one per line, or a CSV with sentence_id) to label in that order")
    sp.add_argument("--article", help="label only this article id")
    sp.add_argument("--revisit", action="store_true", help="also show sentences you labelled before, with your decisions "
                    "(by default a session resumes with what you have not labelled yet)")
    sp.add_argument("--no-suggest", action="store_true", help="do not pre-tick the model's suggestions or show its probabilities: "
                    "use it for blind passes (independent double labelling must not be anchored by the model)")
    models_opt(sp, "models folder whose current model makes the suggestions (default: models)")
    sp.add_argument("--web", action="store_true", help="label in the browser instead: serve a page on 127.0.0.1 (several tabs may label at once)")
    sp.add_argument("--port", type=int, help="port for --web (default 0: any free port; the address is printed)")
    labels_opt(sp)
    root_opt(sp)

    sp = add_command(sub, "queue", cmd_queue, "Pick the unlabelled sentences to label next: those the current model is least "
                     "sure of (rare labels weighted up, a few per article, no near duplicates) plus a random share; writes "
                     "labels/queue.csv for 'talks label --queue'.")
    sp.add_argument("--size", type=int, default=100, help="sentences in the queue (default: 100)")
    sp.add_argument("--random-share", type=float, default=0.2, help="share drawn uniformly at random, which keeps quality "
                    "estimates on queued labels unbiased (default: 0.2)")
    sp.add_argument("--per-article", type=int, default=3, help="at most this many uncertain sentences per article (default: 3)")
    sp.add_argument("--positive-share", type=float, default=0.0, help="share given to the sentences most likely to carry the "
                    "rare labels (blame, humanitarian), when the gold lacks their positives (default: 0)")
    sp.add_argument("--positive-labels", default="humanitarian,blame", help="the labels --positive-share looks for, "
                    "comma-separated (default: humanitarian,blame)")
    sp.add_argument("--topic-weight", type=float, default=0.25, help="weight of the uncertainty of sentences from articles that "
                    "are not coverage of the war or the talks (1: no preference; 0: only the random share reaches them; default: 0.25)")
    sp.add_argument("--seed", type=int, default=13, help="random seed; the same inputs and seed give the same queue (default: 13)")
    sp.add_argument("--model", help=f"{MODEL_NAME} (default: current)")
    sp.add_argument("--out", help="queue file (default: queue.csv in the labels folder)")
    labels_opt(sp)
    root_opt(sp)
    models_opt(sp)
