"""Stage 6b: an evaluation dict -> ``report.html``, ``metrics.json`` and ``summary.md``.

Sits after :func:`pipeline.evaluation.evaluate.evaluate`.  The HTML is self-contained
(inline CSS, plots as base64 PNG, no scripts, no network), so it can be
mailed or opened from a CI artefact.  It reads top-down: headline numbers,
then plots, then the detail tables.  ``metrics.json`` holds every figure in
the report; ``summary.md`` is the short version for a pull request.
"""
from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

from pipeline.metrics import format_interval
from pipeline.store import atomic_write_text

COLOURS = {"model": "#2f6db5", "keywords": "#e08a2c", "majority": "#9aa0a6"}
# Compared models, in order (the first is the evaluated model, in its usual blue).
MODEL_COLOURS = ["#2f6db5", "#c0392b", "#2a9d8f", "#8e44ad", "#7f8c8d", "#b8860b"]


# --------------------------------------------------------------------------
# The entry point
# --------------------------------------------------------------------------
def write_report(result: dict, out_dir: str | Path) -> dict:
    """Write the three report files into ``out_dir``; return their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"html": out / "report.html", "metrics": out / "metrics.json", "summary": out / "summary.md"}
    atomic_write_text(paths["metrics"], json.dumps(result, indent=2, ensure_ascii=False, allow_nan=False) + "\n")
    atomic_write_text(paths["summary"], summary_markdown(result))
    atomic_write_text(paths["html"], report_html(result))
    return {k: str(v) for k, v in paths.items()}


# --------------------------------------------------------------------------
# Small formatting helpers
# --------------------------------------------------------------------------
def _f(v, nd: int = 3) -> str:
    return "–" if v is None else f"{v:.{nd}f}"


def _e(s) -> str:
    return html.escape(str(s))


def _systems(result: dict) -> list[tuple[str, dict]]:
    return [("model", result["metrics"]), ("keywords", result["baselines"]["keywords"]), ("majority", result["baselines"]["majority"])]


def _title(result: dict) -> str:
    mid = result.get("model", {}).get("model_id") or "default parameters"
    comp = result.get("comparison")
    if comp:
        others = [m["model_id"] for m in comp["models"][1:]]
        return f"Evaluation of {mid} compared with {', '.join(others)}"
    return f"Evaluation of {mid}"


def _how(result: dict) -> str:
    if result["mode"] == "cv":
        p = result.get("parameters", {})
        return f"nested grouped {p.get('n_splits', '')}-fold cross-validation by article"
    return f"held-out file {result['data'].get('source', '')}"


# --------------------------------------------------------------------------
# Markdown summary
# --------------------------------------------------------------------------
def summary_markdown(result: dict) -> str:
    m = result["metrics"]
    d = result["data"]
    lines = [
        f"# {_title(result)}",
        "",
        f"**Macro-F1 {m['macro']['f1']:.3f}** (95% CI {m['macro']['f1_ci'][0]:.3f}–{m['macro']['f1_ci'][1]:.3f}), "
        f"micro-F1 {m['micro']['f1']:.3f}; {d['sentences']} sentences from {d['articles']} articles, {_how(result)}.",
        "",
        "| label | precision | recall | F1 (95% CI) | support | AP | Brier |",
        "|---|---|---|---|---|---|---|",
    ]
    for lab in result["labels"]:
        r = m["per_label"][lab]
        lines.append(f"| {lab} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f} {format_interval(r['f1_ci'])} | {r['support']} | "
                     f"{_f(r.get('average_precision'))} | {_f(r.get('brier'))} |")
    lines += ["", "Model and baselines on the same sentences (macro-F1, 95% CI):", ""]
    for name, blk in _systems(result):
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


def _speed_str(s: dict | None) -> str:
    if not s or not s.get("sentences_per_second"):
        return "–"
    out = f"{s['sentences_per_second']:,.0f}"
    if s.get("embedding_cache"):
        out += f" (cache off; {s['sentences_per_second_cached']:,.0f} cached)"
    return out


def _install_str(inst: dict | None) -> str:
    if not inst:
        return "–"
    if not inst.get("extra"):
        return "0 MB extra"
    out = f"{inst['bytes'] / 1e6:.0f} MB ({inst['extra']} extra)"
    if inst.get("dependency_bytes"):
        out += f" + {inst['dependency_bytes'] / 1e6:.0f} MB deps"
    return out


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
                 _speed_str(m.get("speed")), _install_str(m.get("install"))]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    for m in comp["models"][1:]:
        lines.append(f"- {m['model_id']} vs {m['difference']['vs']}: {m['difference']['verdict']}.")
    for m in comp["models"]:
        s = m.get("speed") or {}
        if s:
            lines.append(f"- {m['model_id']}: {_speed_str(s)} sentences/s on {s.get('on', '')}; install: {m['install']['text']}.")
    return lines


# --------------------------------------------------------------------------
# Plots (matplotlib, Agg, base64 PNG)
# --------------------------------------------------------------------------
def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)  # no display, same output everywhere
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 9, "axes.spines.top": False, "axes.spines.right": False,
                         "axes.grid": True, "grid.alpha": 0.3, "figure.dpi": 110})
    return plt


def _png(fig) -> str:
    plt = _plt()
    buf = io.BytesIO()
    # no timestamp in the PNG metadata, so the same result gives the same file
    fig.savefig(buf, format="png", bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def plot_f1_bars(result: dict) -> str:
    """Per-label F1 of the model and the baselines, with 95% CI error bars."""
    import numpy as np

    plt = _plt()
    labels = result["labels"]
    systems = _systems(result)
    x = np.arange(len(labels) + 1)
    w = 0.8 / len(systems)
    fig, ax = plt.subplots(figsize=(7.2, 3.2))
    for i, (name, blk) in enumerate(systems):
        rows = [blk["per_label"][lab] for lab in labels] + [{"f1": blk["macro"]["f1"], "f1_ci": blk["macro"]["f1_ci"]}]
        vals = np.array([r["f1"] for r in rows])
        lo = np.array([r["f1"] - r["f1_ci"][0] for r in rows]).clip(min=0)
        hi = np.array([r["f1_ci"][1] - r["f1"] for r in rows]).clip(min=0)
        ax.bar(x + (i - (len(systems) - 1) / 2) * w, vals, w, yerr=[lo, hi], capsize=2.5, label=name,
               color=COLOURS.get(name), error_kw={"elinewidth": 0.8, "alpha": 0.8})
    ax.set_xticks(x, [*labels, "macro"])
    ax.set_ylim(0, 1)
    ax.set_ylabel("F1")
    ax.axvline(len(labels) - 0.5, color="#bbb", lw=0.8)
    ax.legend(frameon=False, ncols=3, loc="upper right", bbox_to_anchor=(1, 1.15))
    return _png(fig)


def _grid(plt, n: int):
    cols = min(n, 4)  # the four labels side by side, one row, so the panels stay readable
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(3.0 * cols, 2.9 * rows), squeeze=False)
    flat = axes.ravel()
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat


def plot_pr_curves(result: dict) -> str:
    """Precision-recall curve per label, the operating point marked."""
    plt = _plt()
    labels = result["labels"]
    fig, axes = _grid(plt, len(labels))
    for ax, lab in zip(axes, labels):
        c = result["curves"]["pr"][lab]
        if c["recall"]:
            ax.plot(c["recall"], c["precision"], color=COLOURS["model"], lw=1.5)
            ax.axhline(c["prevalence"], color="#999", ls=":", lw=1, label=f"chance ({c['prevalence']:.2f})")
        op = c["operating_point"]
        thr = op.get("threshold")
        ax.plot([op["recall"]], [op["precision"]], "o", ms=7, color="#d62728",
                label="threshold" + (f" {thr:.2f}" if thr is not None else ""))
        kw = result["baselines"]["keywords"]["per_label"][lab]
        ax.plot([kw["recall"]], [kw["precision"]], "s", ms=5, color=COLOURS["keywords"], label="keywords")
        ap = c.get("average_precision")
        ax.set_title(f"{lab}  (AP {_f(ap, 2)})")
        ax.set_xlim(0, 1.02)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("recall")
        ax.set_ylabel("precision")
        ax.legend(frameon=False, fontsize=7, loc="lower left")
    fig.tight_layout()
    return _png(fig)


def plot_reliability(result: dict) -> str:
    """Reliability diagram per label: mean predicted vs observed frequency per bin."""
    plt = _plt()
    labels = result["labels"]
    fig, axes = _grid(plt, len(labels))
    for ax, lab in zip(axes, labels):
        c = result["curves"]["calibration"][lab]
        ax.plot([0, 1], [0, 1], color="#999", ls=":", lw=1)
        if c["prob_pred"]:
            sizes = [8 + 80 * n / max(c["counts"]) for n in c["counts"]]
            ax.plot(c["prob_pred"], c["prob_true"], "-", color=COLOURS["model"], lw=1.2)
            ax.scatter(c["prob_pred"], c["prob_true"], s=sizes, color=COLOURS["model"], zorder=3)
        ax.set_title(f"{lab}  (Brier {c['brier']:.3f})")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("predicted probability")
        ax.set_ylabel("observed share positive")
    fig.tight_layout()
    return _png(fig)


def plot_learning_curve(result: dict) -> str:
    import numpy as np

    plt = _plt()
    pts = result["learning_curve"]["points"]
    x = np.array([p["train_sentences"] for p in pts])
    y = np.array([p["macro_f1"] for p in pts])
    sd = np.array([p["macro_f1_sd"] for p in pts])
    fig, ax = plt.subplots(figsize=(6.0, 3.0))
    ax.fill_between(x, y - sd, y + sd, color=COLOURS["model"], alpha=0.15, lw=0)
    ax.plot(x, y, "o-", color=COLOURS["model"], label="macro-F1 (± fold sd)")
    ax.plot(x, [p["macro_ap"] for p in pts], "s--", color="#555", ms=4, lw=1, label="macro AP")
    kw = result["baselines"]["keywords"]["macro"]["f1"]
    ax.axhline(kw, color=COLOURS["keywords"], ls=":", lw=1.2, label=f"keywords macro-F1 ({kw:.2f})")
    for p in pts:
        ax.annotate(f"{p['train_articles']:.0f} art.", (p["train_sentences"], p["macro_f1"]), textcoords="offset points",
                    xytext=(0, -13), ha="center", fontsize=7, color="#555")
    ax.set_xlabel("training sentences (mean over folds)")
    ax.set_ylabel("score")
    ax.set_ylim(0, 1)
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    return _png(fig)


def plot_comparison_f1(result: dict) -> str:
    """Per-label and macro F1 of every compared model, with 95% CIs from the shared resamples."""
    import numpy as np

    plt = _plt()
    labels = result["labels"]
    models = result["comparison"]["models"]
    x = np.arange(len(labels) + 1)
    w = 0.8 / len(models)
    fig, ax = plt.subplots(figsize=(7.2, 3.2))
    for i, m in enumerate(models):
        blk = m["metrics"]
        rows = [blk["per_label"][lab] for lab in labels] + [{"f1": blk["macro"]["f1"], "f1_ci": blk["macro"]["f1_ci"]}]
        vals = np.array([r["f1"] for r in rows])
        lo = np.array([r["f1"] - r["f1_ci"][0] for r in rows]).clip(min=0)
        hi = np.array([r["f1_ci"][1] - r["f1"] for r in rows]).clip(min=0)
        ax.bar(x + (i - (len(models) - 1) / 2) * w, vals, w, yerr=[lo, hi], capsize=2.5,
               label=f"{m['model_id']} ({m['features']})", color=MODEL_COLOURS[i % len(MODEL_COLOURS)],
               error_kw={"elinewidth": 0.8, "alpha": 0.8})
    ax.set_xticks(x, [*labels, "macro"])
    ax.set_ylim(0, 1)
    ax.set_ylabel("F1")
    ax.axvline(len(labels) - 0.5, color="#bbb", lw=0.8)
    ax.legend(frameon=False, ncols=min(len(models), 2), fontsize=8, loc="upper right", bbox_to_anchor=(1, 1.2))
    return _png(fig)


def plot_comparison_learning(result: dict) -> str:
    """Learning curves (macro-F1 ± fold sd vs training sentences) of every compared model on one plot."""
    import numpy as np

    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    for i, m in enumerate(result["comparison"]["models"]):
        lc = m.get("learning_curve")
        if not lc:
            continue
        pts = lc["points"]
        colour = MODEL_COLOURS[i % len(MODEL_COLOURS)]
        x = np.array([p["train_sentences"] for p in pts])
        y = np.array([p["macro_f1"] for p in pts])
        sd = np.array([p["macro_f1_sd"] for p in pts])
        ax.fill_between(x, y - sd, y + sd, color=colour, alpha=0.12, lw=0)
        ax.plot(x, y, "o-", color=colour, ms=4, label=f"{m['model_id']} ({m['features']})")
    kw = result["baselines"]["keywords"]["macro"]["f1"]
    ax.axhline(kw, color=COLOURS["keywords"], ls=":", lw=1.2, label=f"keywords ({kw:.2f})")
    ax.set_xlabel("training sentences (mean over folds)")
    ax.set_ylabel("macro-F1 (± fold sd)")
    ax.set_ylim(0, 1)
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    return _png(fig)


# --------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------
CSS = """
*{box-sizing:border-box}
body{font:14px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1f2328;
  margin:0;background:#f6f8fa}
main{max-width:1080px;margin:0 auto;padding:24px 28px 48px;background:#fff;min-height:100vh}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:32px 0 10px;padding-bottom:4px;border-bottom:1px solid #e5e7eb}
h3{font-size:14px;margin:18px 0 6px}
.sub{color:#57606a;margin:0 0 18px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(180px,1fr));gap:12px;margin:12px 0}
.card{border:1px solid #e5e7eb;border-radius:8px;padding:12px 14px;background:#fbfcfd}
.card .k{font-size:12px;color:#57606a;text-transform:uppercase;letter-spacing:.04em}
.card .v{font-size:26px;font-weight:600;margin-top:2px}.card .c{font-size:12px;color:#57606a}
.card.main{border-color:#2f6db5;background:#f1f6fd}.card.main .v{color:#2f6db5}
.verdict{border-left:4px solid #2f6db5;background:#f1f6fd;padding:8px 12px;margin:10px 0;border-radius:0 6px 6px 0}
.warn{border-left:4px solid #d4a72c;background:#fff8e1;padding:8px 12px;margin:8px 0;border-radius:0 6px 6px 0}
.plots{display:grid;grid-template-columns:1fr 1fr;gap:16px}
figure{margin:0;border:1px solid #e5e7eb;border-radius:8px;padding:10px;background:#fff}
figure.wide{grid-column:1/-1}figure img{max-width:100%;height:auto;display:block;margin:0 auto}
figcaption{font-size:12px;color:#57606a;margin-top:6px}
table{border-collapse:collapse;width:100%;margin:6px 0 12px;font-size:13px}
th,td{padding:5px 8px;border-bottom:1px solid #eef0f2;text-align:right;vertical-align:top}
th{background:#f6f8fa;font-weight:600;color:#3b434b}
td:first-child,th:first-child{text-align:left}
td.text{text-align:left;max-width:560px}td.ci{color:#6e7781;font-size:12px}
tr.model td{font-weight:600}
.num{font-variant-numeric:tabular-nums}
details{margin:6px 0}summary{cursor:pointer;font-weight:600}
code{background:#f6f8fa;padding:1px 4px;border-radius:4px;font-size:12px}
.terms{display:grid;grid-template-columns:repeat(auto-fit,minmax(240px,1fr));gap:12px}
.terms div{border:1px solid #eef0f2;border-radius:8px;padding:8px 10px}
.pos{color:#1a7f37}.neg{color:#cf222e}
footer{margin-top:36px;color:#6e7781;font-size:12px}
table.comparison td,table.comparison-diff td{white-space:nowrap}table.comparison td:nth-last-child(-n+2){white-space:normal}
table.comparison td:nth-child(2),table.comparison th:nth-child(2){text-align:left}
@media (max-width:760px){.plots{grid-template-columns:1fr}}
"""


def report_html(result: dict) -> str:
    m = result["metrics"]
    d = result["data"]
    labels = result["labels"]
    kw = result["baselines"]["keywords"]
    lc = result.get("learning_curve")
    best = max(labels, key=lambda lab: m["per_label"][lab]["f1"])
    worst = min(labels, key=lambda lab: m["per_label"][lab]["f1"])
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width,initial-scale=1'>",
        f"<title>{_e(_title(result))}</title><style>{CSS}</style></head><body><main>",
        f"<h1>{_e(_title(result))}</h1>",
        f"<p class='sub'>{d['sentences']} sentences from {d['articles']} articles · {_e(_how(result))} · "
        f"created {_e(result.get('created', ''))}</p>",
        "<div class='cards'>",
        _card("macro-F1", m["macro"]["f1"], "95% CI " + format_interval(m["macro"]["f1_ci"]), main=True),
        _card("micro-F1", m["micro"]["f1"], "95% CI " + format_interval(m["micro"]["f1_ci"])),
        _card("keyword baseline", kw["macro"]["f1"], f"macro-F1 · model {m['macro']['f1'] - kw['macro']['f1']:+.3f}"),
        _card("best / worst label", m["per_label"][best]["f1"], f"{best} {m['per_label'][best]['f1']:.2f} · {worst} {m['per_label'][worst]['f1']:.2f}"),
        "</div>",
    ]
    if lc:
        parts.append(f"<div class='verdict'><b>Learning curve:</b> {_e(lc['verdict'])}.</div>")
    beaten = [lab for lab in labels if kw["per_label"][lab]["f1"] > m["per_label"][lab]["f1"]]
    if beaten:
        parts.append(f"<div class='warn'><b>Keyword rules beat the model on:</b> {_e(', '.join(beaten))}. "
                     "The model has too few or too noisy positives there; look at its worst errors below.</div>")
    for w in result.get("warnings", []):
        parts.append(f"<div class='warn'><b>Warning:</b> {_e(w)}</div>")
    if result.get("comparison"):
        parts.append(_comparison_html(result))

    parts += ["<h2>Plots</h2><div class='plots'>",
              _fig(plot_f1_bars(result), "F1 per label and macro average, model vs baselines; error bars are 95% article-bootstrap intervals.", "f1", wide=True),
              _fig(plot_pr_curves(result), "Precision-recall per label. Red dot: the operating point at the chosen threshold(s); orange square: keyword baseline; dotted: chance.", "pr", wide=True),
              _fig(plot_reliability(result), "Reliability: predicted probability vs observed share of positives per bin (dot size = sentences). Balanced class weights push probabilities up for rare labels.", "calibration", wide=True)]
    if lc:
        parts.append(_fig(plot_learning_curve(result), "Macro-F1 and macro AP vs training size, training folds grown by whole articles.", "learning", wide=True))
    parts.append("</div>")

    # Detail tables
    parts += ["<h2>Per-label metrics</h2>", _metrics_table(result), "<h2>Model vs baselines</h2>", _baseline_table(result),
              "<h2>Confusion counts</h2>", _confusion_table(result)]
    if lc:
        parts += ["<h2>Learning curve</h2>", _lc_table(lc)]
    if result.get("simulation"):
        parts.append(_simulation_html(result["simulation"]))
    parts += ["<h2>Most informative terms</h2>", _terms(result), "<h2>Worst errors</h2>",
              "<p class='sub'>Most confident false positives and least confident false negatives. Some are label noise: "
              "check them against the guidelines before blaming the model.</p>", _errors(result),
              "<h2>Method</h2>", _method(result), _footer(result), "</main></body></html>"]
    return "\n".join(parts)


def _comparison_html(result: dict) -> str:
    comp = result["comparison"]
    labels = result["labels"]
    models = comp["models"]
    out = ["<section id='comparison'><h2>Model comparison</h2>",
           f"<p class='sub'>Every model on the same {comp['sentences']} sentences from {comp['articles']} articles: {_e(comp['method'])}. "
           f"Intervals are 95% article-bootstrap intervals from the same {comp['n_boot']} resamples for every model; "
           "Δ is the paired difference (computed within each resample).</p>"]
    for m in models[1:]:
        d = m["difference"]
        cls = "verdict" if d["macro_f1_ci"][0] > 0 or d["macro_f1_ci"][1] < 0 else "warn"
        out.append(f"<div class='{cls}'><b>{_e(m['model_id'])} vs {_e(d['vs'])}:</b> {_e(d['verdict'])} "
                   f"({d['share_of_resamples_better']:.0%} of resamples favour {_e(m['model_id'])}).</div>")
    rows = []
    for i, m in enumerate(models):
        met, d = m["metrics"], m["difference"]
        swatch = f"<td><span style='color:{MODEL_COLOURS[i % len(MODEL_COLOURS)]}'>■</span> {_e(m['model_id'])}</td>"
        row = [swatch, _td(f"{m['features']}, C={m['C']:g}")]
        for lab in labels:
            r = met["per_label"][lab]
            row.append(f"<td>{_f(r['f1'])}<br><span class='ci'>{_e(format_interval(r['f1_ci']))}</span></td>")
        row.append(f"<td><b>{_f(met['macro']['f1'])}</b><br><span class='ci'>{_e(format_interval(met['macro']['f1_ci']))}</span></td>")
        row.append("<td class='ci'>reference</td>" if d is None else
                   f"<td><b>{d['macro_f1']:+.3f}</b><br><span class='ci'>[{d['macro_f1_ci'][0]:+.3f}, {d['macro_f1_ci'][1]:+.3f}]</span></td>")
        sp, inst = m.get("speed") or {}, m.get("install") or {}
        if sp.get("embedding_cache"):
            row.append(f"<td>{sp['sentences_per_second']:,.0f}<br><span class='ci'>cache off · {sp['sentences_per_second_cached']:,.0f} cached</span></td>")
        else:
            row.append(_td(_speed_str(sp)))
        if inst.get("extra"):
            deps = f" · +{inst['dependency_bytes'] / 1e6:.0f} MB deps" if inst.get("dependency_bytes") else ""
            row.append(f"<td>{inst['bytes'] / 1e6:.0f} MB<br><span class='ci'>{_e(inst['extra'])} extra{deps}</span></td>")
        else:
            row.append(_td(_install_str(inst)))
        rows.append(row)
    out.append(_table(["model", "features", *labels, "macro-F1", "Δ macro-F1 (paired)", "sentences/s", "extra install"],
                      rows, "comparison"))
    out.append(f"<p class='sub'>F1 per label and macro-F1 with 95% intervals; Δ is each model minus the reference "
               f"{_e(comp['reference'])}. Sentences/s: predict_proba of the loaded model, warm; for embedding models the "
               "embedding cache was off (every sentence encoded, as for new text), the cached figure beside it.</p>")
    if len(models) > 1:
        drows = []
        for m in models[1:]:
            d = m["difference"]
            drows.append([_td(f"{m['model_id']} − {d['vs']}"),
                          *[f"<td>{d['per_label'][lab]['f1']:+.3f}<br><span class='ci'>[{d['per_label'][lab]['f1_ci'][0]:+.3f}, "
                            f"{d['per_label'][lab]['f1_ci'][1]:+.3f}]</span></td>" for lab in labels],
                          f"<td><b>{d['macro_f1']:+.3f}</b><br><span class='ci'>[{d['macro_f1_ci'][0]:+.3f}, {d['macro_f1_ci'][1]:+.3f}]</span></td>"])
        out += ["<h3>Paired differences in F1 (95% bootstrap interval)</h3>",
                _table(["difference", *[f"Δ F1 {lab}" for lab in labels], "Δ macro-F1"], drows, "comparison-diff")]
    out.append("<div class='plots'>")
    out.append(_fig(plot_comparison_f1(result), "F1 per label and macro average for each model; error bars are 95% intervals "
                    "from the same article resamples.", "comparison-f1", wide=True))
    if any(m.get("learning_curve") for m in models):
        out.append(_fig(plot_comparison_learning(result), "Learning curves of all models on the same folds: macro-F1 (± fold sd) "
                        "vs training size, training folds grown by whole articles.", "comparison-learning", wide=True))
    out.append("</div>")
    items = []
    for m in models:
        s, inst = m.get("speed") or {}, m.get("install") or {}
        sp = "–"
        if s.get("sentences_per_second"):
            sp = (f"{s['sentences_per_second']:,.0f} sentences/s on {s.get('on', '')} (warm model, median of {s['runs']} pass(es), "
                  f"{s.get('cpu_count')} CPU(s)")
            if s.get("embedding_cache"):
                sp += (f", {s.get('threads')} encoder thread(s); embedding cache {s['embedding_cache']}; "
                       f"{s['sentences_per_second_cached']:,.0f} sentences/s with a warm cache")
            sp += ")"
        mf = f"; model file {inst['model_file_bytes'] / 1e6:.1f} MB" if inst.get("model_file_bytes") else ""
        items.append(f"<li><b>{_e(m['model_id'])}</b>: speed {_e(sp)}; install {_e(inst.get('text', '–'))}{_e(mf)}.</li>")
    out += ["<h3>Speed and install size</h3>", f"<ul>{''.join(items)}</ul>", "</section>"]
    return "\n".join(out)


def _card(k: str, v: float, c: str, main: bool = False) -> str:
    return f"<div class='card{' main' if main else ''}'><div class='k'>{_e(k)}</div><div class='v num'>{v:.3f}</div><div class='c'>{_e(c)}</div></div>"


def _fig(b64: str, caption: str, name: str, wide: bool = False) -> str:
    return (f"<figure class='{'wide' if wide else ''}' id='fig-{name}'><img alt='{_e(name)} plot' src='data:image/png;base64,{b64}'>"
            f"<figcaption>{_e(caption)}</figcaption></figure>")


def _table(head: list[str], rows: list[list[str]], cls: str = "", row_cls: list[str] | None = None) -> str:
    th = "".join(f"<th>{_e(h)}</th>" for h in head)
    body = "".join(f"<tr class='{(row_cls or [''] * len(rows))[i]}'>" + "".join(r) + "</tr>" for i, r in enumerate(rows))
    return f"<table class='num {cls}'><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _td(v, cls: str = "") -> str:
    return f"<td class='{cls}'>{_e(v)}</td>"


def _metrics_table(result: dict) -> str:
    m = result["metrics"]
    th = result.get("thresholds", {})
    rows = []
    for lab in result["labels"]:
        r = m["per_label"][lab]
        t = th.get("stored", th.get("median", {})).get(lab)
        rows.append([_td(lab), _td(_f(r["precision"])), _td(format_interval(r["precision_ci"]), "ci"), _td(_f(r["recall"])), _td(format_interval(r["recall_ci"]), "ci"),
                     _td(_f(r["f1"])), _td(format_interval(r["f1_ci"]), "ci"), _td(r["support"]), _td(_f(r.get("average_precision"))),
                     _td(_f(r.get("brier"))), _td(_f(result["curves"]["calibration"][lab].get("brier_base_rate"))), _td(_f(t))])
    for name in ("micro", "macro"):
        r = m[name]
        rows.append([_td(f"{name} average"), _td(_f(r["precision"])), _td(format_interval(r.get("precision_ci")), "ci"), _td(_f(r["recall"])),
                     _td(format_interval(r.get("recall_ci")), "ci"), _td(_f(r["f1"])), _td(format_interval(r["f1_ci"]), "ci"), _td(""), _td(""), _td(""), _td(""), _td("")])
    thr_head = "threshold" if "stored" in th else "threshold (median of folds)"
    return _table(["label", "precision", "95% CI", "recall", "95% CI", "F1", "95% CI", "support", "AP", "Brier", "Brier (base rate)", thr_head],
                  rows, "metrics")


def _baseline_table(result: dict) -> str:
    rows, cls = [], []
    for name, blk in _systems(result):
        rows.append([_td(name), *[_td(_f(blk["per_label"][lab]["f1"])) for lab in result["labels"]],
                     _td(_f(blk["macro"]["f1"])), _td(format_interval(blk["macro"]["f1_ci"]), "ci"), _td(_f(blk["micro"]["f1"]))])
        cls.append("model" if name == "model" else "")
    kw = result["baselines"]["keywords"]
    rules = "".join(f"<li><b>{_e(lab)}</b>: " + ", ".join(f"<code>{_e(p)}</code>" for p in kw.get("rules", {}).get(lab, [])) + "</li>"
                    for lab in result["labels"])
    return (_table(["system", *[f"F1 {lab}" for lab in result["labels"]], "macro-F1", "95% CI", "micro-F1"], rows, "baselines", cls)
            + f"<details><summary>Keyword rules (a baseline only, never used for labels)</summary><ul>{rules}</ul></details>")


def _confusion_table(result: dict) -> str:
    rows = []
    for lab in result["labels"]:
        c = result["confusion"][lab]
        rows.append([_td(lab), _td(c["tp"]), _td(c["fp"]), _td(c["fn"]), _td(c["tn"]), _td(c["tp"] + c["fn"]), _td(c["tp"] + c["fp"])])
    return _table(["label", "true pos.", "false pos.", "false neg.", "true neg.", "gold positives", "predicted positives"], rows, "confusion")


def _lc_table(lc: dict) -> str:
    rows = [[_td(f"{p['fraction']:.0%}"), _td(f"{p['train_articles']:.0f}"), _td(f"{p['train_sentences']:.0f}"), _td(_f(p["macro_f1"])),
             _td(_f(p["macro_f1_sd"])), _td(_f(p["macro_ap"]))] for p in lc["points"]]
    return _table(["share of training articles", "articles", "sentences", "macro-F1", "fold sd", "macro AP"], rows, "learning")


def _terms(result: dict) -> str:
    out = ["<div class='terms'>"]
    for lab in result["labels"]:
        t = result.get("terms", {}).get(lab, {"positive": [], "negative": []})
        pos = ", ".join(f"{_e(x['term'])}" for x in t["positive"][:12]) or "–"
        neg = ", ".join(f"{_e(x['term'])}" for x in t["negative"][:12]) or "–"
        out.append(f"<div><h3>{_e(lab)}</h3><p><span class='pos'>▲</span> {pos}</p><p><span class='neg'>▼</span> {neg}</p></div>")
    out.append("</div><p class='sub'>Largest positive and negative coefficients of the model fitted on all the data; [brackets] mark character n-grams.</p>")
    return "".join(out)


def _errors(result: dict) -> str:
    out = []
    for lab in result["labels"]:
        e = result["errors"][lab]
        out.append(f"<details><summary>{_e(lab)}: {len(e['false_positives'])} false positives, {len(e['false_negatives'])} false negatives</summary>")
        for kind, title in (("false_positives", "False positives (model says yes, gold says no)"), ("false_negatives", "False negatives (gold says yes, model says no)")):
            rows = [[_td(_f(x["probability"])), _td(_f(x["threshold"])), _td(x["article_id"]), _td(x.get("n_annotators", "")), _td(x["text"], "text")]
                    for x in e[kind]]
            out.append(f"<h3>{title}</h3>" + (_table(["p", "threshold", "article", "annotators", "sentence"], rows, "errors") if rows else "<p>none</p>"))
        out.append("</details>")
    return "".join(out)


def _method(result: dict) -> str:
    items = "".join(f"<li><b>{_e(k.replace('_', ' '))}</b>: {_e(v)}</li>" for k, v in result.get("method", {}).items())
    return f"<ul>{items}</ul>"


def _footer(result: dict) -> str:
    mdl = result.get("model", {})
    return (f"<footer>model {_e(mdl.get('model_id') or '–')} · features {_e(mdl.get('features') or '–')} · C {_e(mdl.get('C') or '–')} · "
            f"every figure is in metrics.json beside this file.</footer>")


# --------------------------------------------------------------------------
# Console summary (cli prints it; built here so it is tested with the rest)
# --------------------------------------------------------------------------
def console_summary(result: dict, paths: dict | None = None) -> str:
    """A compact per-label table, macro-F1 with CI, baselines and the report paths, as text."""
    m = result["metrics"]
    kw, maj = result["baselines"]["keywords"], result["baselines"]["majority"]
    head = ["label", "precision", "recall", "F1", "95% CI", "support", "keywords F1", "majority F1"]
    rows = [[lab, _f(m["per_label"][lab]["precision"]), _f(m["per_label"][lab]["recall"]), _f(m["per_label"][lab]["f1"]),
             format_interval(m["per_label"][lab]["f1_ci"]), str(m["per_label"][lab]["support"]), _f(kw["per_label"][lab]["f1"]),
             _f(maj["per_label"][lab]["f1"])] for lab in result["labels"]]
    rows.append(["macro", _f(m["macro"]["precision"]), _f(m["macro"]["recall"]), _f(m["macro"]["f1"]), format_interval(m["macro"]["f1_ci"]), "",
                 _f(kw["macro"]["f1"]), _f(maj["macro"]["f1"])])
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    fmt = lambda cells: "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))  # noqa: E731
    lines = [f"{_title(result)}: {result['data']['sentences']} sentences, {result['data']['articles']} articles, {_how(result)}", "",
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
                     _speed_str(m.get("speed")), _install_str(m.get("install"))])
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


# --------------------------------------------------------------------------
# Simulation: does the labelling queue beat random order? (simulate.py)
# --------------------------------------------------------------------------
SIM_COLOURS = {"queue": "#2f6db5", "random": "#e08a2c"}


def plot_simulation(sim: dict) -> str:
    """Macro-F1 on the test articles vs labelled sentences per strategy: mean over seeds, min–max band, target line."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    n_seeds = len(sim["parameters"]["seeds"])
    for name, st in sim["strategies"].items():
        pts, colour = st["points"], SIM_COLOURS.get(name)
        x = [p["labelled"] for p in pts]
        ax.fill_between(x, [p["macro_f1_min"] for p in pts], [p["macro_f1_max"] for p in pts], color=colour, alpha=0.15, lw=0)
        ax.plot(x, [p["macro_f1"] for p in pts], "o-", ms=3, color=colour, label=f"{name} (mean of {n_seeds} seeds, min–max band)")
        if st["labels_to_target"] is not None:
            ax.axvline(st["labels_to_target"], color=colour, ls=":", lw=1)
    t = sim["target"]
    ax.axhline(t["macro_f1"], color="#555", ls="--", lw=1, label=f"{t['share']:.0%} of full-data macro-F1 ({t['macro_f1']:.3f})")
    ax.set_xlabel("labelled sentences")
    ax.set_ylabel("macro-F1 on the test articles")
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    return _png(fig)


def _sim_cell(p: dict) -> str:
    return f"{p['macro_f1']:.3f} [{p['macro_f1_min']:.3f}, {p['macro_f1_max']:.3f}]"


def _sim_needed(st: dict) -> tuple[str, str, str]:
    """(mean curve, per seed, mean over seeds) of the labels a strategy needed to reach the target."""
    na = lambda v: "not reached" if v is None else f"{v:g}"  # noqa: E731
    return na(st["labels_to_target"]), ", ".join(map(na, st["labels_to_target_per_seed"])), na(st["labels_to_target_seed_mean"])


def _simulation_html(sim: dict) -> str:
    names = list(sim["strategies"])
    need_rows = [[_td(name), *map(_td, _sim_needed(st)), _td(_f(st["area"]))] for name, st in sim["strategies"].items()]
    curves = zip(*(st["points"] for st in sim["strategies"].values()))
    point_rows = [[_td(pts[0]["labelled"]), *(_td(_sim_cell(p)) for p in pts)] for pts in curves]
    return "\n".join([
        "<section id='simulation'><h2>Labelling queue vs random order (simulation)</h2>",
        f"<p class='sub'>{_e(sim['method'])} Test: {_e(sim['test']['source'])}; {sim['test']['sentences']} sentences from "
        f"{sim['test']['articles']} articles. Pool: {sim['pool']['sentences']} gold sentences from {sim['pool']['articles']} articles; "
        f"the full pool gives macro-F1 {sim['full']['macro_f1']:.3f}.</p>",
        f"<div class='verdict'><b>Simulation:</b> {_e(sim['verdict'])}.</div>",
        "<div class='plots'>",
        _fig(plot_simulation(sim), "Macro-F1 on the test articles against the number of labelled sentences: mean over seeds "
             "with the min–max band; dotted lines mark where each mean curve reaches the target.", "simulation", wide=True),
        "</div>",
        _table(["strategy", "labels to target (mean curve)", "per seed", "mean over seeds", "area (mean macro-F1)"], need_rows, "simulation-target"),
        _table(["labelled", *(f"{n} macro-F1 [min, max]" for n in names)], point_rows, "simulation"),
        "</section>",
    ])


def _simulation_markdown(sim: dict) -> list[str]:
    lines = ["## Labelling queue vs random order (simulation)", "", f"{sim['verdict']}.", "",
             "| strategy | labels to target (mean curve) | per seed | mean over seeds | area (mean macro-F1) |", "|---|---|---|---|---|"]
    for name, st in sim["strategies"].items():
        lines.append(f"| {name} | " + " | ".join(_sim_needed(st)) + f" | {st['area']:.3f} |")
    return [*lines, "", f"Method: {sim['method']} Test: {sim['test']['source']}."]


def simulation_text(sim: dict, max_rows: int = 13) -> str:
    """The simulation as console text: macro-F1 per number of labels (thinned to ``max_rows``), labels to target, verdict."""
    names = list(sim["strategies"])
    curves = list(zip(*(st["points"] for st in sim["strategies"].values())))
    stride = -(-len(curves) // max_rows)
    shown = curves[::stride] + ([curves[-1]] if (len(curves) - 1) % stride else [])
    head = ["labelled", *names]
    rows = [[str(pts[0]["labelled"]), *(_sim_cell(p) for p in pts)] for pts in shown]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    fmt = lambda cells: "  ".join(c.rjust(w) for c, w in zip(cells, widths))  # noqa: E731
    lines = [f"simulation, {len(sim['parameters']['seeds'])} seed(s); test: {sim['test']['source']} "
             f"({sim['test']['sentences']} sentences); macro-F1 mean [min, max] over seeds:",
             fmt(head), fmt(["-" * w for w in widths]), *map(fmt, rows), ""]
    for name, st in sim["strategies"].items():
        curve, per_seed, seed_mean = _sim_needed(st)
        lines.append(f"{name}: {curve} labels to reach {sim['target']['macro_f1']:.3f} (seeds: {per_seed}; mean {seed_mean}); "
                     f"area {st['area']:.3f}")
    lines.append(f"verdict: {sim['verdict']}")
    return "\n".join(lines)
