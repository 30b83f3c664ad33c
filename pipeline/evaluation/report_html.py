"""``report.html``: an evaluation dict as one self-contained page.

Inline CSS, plots as base64 PNG, no scripts, no network, so it can be mailed
or opened from a CI artefact.  It reads top-down: headline numbers, then
plots, then the detail tables.
"""
from __future__ import annotations

from pipeline.evaluation.plots import (
    MODEL_COLOURS,
    plot_comparison_f1,
    plot_comparison_learning,
    plot_f1_bars,
    plot_learning_curve,
    plot_pr_curves,
    plot_reliability,
    plot_simulation,
)
from pipeline.evaluation.wording import how_measured, install_text, number, report_title, sim_cell, sim_needed, speed_text, systems
from pipeline.html import CSS, card, escape, figure, table, td
from pipeline.metrics import format_interval


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
        f"<title>{escape(report_title(result))}</title><style>{CSS}</style></head><body><main>",
        f"<h1>{escape(report_title(result))}</h1>",
        f"<p class='sub'>{d['sentences']} sentences from {d['articles']} articles · {escape(how_measured(result))} · "
        f"created {escape(result.get('created', ''))}</p>",
        "<div class='cards'>",
        card("macro-F1", m["macro"]["f1"], "95% CI " + format_interval(m["macro"]["f1_ci"]), main=True),
        card("micro-F1", m["micro"]["f1"], "95% CI " + format_interval(m["micro"]["f1_ci"])),
        card("keyword baseline", kw["macro"]["f1"], f"macro-F1 · model {m['macro']['f1'] - kw['macro']['f1']:+.3f}"),
        card("best / worst label", m["per_label"][best]["f1"], f"{best} {m['per_label'][best]['f1']:.2f} · {worst} {m['per_label'][worst]['f1']:.2f}"),
        "</div>",
    ]
    if lc:
        parts.append(f"<div class='verdict'><b>Learning curve:</b> {escape(lc['verdict'])}.</div>")
    beaten = [lab for lab in labels if kw["per_label"][lab]["f1"] > m["per_label"][lab]["f1"]]
    if beaten:
        parts.append(f"<div class='warn'><b>Keyword rules beat the model on:</b> {escape(', '.join(beaten))}. "
                     "The model has too few or too noisy positives there; look at its worst errors below.</div>")
    for w in result.get("warnings", []):
        parts.append(f"<div class='warn'><b>Warning:</b> {escape(w)}</div>")
    if result.get("comparison"):
        parts.append(comparison_html(result))

    parts += ["<h2>Plots</h2><div class='plots'>",
              figure(plot_f1_bars(result), "F1 per label and macro average, model vs baselines; error bars are 95% article-bootstrap intervals.", "f1", wide=True),
              figure(plot_pr_curves(result), "Precision-recall per label. Red dot: the operating point at the chosen threshold(s); orange square: keyword baseline; dotted: chance.", "pr", wide=True),
              figure(plot_reliability(result), "Reliability: predicted probability vs observed share of positives per bin (dot size = sentences). Balanced class weights push probabilities up for rare labels.", "calibration", wide=True)]
    if lc:
        parts.append(figure(plot_learning_curve(result), "Macro-F1 and macro AP vs training size, training folds grown by whole articles.", "learning", wide=True))
    parts.append("</div>")

    # Detail tables
    parts += ["<h2>Per-label metrics</h2>", _metrics_table(result), "<h2>Model vs baselines</h2>", _baseline_table(result),
              "<h2>Confusion counts</h2>", _confusion_table(result)]
    if lc:
        parts += ["<h2>Learning curve</h2>", _lc_table(lc)]
    if result.get("simulation"):
        parts.append(simulation_html(result["simulation"]))
    parts += ["<h2>Most informative terms</h2>", _terms(result), "<h2>Worst errors</h2>",
              "<p class='sub'>Most confident false positives and least confident false negatives. Some are label noise: "
              "check them against the guidelines before blaming the model.</p>", _errors(result),
              "<h2>Method</h2>", _method(result), _footer(result), "</main></body></html>"]
    return "\n".join(parts)


def comparison_html(result: dict) -> str:
    comp = result["comparison"]
    labels = result["labels"]
    models = comp["models"]
    out = ["<section id='comparison'><h2>Model comparison</h2>",
           f"<p class='sub'>Every model on the same {comp['sentences']} sentences from {comp['articles']} articles: {escape(comp['method'])}. "
           f"Intervals are 95% article-bootstrap intervals from the same {comp['n_boot']} resamples for every model; "
           "Δ is the paired difference (computed within each resample).</p>"]
    for m in models[1:]:
        d = m["difference"]
        cls = "verdict" if d["macro_f1_ci"][0] > 0 or d["macro_f1_ci"][1] < 0 else "warn"
        out.append(f"<div class='{cls}'><b>{escape(m['model_id'])} vs {escape(d['vs'])}:</b> {escape(d['verdict'])} "
                   f"({d['share_of_resamples_better']:.0%} of resamples favour {escape(m['model_id'])}).</div>")
    rows = []
    for i, m in enumerate(models):
        met, d = m["metrics"], m["difference"]
        swatch = f"<td><span style='color:{MODEL_COLOURS[i % len(MODEL_COLOURS)]}'>■</span> {escape(m['model_id'])}</td>"
        row = [swatch, td(f"{m['features']}, C={m['C']:g}")]
        for lab in labels:
            r = met["per_label"][lab]
            row.append(f"<td>{number(r['f1'])}<br><span class='ci'>{escape(format_interval(r['f1_ci']))}</span></td>")
        row.append(f"<td><b>{number(met['macro']['f1'])}</b><br><span class='ci'>{escape(format_interval(met['macro']['f1_ci']))}</span></td>")
        row.append("<td class='ci'>reference</td>" if d is None else
                   f"<td><b>{d['macro_f1']:+.3f}</b><br><span class='ci'>[{d['macro_f1_ci'][0]:+.3f}, {d['macro_f1_ci'][1]:+.3f}]</span></td>")
        sp, inst = m.get("speed") or {}, m.get("install") or {}
        if sp.get("embedding_cache"):
            row.append(f"<td>{sp['sentences_per_second']:,.0f}<br><span class='ci'>cache off · {sp['sentences_per_second_cached']:,.0f} cached</span></td>")
        else:
            row.append(td(speed_text(sp)))
        if inst.get("extra"):
            deps = f" · +{inst['dependency_bytes'] / 1e6:.0f} MB deps" if inst.get("dependency_bytes") else ""
            row.append(f"<td>{inst['bytes'] / 1e6:.0f} MB<br><span class='ci'>{escape(inst['extra'])} extra{deps}</span></td>")
        else:
            row.append(td(install_text(inst)))
        rows.append(row)
    out.append(table(["model", "features", *labels, "macro-F1", "Δ macro-F1 (paired)", "sentences/s", "extra install"],
                      rows, "comparison"))
    out.append(f"<p class='sub'>F1 per label and macro-F1 with 95% intervals; Δ is each model minus the reference "
               f"{escape(comp['reference'])}. Sentences/s: predict_proba of the loaded model, warm; for embedding models the "
               "embedding cache was off (every sentence encoded, as for new text), the cached figure beside it.</p>")
    if len(models) > 1:
        drows = []
        for m in models[1:]:
            d = m["difference"]
            drows.append([td(f"{m['model_id']} − {d['vs']}"),
                          *[f"<td>{d['per_label'][lab]['f1']:+.3f}<br><span class='ci'>[{d['per_label'][lab]['f1_ci'][0]:+.3f}, "
                            f"{d['per_label'][lab]['f1_ci'][1]:+.3f}]</span></td>" for lab in labels],
                          f"<td><b>{d['macro_f1']:+.3f}</b><br><span class='ci'>[{d['macro_f1_ci'][0]:+.3f}, {d['macro_f1_ci'][1]:+.3f}]</span></td>"])
        out += ["<h3>Paired differences in F1 (95% bootstrap interval)</h3>",
                table(["difference", *[f"Δ F1 {lab}" for lab in labels], "Δ macro-F1"], drows, "comparison-diff")]
    out.append("<div class='plots'>")
    out.append(figure(plot_comparison_f1(result), "F1 per label and macro average for each model; error bars are 95% intervals "
                    "from the same article resamples.", "comparison-f1", wide=True))
    if any(m.get("learning_curve") for m in models):
        out.append(figure(plot_comparison_learning(result), "Learning curves of all models on the same folds: macro-F1 (± fold sd) "
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
        items.append(f"<li><b>{escape(m['model_id'])}</b>: speed {escape(sp)}; install {escape(inst.get('text', '–'))}{escape(mf)}.</li>")
    out += ["<h3>Speed and install size</h3>", f"<ul>{''.join(items)}</ul>", "</section>"]
    return "\n".join(out)


def _metrics_table(result: dict) -> str:
    m = result["metrics"]
    th = result.get("thresholds", {})
    rows = []
    for lab in result["labels"]:
        r = m["per_label"][lab]
        t = th.get("stored", th.get("median", {})).get(lab)
        rows.append([td(lab), td(number(r["precision"])), td(format_interval(r["precision_ci"]), "ci"), td(number(r["recall"])), td(format_interval(r["recall_ci"]), "ci"),
                     td(number(r["f1"])), td(format_interval(r["f1_ci"]), "ci"), td(r["support"]), td(number(r.get("average_precision"))),
                     td(number(r.get("brier"))), td(number(result["curves"]["calibration"][lab].get("brier_base_rate"))), td(number(t))])
    for name in ("micro", "macro"):
        r = m[name]
        rows.append([td(f"{name} average"), td(number(r["precision"])), td(format_interval(r.get("precision_ci")), "ci"), td(number(r["recall"])),
                     td(format_interval(r.get("recall_ci")), "ci"), td(number(r["f1"])), td(format_interval(r["f1_ci"]), "ci"), td(""), td(""), td(""), td(""), td("")])
    thr_head = "threshold" if "stored" in th else "threshold (median of folds)"
    return table(["label", "precision", "95% CI", "recall", "95% CI", "F1", "95% CI", "support", "AP", "Brier", "Brier (base rate)", thr_head],
                  rows, "metrics")


def _baseline_table(result: dict) -> str:
    rows, cls = [], []
    for name, blk in systems(result):
        rows.append([td(name), *[td(number(blk["per_label"][lab]["f1"])) for lab in result["labels"]],
                     td(number(blk["macro"]["f1"])), td(format_interval(blk["macro"]["f1_ci"]), "ci"), td(number(blk["micro"]["f1"]))])
        cls.append("model" if name == "model" else "")
    kw = result["baselines"]["keywords"]
    rules = "".join(f"<li><b>{escape(lab)}</b>: " + ", ".join(f"<code>{escape(p)}</code>" for p in kw.get("rules", {}).get(lab, [])) + "</li>"
                    for lab in result["labels"])
    return (table(["system", *[f"F1 {lab}" for lab in result["labels"]], "macro-F1", "95% CI", "micro-F1"], rows, "baselines", cls)
            + f"<details><summary>Keyword rules (a baseline only, never used for labels)</summary><ul>{rules}</ul></details>")


def _confusion_table(result: dict) -> str:
    rows = []
    for lab in result["labels"]:
        c = result["confusion"][lab]
        rows.append([td(lab), td(c["tp"]), td(c["fp"]), td(c["fn"]), td(c["tn"]), td(c["tp"] + c["fn"]), td(c["tp"] + c["fp"])])
    return table(["label", "true pos.", "false pos.", "false neg.", "true neg.", "gold positives", "predicted positives"], rows, "confusion")


def _lc_table(lc: dict) -> str:
    rows = [[td(f"{p['fraction']:.0%}"), td(f"{p['train_articles']:.0f}"), td(f"{p['train_sentences']:.0f}"), td(number(p["macro_f1"])),
             td(number(p["macro_f1_sd"])), td(number(p["macro_ap"]))] for p in lc["points"]]
    return table(["share of training articles", "articles", "sentences", "macro-F1", "fold sd", "macro AP"], rows, "learning")


def _terms(result: dict) -> str:
    out = ["<div class='terms'>"]
    for lab in result["labels"]:
        t = result.get("terms", {}).get(lab, {"positive": [], "negative": []})
        pos = ", ".join(f"{escape(x['term'])}" for x in t["positive"][:12]) or "–"
        neg = ", ".join(f"{escape(x['term'])}" for x in t["negative"][:12]) or "–"
        out.append(f"<div><h3>{escape(lab)}</h3><p><span class='pos'>▲</span> {pos}</p><p><span class='neg'>▼</span> {neg}</p></div>")
    out.append("</div><p class='sub'>Largest positive and negative coefficients of the model fitted on all the data; [brackets] mark character n-grams.</p>")
    return "".join(out)


def _errors(result: dict) -> str:
    out = []
    for lab in result["labels"]:
        e = result["errors"][lab]
        out.append(f"<details><summary>{escape(lab)}: {len(e['false_positives'])} false positives, {len(e['false_negatives'])} false negatives</summary>")
        for kind, title in (("false_positives", "False positives (model says yes, gold says no)"), ("false_negatives", "False negatives (gold says yes, model says no)")):
            rows = [[td(number(x["probability"])), td(number(x["threshold"])), td(x["article_id"]), td(x.get("n_annotators", "")), td(x["text"], "text")]
                    for x in e[kind]]
            out.append(f"<h3>{title}</h3>" + (table(["p", "threshold", "article", "annotators", "sentence"], rows, "errors") if rows else "<p>none</p>"))
        out.append("</details>")
    return "".join(out)


def _method(result: dict) -> str:
    items = "".join(f"<li><b>{escape(k.replace('_', ' '))}</b>: {escape(v)}</li>" for k, v in result.get("method", {}).items())
    return f"<ul>{items}</ul>"


def _footer(result: dict) -> str:
    mdl = result.get("model", {})
    return (f"<footer>model {escape(mdl.get('model_id') or '–')} · features {escape(mdl.get('features') or '–')} · C {escape(mdl.get('C') or '–')} · "
            f"every figure is in metrics.json beside this file.</footer>")


def simulation_html(sim: dict) -> str:
    names = list(sim["strategies"])
    need_rows = [[td(name), *map(td, sim_needed(st)), td(number(st["area"]))] for name, st in sim["strategies"].items()]
    curves = zip(*(st["points"] for st in sim["strategies"].values()))
    point_rows = [[td(pts[0]["labelled"]), *(td(sim_cell(p)) for p in pts)] for pts in curves]
    return "\n".join([
        "<section id='simulation'><h2>Labelling queue vs random order (simulation)</h2>",
        f"<p class='sub'>{escape(sim['method'])} Test: {escape(sim['test']['source'])}; {sim['test']['sentences']} sentences from "
        f"{sim['test']['articles']} articles. Pool: {sim['pool']['sentences']} gold sentences from {sim['pool']['articles']} articles; "
        f"the full pool gives macro-F1 {sim['full']['macro_f1']:.3f}.</p>",
        f"<div class='verdict'><b>Simulation:</b> {escape(sim['verdict'])}.</div>",
        "<div class='plots'>",
        figure(plot_simulation(sim), "Macro-F1 on the test articles against the number of labelled sentences: mean over seeds "
             "with the min–max band; dotted lines mark where each mean curve reaches the target.", "simulation", wide=True),
        "</div>",
        table(["strategy", "labels to target (mean curve)", "per seed", "mean over seeds", "area (mean macro-F1)"], need_rows, "simulation-target"),
        table(["labelled", *(f"{n} macro-F1 [min, max]" for n in names)], point_rows, "simulation"),
        "</section>",
    ])
