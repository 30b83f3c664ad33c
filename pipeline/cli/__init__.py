"""The ``talks`` command line: parse arguments, call one stage function, show the result.

This is the only module that prints, draws progress bars or sets exit codes.
Stage modules raise :class:`PipelineError`; ``main`` turns it into one
``error: ...`` line and exit status 1 (no traceback).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from pipeline import __version__
from pipeline.metrics import format_interval
from pipeline.errors import PipelineError
from pipeline.project import Root, find_root


# --------------------------------------------------------------------------
# Output helpers
# --------------------------------------------------------------------------
def _say(*args) -> None:
    print(*args)


def _warn(msg: str) -> None:
    print(f"warning: {msg}", file=sys.stderr)


# Seconds between progress lines when stderr is not a terminal: a log or CI
# gets a line now and then instead of a bar's carriage returns.
LOG_EVERY = 30.0


@contextmanager
def _progress(total: int | None, desc: str, unit: str = "file"):
    """A tqdm bar (count, total, rate) on a terminal; elsewhere (CI, pipes, logs) a line every LOG_EVERY seconds.

    Yields ``tick(n=1, total=None)``: a stage may set the total once it knows it.
    """
    if not sys.stderr.isatty():
        yield _ProgressLog(desc, unit, total).tick
        return
    from tqdm import tqdm

    bar = tqdm(total=total, desc=desc, unit=unit, leave=False)

    def tick(n: int = 1, total: int | None = None) -> None:
        if total is not None:
            bar.total = total
            bar.refresh()
        bar.update(n)

    try:
        yield tick
    finally:
        bar.close()


class _ProgressLog:
    """Progress as occasional stderr lines: ``tagging: 320/1803 files, 11.2 files/s``."""

    def __init__(self, desc: str, unit: str, total: int | None):
        self.desc, self.unit, self.total, self.done = desc, unit, total, 0
        self.start = self.last = time.monotonic()

    def tick(self, n: int = 1, total: int | None = None) -> None:
        if total is not None:
            self.total = total
        self.done += n
        now = time.monotonic()
        if now - self.last >= LOG_EVERY:
            self.last = now
            of = f"/{self.total}" if self.total else ""
            print(f"{self.desc}: {self.done}{of} {self.unit}s, {self.done / (now - self.start):.1f} {self.unit}s/s",
                  file=sys.stderr, flush=True)


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
    from pipeline.corpus.store import build_corpus
    from pipeline.corpus.ingest import expand_inputs

    problems: list = []  # what the inputs hold that cannot be ingested: an unreadable folder, a PDF
    files = expand_inputs(args.paths, problems)  # once: the bar needs the count, build_corpus the files
    for e in problems:
        _warn(f"{e} (skipped)")
    with _progress(len(files), "ingest") as tick:
        res = build_corpus(files, args.root, progress=tick, replace=args.replace)
    for e in res["errors"]:
        _warn(f"{e} (skipped)")
    for d in res["duplicates"]:
        _warn(d)
    _say(f"read {res['files']} files: {res['added']} articles added, {res['updated']} updated, {res['unchanged']} unchanged; "
         f"the corpus has {res['corpus_articles']} articles, {res['sentences']} sentences"
         + ("" if args.replace else " (articles from earlier runs kept; --replace starts afresh)"))
    _say(f"wrote {res['articles_path']} and {res['sentences_path']}")
    return 1 if problems or res["errors"] else 0


def cmd_corpus_stats(args) -> int:
    from pipeline.corpus.store import corpus_stats

    st = corpus_stats(args.root)
    if args.json:
        _say(json.dumps(st, indent=2))
        return 0
    _say(f"{st['articles']} articles, {st['sentences']} sentences\n")
    for table, name in ((st["by_outlet"], "outlet"), (st["by_year"], "year")):
        _say(_table([{name: r["key"], **r} for r in table], [name, "articles", "sentences"]) + "\n")
    return 0


def cmd_corpus_build_punkt(args) -> int:
    from pipeline.corpus.store import load_articles
    from pipeline.corpus.split import PUNKT_PATH, train_punkt

    arts = load_articles(args.root)
    res = train_punkt(p for a in arts for p in a.paragraphs)
    _say(f"learnt {res['abbreviations']} abbreviations from {res['texts']} unique paragraphs; wrote {PUNKT_PATH}")
    _say("re-run 'talks ingest' to re-split the corpus with them")
    return 0


# --------------------------------------------------------------------------
# Label commands (store and tools live in labels.py / labeltool.py)
# --------------------------------------------------------------------------
def cmd_labels_check(args) -> int:
    from pipeline.labels.store import find_problems

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
    from pipeline.labels.agreement import label_stats

    st = label_stats(args.labels, args.root)
    if args.json:
        _say(json.dumps(st, indent=2))
        return 0
    _say(
        f"{st['labelled']} of {st['corpus_sentences']} corpus sentences labelled "
        f"({st['coverage']:.0%}) in {st['articles_labelled']} of {st['corpus_articles']} articles; "
        f"{st['junk']} junk; annotators: {', '.join(st['annotators']) or '-'}\n"
    )
    sg = st["suggestions"]
    if sg["shown"]:
        changes = "".join(f"; {r['label']} added {r['added']}, removed {r['removed']}" for r in sg["per_label"] if r["added"] or r["removed"])
        _say(f"suggestions: {sg['shown']} shown, {sg['accepted']} accepted as is{changes}\n")
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
    from pipeline.labels.agreement import agreement

    res = agreement(args.a.split(","), args.b.split(","), args.out, articles=args.articles.split(",") if args.articles else None)
    _say(f"{res['n']} sentences labelled by both ({res['a']} vs {res['b']})\n")
    _say(_table(res["per_label"], ["label", "agreement", "kappa", "alpha", "a_pos", "b_pos"]))
    _say(f"\n{res['junk_disagreements']} sentence(s) junk for one annotator only")
    _say(f"{res['disagreements']} disagreement(s) written to {res['out']} for adjudication")
    return 0


def cmd_labels_import(args) -> int:
    from pipeline.labels.interop import import_labels

    res = import_labels(args.file, args.format, args.annotator, args.labels, args.root)
    _say(f"imported {res['rows']} labelled sentences into {res['path']}")
    for w in res.get("warnings", []):
        _warn(w)
    return 0


def cmd_labels_export(args) -> int:
    from pipeline.labels.interop import export_labels

    res = export_labels(args.out, args.format, args.labels, args.root, all_sentences=args.all)
    _say(f"exported {res['rows']} sentences to {res['path']} ({args.format})")
    return 0


def cmd_label(args) -> int:
    common = dict(annotator=args.annotator, labels_dir=args.labels, corpus_root=args.root, order=args.order,
                  queue=args.queue, article=args.article, models_dir=None if args.no_suggest else args.models)
    if args.web:
        from pipeline.labelling.web import run_web_labeller

        def ready(server, notice: str | None) -> None:
            if notice:
                _warn(notice)
            _say(f"serving {server.url} — Ctrl-C to stop")
            sys.stdout.flush()  # whoever started us (a script, a test) waits for this line

        res = run_web_labeller(**common, port=args.port or 0, ready=ready)
    else:
        from pipeline.labelling.terminal import run_labeller

        if args.port is not None:
            raise PipelineError("--port only goes with --web")
        res = run_labeller(**common)
    _say(f"saved {res['saved']} decision(s) to {res['path']}; {res['remaining']} sentence(s) left in this queue")
    return 0


# --------------------------------------------------------------------------
# Model commands
# --------------------------------------------------------------------------
def cmd_queue(args) -> int:
    from pipeline.labelling.queue import MIN_WORDS, build_queue

    res = build_queue(args.labels, args.root, model=args.model, models_dir=args.models, size=args.size,
                      random_share=args.random_share, seed=args.seed, per_article=args.per_article, out=args.out)
    for w in res["warnings"]:
        _warn(w)
    c = res["counts"]
    _say(f"pool: {c['pool']} of {c['corpus']} corpus sentences ({c['labelled']} labelled, {c['heldout']} in held-out articles "
         f"and {c['short']} shorter than {MIN_WORDS} words left out)")
    _say(f"queued {c['uncertain'] + c['random']} with model {res['model_id']}: {c['uncertain']} the model is least sure of, "
         f"{c['random']} drawn at random")
    _say("suggested positives: " + ", ".join(f"{lab} {n}" for lab, n in c["suggested"].items()))
    _say(f"wrote {res['path']}")
    where = ("" if isinstance(args.labels, _Default) else f" --labels {args.labels}") + ("" if isinstance(args.root, _Default) else f" --root {args.root}")
    _say(f"next: talks label --annotator NAME --queue {res['path']}{where}")
    return 0


def cmd_train(args) -> int:
    from pipeline.evaluation.compare import compare_models
    from pipeline.model.registry import current_id, promotion_decision, set_current
    from pipeline.model.selection import GRIDS, N_SPLITS, QUICK, train

    grid = GRIDS[args.features]
    if args.quick:
        grid = [QUICK[args.features]]
    with _progress(len(grid) * N_SPLITS, "cross-validating", unit="fit") as tick:
        card = train(args.labels, args.root, args.models, grid=grid, set_current=False, progress=tick)
    cv = card["cv_metrics"]
    _say(f"model {card['model_id']}: {card['features']} features, C={card['parameters']['C']}")
    _say(f"trained on {card['training']['sentences']} sentences from {card['training']['articles']} articles "
         "(held-out articles left out)")
    _say(_table(card["selection"]["trials"], ["features", "C", "macro_ap", "macro_f1_tuned"]))
    _say(f"(selection only: cross-validated macro-F1 {cv['macro_f1']:.3f} with thresholds tuned on the same folds is optimistic)")
    held = card.get("heldout")
    if held:
        hm = held["metrics"]
        rows = [{"label": lab, "threshold": card["thresholds"][lab], **hm["per_label"][lab],
                 "95% CI": format_interval(hm["per_label"][lab]["f1_ci"])} for lab in card["labels"]]
        _say(f"\nscore on the held-out set ({held['sentences']} sentences, {held['articles']} articles, version {held['sha256'][:12]}):")
        _say(_table(rows, ["label", "threshold", "precision", "recall", "f1", "95% CI", "support"]))
        _say(f"held-out macro-F1 {hm['macro']['f1']:.3f} {format_interval(hm['macro']['f1_ci'])}")
    else:
        _warn("no held-out set, so no honest score; set one aside with 'talks heldout init' and retrain")
    _say(f"wrote {args.models}/{card['model_id']}/")
    if args.quick or args.no_current:
        _say(f"not promoted ({'--quick' if args.quick else '--no-current'}); current stays {current_id(args.models)}")
        return 0
    cur = current_id(args.models)
    if cur == card["model_id"]:
        _say(f"{cur} is already current (same labels and settings)")
        return 0
    comparison = None
    if cur is not None and held:
        comparison = compare_models(cur, card["model_id"], args.models, args.labels, args.root)
        for w in comparison["warnings"]:
            _warn(w)
        _say("")
        _say(_compare_text(comparison, changed=5))
    ok, why = promotion_decision(comparison, force=args.force)
    if cur is not None and not held and not args.force:
        ok, why = False, "no held-out set to compare on; kept the current model (use --force to promote anyway)"
    if ok:
        set_current(args.models, card["model_id"], "train", why)
        _say(f"\npromoted {card['model_id']} to current ({why}); 'talks models rollback' undoes it")
        return 0
    _say(f"\nnot promoted: {why}")
    return 0


def _compare_text(c: dict, changed: int = 20) -> str:
    """A comparison as the console shows it: per-label F1 of A and B, the paired difference, changed sentences."""
    a, b = c["models"]
    d = c["difference"]
    rows = []
    for lab in [*a["metrics"]["per_label"], "macro"]:
        ma = a["metrics"]["macro"] if lab == "macro" else a["metrics"]["per_label"][lab]
        mb = b["metrics"]["macro"] if lab == "macro" else b["metrics"]["per_label"][lab]
        dd = (d["macro_f1"], d["macro_f1_ci"]) if lab == "macro" else (d["per_label"][lab]["f1"], d["per_label"][lab]["f1_ci"])
        rows.append({"label": lab, f"A {c['a']}": f"{ma['f1']:.3f} {format_interval(ma['f1_ci'])}", f"B {c['b']}": f"{mb['f1']:.3f} {format_interval(mb['f1_ci'])}",
                     "B - A [95% CI]": f"{dd[0]:+.3f} [{dd[1][0]:+.3f}, {dd[1][1]:+.3f}]"})
    out = [f"A = {c['a']} vs B = {c['b']} on {c['source']}: {c['sentences']} sentences, {c['articles']} articles; "
           f"F1 with 95% intervals from {c['n_boot']} paired article resamples",
           _table(rows, list(rows[0])), d["verdict"]]
    ch = c["changed"]
    out.append(f"{ch['sentences']} sentence(s) changed: {ch['label_changes_fixed']} label decision(s) fixed, "
               f"{ch['label_changes_broken']} broken")
    for r in ch["rows"][:changed]:
        what = ", ".join(f"{x['label']} {x['a']}->{x['b']} ({x['effect']})" for x in r["changes"])
        out.append(f"  {what}: {r['text'][:110]}")
    return "\n".join(out)


def cmd_compare(args) -> int:
    from pipeline.evaluation.compare import compare_models
    from pipeline.store import atomic_write_text

    c = compare_models(args.a, args.b, args.models, args.labels, args.root, data=args.data)
    for w in c["warnings"]:
        _warn(w)
    if args.json:
        atomic_write_text(args.json, json.dumps(c, indent=2) + "\n")
    _say(_compare_text(c, changed=args.show))
    if args.json:
        _say(f"wrote {args.json} (every changed sentence up to {len(c['changed']['rows'])})")
    return 0


def cmd_models_list(args) -> int:
    from pipeline.model.registry import list_models

    rows = list_models(args.models)
    if not rows:
        _say(f"no models in {args.models}/; train one with 'talks train'")
        return 0
    for r in rows:
        r["current"] = "*" if r["current"] else ""
    _say(_table(rows, ["current", "model_id", "created", "features", "sentences", "heldout_macro_f1", "heldout_version"]))
    return 0


def cmd_models_show(args) -> int:
    from pipeline.model.registry import current_id, read_card, read_history

    model_id = args.model or current_id(args.models)
    if model_id is None:
        raise PipelineError("no current model; name one: talks models show MODEL")
    card = read_card(args.models, model_id)
    if args.json:
        _say(json.dumps(card, indent=2))
        return 0
    from pipeline.model.folder import card_markdown

    _say(card_markdown(card))
    spans = [h for h in read_history(args.models) if h.get("model_id") == model_id]
    for h in spans:
        _say(f"{h['time']}  {h['action']}: current (replacing {h.get('previous') or 'nothing'}): {h.get('reason', '')}")
    return 0


def cmd_models_promote(args) -> int:
    from pipeline.model.registry import promote

    rec = promote(args.models, args.model, reason=args.reason)
    _say(f"{rec['model_id']} is now current (was {rec['previous']})")
    return 0


def cmd_models_rollback(args) -> int:
    from pipeline.model.registry import rollback

    rec = rollback(args.models)
    _say(f"rolled back: {rec['model_id']} is current again (was {rec['previous']})")
    return 0


def cmd_models_upgrade(args) -> int:
    from pipeline.model.artefact import MODEL_FILE
    from pipeline.model.folder import upgrade

    res = upgrade(args.model, args.models)
    if res["upgraded"]:
        _say(f"{res['model_id']}: re-saved as data ({res['path']}/{MODEL_FILE}); the pickle is gone")
    else:
        _say(f"{res['model_id']} is already saved as data; nothing to do")
    return 0


def cmd_models_history(args) -> int:
    from pipeline.model.registry import read_history

    rows = read_history(args.models)
    _say(_table(rows, ["time", "action", "model_id", "previous", "reason"]) if rows else "no changes recorded yet")
    return 0


def cmd_heldout_init(args) -> int:
    from pipeline.corpus.store import load_articles
    from pipeline.labels.heldout import choose_heldout, heldout_articles, heldout_path, write_heldout
    from pipeline.labels.store import gold_labels

    if heldout_articles(args.labels):
        raise PipelineError(f"a held-out set exists ({heldout_path(args.labels)}); it is chosen once. "
                            "Grow it with 'talks heldout add ARTICLE_ID ...'")
    articles = load_articles(args.root)
    chosen = choose_heldout(gold_labels(args.labels, args.root), articles, share=args.share, seed=args.seed)
    path = write_heldout(args.labels, chosen, articles, added=f"init share={args.share} seed={args.seed}")
    _say(f"held out {len(chosen)} articles (stratified by outlet and month) in {path}; commit it with your labels")
    return 0


def cmd_heldout_add(args) -> int:
    from pipeline.corpus.store import load_articles
    from pipeline.labels.heldout import write_heldout

    articles = load_articles(args.root)
    known = {a.article_id for a in articles}
    missing = [a for a in args.articles if a not in known]
    if missing:
        raise PipelineError(f"not in the corpus: {', '.join(missing)}; see the article_id column of {args.root}/sentences.csv")
    path = write_heldout(args.labels, args.articles, articles, added=args.reason)
    _say(f"added {len(args.articles)} article(s) to {path}; label all their sentences, then retrain")
    return 0


def cmd_heldout_show(args) -> int:
    from pipeline.labels.heldout import heldout_gold, heldout_version

    v = heldout_version(heldout_gold(args.labels, args.root))
    if args.json:
        _say(json.dumps(v, indent=2))
        return 0
    _say(f"held-out set version {v['sha256'][:12]}: {v['sentences']} gold sentences from {v['articles']} articles")
    _say(_table([{"label": k, "positives": n} for k, n in v["positives"].items()], ["label", "positives"]))
    return 0


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


def cmd_tag(args) -> int:
    if args.engine == "dask":
        return _tag_dask(args)
    if args.scheduler:
        raise PipelineError("--scheduler is the address of a Dask scheduler; add --engine dask")
    from pipeline.tagging.tag import tag

    with _progress(None, "tagging") as tick:
        res = tag(args.inputs, args.out, summary=args.summary, model=args.model, models_dir=args.models,
                  jobs=1 if args.jobs is None else args.jobs, progress=tick, raw_csv=args.raw_csv, thresholds=_thresholds(args.threshold))
    wrote = f": wrote {res['out']}" if args.out != "-" else None  # on stdout only the tags
    return _tag_outcome(res, wrote, "the outputs were left as they were", None if args.out == "-" else args.out)


def _tag_outcome(res: dict, wrote: str | None, kept: str, out: str | None) -> int:
    """What both engines say after a run: its warnings, the inputs skipped, what was written; the exit code."""
    for w in res["warnings"]:
        _warn(w)
    for e in res["errors"]:
        _warn(f"{e} (skipped)")
    if not res["written"]:
        raise PipelineError(f"every input failed, nothing was tagged: {kept}; fix the inputs named above", out)
    if wrote:
        _say(f"tagged {res['sentences']} sentences with model {res['model_id']}{wrote}")
        if res.get("summary"):
            _say(f"per-article summary of {res['articles']} articles: {res['summary']}")
    return 1 if res["errors"] else 0


def _tag_dask(args) -> int:
    from pipeline.tagging.cluster import tag_dask
    from pipeline.tagging.tag import resolve_jobs

    if args.scheduler and args.jobs is not None:
        raise PipelineError("--jobs sets the workers of the LocalCluster started without --scheduler; "
                            "an existing cluster has its own workers")
    with _progress(None, "tagging") as tick:
        res = tag_dask(args.inputs, args.out, summary=args.summary, model=args.model, models_dir=args.models,
                       scheduler=args.scheduler, workers=None if args.jobs is None else resolve_jobs(args.jobs),
                       thresholds=_thresholds(args.threshold), progress=tick, raw_csv=args.raw_csv)
    return _tag_outcome(res, f" on {res['workers'] or 0} Dask workers: wrote {res['partitions']} Parquet files to {res['out']}",
                        "the output folder was left as it was", args.out)


def cmd_explain(args) -> int:
    from pipeline.evaluation.explain import explain
    from pipeline.model.loading import load_model

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
    from pipeline.evaluation.evaluate import evaluate
    from pipeline.evaluation.report import console_summary, write_report

    with _progress(None, "evaluating", unit="fit") as tick:
        res = evaluate(args.labels, args.root, model=args.model, models_dir=args.models, data=args.data, progress=tick,
                       compare=args.compare)
    if args.simulate:
        from pipeline.labelling.simulate import simulate

        with _progress(None, "simulating", unit="fit") as tick:
            res["simulation"] = simulate(args.labels, args.root, progress=tick)
    paths = write_report(res, args.report)
    for w in res["warnings"]:
        _warn(w)
    _say(console_summary(res, paths))
    return 0


def cmd_simulate(args) -> int:
    from pipeline.evaluation.report import simulation_text
    from pipeline.labelling.simulate import SEEDS, STRATEGIES, simulate
    from pipeline.store import atomic_write_text

    if args.seeds < 1:
        raise PipelineError("--seeds must be 1 or more")
    seeds = tuple(range(SEEDS[0], SEEDS[0] + args.seeds))
    with _progress(1 + len(seeds) * len(STRATEGIES) * (args.rounds + 1), "simulating", unit="fit") as tick:
        sim = simulate(args.labels, args.root, seeds=seeds, start=args.start, step=args.step, rounds=args.rounds,
                       random_share=args.random_share, per_article=args.per_article, progress=tick)
    _say(simulation_text(sim))
    if args.out:
        atomic_write_text(args.out, json.dumps(sim, indent=2) + "\n")
        _say(f"wrote {args.out}")
    return 0


def cmd_trends(args) -> int:
    from pipeline.analysis.coverage import trends_text, write_coverage, write_plot
    from pipeline.store import table_format, write_table
    from pipeline.analysis.trends import load_tags, trends

    if args.out:
        table_format(args.out)  # an unknown extension stops the run before the work
    if args.outlets < 1:
        raise PipelineError("--outlets must be 1 or more")
    res = trends(load_tags(args.tags), by=args.by, on_topic=args.on_topic, outlets=args.outlets)
    res["source"] = args.tags
    if res["counts"]["undated"]:
        _warn(f"{res['counts']['undated']} article(s) without a date (YYYY-MM-DD) left out; tag article files, "
              "or give the sentence table a date column")
    _say(trends_text(res))
    if args.out:
        write_table(res["table"], args.out, spreadsheet=True)
        _say(f"wrote {args.out}")
    if args.plot:
        write_plot(res, args.plot)
        _say(f"wrote {args.plot}")
    if args.report:
        _say(f"wrote {write_coverage(res, args.report)}")
    return 0


# --------------------------------------------------------------------------
# Parser
# --------------------------------------------------------------------------
class _Default(str):
    """A default path, relative to the project root: :func:`main` resolves it
    (``pipeline/paths.py``), and it stays a ``_Default`` so a command can tell
    a default from a path the user typed."""


def _resolve_defaults(args) -> Root | None:
    """Point every default path of ``args`` into the project root; return the root (None if no default is in play)."""
    defaults = {k: v for k, v in vars(args).items()
                if isinstance(v, _Default) or (isinstance(v, list) and v and all(isinstance(x, _Default) for x in v))}
    if not defaults:
        return None
    root = find_root()
    for k, v in defaults.items():
        setattr(args, k, [_Default(root.path / x) for x in v] if isinstance(v, list) else _Default(root.path / v))
    return root


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="talks",
        description="Tag news coverage of the Syria peace talks sentence by sentence "
        "(diplomacy, violence, humanitarian, blame): ingest, label, train, tag, evaluate, trends. "
        "Default paths (corpus, labels, models, out) are in the project root: $TALKS_ROOT, else the nearest folder "
        "from the current one upward that holds the project's pyproject.toml or labels/ and models/.",
    )
    p.add_argument("--version", action="version", version=f"talks {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(parent, name, func, help_):
        sp = parent.add_parser(name, help=help_, description=help_)
        sp.set_defaults(func=func)
        return sp

    def root_opt(sp):
        sp.add_argument("--root", default=_Default("corpus"), help="corpus folder holding articles.jsonl and sentences.csv (default: corpus)")

    def labels_opt(sp):
        sp.add_argument("--labels", default=_Default("labels"), help="label store folder (default: labels)")

    sp = add(sub, "ingest", cmd_ingest, "Read article files (txt, Markdown with front matter, HTML) into the clean corpus, next to the articles already there.")
    sp.add_argument("paths", nargs="*", default=[_Default("corpus/raw")], help="files, folders or globs (default: corpus/raw)")
    sp.add_argument("--replace", action="store_true", help="rebuild the corpus from these files only, dropping articles "
                    "ingested earlier (their labels become orphans); by default new articles are added next to the corpus")
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
    sp.add_argument("--out", default=_Default("labels/disagreements.csv"), help="where to write the disagreements for adjudication")
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

    sp = add(sub, "label", cmd_label, "Label sentences in the terminal, or in the browser with --web (keys 1-4 toggle, 0 none, j junk, Enter save, u undo, s skip, q quit); the current model's suggestions come pre-ticked unless --no-suggest.")
    sp.add_argument("--annotator", required=True, help="your name; decisions go to labels/<annotator>.csv")
    sp.add_argument("--order", default="articles", choices=["articles", "unlabelled"], help="what to show next: whole articles in order, or any unlabelled sentence (default: articles)")
    sp.add_argument("--queue", help="a file of sentence ids (one per line, or a CSV with sentence_id) to label in that order")
    sp.add_argument("--article", help="label only this article id")
    sp.add_argument("--no-suggest", action="store_true", help="do not pre-tick the model's suggestions or show its probabilities: "
                    "use it for blind passes (independent double labelling must not be anchored by the model)")
    sp.add_argument("--models", default=_Default("models"), help="models folder whose current model makes the suggestions (default: models)")
    sp.add_argument("--web", action="store_true", help="label in the browser instead: serve a page on 127.0.0.1 (several tabs may label at once)")
    sp.add_argument("--port", type=int, help="port for --web (default 0: any free port; the address is printed)")
    labels_opt(sp)
    root_opt(sp)

    sp = add(sub, "queue", cmd_queue, "Pick the unlabelled sentences to label next: those the current model is least sure of "
             "(rare labels weighted up, a few per article, no near duplicates) plus a random share; writes labels/queue.csv "
             "for 'talks label --queue'.")
    sp.add_argument("--size", type=int, default=100, help="sentences in the queue (default: 100)")
    sp.add_argument("--random-share", type=float, default=0.2, help="share drawn uniformly at random, which keeps quality "
                    "estimates on queued labels unbiased (default: 0.2)")
    sp.add_argument("--per-article", type=int, default=3, help="at most this many uncertain sentences per article (default: 3)")
    sp.add_argument("--seed", type=int, default=13, help="random seed; the same inputs and seed give the same queue (default: 13)")
    sp.add_argument("--model", help="model id or folder (default: models/current)")
    sp.add_argument("--out", help="queue file (default: queue.csv in the labels folder)")
    labels_opt(sp)
    root_opt(sp)
    sp.add_argument("--models", default=_Default("models"), help="models folder (default: models)")

    # model commands: train -> tag / explain -> evaluate
    sp = add(sub, "train", cmd_train, "Choose, fit and save a model from the gold labels outside the held-out set (grouped CV by article), "
             "score it on the held-out set, and make it current unless it is significantly worse than the current model.")
    labels_opt(sp)
    root_opt(sp)
    sp.add_argument("--models", default=_Default("models"), help="models folder (default: models)")
    sp.add_argument("--features", default="cues", choices=["cues", "tfidf", "embeddings", "both"],
                    help="cues (default: word n-grams plus blame cues, who accuses whom, and static word vectors; fast, "
                    "no extra install), tfidf (word or word+char n-grams only), embeddings (all-MiniLM-L6-v2 sentence "
                    "embeddings; needs pip install 'talks[embeddings]'), or both (word+char n-grams and embeddings)")
    sp.add_argument("--quick", action="store_true", help="one configuration instead of the grid (for trying things out; never promoted)")
    sp.add_argument("--no-current", action="store_true", help="never make the new model current")
    sp.add_argument("--force", action="store_true", help="make the new model current even if it is significantly worse")

    sp = add(sub, "compare", cmd_compare, "Compare two trained models as they are on the held-out set (or --data FILE): "
             "per-label F1 with paired article-bootstrap intervals of the difference, and the sentences whose labels changed.")
    sp.add_argument("a", help="model A (id or folder; 'current' for the current model)")
    sp.add_argument("b", help="model B (id or folder)")
    sp.add_argument("--data", help="a label-store CSV to score on instead of the project's held-out set")
    sp.add_argument("--show", type=int, default=20, help="changed sentences to print (default: 20)")
    sp.add_argument("--json", help="also write the whole comparison, changed sentences included, to this JSON file")
    labels_opt(sp)
    root_opt(sp)
    sp.add_argument("--models", default=_Default("models"), help="models folder (default: models)")

    models = sub.add_parser("models", help="List, inspect, promote, roll back and upgrade trained models.",
                            description="List, inspect, promote, roll back and upgrade trained models.")
    msub = models.add_subparsers(dest="models_command", metavar="SUBCOMMAND", required=True)
    sp = add(msub, "list", cmd_models_list, "Every trained model, newest first, with its held-out macro-F1; * marks the current one.")
    sp.add_argument("--models", default=_Default("models"), help="models folder (default: models)")
    sp = add(msub, "show", cmd_models_show, "A model's card and when it was current.")
    sp.add_argument("model", nargs="?", help="model id (default: the current one)")
    sp.add_argument("--json", action="store_true", help="print the card as JSON")
    sp.add_argument("--models", default=_Default("models"), help="models folder (default: models)")
    sp = add(msub, "promote", cmd_models_promote, "Make a model current (recorded in models/history.jsonl).")
    sp.add_argument("model", help="model id")
    sp.add_argument("--reason", default="promoted by hand", help="why, for the history")
    sp.add_argument("--models", default=_Default("models"), help="models folder (default: models)")
    sp = add(msub, "rollback", cmd_models_rollback, "Make current again the model the current one replaced.")
    sp.add_argument("--models", default=_Default("models"), help="models folder (default: models)")
    sp = add(msub, "history", cmd_models_history, "Which model was current when, and why.")
    sp.add_argument("--models", default=_Default("models"), help="models folder (default: models)")
    sp = add(msub, "upgrade", cmd_models_upgrade, "Re-save a model folder of an older version (a model.joblib pickle) as data, "
             "in place, keeping its id. Loading the pickle runs any code in it: only for folders you trust.")
    sp.add_argument("model", help="model id or folder")
    sp.add_argument("--models", default=_Default("models"), help="models folder (default: models)")

    held = sub.add_parser("heldout", help="The held-out test set: articles kept away from training and model selection.",
                          description="The held-out test set: articles kept away from training and model selection.")
    hsub = held.add_subparsers(dest="heldout_command", metavar="SUBCOMMAND", required=True)
    sp = add(hsub, "init", cmd_heldout_init, "Choose the held-out articles once, stratified by outlet and month, into labels/heldout.csv.")
    sp.add_argument("--share", type=float, default=0.2, help="share of the labelled articles to hold out (default: 0.2)")
    sp.add_argument("--seed", type=int, default=13, help="random seed (default: 13)")
    labels_opt(sp)
    root_opt(sp)
    sp = add(hsub, "add", cmd_heldout_add, "Add whole articles to the held-out set (label every sentence of them).")
    sp.add_argument("articles", nargs="+", help="article ids")
    sp.add_argument("--reason", default="added by hand", help="why, recorded in the file")
    labels_opt(sp)
    root_opt(sp)
    sp = add(hsub, "show", cmd_heldout_show, "Size, label counts and version of the held-out set.")
    sp.add_argument("--json", action="store_true", help="print JSON")
    labels_opt(sp)
    root_opt(sp)

    sp = add(sub, "tag", cmd_tag, "Tag every sentence of article files/folders/globs or of a sentence table (CSV/JSONL/Parquet with a 'text' column).")
    sp.add_argument("inputs", nargs="+", help="article files, folders, globs, or .csv/.jsonl/.parquet sentence tables")
    sp.add_argument("--out", required=True, help="output .csv, .jsonl or .parquet; '-' writes CSV to stdout; "
                    "with --engine dask a folder (part-00000.parquet, ...)")
    sp.add_argument("--summary", help="also write a per-article summary (.csv/.jsonl/.parquet)")
    sp.add_argument("--model", help="model id or folder (default: the one named in models/current)")
    sp.add_argument("--models", default=_Default("models"), help="models folder (default: models)")
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

    sp = add(sub, "explain", cmd_explain, "Show each label's probability for a sentence and the terms that pushed it up or down.")
    sp.add_argument("text", help="the sentence to explain")
    sp.add_argument("--model", help="model id or folder (default: models/current)")
    sp.add_argument("--models", default=_Default("models"), help="models folder (default: models)")
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
    sp.add_argument("--report", default=_Default("out/report"), help="folder for report.html, metrics.json, summary.md (default: out/report)")
    sp.add_argument("--simulate", action="store_true", help="also simulate labelling with the queue against random order "
                    "(as 'talks simulate', about two minutes) and add the curves to the report")
    labels_opt(sp)
    root_opt(sp)
    sp.add_argument("--models", default=_Default("models"), help="models folder (default: models)")

    sp = add(sub, "simulate", cmd_simulate, "Does the labelling queue beat random order? Replays labelling on the gold labels "
             "with both and prints macro-F1 on the held-out articles against the number of labels.")
    sp.add_argument("--seeds", type=int, default=3, help="repetitions with seeds 13, 14, ... (default: 3)")
    sp.add_argument("--start", type=int, default=100, help="random sentences labelled before the first round (default: 100)")
    sp.add_argument("--step", type=int, default=None, help="sentences added per round (default: cover the pool in --rounds rounds, a multiple of 50)")
    sp.add_argument("--rounds", type=int, default=25, help="rounds (default: 25)")
    sp.add_argument("--random-share", type=float, default=0.2, help="random share of the queue's picks (default: 0.2)")
    sp.add_argument("--per-article", type=int, default=3, help="at most this many uncertain picks per article and round (default: 3)")
    sp.add_argument("--out", help="also write the whole result to this JSON file")
    labels_opt(sp)
    root_opt(sp)

    sp = add(sub, "trends", cmd_trends, "Label shares per outlet and period (ISO week by default) from a tags file, with 95% "
             "article-bootstrap intervals, each label's biggest rise and the sentences behind it; plots and an HTML coverage page.")
    sp.add_argument("tags", help="a tags file written by 'talks tag' from article files (.csv/.jsonl/.parquet): its rows carry date and outlet")
    sp.add_argument("--by", default="week", choices=["week", "day", "month"], help="period (default: week, ISO weeks from Monday)")
    sp.add_argument("--out", help="write the tidy table (outlet, period, start, label, articles, sentences, tagged, share, "
                    "ci_low, ci_high, change, change_low, change_high) to this .csv, .jsonl or .parquet")
    sp.add_argument("--plot", help="write the plots (shares over time, outlets side by side, spikes) to this PNG")
    sp.add_argument("--outlets", type=int, default=6, help="outlets side by side: the N with the most sentences (default: 6)")
    sp.add_argument("--on-topic", action="store_true", help="count only the articles flagged on topic (about Syria: see the "
                    "summary's on_topic column)")
    sp.add_argument("--report", help="write DIR/coverage.html, a self-contained page: counts, plots, most-tagged articles, "
                    "example sentences, a table filterable by label")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    root = None
    try:
        root = _resolve_defaults(args)
        return int(args.func(args) or 0)
    except PipelineError as e:
        # Something missing under a default path: say which project root it was looked for in.
        missing = root is not None and e.path is not None and not Path(e.path).exists()
        print(f"error: {e}" + (f" (project root: {root})" if missing else ""), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
