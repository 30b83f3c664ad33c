"""The words every form of the evaluation report shares (Markdown, console text, HTML, plots): its
title, how the figures were measured, the systems it compares, and the number, speed, install-size
and simulation cells.
"""
from __future__ import annotations


def number(v: float | None, nd: int = 3) -> str:
    """``v`` to ``nd`` decimals; a dash when there is no figure."""
    return "–" if v is None else f"{v:.{nd}f}"


def systems(result: dict) -> list[tuple[str, dict]]:
    """(name, metric block) of the model and the two baselines, in report order."""
    return [("model", result["metrics"]), ("keywords", result["baselines"]["keywords"]), ("majority", result["baselines"]["majority"])]


def report_title(result: dict) -> str:
    """The report's headline: the evaluated model and any it is compared with."""
    mid = result.get("model", {}).get("model_id") or "default parameters"
    comp = result.get("comparison")
    if comp:
        others = [m["model_id"] for m in comp["models"][1:]]
        return f"Evaluation of {mid} compared with {', '.join(others)}"
    return f"Evaluation of {mid}"


def how_measured(result: dict) -> str:
    """How the figures were measured: cross-validation or the held-out file."""
    if result["mode"] == "cv":
        p = result.get("parameters", {})
        return f"nested grouped {p.get('n_splits', '')}-fold cross-validation by article"
    return f"held-out file {result['data'].get('source', '')}"


def speed_text(s: dict | None) -> str:
    """A model's sentences per second (and with a warm embedding cache), or a dash."""
    if not s or not s.get("sentences_per_second"):
        return "–"
    out = f"{s['sentences_per_second']:,.0f}"
    if s.get("embedding_cache"):
        out += f" (cache off; {s['sentences_per_second_cached']:,.0f} cached)"
    return out


def install_text(inst: dict | None) -> str:
    """The extra install size a model needs, or a dash."""
    if not inst:
        return "–"
    if not inst.get("extra"):
        return "0 MB extra"
    out = f"{inst['bytes'] / 1e6:.0f} MB ({inst['extra']} extra)"
    if inst.get("dependency_bytes"):
        out += f" + {inst['dependency_bytes'] / 1e6:.0f} MB deps"
    return out


def sim_cell(p: dict) -> str:
    """One simulation point: mean macro-F1 over seeds with its [min, max]."""
    return f"{p['macro_f1']:.3f} [{p['macro_f1_min']:.3f}, {p['macro_f1_max']:.3f}]"


def sim_needed(st: dict) -> tuple[str, str, str]:
    """(mean curve, per seed, mean over seeds) of the labels a strategy needed to reach the target."""
    na = lambda v: "not reached" if v is None else f"{v:g}"  # noqa: E731
    return na(st["labels_to_target"]), ", ".join(map(na, st["labels_to_target_per_seed"])), na(st["labels_to_target_seed_mean"])
