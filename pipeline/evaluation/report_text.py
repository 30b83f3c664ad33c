"""The evaluation report as text: ``summary.md`` (Markdown, the short version for a pull request) and
the console summary the CLI prints, each with its comparison and simulation sections.
"""
from __future__ import annotations

from pipeline.evaluation.wording import how_measured, install_text, number, report_title, sim_cell, sim_needed, speed_text, systems
from pipeline.metrics import format_interval


# --------------------------------------------------------------------------
# Markdown summary
# --------------------------------------------------------------------------
def summary_markdown(result: dict) -> str:
    m = result["metrics"]
    d = result["data"]
    lines = [
        f"# {report_title(result)}",
        "",
        f"**Macro-F1 {m['macro']['f1']:.3f}** (95% CI {m['macro']['f1_ci'][0]:.3f}–{m['macro']['f1_ci'][1]:.3f}), "
        f"micro-F1 {m['micro']['f1']:.3f}; {d['sentences']} sentences from {d['articles']} articles, {how_measured(result)}.",
        "",
        "| label | precision | recall | F1 (95% CI) | support | AP | Brier |",
        "|---|---|---|---|---|---|---|",
    ]
    for lab in result["labels"]:
        r = m["per_label"][lab]
        lines.append(f"| {lab} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f} {format_interval(r['f1_ci'])} | {r['support']} | "
                     f"{number(r.get('average_precision'))} | {number(r.get('brier'))} |")
    lines += ["", "Model and baselines on the same sentences (macro-F1, 95% CI):", ""]
    for name, blk in systems(result):
        lines.append(f"- {name}: {blk['macro']['f1']:.3f} {format_interval(blk['macro']['f1_ci'])}")
    lc = result.get("learning_curve")
    if lc:
        pts = ", ".join(f"{p['train_sentences']:.0f} → {p['macro_f1']:.3f}" for p in lc["points"])
        lines += ["", f"Learning curve (training sentences → macro-F1): {pts}.", f"Verdict: {lc['verdict']}."]
    if result.get("comparison"):
        lines += ["", *_comparison_markdown(result)]
    if result.get("simulation"):
        lines += ["", *_simulation_markdown(result["simulation"])]
    for w in result.get("warnings", []):
        lines += ["", f"> warning: {w}"]
    lines += ["", f"Method: {result['method']['summary']} Thresholds: {result['method']['thresholds']}", ""]
    return "\n".join(lines)


def _comparison_markdown(result: dict) -> list[str]:
    comp = result["comparison"]
    labels = result["labels"]
    lines = ["## Model comparison", "",
             f"Same {comp['sentences']} sentences from {comp['articles']} articles for every model; {comp['method']}. "
             f"95% intervals from the same {comp['n_boot']} article resamples for all models.", "",
             "| model | features | C | " + " | ".join(f"F1 {lab}" for lab in labels) + " | macro-F1 | Δ macro-F1 vs "
             f"{comp['reference']} | sentences/s | extra install |",
             "|---|---|---|" + "---|" * len(labels) + "---|---|---|---|"]
    for m in comp["models"]:
        met = m["metrics"]
        d = m["difference"]
        cells = [m["model_id"], m["features"], f"{m['C']:g}",
                 *[f"{met['per_label'][lab]['f1']:.3f} {format_interval(met['per_label'][lab]['f1_ci'])}" for lab in labels],
                 f"**{met['macro']['f1']:.3f}** {format_interval(met['macro']['f1_ci'])}",
                 "reference" if d is None else f"{d['macro_f1']:+.3f} [{d['macro_f1_ci'][0]:+.3f}, {d['macro_f1_ci'][1]:+.3f}]",
                 speed_text(m.get("speed")), install_text(m.get("install"))]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    for m in comp["models"][1:]:
        lines.append(f"- {m['model_id']} vs {m['difference']['vs']}: {m['difference']['verdict']}.")
    for m in comp["models"]:
        s = m.get("speed") or {}
        if s:
            lines.append(f"- {m['model_id']}: {speed_text(s)} sentences/s on {s.get('on', '')}; install: {m['install']['text']}.")
    return lines


def _simulation_markdown(sim: dict) -> list[str]:
    lines = ["## Labelling queue vs random order (simulation)", "", f"{sim['verdict']}.", "",
             "| strategy | labels to target (mean curve) | per seed | mean over seeds | area (mean macro-F1) |", "|---|---|---|---|---|"]
    for name, st in sim["strategies"].items():
        lines.append(f"| {name} | " + " | ".join(sim_needed(st)) + f" | {st['area']:.3f} |")
    return [*lines, "", f"Method: {sim['method']} Test: {sim['test']['source']}."]


# --------------------------------------------------------------------------
# Console summary (cli prints it; built here so it is tested with the rest)
# --------------------------------------------------------------------------
def console_summary(result: dict, paths: dict | None = None) -> str:
    """A compact per-label table, macro-F1 with CI, baselines and the report paths, as text."""
    m = result["metrics"]
    kw, maj = result["baselines"]["keywords"], result["baselines"]["majority"]
    head = ["label", "precision", "recall", "F1", "95% CI", "support", "keywords F1", "majority F1"]
    rows = [[lab, number(m["per_label"][lab]["precision"]), number(m["per_label"][lab]["recall"]), number(m["per_label"][lab]["f1"]),
             format_interval(m["per_label"][lab]["f1_ci"]), str(m["per_label"][lab]["support"]), number(kw["per_label"][lab]["f1"]),
             number(maj["per_label"][lab]["f1"])] for lab in result["labels"]]
    rows.append(["macro", number(m["macro"]["precision"]), number(m["macro"]["recall"]), number(m["macro"]["f1"]), format_interval(m["macro"]["f1_ci"]), "",
                 number(kw["macro"]["f1"]), number(maj["macro"]["f1"])])
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    fmt = lambda cells: "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))  # noqa: E731
    lines = [f"{report_title(result)}: {result['data']['sentences']} sentences, {result['data']['articles']} articles, {how_measured(result)}", "",
             fmt(head), fmt(["-" * w for w in widths]), *map(fmt, rows), "",
             f"macro-F1 {m['macro']['f1']:.3f} {format_interval(m['macro']['f1_ci'])}, micro-F1 {m['micro']['f1']:.3f}; "
             f"baselines: keywords {kw['macro']['f1']:.3f}, majority {maj['macro']['f1']:.3f}"]
    lc = result.get("learning_curve")
    if lc:
        lines.append(f"learning curve: {lc['verdict']}")
    if result.get("comparison"):
        lines += ["", *_comparison_console(result)]
    if result.get("simulation"):
        lines += ["", simulation_text(result["simulation"])]
    if paths:
        lines.append("wrote " + ", ".join(paths[k] for k in ("html", "metrics", "summary") if k in paths))
    return "\n".join(lines)


def _comparison_console(result: dict) -> list[str]:
    comp = result["comparison"]
    labels = result["labels"]
    head = ["model", *labels, "macro-F1", f"Δ vs {comp['reference']}", "sentences/s", "extra install"]
    rows = []
    for m in comp["models"]:
        met, d = m["metrics"], m["difference"]
        rows.append([m["model_id"], *[f"{met['per_label'][lab]['f1']:.3f} {format_interval(met['per_label'][lab]['f1_ci'])}" for lab in labels],
                     f"{met['macro']['f1']:.3f} {format_interval(met['macro']['f1_ci'])}",
                     "reference" if d is None else f"{d['macro_f1']:+.3f} [{d['macro_f1_ci'][0]:+.3f}, {d['macro_f1_ci'][1]:+.3f}]",
                     speed_text(m.get("speed")), install_text(m.get("install"))])
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    fmt = lambda cells: "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))  # noqa: E731
    lines = [f"model comparison (same {comp['sentences']} sentences, same {comp['n_boot']} article resamples; F1 with 95% CI):",
             fmt(head), fmt(["-" * w for w in widths]), *map(fmt, rows)]
    for m in comp["models"][1:]:
        lines.append(f"{m['model_id']} vs {m['difference']['vs']}: {m['difference']['verdict']}")
    for m in comp["models"]:
        if m.get("install"):
            lines.append(f"{m['model_id']} install: {m['install']['text']}")
    return lines


def simulation_text(sim: dict, max_rows: int = 13) -> str:
    """The simulation as console text: macro-F1 per number of labels (thinned to ``max_rows``), labels to target, verdict."""
    names = list(sim["strategies"])
    curves = list(zip(*(st["points"] for st in sim["strategies"].values())))
    stride = -(-len(curves) // max_rows)
    shown = curves[::stride] + ([curves[-1]] if (len(curves) - 1) % stride else [])
    head = ["labelled", *names]
    rows = [[str(pts[0]["labelled"]), *(sim_cell(p) for p in pts)] for pts in shown]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    fmt = lambda cells: "  ".join(c.rjust(w) for c, w in zip(cells, widths))  # noqa: E731
    lines = [f"simulation, {len(sim['parameters']['seeds'])} seed(s); test: {sim['test']['source']} "
             f"({sim['test']['sentences']} sentences); macro-F1 mean [min, max] over seeds:",
             fmt(head), fmt(["-" * w for w in widths]), *map(fmt, rows), ""]
    for name, st in sim["strategies"].items():
        curve, per_seed, seed_mean = sim_needed(st)
        lines.append(f"{name}: {curve} labels to reach {sim['target']['macro_f1']:.3f} (seeds: {per_seed}; mean {seed_mean}); "
                     f"area {st['area']:.3f}")
    lines.append(f"verdict: {sim['verdict']}")
    return "\n".join(lines)
