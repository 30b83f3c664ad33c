"""Regenerate the README's figures from the project's own commands, and the JSON they come from.

Every figure block in README.md sits between ``<!-- figures:NAME -->`` and
``<!-- /figures -->``; this script recomputes the numbers with the library
(the same functions the ``talks`` commands call), writes them to
``reports/figures.json``, and rewrites the blocks.  ``--render`` only
re-renders the blocks from an existing ``reports/figures.json``.
Usage: python scripts/readme_figures.py [--render] (or: make figures)
"""
from __future__ import annotations

import argparse
import json
import os
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "reports" / "figures.json"
LABELS_ORDER = ("diplomacy", "violence", "humanitarian", "blame")
# The model that was current before round 2 of the labels (trained on round 1 without the held-out articles).
BEFORE = "tfidf-69fb10c6b1"
# The same features and grid trained on rounds 1 and 2: the loop's "after", so the comparison is the labels' doing.
AFTER = "tfidf-a5739769ea"
# Round 2's two blind passes: the queue batches (ann13-20 / ann21-28), the refugee and aid articles (29-30 / 31-32),
# the accusation-rich held-out articles (33 / 34).
ROUND2 = {"pass1": [f"ann{n}" for n in (*range(13, 21), 29, 30, 33)], "pass2": [f"ann{n}" for n in (*range(21, 29), 31, 32, 34)]}


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
    stores = [labels / f"{n}.csv" for n in ROUND2["pass1"] + ROUND2["pass2"]]
    if all(p.exists() for p in stores):
        ag = agreement([str(labels / f"{n}.csv") for n in ROUND2["pass1"]], [str(labels / f"{n}.csv") for n in ROUND2["pass2"]],
                       Path("reports") / "disagreements-r2.csv")
        fig["round2_agreement"] = {k: ag[k] for k in ("n", "per_label", "junk_disagreements", "disagreements")}
    if (models / BEFORE).is_dir() and (models / AFTER).is_dir():
        c = compare_models(BEFORE, AFTER, project)
        fig["compare"] = {k: c[k] for k in ("a", "b", "source", "sentences", "articles", "n_boot", "difference", "heldout")}
        fig["compare"]["models"] = [{"model_id": m["model_id"], "metrics": m["metrics"]} for m in c["models"]]
        fig["compare"]["changed"] = {k: c["changed"][k] for k in ("sentences", "label_changes_fixed", "label_changes_broken")}
    emb = [m for m in list_models(models) if "embeddings" in (m.get("features") or "") and m.get("heldout_version")]
    if emb:  # the newest embedding model that was scored on a held-out set
        c = compare_models(cur, emb[0]["model_id"], project)
        fig["embeddings"] = {k: c[k] for k in ("a", "b", "source", "sentences", "articles", "n_boot", "difference")}
        fig["embeddings"]["models"] = [{"model_id": m["model_id"], "metrics": m["metrics"]} for m in c["models"]]
    ev = evaluate(project, model=cur)
    fig["cv"] = {"metrics": ev["metrics"], "baselines": {k: v["macro"]["f1"] for k, v in ev.get("baselines", {}).items()}
                 if isinstance(ev.get("baselines"), dict) else None,
                 "learning_curve": ev.get("learning_curve"), "data": ev.get("data")}
    sim = simulate(project)
    fig["simulation"] = {k: sim[k] for k in ("test", "pool", "parameters", "full", "target", "verdict")}
    fig["simulation"]["strategies"] = {s: {k: v for k, v in d.items() if k != "runs"} for s, d in sim["strategies"].items()}
    return fig


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


def render(fig: dict) -> dict[str, str]:
    blocks = {}
    c = fig.get("compare")
    lines = []
    if c:
        ch = c["changed"]
        lines = [f"Round 2 of the labels, as the loop above ran it (`talks compare {c['a']} {c['b']}` on {c['source']}: "
                 f"{c['sentences']:,} sentences of {c['articles']} articles, version {c['heldout']['sha256'][:12]}; "
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
    ag = fig.get("round2_agreement")
    if ag:
        lines += ["", f"Round 2, pass 1 ({', '.join(ROUND2['pass1'])}) against pass 2 ({', '.join(ROUND2['pass2'])}), "
                  f"labelled blind: over {ag['n']:,} sentences "
                  "both passes kept as non-junk, Cohen's kappa "
                  + ", ".join(f"{r['label']} {r['kappa']:.3f}" for r in ag["per_label"])
                  + f"; {ag['disagreements']:,} disagreements ({ag['junk_disagreements']} about junk) went to a third reader."]
    lines += ["", "Rule-by-rule audit of the gold (guidelines 1.2): | " + " | ".join(
        f"{r['rule']} {r['corrections']}/{r['candidates']}" for r in fig["audit"]) + " | (corrections / candidates)"]
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
    return blocks


def write_readme(blocks: dict[str, str], readme: Path = REPO / "README.md") -> None:
    from pipeline.store import atomic_write_text

    text = readme.read_text(encoding="utf-8")
    for name, body in blocks.items():
        pat = re.compile(rf"(<!-- figures:{re.escape(name)} -->\n).*?(<!-- /figures -->)", re.S)
        if not pat.search(text):
            raise SystemExit(f"README.md has no <!-- figures:{name} --> block")
        text = pat.sub(lambda m: m.group(1) + body + "\n" + m.group(2), text)
    atomic_write_text(readme, text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--render", action="store_true", help="only re-render README blocks from reports/figures.json")
    args = ap.parse_args()
    if args.render:
        fig = json.loads(OUT.read_text())
    else:
        from pipeline.store import atomic_write_text

        os.chdir(REPO)  # relative paths, so the figures name files as a reader of the README sees them
        fig = compute(Path("labels"), Path("corpus"), Path("models"))
        atomic_write_text(OUT, json.dumps(fig, indent=1) + "\n")
    write_readme(render(fig))
    print(f"wrote {OUT} and the README's figure blocks")


if __name__ == "__main__":
    main()
