"""The evaluation report's plots: matplotlib figures of an evaluation dict, each returned as base64 PNG."""
from __future__ import annotations

from pipeline.evaluation.wording import number, systems
from pipeline.html import png, pyplot

COLOURS = {"model": "#2f6db5", "keywords": "#e08a2c", "majority": "#9aa0a6"}
# Compared models, in order (the first is the evaluated model, in its usual blue).
MODEL_COLOURS = ["#2f6db5", "#c0392b", "#2a9d8f", "#8e44ad", "#7f8c8d", "#b8860b"]
SIM_COLOURS = {"queue": "#2f6db5", "random": "#e08a2c"}


def plot_f1_bars(result: dict) -> str:
    """Per-label F1 of the model and the baselines, with 95% CI error bars."""
    bars = [(name, COLOURS.get(name), blk) for name, blk in systems(result)]
    return _f1_bars(result["labels"], bars, ncols=3, bbox_to_anchor=(1, 1.15))


def _f1_bars(labels: list[str], bars: list[tuple[str, str | None, dict]], **legend) -> str:
    """Grouped bars of F1 per label and macro-F1, one (legend label, colour, metric block) per group member."""
    import numpy as np

    plt = pyplot()
    x = np.arange(len(labels) + 1)
    w = 0.8 / len(bars)
    fig, ax = plt.subplots(figsize=(7.2, 3.2))
    for i, (name, colour, blk) in enumerate(bars):
        rows = [blk["per_label"][lab] for lab in labels] + [{"f1": blk["macro"]["f1"], "f1_ci": blk["macro"]["f1_ci"]}]
        vals = np.array([r["f1"] for r in rows])
        lo = np.array([r["f1"] - r["f1_ci"][0] for r in rows]).clip(min=0)
        hi = np.array([r["f1_ci"][1] - r["f1"] for r in rows]).clip(min=0)
        ax.bar(x + (i - (len(bars) - 1) / 2) * w, vals, w, yerr=[lo, hi], capsize=2.5, label=name,
               color=colour, error_kw={"elinewidth": 0.8, "alpha": 0.8})
    ax.set_xticks(x, [*labels, "macro"])
    ax.set_ylim(0, 1)
    ax.set_ylabel("F1")
    ax.axvline(len(labels) - 0.5, color="#bbb", lw=0.8)
    ax.legend(frameon=False, loc="upper right", **legend)
    return png(fig)


def _label_panels(result: dict):
    """A figure with one panel per label, and the (panel, label) pairs."""
    plt = pyplot()
    labels = result["labels"]
    n = len(labels)
    cols = min(n, 4)  # the four labels side by side, one row, so the panels stay readable
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(3.0 * cols, 2.9 * rows), squeeze=False)
    flat = axes.ravel()
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, list(zip(flat, labels))


def plot_pr_curves(result: dict) -> str:
    """Precision-recall curve per label, the operating point marked."""
    fig, panels = _label_panels(result)
    for ax, lab in panels:
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
        ax.set_title(f"{lab}  (AP {number(ap, 2)})")
        ax.set_xlim(0, 1.02)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("recall")
        ax.set_ylabel("precision")
        ax.legend(frameon=False, fontsize=7, loc="lower left")
    fig.tight_layout()
    return png(fig)


def plot_reliability(result: dict) -> str:
    """Reliability diagram per label: mean predicted vs observed frequency per bin."""
    fig, panels = _label_panels(result)
    for ax, lab in panels:
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
    return png(fig)


def plot_learning_curve(result: dict) -> str:
    import numpy as np

    plt = pyplot()
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
    return png(fig)


def plot_comparison_f1(result: dict) -> str:
    """Per-label and macro F1 of every compared model, with 95% CIs from the shared resamples."""
    models = result["comparison"]["models"]
    bars = [(f"{m['model_id']} ({m['features']})", MODEL_COLOURS[i % len(MODEL_COLOURS)], m["metrics"]) for i, m in enumerate(models)]
    return _f1_bars(result["labels"], bars, ncols=min(len(models), 2), fontsize=8, bbox_to_anchor=(1, 1.2))


def plot_comparison_learning(result: dict) -> str:
    """Learning curves (macro-F1 ± fold sd vs training sentences) of every compared model on one plot."""
    import numpy as np

    plt = pyplot()
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
    return png(fig)


def plot_simulation(sim: dict) -> str:
    """Macro-F1 on the test articles vs labelled sentences per strategy: mean over seeds, min–max band, target line."""
    plt = pyplot()
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
    return png(fig)
