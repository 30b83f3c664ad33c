"""Sentence embeddings vs TF-IDF on the gold labels, and encoding speed.

Needs the embeddings extra (`pip install -e '.[embeddings]'`); run from the
repository root:  `python benchmarks/embed_bench.py [--backend onnx|torch|auto]`.

1. Accuracy: the same article-grouped 5-fold CV as `talks train`
   (pipeline.model.selection.grouped_folds), one-vs-rest logistic regression with
   balanced class weights, thresholds tuned out of fold
   (pipeline.model.selection.tune_thresholds), for
     - tfidf:  make_pipeline('word+char', C=4.0)
     - emb:    SentenceEncoder -> LR, C from {0.5, 2, 8} by macro average precision
     - both:   FeatureUnion(TF-IDF word+char, SentenceEncoder) -> LR, C as above
   Embeddings are cached under .cache/embeddings, so a second run is quick.
2. Speed: sentences/s of encoding all gold sentences (batched, cache off) with
   threads=1 and threads=2, the start-up (import + load) of a fresh process,
   and TF-IDF's transform for comparison.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pipeline.project import Project  # noqa: E402
from pipeline.records import LABELS  # noqa: E402
from pipeline.records import SEED
from pipeline.metrics import scores
from pipeline.model.selection import apply_thresholds, grouped_folds, oof_proba, training_data, tune_thresholds
from pipeline.model.features import make_pipeline  # noqa: E402

C_GRID = (0.5, 2.0, 8.0)


def lr(C: float):
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    return OneVsRestClassifier(LogisticRegression(C=C, class_weight="balanced", max_iter=2000, solver="liblinear", random_state=SEED))


def emb_pipeline(C: float, backend: str, features: str = "emb"):
    from sklearn.pipeline import FeatureUnion, Pipeline

    from pipeline.model.embed import SentenceEncoder

    enc = SentenceEncoder(backend=backend, cache_dir=REPO / ".cache" / "embeddings")
    if features == "emb":
        return Pipeline([("features", enc), ("clf", lr(C))])
    tfidf = make_pipeline("word+char", C).steps[0][1]
    return Pipeline([("features", FeatureUnion([("tfidf", tfidf), ("emb", enc)])), ("clf", lr(C))])


def macro_ap(Y, P) -> float:
    from sklearn.metrics import average_precision_score

    return float(np.mean([average_precision_score(Y[:, j], P[:, j]) for j in range(Y.shape[1]) if Y[:, j].any()]))


def evaluate(name, factories: dict, texts, Y, folds) -> dict:
    """Pick the factory (C) with the best out-of-fold macro AP; tune thresholds; score."""
    best = None
    trials = {}
    for C, factory in factories.items():
        t = time.perf_counter()
        P = oof_proba(factory, texts, Y, folds)
        ap = macro_ap(Y, P)
        trials[C] = round(ap, 4)
        print(f"  {name} C={C}: macro AP {ap:.4f} ({time.perf_counter() - t:.1f}s)", file=sys.stderr)
        if best is None or ap > best[0] + 1e-9:
            best = (ap, C, P)
    ap, C, P = best
    th = tune_thresholds(Y, P)
    sc = scores(Y, apply_thresholds(P, th))
    return {"features": name, "C": C, "macro_ap": round(ap, 4), "macro_f1": round(sc["macro"]["f1"], 4),
            "per_label_f1": {lab: round(sc["per_label"][lab]["f1"], 4) for lab in LABELS}, "ap_by_C": trials}


def startup_seconds(backend: str) -> float:
    code = (
        "import time; t = time.perf_counter(); from pipeline.model.embed import SentenceEncoder; "
        f"SentenceEncoder(backend={backend!r}, cache_dir=False).transform(['The envoy met both delegations.']); "
        "print(time.perf_counter() - t)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, capture_output=True, text=True).stdout
    return float(out.strip().splitlines()[-1])


def speed(texts, backend: str) -> dict:
    from pipeline.model.embed import SentenceEncoder

    res = {"startup_s": round(startup_seconds(backend), 2)}
    for threads in (1, 2):
        enc = SentenceEncoder(backend=backend, threads=threads, cache_dir=False)
        enc.transform(texts[:8])  # load outside the timing
        t = time.perf_counter()
        enc.transform(texts)
        res[f"sent_per_s_threads{threads}"] = round(len(texts) / (time.perf_counter() - t), 1)
    vec = make_pipeline("word+char", 4.0).steps[0][1].fit(texts)
    t = time.perf_counter()
    vec.transform(texts)
    res["tfidf_transform_sent_per_s"] = round(len(texts) / (time.perf_counter() - t), 1)
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backend", default="auto", choices=["auto", "onnx", "torch"])
    ap.add_argument("--labels", default=str(REPO / "labels"))
    ap.add_argument("--corpus", default=str(REPO / "corpus"))
    ap.add_argument("--skip-speed", action="store_true", help="accuracy only")
    ap.add_argument("--speed-only", action="store_true", help="speed only (no cross-validation)")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    args = ap.parse_args()

    from pipeline.model.embed import require_encoder

    backend = require_encoder(args.backend)
    gold, texts, Y, groups = training_data(Project(corpus=Path(args.corpus), labels=Path(args.labels)))
    folds = grouped_folds(groups)
    print(f"{len(texts)} sentences, {len(set(groups))} articles, {len(folds)} folds, backend {backend}", file=sys.stderr)

    results = {"backend": backend, "sentences": len(texts), "rows": []}
    if not args.skip_speed:
        results["speed"] = speed(texts, backend)
        print(f"  speed {results['speed']}", file=sys.stderr)
    rows = results["rows"]
    if args.speed_only:
        print(json.dumps(results, indent=2))
        return 0
    rows.append(evaluate("tfidf word+char", {4.0: lambda: make_pipeline("word+char", 4.0)}, texts, Y, folds))
    rows.append(evaluate(f"emb ({backend})", {C: (lambda C=C: emb_pipeline(C, backend)) for C in C_GRID}, texts, Y, folds))
    rows.append(evaluate("tfidf + emb", {C: (lambda C=C: emb_pipeline(C, backend, "both")) for C in C_GRID}, texts, Y, folds))

    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    head = "| features | C | macro AP | macro F1 | " + " | ".join(LABELS) + " |"
    print(head)
    print("|" + "---|" * (4 + len(LABELS)))
    for r in rows:
        print(f"| {r['features']} | {r['C']} | {r['macro_ap']:.3f} | {r['macro_f1']:.3f} | " + " | ".join(f"{r['per_label_f1'][lab]:.3f}" for lab in LABELS) + " |")
    if "speed" in results:
        s = results["speed"]
        print(f"\nencoding ({backend}): start-up {s['startup_s']} s; {s['sent_per_s_threads1']} sent/s with 1 thread, "
              f"{s['sent_per_s_threads2']} with 2; TF-IDF word+char transform {s['tfidf_transform_sent_per_s']} sent/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
