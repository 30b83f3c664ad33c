"""Regenerate the figures of the README and docs/ from the project's own commands, and the JSON they come from.

Every figure block sits between ``<!-- figures:NAME -->`` and ``<!-- /figures -->``
in README.md or a page of docs/; this script recomputes the numbers with the
library (the same functions the ``talks`` commands call), writes them to
``reports/figures.json``, and rewrites each block in whichever file holds it
(:func:`write_blocks`, which the other generators use too).  ``--render`` only
re-renders the blocks from an existing ``reports/figures.json``; ``--only
sample,relevance,...`` recomputes some parts; ``--measure-cost`` times
``make run`` and ``make test`` into ``reports/cost.json`` (the ``cost`` part).
The ``relevance``, ``trends`` and ``page`` parts read what ``make run`` writes under out/.
Usage: python scripts/readme_figures.py [--render | --only PARTS] [--measure-cost] (or: make figures)
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # the pipeline package, when run without installing it

from pipeline.metrics import format_interval  # noqa: E402

OUT = REPO / "reports" / "figures.json"
LABELS_ORDER = ("diplomacy", "violence", "humanitarian", "blame")
# The model that was current before round 2 of the labels (trained on round 1 without the held-out articles).
BEFORE = "tfidf-69fb10c6b1"
# The same features and grid trained on rounds 1 and 2: the loop's "after", so the comparison is the labels' doing.
AFTER = "tfidf-a5739769ea"
# The model current before round 3, and the same features trained on rounds 1-3 (round 3 moved articles these two
# trained on into the held-out set, so both are compared on the parts of the set that existed before: OLD_PARTS).
BEFORE3 = "cues-5dcf298875"
AFTER3 = "cues-2aba5e878b"
OLD_PARTS = ("stratified", "hand-picked")
# Round 2's two blind passes: the queue batches (ann13-20 / ann21-28), the refugee and aid articles (29-30 / 31-32),
# the accusation-rich held-out articles (33 / 34).
ROUND2 = {"pass1": [f"ann{n}" for n in (*range(13, 21), 29, 30, 33)], "pass2": [f"ann{n}" for n in (*range(21, 29), 31, 32, 34)]}
# Round 3's blind passes: the war's coverage and the queue (35-44 / 45-54), round 3b (55-59 / 60-64), round 3c (65-66 / 67-68).
ROUND3 = {"pass1": [f"ann{n}" for n in (*range(35, 45), *range(55, 60), 65, 66)],
          "pass2": [f"ann{n}" for n in (*range(45, 55), *range(60, 65), 67, 68)]}


def compute(labels: Path, root: Path, models: Path) -> dict:
    from pipeline.evaluation.compare import compare_models
    from pipeline.corpus.store import corpus_stats
    from pipeline.evaluation.evaluate import evaluate
    from pipeline.labels.heldout import heldout_gold, heldout_version
    from pipeline.labels.agreement import agreement, label_stats
    from pipeline.model.registry import current_id, list_models, read_card
    from pipeline.labelling.simulate import simulate
    from pipeline.project import Project

    project = Project(corpus=root, labels=labels, models=models)
    cur = current_id(models)
    st = label_stats(project)
    cs = corpus_stats(root)
    fig = {
        "corpus": {"articles": cs["articles"], "sentences": cs["sentences"], "outlets": len(cs["by_outlet"]),
                   "feed_articles": sum(1 for p in (root / "raw" / "feed-2016q1").glob("*.md"))},
        "labels": {k: st[k] for k in ("labelled", "junk", "articles_labelled", "per_label", "annotators")},
        "heldout": heldout_version(heldout_gold(project)),
        "current": cur,
        "current_card": {k: read_card(models, cur).get(k) for k in ("model_id", "features", "parameters", "training", "heldout")},
        "audit": json.loads((labels / "audit" / "summary.json").read_text()),
    }
    if (labels / "audit-r2" / "summary.json").exists():
        fig["audit_r2"] = json.loads((labels / "audit-r2" / "summary.json").read_text())
    for key, before, after in (("compare", BEFORE, AFTER), ("compare_r3", BEFORE3, AFTER3)):
        if (models / before).is_dir() and (models / after).is_dir():
            c = compare_models(before, after, project, parts=OLD_PARTS)
            fig[key] = {k: c[k] for k in ("a", "b", "source", "sentences", "articles", "n_boot", "difference")}
            fig[key]["heldout"] = {k: v for k, v in c["heldout"].items() if k != "article_ids"}
            fig[key]["models"] = [{"model_id": m["model_id"], "metrics": m["metrics"]} for m in c["models"]]
            fig[key]["changed"] = {k: c["changed"][k] for k in ("sentences", "label_changes_fixed", "label_changes_broken")}
    emb = [m for m in list_models(models) if "embeddings" in (m.get("features") or "") and m.get("heldout_version")]
    if emb:  # the newest embedding model that was scored on a held-out set
        c = compare_models(cur, emb[0]["model_id"], project, parts=OLD_PARTS)
        fig["embeddings"] = {k: c[k] for k in ("a", "b", "source", "sentences", "articles", "n_boot", "difference")}
        fig["embeddings"]["models"] = [{"model_id": m["model_id"], "metrics": m["metrics"]} for m in c["models"]]
    ev = evaluate(project, model=cur)
    fig["cv"] = {"metrics": ev["metrics"], "baselines": {k: v["macro"]["f1"] for k, v in ev.get("baselines", {}).items()}
                 if isinstance(ev.get("baselines"), dict) else None,
                 "learning_curve": ev.get("learning_curve"), "data": ev.get("data")}
    for name, part in PARTS.items():
        fig[name] = part(models)
    sim = simulate(project)
    fig["simulation"] = {k: sim[k] for k in ("test", "pool", "parameters", "full", "target", "verdict")}
    fig["simulation"]["strategies"] = {s: {k: v for k, v in d.items() if k != "runs"} for s, d in sim["strategies"].items()}
    return fig


SAMPLE_INPUT = "corpus/new"
FEED_SUMMARY, FEED_TRENDS = Path("out") / "feed-summary.csv", Path("out") / "feed-trends.csv"
# The suspension of the Geneva talks (3 February 2016) fell in this ISO week; the trends block centres on it.
SUSPENSION_WEEK = "2016-W05"


def sample_rows(models: Path) -> dict:
    """Three rows of ``talks tag corpus/new``: the most certain blame sentence, the most certain sentence
    with two labels or more, and the sentence closest to a tag without one."""
    import tempfile

    import pandas as pd

    from pipeline.tagging.tag import tag

    with tempfile.TemporaryDirectory() as tmp:
        res = tag([SAMPLE_INPUT], str(Path(tmp) / "tags.csv"), models_dir=models)
        df = pd.read_csv(Path(tmp) / "tags.csv", keep_default_na=False)
    labs = list(LABELS_ORDER)
    tagged = df[labs].sum(axis=1)
    conf = pd.concat([df[f"p_{lab}"].where(df[lab] == 1) for lab in labs], axis=1).min(axis=1)
    picks = [df[df["blame"] == 1]["p_blame"].idxmax(), conf.where(tagged >= 2).idxmax(),
             df[[f"p_{lab}" for lab in labs]].max(axis=1).where(tagged == 0).idxmax()]
    cols = ["article_id", "position", "text", *labs, *[f"p_{lab}" for lab in labs], "model_id", "outlet", "date"]
    rows = [{k: (v.item() if hasattr(v, "item") else v) for k, v in df.loc[i, cols].items()} for i in picks]
    return {"command": f"talks tag {SAMPLE_INPUT} --out tags.csv", "sentences": int(res["sentences"]),
            "articles": int(res["articles"] or df["article_id"].nunique()), "columns": len(df.columns), "rows": rows}


def cost() -> dict | None:
    """``make run`` and ``make test`` as timed by ``--measure-cost`` (reports/cost.json)."""
    return json.loads(COST.read_text(encoding="utf-8")) if COST.exists() else None


def relevance() -> dict | None:
    """The on-topic flag against the hand-judged sample: re-measured when the feed's summary exists
    (``make run`` writes it), else the committed ``benchmarks/relevance/results.json``."""
    import csv
    import subprocess

    here = REPO / "benchmarks" / "relevance"
    if (REPO / FEED_SUMMARY).exists():
        subprocess.run([sys.executable, str(here / "measure.py"), "--summary", str(FEED_SUMMARY)], check=True, cwd=REPO)
    res = json.loads((here / "results.json").read_text(encoding="utf-8"))
    with (here / "sample.csv").open(encoding="utf-8") as f:
        strata = [r["stratum"] for r in csv.DictReader(f)]
    res["strata"] = {s: strata.count(s) for s in sorted(set(strata))}
    return res


def trends() -> dict | None:
    """Blame's weekly share in the feed's on-topic articles, all outlets, from ``make run``'s trends table."""
    import pandas as pd

    from pipeline.analysis.trends import MIN_ARTICLES

    if not (REPO / FEED_TRENDS).exists():
        return None
    t = pd.read_csv(REPO / FEED_TRENDS, keep_default_na=False)
    t = t[(t["label"] == "blame") & (t["period"] != "(all)")]
    weeks = t[t["outlet"] == "(all)"].sort_values("period")
    num = ["articles", "sentences", "tagged", "share", "ci_low", "ci_high", "change", "change_low", "change_high"]

    def rec(r) -> dict:
        return {"period": r["period"], **{k: (None if r[k] == "" else float(r[k])) for k in num}}

    outlets = t[t["outlet"] != "(all)"].groupby("outlet")["articles"].sum().sort_values(ascending=False)
    return {"source": str(FEED_TRENDS), "min_articles": MIN_ARTICLES, "weeks": [rec(r) for _, r in weeks.iterrows()],
            "largest_outlet": {"outlet": outlets.index[0], "articles": int(outlets.iloc[0])} if len(outlets) else None,
            "articles": int(t[t["outlet"] == "(all)"]["articles"].sum())}


def settings() -> dict:
    """Constants of the code that the docs state: when --jobs starts workers."""
    from pipeline.tagging.tag import CHUNK_FILES, MIN_CHUNKS_PER_WORKER, worker_processes

    one = max(n for n in range(1, 10_000) if worker_processes(64, n) == 1)
    return {"chunk_files": CHUNK_FILES, "min_chunks_per_worker": MIN_CHUNKS_PER_WORKER, "one_process_up_to": one}


# The held-out errors of the default and of the accurate model, by the guideline rule whose text search finds them.
ERROR_MODELS = ("current", "ft-1b4cd157ca")


def errors_by_rule(models: Path) -> dict | None:
    """Per model: its held-out false positives and false negatives per label, and how many of them each guideline
    rule's search (scripts/audit_candidates.py RULES) finds: the rules that decide the errors."""
    import numpy as np

    sys.path.insert(0, str(REPO / "scripts"))
    from audit_candidates import RULES  # noqa: E402

    from pipeline.labels.heldout import heldout_gold
    from pipeline.model.loading import load_model
    from pipeline.model.selection import apply_thresholds, predict_proba
    from pipeline.project import Project
    from pipeline.records import LABELS

    project = Project(corpus=Path("corpus"), labels=Path("labels"), models=models)
    held = heldout_gold(project)
    text = held["text"]
    out = {}
    for name in ERROR_MODELS:
        if name != "current" and not (models / name).is_dir():
            continue
        m = load_model(name, models)
        Yhat = apply_thresholds(predict_proba(m["pipeline"], text.tolist()), m["thresholds"])
        rows = {}
        for rule, (decides, pick) in RULES.items():
            if rule == "headlines":
                continue
            hit = pick(held, text).to_numpy(dtype=bool)
            labs = [lab for lab in LABELS if decides in ("all", lab) or lab in decides.split()]
            n = {}
            for lab in labs:
                j = LABELS.index(lab)
                y, yh = held[lab].to_numpy(), Yhat[:, j]
                n[lab] = {"fp": int(((yh == 1) & (y == 0) & hit).sum()), "fn": int(((yh == 0) & (y == 1) & hit).sum())}
            rows[rule] = n
        totals = {lab: {"fp": int(((Yhat[:, j] == 1) & (held[lab].to_numpy() == 0)).sum()),
                        "fn": int(((Yhat[:, j] == 0) & (held[lab].to_numpy() == 1)).sum())} for j, lab in enumerate(LABELS)}
        out[m["card"]["model_id"]] = {"rules": rows, "totals": totals, "sentences": int(len(held))}
    return out or None


def round_agreements(labels: Path = Path("labels")) -> dict:
    """Each labelling round's pass-against-pass agreement (talks labels agree), by round."""
    from pipeline.labels.agreement import agreement

    out = {}
    for key, rnd in (("round2", ROUND2), ("round3", ROUND3)):
        if all((labels / f"{n}.csv").exists() for n in rnd["pass1"] + rnd["pass2"]):
            ag = agreement([str(labels / f"{n}.csv") for n in rnd["pass1"]], [str(labels / f"{n}.csv") for n in rnd["pass2"]],
                           Path("reports") / f"disagreements-r{key[-1]}.csv")
            out[key] = {k: ag[k] for k in ("n", "per_label", "junk_disagreements", "disagreements")}
    return out


def ties(models: Path) -> dict | None:
    """The tie labels' agreement, the tie extractor's card and its end-to-end held-out score (talks ties agree|evaluate)."""
    from dataclasses import asdict

    from pipeline.evaluation.ties import evaluate_ties
    from pipeline.model.tie_training import tie_agreement
    from pipeline.model.ties import load_tie_model
    from pipeline.project import Project

    project = Project(corpus=Path("corpus"), labels=Path("labels"), models=models)
    tm = load_tie_model(models)
    if tm is None:
        return None
    ev = asdict(evaluate_ties(project))
    ev.pop("tie_model")
    out = {"agreement": tie_agreement(project), "card": {k: tm.card[k] for k in ("C", "threshold", "training", "cv", "heldout_gold_blame")},
           "evaluation": ev}
    return out


def suspension_ties() -> dict | None:
    """The on-topic feed's most frequent ties in the weeks around the suspension, from ``make run``'s
    ``out/feed-ties.csv`` (None without it)."""
    import pandas as pd

    feed = Path("out") / "feed-ties.csv"
    if not feed.exists():
        return None
    t = pd.read_csv(feed, dtype={"period": str}, keep_default_na=False)
    t = t[t["outlet"] == "(all)"]
    weeks = sorted(set(t["period"]))
    around = [w for w in weeks if w <= SUSPENSION_WEEK][-2:] + [w for w in weeks if w > SUSPENSION_WEEK][:1]
    return {w: t[t["period"] == w].nlargest(4, "sentences")[["source", "target", "sentences", "articles", "share",
                                                             "ci_low", "ci_high", "blame_sentences"]].to_dict("records")
            for w in around}


def share_errors(models: Path) -> dict:
    """The current model's label shares against the hand-labelled shares by month on the held-out articles it never
    trained on (``talks share-error``, the same library call)."""
    from dataclasses import asdict

    from pipeline.analysis.share_error import share_error
    from pipeline.project import Project

    res = share_error(Project(corpus=Path("corpus"), labels=Path("labels"), models=models))
    return {"command": "talks share-error --out reports/share-error.json", **asdict(res)}


FEED_PAGE = Path("out") / "coverage" / "coverage.html"
FEED_TAGS = Path("out") / "feed-tags.parquet"
PAGE_LOADS = 5  # loads of a page timed; the median is given


def coverage_page() -> dict | None:
    """The feed's coverage pages: ``make run``'s (on-topic articles) and one of every article of the feed (written
    here as ``talks trends out/feed-tags.parquet --report DIR`` writes it): size, sentences, and how long Debian's
    chromium takes to open each until its sentence table is filled (the median of PAGE_LOADS loads)."""
    import tempfile

    if not (REPO / FEED_PAGE).exists() or not (REPO / FEED_TAGS).exists():
        return None
    from pipeline.analysis.coverage import write_coverage
    from pipeline.analysis.share_error import tagging_model
    from pipeline.analysis.trends import load_tags, trends
    from pipeline.project import Project

    with tempfile.TemporaryDirectory() as tmp:
        tags = load_tags(FEED_TAGS)
        res = trends(tags, heldout=tagging_model(Project(corpus=Path("corpus"), labels=Path("labels"), models=Path("models")), tags)[0])
        res["source"] = str(FEED_TAGS)
        whole = Path(write_coverage(res, tmp))
        pages = {"on_topic": _page_load(REPO / FEED_PAGE), "whole_feed": _page_load(whole)}
    pages["on_topic"]["page"] = str(FEED_PAGE)
    return {**pages, "loads": PAGE_LOADS, "cores": os.cpu_count(), "load_average": round(os.getloadavg()[0], 2)}


def _page_load(path: Path) -> dict:
    import statistics
    import time

    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(REPO / "tests"))
    from conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

    times = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        for _ in range(PAGE_LOADS):
            page = browser.new_page()
            t0 = time.perf_counter()
            page.goto(path.resolve().as_uri(), wait_until="load")
            page.wait_for_function("document.querySelectorAll('#sentences tbody tr').length > 0")
            times.append(time.perf_counter() - t0)
            found = int(page.locator("#shown").inner_text())
            page.close()
        browser.close()
    return {"bytes": path.stat().st_size, "sentences": found, "load_seconds": round(statistics.median(times), 2)}


# The parts `--only` can recompute without the rest (each is fast, or reads what `make run` wrote).
PARTS = {"sample": lambda models: sample_rows(models), "cost": lambda models: cost(), "relevance": lambda models: relevance(),
         "trends": lambda models: trends(), "settings": lambda models: settings(), "ties": ties,
         "suspension": lambda models: suspension_ties(), "errors": errors_by_rule,
         "agreement": lambda models: round_agreements(), "shares": share_errors, "page": lambda models: coverage_page()}


def _compare_table(c: dict, a_name: str, b_name: str) -> list[str]:
    from pipeline.metrics import format_interval

    a, b = c["models"]
    d = c["difference"]
    lines = [f"| label | {a_name} `{c['a']}` | {b_name} `{c['b']}` | difference [95% CI] |", "|---|---|---|---|"]
    for lab in LABELS_ORDER:
        ma, mb, dl = a["metrics"]["per_label"][lab], b["metrics"]["per_label"][lab], d["per_label"][lab]
        lines.append(f"| {lab} | {ma['f1']:.3f} {format_interval(ma['f1_ci'])} | {mb['f1']:.3f} {format_interval(mb['f1_ci'])} | "
                     f"{dl['f1']:+.3f} [{dl['f1_ci'][0]:+.3f}, {dl['f1_ci'][1]:+.3f}] |")
    lines.append(f"| **macro** | **{a['metrics']['macro']['f1']:.3f}** {format_interval(a['metrics']['macro']['f1_ci'])} | "
                 f"**{b['metrics']['macro']['f1']:.3f}** {format_interval(b['metrics']['macro']['f1_ci'])} | "
                 f"**{d['macro_f1']:+.3f}** [{d['macro_f1_ci'][0]:+.3f}, {d['macro_f1_ci'][1]:+.3f}] |")
    return lines


def render_errors(e: dict | None) -> str:
    if not e:
        return "Not computed yet (`python scripts/readme_figures.py --only errors`)."
    ids = list(e)
    lines = [f"Held-out errors ({next(iter(e.values()))['sentences']:,} sentences) of " + " and ".join(f"`{i}`" for i in ids)
             + ", by the guideline rule whose search finds them (false positives / false negatives of the label the rule decides; "
             "a rule whose search looks only at positives finds no false positives; the current model trained on some of the "
             "articles round 3 added to the set, so its counts there flatter it; "
             "`python scripts/readme_figures.py --only errors`):", "",
             "| rule | label | " + " | ".join(f"`{i}` FP / FN" for i in ids) + " |", "|---|---|" + "---|" * len(ids)]
    first = e[ids[0]]["rules"]
    for rule, labs in first.items():
        for lab in labs:
            lines.append(f"| {rule} | {lab} | " + " | ".join(f"{e[i]['rules'][rule][lab]['fp']} / {e[i]['rules'][rule][lab]['fn']}"
                                                              for i in ids) + " |")
    for lab in ("diplomacy", "violence", "humanitarian", "blame"):
        lines.append(f"| **all errors** | {lab} | " + " | ".join(f"{e[i]['totals'][lab]['fp']} / {e[i]['totals'][lab]['fn']}" for i in ids) + " |")
    return "\n".join(lines)


def render_ties(t: dict | None, suspension: dict | None = None) -> str:
    if not t:
        return "No tie extractor yet (`talks ties train`)."
    a, c, e = t["agreement"], t["card"], t["evaluation"]
    from pipeline.metrics import format_interval

    lines = []
    for week, rows in (suspension or {}).items():
        if rows:
            lines.append(f"| {week} | " + "; ".join(f"{r['source']} -> {r['target']} {r['sentences']} ({r['share']:.2f} "
                                                    f"[{r['ci_low']:.2f}, {r['ci_high']:.2f}])" for r in rows)
                         + f" | {rows[0]['blame_sentences']} |")
    example = (["", f"Worked example: the on-topic articles of the Jan-Mar 2016 feed around the suspension of the Geneva talks "
                f"(3 February 2016, week {SUSPENSION_WEEK}), the most frequent ties per week with their share of the week's "
                "blame sentences and 95% intervals (`make run` writes `out/feed-ties.csv`; tagged by the extractor above, so "
                "read them with its error in mind):", "", "| week | ties (sentences, share [95% CI]) | blame sentences |",
                "|---|---|---|", *lines] if lines else [])
    return "\n".join([
        f"Tie labels: two blind passes over {a['sentences']:,} gold blame sentences agree at tie F1 {a['tie_f1']:.3f} "
        f"({a['ties_pass1']:,} and {a['ties_pass2']:,} ties); {a['differing_sentences']} sentences differed and "
        f"{a['adjudicated']} were decided by a third reader (`talks ties agree`).",
        "",
        f"Extractor (`talks ties train`): trained on {c['training']['ties']:,} ties of {c['training']['sentences']:,} sentences "
        f"(C={c['C']}, threshold {c['threshold']}); {c['training']['gold_ties_among_candidates']:.0%} of the gold ties are among "
        f"its candidate pairs; cross-validated tie F1 {c['cv']['tie_f1']:.3f} (precision {c['cv']['precision']:.3f}, "
        f"recall {c['cv']['recall']:.3f}; folds grouped by story).",
        "",
        f"End to end on the held-out set (`talks ties evaluate`: blame tagged by `{e['model_id']}`, ties on the sentences it tags): "
        f"precision {e['precision']:.3f}, recall {e['recall']:.3f}, **F1 {e['f1']:.3f}** {format_interval(e['f1_ci'])} "
        f"({e['matched']} of {e['predicted_ties']} predicted ties match one of {e['gold_ties']} gold ties, {e['sentences']:,} sentences "
        f"of {e['articles']} articles); on the gold blame sentences alone, tie F1 {e['extraction_only_f1']:.3f}.",
        *example,
    ])


def render(fig: dict) -> dict[str, str]:
    blocks = {"ties": render_ties(fig.get("ties"), fig.get("suspension")), "errors": render_errors(fig.get("errors"))}
    c = fig.get("compare")
    lines = []
    if c:
        ch = c["changed"]
        lines = [f"Round 2 of the labels, as the loop above ran it (`talks compare {c['a']} {c['b']} --parts {','.join(OLD_PARTS)}` on {c['source']}: "
                 f"{c['sentences']:,} sentences of {c['articles']} articles, version {c['heldout']['sha256'][:12]}; "
                 f"F1 with 95% intervals from {c['n_boot']:,} paired article resamples):", "",
                 *_compare_table(c, "before", "after"), "",
                 f"Verdict: {c['difference']['verdict']}. {ch['sentences']} held-out sentences changed their predicted labels: "
                 f"{ch['label_changes_fixed']} label decisions fixed, {ch['label_changes_broken']} broken."]
    c = fig.get("compare_r3")
    if c:
        ch = c["changed"]
        lines += ["", f"Round 3 of the labels (`talks compare {c['a']} {c['b']} --parts {','.join(OLD_PARTS)}` on {c['source']}: "
                  f"{c['sentences']:,} sentences of {c['articles']} articles, the held-out articles both models held out; "
                  f"F1 with 95% intervals from {c['n_boot']:,} paired article resamples):", "",
                  *_compare_table(c, "before", "after"), "",
                  f"Verdict: {c['difference']['verdict']}. {ch['sentences']} held-out sentences changed their predicted labels: "
                  f"{ch['label_changes_fixed']} label decisions fixed, {ch['label_changes_broken']} broken."]
    blocks["loop"] = "\n".join(lines)

    c = fig["corpus"]
    blocks["corpus"] = (f"`talks corpus stats`: {c['articles']:,} articles, {c['sentences']:,} sentences from {c['outlets']} outlets: "
                        f"the 56 labelled seed and pool articles (2014-2017, most of them Reuters, Jan-Mar 2016) and the "
                        f"{c['feed_articles']:,} feed articles of Jan-Mar 2016, most of them not about Syria. The articles of new "
                        "coverage in `corpus/new/` are never labelled.")

    st = fig["labels"]
    per = {r["label"]: r["positive"] for r in st["per_label"]}
    gold = st["labelled"] - st["junk"]
    held = fig["heldout"]
    lines = [f"Gold: {gold:,} sentences ({st['junk']:,} junk left out) in {st['articles_labelled']:,} articles; "
             + ", ".join(f"{lab} {per[lab]:,}" for lab in LABELS_ORDER) + ".",
             f"Held-out set: {held['sentences']:,} of them in {held['articles']} articles ("
             + ", ".join(f"{lab} {held['positives'][lab]}" for lab in LABELS_ORDER) + f"; version {held['sha256'][:12]}).",
             "(`talks labels stats`, `talks heldout show`)"]
    for key, name, rnd in (("round2", "Round 2", ROUND2), ("round3", "Round 3 (3, 3b, 3c)", ROUND3)):
        ag = (fig.get("agreement") or {}).get(key)
        if ag:
            lines += ["", f"{name}, pass 1 ({', '.join(rnd['pass1'])}) against pass 2 ({', '.join(rnd['pass2'])}), "
                      f"labelled blind: over {ag['n']:,} sentences "
                      "both passes kept as non-junk, Cohen's kappa "
                      + ", ".join(f"{r['label']} {r['kappa']:.3f}" for r in ag["per_label"])
                      + f"; {ag['disagreements']:,} disagreements ({ag['junk_disagreements']} about junk) went to a third reader."]
    lines += ["", "Rule-by-rule audit of the gold (guidelines 1.2): | " + " | ".join(
        f"{r['rule']} {r['corrections']}/{r['candidates']}" for r in fig["audit"]) + " | (corrections / candidates)"]
    if fig.get("audit_r2"):
        lines += ["", "Rule-by-rule audit of round 2, and the wider hypothetical search over rounds 1 and 2 (guidelines 1.3): | "
                  + " | ".join(f"{r['rule']} {r['corrections']}/{r['candidates']}" for r in fig["audit_r2"])
                  + " | (corrections / candidates)"]
    hp = (fig["current_card"].get("heldout") or {}).get("parts") or {}
    if hp:
        lines += ["", "Held-out figures of the current model by how the articles joined the set (`talks models show`; "
                  "macro-F1, sentences): " + "; ".join(f"{part} {v['macro_f1']:.3f} ({v['sentences']} sentences, "
                                                         f"{v['articles']} articles)" for part, v in sorted(hp.items())) + "."]
    blocks["labels"] = "\n".join(lines)

    card = fig["current_card"]
    hm = card["heldout"]["metrics"]
    lines = [f"The current model `{card['model_id']}` ({card['features']}, C={card['parameters']['C']}), trained on "
             f"{card['training']['sentences']:,} gold sentences of {card['training']['articles']} articles, on the held-out set "
             "(`talks models show`):", "", "| label | precision | recall | F1 [95% CI] | support |", "|---|---|---|---|---|"]
    for lab in LABELS_ORDER:
        m = hm["per_label"][lab]
        lines.append(f"| {lab} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} {format_interval(m['f1_ci'])} | {m['support']} |")
    lines.append(f"| **macro** | {hm['macro']['precision']:.3f} | {hm['macro']['recall']:.3f} | **{hm['macro']['f1']:.3f}** "
                 f"{format_interval(hm['macro']['f1_ci'])} | |")
    cv = fig["cv"]["metrics"]
    lines += ["", f"Nested grouped 5-fold CV on the training articles (`talks evaluate`): macro-F1 {cv['macro']['f1']:.3f} "
              f"{format_interval(cv['macro']['f1_ci'])}; " + ", ".join(f"{lab} {cv['per_label'][lab]['f1']:.3f}" for lab in LABELS_ORDER) + "."]
    lc = fig["cv"].get("learning_curve")
    if lc and lc.get("points"):
        lines += ["", "Learning curve (same command), training sentences -> macro-F1: "
                  + ", ".join(f"{p['train_sentences']:,.0f} -> {p['macro_f1']:.3f}" for p in lc["points"])
                  + (f"; {lc['verdict']}." if lc.get("verdict") else ".")]
    blocks["model"] = "\n".join(lines)

    e = fig.get("embeddings")
    blocks["embeddings"] = "\n".join([f"On {e['source']}: {e['sentences']:,} sentences of {e['articles']} articles:", "",
                                      *_compare_table(e, "current (default)", "TF-IDF + embeddings"), "", f"Verdict: {e['difference']['verdict']}."]
                                     ) if e else "(no embedding model scored on the held-out set yet: `make embeddings && talks train --features both --no-current`)"

    sim = fig["simulation"]
    q, r = sim["strategies"]["queue"], sim["strategies"]["random"]
    p = sim["parameters"]

    def needed(x: dict) -> str:
        return "did not get there" if x["labels_to_target_seed_mean"] is None else f"needed {x['labels_to_target_seed_mean']:,.0f} labels"

    blocks["simulation"] = "\n".join([
        f"Replaying labelling on the gold (`talks simulate`: {len(p['seeds'])} seeds, {p['start']} random sentences to start, "
        f"then {p['step']} per round from a pool of {sim['pool']['sentences']:,} sentences, scored on {sim['test']['source']}): "
        f"to reach {int(sim['target']['share'] * 100)}% of the macro-F1 of a model trained on the whole pool "
        f"({sim['target']['macro_f1']:.3f}), the queue {needed(q)} on average over the seeds and random order {needed(r)}; "
        f"area under the macro-F1 curve {q['area']:.3f} against {r['area']:.3f}. "
        f"{sim['verdict'][0].upper() + sim['verdict'][1:]}."])
    for name, fn in (("sample", _sample_block), ("cost", _cost_block), ("relevance", _relevance_block),
                     ("trends", _trends_block), ("jobs", _jobs_block), ("shares", _share_error_block), ("page", _page_block)):
        if fig.get(name if name != "jobs" else "settings"):
            blocks[name] = fn(fig[name if name != "jobs" else "settings"])
    return blocks


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _sample_block(x: dict) -> str:
    r0 = x["rows"][0]
    lines = [f"`{x['command']}` on the example articles of `{SAMPLE_INPUT}/` ({x['sentences']:,} sentences of {x['articles']} "
             f"articles, model `{r0['model_id']}`): three of its rows, the label (1/0) and its probability, and 4 of its "
             f"{x['columns']} columns ([all of them](docs/tag-output.md)):", "",
             "| outlet, date | text | " + " | ".join(LABELS_ORDER) + " |", "|---|---|" + "---|" * len(LABELS_ORDER)]
    for r in x["rows"]:
        cells = [(f"**1** {r[f'p_{lab}']:.2f}" if r[lab] == 1 else f"0 {r[f'p_{lab}']:.2f}") for lab in LABELS_ORDER]
        lines.append(f"| {_cell(r['outlet'])}, {r['date']} | {_cell(r['text'])} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _minutes(sec: float) -> str:
    return f"{sec / 60:.0f} minutes" if sec >= 90 else f"{sec:.0f} seconds"


def _cost_block(c: dict) -> str:
    run, test = c["runs"]["run"], c["runs"]["test"]
    failed = " and ".join(f"`make {t}` exited with {r['exit_code']}" for t, r in c["runs"].items() if r["exit_code"])
    end = f" at the start and {c['load_average_end']} at the end" if "load_average_end" in c else " at the start"
    return (f"Measured on {c['date'][:10]} on {c['cores']} cores (`python scripts/readme_figures.py --measure-cost`, "
            f"`reports/cost.json`), with `.venv` already installed: `make run` took {_minutes(run['seconds'])}, "
            f"`make test` {_minutes(test['seconds'])}"
            + (f" (`{test['last_line'].strip('= ')}`)" if test.get("last_line") else "") + (f"; {failed}" if failed else "")
            + f". Load average {c['load_average_start']}{end} (a shared machine: other runs slow these down). "
            "The first of them on a fresh clone also installs `.venv`.")


def _relevance_block(r: dict) -> str:
    o, t = r["on_topic"], r["tags_only"]

    def ci(x):
        return f"{x[0]:.2f}-{x[1]:.2f}"

    return (f"Against a hand-judged sample (`benchmarks/relevance/`: all {r['strata'].get('candidate', 0)} feed articles that name "
            f"Syria and {r['strata'].get('random', 0)} random others, judged from title and opening before looking at the flag; "
            f"{r['about_syria']} are about the war), the flag ({r['rule']}) marks {o['flagged']:,} of the feed's "
            f"{r['feed_articles']:,} articles: **precision {o['precision']:.2f}** ({o['true_positives']} of {o['flagged']}; Wilson 95% "
            f"interval {ci(o['precision_ci'])}), **recall {o['recall']:.2f}** ({o['true_positives']} of "
            f"{o['true_positives'] + o['false_negatives']:.0f}; {ci(o['recall_ci'])}); {len(o['missed'])} missed. The tags alone "
            f"(relevance at least the floor, no name test) flag {t['flagged']:,} articles for {t['true_positives']} hits: "
            f"precision {t['precision']:.2f}. (`python benchmarks/relevance/measure.py` after `make run`; "
            "`benchmarks/relevance/results.json`.)")


def _trends_block(t: dict) -> str:
    def iv(lo, hi, sign=""):
        return f"[{lo:{sign}.3f}, {hi:{sign}.3f}]"

    lines = [f"Blame's weekly share in the on-topic articles of the feed, all outlets (`{t['source']}` after `make run`; "
             f"{t['articles']:,} articles"
             + (f", {t['largest_outlet']['articles']} of them from {t['largest_outlet']['outlet']}" if t.get("largest_outlet") else "")
             + f"; the talks were suspended in {SUSPENSION_WEEK}):", "",
             "| week | articles | blame share [95% CI] | change from the week before [95% CI] |", "|---|---|---|---|"]
    for w in t["weeks"]:
        ch = "" if w["change"] is None else f"{w['change']:+.3f} {iv(w['change_low'], w['change_high'], '+')}"
        wk = f"**{w['period']}**" if w["period"] == SUSPENSION_WEEK else w["period"]
        lines.append(f"| {wk} | {w['articles']:.0f} | {w['share']:.3f} {iv(w['ci_low'], w['ci_high'])} | {ch} |")
    weeks = [w["period"] for w in t["weeks"]]
    if SUSPENSION_WEEK in weeks:
        said = []
        for w, what in zip(t["weeks"][weeks.index(SUSPENSION_WEEK):][:2], ("into the week of the suspension", "into the week after")):
            if w["change"] is not None:
                zero = "includes" if w["change_low"] <= 0 <= w["change_high"] else "excludes"
                said.append(f"{what} {w['change']:+.3f} {iv(w['change_low'], w['change_high'], '+')} (the interval {zero} 0)")
        if said:
            lines += ["", "Change in blame's share " + "; ".join(said) + "."]
    big = [w for w in t["weeks"] if w["change"] is not None and w["articles"] >= t["min_articles"]]
    if big:
        b = max(big, key=lambda w: w["change"])
        zero = "includes" if b["change_low"] <= 0 <= b["change_high"] else "excludes"
        lines += ["", f"The largest weekly rise (weeks of {t['min_articles']} articles or more) is into {b['period']}: {b['change']:+.3f} "
                  f"{iv(b['change_low'], b['change_high'], '+')}, an interval that {zero} 0."]
    return "\n".join(lines)


def _share_error_block(x: dict) -> str:
    periods = sorted({c["period"] for c in x["cells"]})
    lines = [f"The model `{x['model_id']}` on the {x['articles']} held-out articles it never trained on ({x['note']}; "
             f"{x['sentences']:,} sentences; {x['undated_articles']} undated left out), by {x['by']} ({', '.join(periods)}): the "
             "mean absolute error of each label's share against the hand-labelled share (`" + x["command"] + "`; every "
             "correction fitted on the other months' articles, the difference from raw with its 95% interval over "
             f"{x['n_boot']} article resamples):", "",
             "| label | raw | rates | ACC | PACC | best correction - raw [95% CI] | used | hand share inside the interval, "
             "without / with the model's error |", "|---|---|---|---|---|---|---|---|"]
    for lab in LABELS_ORDER:
        e = x["labels"][lab]
        best = min(("rates", "acc", "pacc"), key=lambda m: e["mae"][m])
        d = e["difference"][best]
        lines.append(f"| {lab} | {e['mae']['raw']:.3f} | {e['mae']['rates']:.3f} | {e['mae']['acc']:.3f} | {e['mae']['pacc']:.3f} "
                     f"| {best} {d[0]:+.3f} [{d[1]:+.3f}, {d[2]:+.3f}] | {e['adopted'] or 'raw'} "
                     f"| {e['covered']}/{e['periods']} / {e['covered_error']}/{e['periods']} |")
    o = x["overall"]
    adopted = sorted(lab for lab, e in x["labels"].items() if e["adopted"])
    lines += ["", f"Over labels and months: raw {o['raw']:.3f}, rates {o['rates']:.3f}, ACC {o['acc']:.3f}, PACC {o['pacc']:.3f}. "
              + (f"A correction is used for {', '.join(adopted)}." if adopted else
                 "No correction beats raw shares in 97.5% of the resamples for any label, so the shares stay the model's own.")]
    return "\n".join(lines)


def _page_block(x: dict) -> str:
    o, w = x["on_topic"], x["whole_feed"]
    return (f"`{o['page']}` after `make run` (on-topic articles): {o['bytes'] / 1e6:.1f} MB, {o['sentences']:,} tagged sentences, "
            f"its sentence table filled {o['load_seconds']:.2f} s after headless chromium starts opening it; the page of every article of "
            f"the feed (`talks trends out/feed-tags.parquet --report DIR`): {w['bytes'] / 1e6:.1f} MB, {w['sentences']:,} tagged "
            f"sentences, {w['load_seconds']:.2f} s (medians of {x['loads']} loads, {x['cores']} cores, load average "
            f"{x['load_average']}; `python scripts/readme_figures.py --only page`).")


def _jobs_block(x: dict) -> str:
    return (f"`--jobs N` spreads the files over N worker processes, `-1` (or `0`) one per core; fewer, or none, when the "
            f"input is too small to share: each worker must get at least {x['min_chunks_per_worker']} chunks of "
            f"{x['chunk_files']} files, so up to {x['one_process_up_to']} files run in one process, since a worker costs a "
            "process start.")


def figure_files() -> list[Path]:
    """The files that may hold figure blocks: the README and every page of docs/."""
    return [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def write_blocks(blocks: dict[str, str], files: list[Path] | None = None) -> list[Path]:
    """Rewrite each ``<!-- figures:NAME -->`` block in whichever file holds it.

    Every generator (this script, ``benchmarks/bench_table.py``, ``benchmarks/models.py``,
    ``scripts/label_dependencies.py``) writes through here, so a block can move between the
    README and a page of docs/ without touching its generator.  ``files``: where to look
    (default :func:`figure_files`); a block must be in exactly one of them.  Returns the files rewritten.
    """
    from pipeline.store import atomic_write_text

    texts = {Path(p): Path(p).read_text(encoding="utf-8") for p in (files if files is not None else figure_files())}
    new = dict(texts)
    for name, body in blocks.items():
        pat = re.compile(rf"(<!-- figures:{re.escape(name)} -->\n).*?(<!-- /figures -->)", re.S)
        homes = [p for p, t in new.items() if pat.search(t)]
        if len(homes) != 1:
            where = ", ".join(str(p) for p in homes) or "none of " + ", ".join(str(p) for p in new)
            raise SystemExit(f"<!-- figures:{name} --> must be in exactly one file; it is in {where}")
        new[homes[0]] = pat.sub(lambda m: m.group(1) + body + "\n" + m.group(2), new[homes[0]])
    changed = [p for p in new if new[p] != texts[p]]
    for p in changed:
        atomic_write_text(p, new[p])
    return changed


COST = REPO / "reports" / "cost.json"


def measure_cost(targets: tuple[str, ...] = ("run", "test")) -> dict:
    """Time ``make TARGET`` for each target, one after the other, with the venv already installed."""
    import platform
    import subprocess
    import time
    from datetime import datetime, timezone

    res = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "cores": os.cpu_count(),
           "python": platform.python_version(),
           "commit": subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip(),
           "load_average_start": round(os.getloadavg()[0], 2), "runs": {}}
    for t in targets:
        t0 = time.monotonic()
        p = subprocess.run(["make", t], cwd=REPO, capture_output=True, text=True)
        res["runs"][t] = {"seconds": round(time.monotonic() - t0, 1), "exit_code": p.returncode,
                          "last_line": (p.stdout.strip().splitlines() or [""])[-1][-200:]}
    res["load_average_end"] = round(os.getloadavg()[0], 2)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--render", action="store_true", help="only re-render the figure blocks from reports/figures.json")
    ap.add_argument("--only", help="recompute only these parts (comma-separated: " + ", ".join(PARTS) + ") into reports/figures.json")
    ap.add_argument("--measure-cost", action="store_true", help="time `make run` and `make test` into reports/cost.json first")
    args = ap.parse_args()
    from pipeline.store import atomic_write_text

    old = json.loads(OUT.read_text()) if OUT.exists() else {}
    if args.measure_cost:
        atomic_write_text(COST, json.dumps(measure_cost(), indent=1) + "\n")
    if args.render:
        fig = old
    else:
        os.chdir(REPO)  # relative paths, so the figures name files as a reader of the docs sees them
        if args.only:
            fig = dict(old)
            for name in args.only.split(","):
                if name not in PARTS:
                    raise SystemExit(f"--only {name}: not one of {', '.join(PARTS)}")
                fig[name] = PARTS[name](Path("models"))
        else:
            fig = compute(Path("labels"), Path("corpus"), Path("models"))
        for name in PARTS:  # a part that needs `make run`'s outputs keeps its last figures when they are missing
            if fig.get(name) is None and old.get(name) is not None:
                print(f"{name}: its inputs are missing (run `make run` first); kept the figures of reports/figures.json")
                fig[name] = old[name]
        atomic_write_text(OUT, json.dumps(fig, indent=1) + "\n")
    done = write_blocks(render(fig))
    print(("" if args.render else f"wrote {OUT}; ") + "rewrote the figure blocks of "
          + (", ".join(str(p.relative_to(REPO)) for p in done) or "no file (all unchanged)"))


if __name__ == "__main__":
    main()
