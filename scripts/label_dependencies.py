"""Do label dependencies or calibration help the default model?  Grouped CV on the training gold.

Issue 10 asks to try a classifier chain or stacking over the four labels
(blame co-occurs with diplomacy and violence in patterned ways) and to make
the probabilities mean what they say.  This script scores, on the gold
sentences outside the held-out articles, in 5 folds grouped by article (the
folds ``talks train`` uses), the default configuration's features (word
n-grams + blame cues + static word vectors, C from the current model's card)
under four heads:

* ``one-vs-rest``: the shipped head, one logistic regression per label;
* ``chain``: scikit-learn's ``ClassifierChain``, blame last, each link fed
  the earlier labels' cross-validated predictions (``cv=5``), so it learns
  from what the model will really see, not from the true labels;
* ``stacking``: the four one-vs-rest probabilities, cross-validated inside
  the training fold, as the input of a second logistic regression per label;
* ``one-vs-rest + sigmoid``: Platt scaling of each label's probabilities
  (``CalibratedClassifierCV``, 3 inner folds).

Decisions use a threshold per label tuned, for each fold, on the other
folds' out-of-fold probabilities (no fold chooses its own threshold).
Reported per head: macro-F1, F1 per label, Brier score per label and the
expected calibration error (10 equal-width bins).  Writes
``reports/label_dependencies.json`` and the README's
``<!-- figures:heads -->`` block (``--render`` only re-renders it):

    .venv/bin/python scripts/label_dependencies.py
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

from readme_figures import write_blocks  # noqa: E402

from pipeline.project import Project  # noqa: E402
from pipeline.records import LABELS  # noqa: E402
from pipeline.model.registry import current_id, read_card  # noqa: E402
from pipeline.store import atomic_write_text  # noqa: E402
from pipeline.records import SEED
from pipeline.metrics import scores
from pipeline.model.selection import grouped_folds, training_data, tune_thresholds
from pipeline.model.features import make_pipeline  # noqa: E402

OUT = REPO / "reports" / "label_dependencies.json"


def _lr(C: float):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=C, class_weight="balanced", max_iter=2000, solver="liblinear", random_state=SEED)


def heads(C: float) -> dict:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.multioutput import ClassifierChain
    from sklearn.multiclass import OneVsRestClassifier

    return {
        "one-vs-rest": lambda: OneVsRestClassifier(_lr(C)),
        "chain": lambda: ClassifierChain(_lr(C), order=list(range(len(LABELS))), cv=5, random_state=SEED),
        "stacking": lambda: _Stacked(C),
        "one-vs-rest + sigmoid": lambda: OneVsRestClassifier(CalibratedClassifierCV(_lr(C), method="sigmoid", cv=3)),
    }


class _Stacked:
    """One-vs-rest, then per label a logistic regression over all four labels' probabilities."""

    def __init__(self, C: float):
        self.C = C

    def fit(self, X, Y):
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import cross_val_predict
        from sklearn.multiclass import OneVsRestClassifier

        self.base = OneVsRestClassifier(_lr(self.C))
        inner = cross_val_predict(OneVsRestClassifier(_lr(self.C)), X, Y, cv=5, method="predict_proba")
        self.base.fit(X, Y)
        self.meta = [LogisticRegression(max_iter=1000).fit(inner, Y[:, j]) for j in range(Y.shape[1])]
        return self

    def predict_proba(self, X):
        P = self.base.predict_proba(X)
        return np.column_stack([m.predict_proba(P)[:, 1] for m in self.meta])


def ece(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error: |observed - predicted| per equal-width bin, weighted by its share."""
    idx = np.minimum((p * bins).astype(int), bins - 1)
    return float(sum(abs(y[idx == b].mean() - p[idx == b].mean()) * (idx == b).mean() for b in range(bins) if (idx == b).any()))


def run(labels_dir: Path, corpus: Path, models: Path) -> dict:
    card = read_card(models, current_id(models))
    features, C = card["features"], float(card["parameters"]["C"])
    _, texts, Y, groups = training_data(Project(corpus=corpus, labels=labels_dir))
    texts = np.asarray(texts, dtype=object)
    folds = grouped_folds(groups)
    oof = {name: np.zeros(Y.shape) for name in heads(C)}
    seconds = {name: 0.0 for name in heads(C)}
    for tr, te in folds:
        vec = make_pipeline(features, C).steps[0][1]
        Xtr = vec.fit_transform(list(texts[tr]))
        Xte = vec.transform(list(texts[te]))
        for name, make in heads(C).items():
            t = time.perf_counter()
            oof[name][te] = np.asarray(make().fit(Xtr, Y[tr]).predict_proba(Xte), dtype=float)
            seconds[name] += time.perf_counter() - t
    out = {"features": features, "C": C, "model": card["model_id"], "sentences": int(len(Y)),
           "articles": int(len(set(groups))), "folds": len(folds), "heads": {}}
    for name, P in oof.items():
        Yhat = np.zeros_like(Y)
        for k, (_, te) in enumerate(folds):
            others = np.concatenate([f[1] for i, f in enumerate(folds) if i != k])
            thr = tune_thresholds(Y[others], P[others])
            Yhat[te] = (P[te] >= np.array([thr[lab] for lab in LABELS])).astype(int)
        sc = scores(Y, Yhat)
        out["heads"][name] = {
            "macro_f1": round(sc["macro"]["f1"], 4),
            "f1": {lab: round(sc["per_label"][lab]["f1"], 4) for lab in LABELS},
            "brier": {lab: round(float(np.mean((P[:, j] - Y[:, j]) ** 2)), 4) for j, lab in enumerate(LABELS)},
            "ece": {lab: round(ece(Y[:, j], P[:, j]), 4) for j, lab in enumerate(LABELS)},
            "fit_seconds": round(seconds[name], 1),
        }
    return out


def render(res: dict) -> str:
    """The README block: one row per head."""
    lines = [f"Heads over the default features ({res['features']}, C={res['C']}), 5-fold CV grouped by article on the "
             f"{res['sentences']:,} training sentences of {res['articles']:,} articles, thresholds tuned on the other folds "
             "(`python scripts/label_dependencies.py`):", "",
             "| head | macro-F1 | " + " | ".join(LABELS) + " | mean Brier | mean ECE |", "|---|---|" + "---|" * len(LABELS) + "---|---|"]
    for name, h in res["heads"].items():
        lines.append(f"| {name} | {h['macro_f1']:.3f} | " + " | ".join(f"{h['f1'][lab]:.3f}" for lab in LABELS)
                     + f" | {np.mean(list(h['brier'].values())):.4f} | {np.mean(list(h['ece'].values())):.3f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--labels", default=REPO / "labels", type=Path)
    ap.add_argument("--corpus", default=REPO / "corpus", type=Path)
    ap.add_argument("--models", default=REPO / "models", type=Path)
    ap.add_argument("--out", default=OUT, type=Path)
    ap.add_argument("--render", action="store_true", help="only re-render the heads block from the JSON")
    a = ap.parse_args(argv)
    if a.render:
        res = json.loads(a.out.read_text(encoding="utf-8"))
    else:
        res = run(a.labels, a.corpus, a.models)
        atomic_write_text(a.out, json.dumps(res, indent=1) + "\n")
    write_blocks({"heads": render(res)})
    for name, h in res["heads"].items():
        print(f"{name:24s} macro-F1 {h['macro_f1']:.3f}  " + "  ".join(f"{lab} {h['f1'][lab]:.3f}" for lab in LABELS)
              + f"  mean Brier {np.mean(list(h['brier'].values())):.4f}  mean ECE {np.mean(list(h['ece'].values())):.3f}")
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
