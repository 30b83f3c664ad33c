"""Experiment (issue 19): does down-weighting articles that do not name Syria help the default model?

Not part of the pipeline.  Run: .venv/bin/python scripts/experiments/ontopic_weighting.py 1.0 0.3 0.1
(after `talks ingest corpus/raw`).  For each weight given, the default features (word+cues+static, C=16) are fitted
with that sample weight on every training sentence of an article that does not name Syria (1 for those that do),
thresholds tuned on story-grouped 5-fold out-of-fold probabilities, and scored on the held-out set: macro-F1 over all
held-out sentences, over those of Syria-naming articles, and over the rest.
"""
import numpy as np, json, sys
from sklearn.linear_model import LogisticRegression
from pipeline.project import Project
from pipeline.records import LABELS, SEED
from pipeline.model.selection import training_data, grouped_folds, tune_thresholds, apply_thresholds
from pipeline.model.features import make_pipeline
from pipeline.labels.gold import gold_labels
from pipeline.labels.heldout import split_gold
from pipeline.corpus.store import load_articles
from pipeline.metrics import scores
p = Project()
gold, texts, Y, groups = training_data(p)
held = split_gold(gold_labels(p), p.labels)[1]
arts = load_articles(p.corpus)
syr = {a.article_id for a in arts if "syria" in a.body.lower()}
ton = gold["article_id"].isin(syr).to_numpy(); hon = held["article_id"].isin(syr).to_numpy()
print("train on-topic share", ton.mean(), "held on-topic", hon.mean(), file=sys.stderr)
folds = grouped_folds(groups)
texts = np.asarray(texts, dtype=object)
def fitpred(tr_idx, te_texts, w):
    vec = make_pipeline("word+cues+static", C=16.0).named_steps["features"]
    X = vec.fit_transform(texts[tr_idx]); Xt = vec.transform(te_texts)
    P = np.zeros((len(te_texts), len(LABELS)))
    for j in range(len(LABELS)):
        clf = LogisticRegression(C=16.0, class_weight="balanced", max_iter=2000, solver="liblinear", random_state=SEED)
        clf.fit(X, Y[tr_idx, j], sample_weight=w[tr_idx]); P[:, j] = clf.predict_proba(Xt)[:, 1]
    return P
HY = held[list(LABELS)].to_numpy(int)
for off in [float(a) for a in sys.argv[1:]]:
    w = np.where(ton, 1.0, off)
    P = np.zeros(Y.shape)
    for tr, te in folds:
        P[te] = fitpred(tr, texts[te], w)
    th = tune_thresholds(Y, P)
    HP = fitpred(np.arange(len(texts)), held["text"].to_numpy(object), w)
    Yh = apply_thresholds(HP, th)
    a = scores(HY, Yh); s = scores(HY[hon], Yh[hon]); o = scores(HY[~hon], Yh[~hon])
    print(off, "all", round(a["macro"]["f1"],3), {l: round(a["per_label"][l]["f1"],3) for l in LABELS}, "| syria", round(s["macro"]["f1"],3), {l: round(s["per_label"][l]["f1"],3) for l in LABELS}, "| other", round(o["macro"]["f1"],3), flush=True)
