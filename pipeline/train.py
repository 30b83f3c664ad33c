"""Stage 4: gold labels -> a trained model folder ``models/<model-id>/``.

The model is one scikit-learn ``Pipeline``: TF-IDF features (word n-grams,
optionally with character n-grams) and a one-vs-rest logistic regression
with balanced class weights.  Features and regularisation are chosen by
cross-validation grouped by article (no article is on both sides of a fold),
scored by macro average precision, which does not depend on thresholds.  A
decision threshold per label is then tuned on the out-of-fold probabilities
of the chosen configuration and stored with the model.

Articles in the held-out set (``labels/heldout.csv``) are left out of
training and selection; the fitted model is scored on them and the figures
and the set's version go into the card.  The folder holds ``model.skops``
(the fitted pipeline as data, see ``artefact.py``) and a model card
(``card.json`` and ``card.md``); which model is current is
the registry's business (``registry.py``).
"""
from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from .artefact import FORMAT, LEGACY_FILE, MODEL_FILE
from .errors import LabelError, ModelError
from .records import LABELS
from .store import atomic_write_text

SCHEMA_VERSION = 2  # 2: the pipeline is a skops file (data); 1 was a joblib pickle
SEED = 13
N_SPLITS = 5

# The search spaces are small on purpose: with ~1,700 sentences a wide grid
# mostly fits the folds' noise.  `talks train --features` picks one.
GRIDS: dict[str, list[dict]] = {
    "tfidf": [{"features": f, "C": c} for f in ("word", "word+char") for c in (1.0, 4.0, 16.0)],
    "embeddings": [{"features": "embeddings", "C": c} for c in (0.5, 2.0, 8.0)],
    "both": [{"features": "word+char+embeddings", "C": c} for c in (0.5, 2.0, 8.0)],
    "cues": [{"features": f, "C": c} for f in ("word+cues", "word+cues+static") for c in (1.0, 4.0, 16.0)],
    # A fine-tuned encoder's embeddings (pipeline/finetune.py adds "encoder": its ONNX file to each).
    "finetuned": [{"features": f, "C": c} for f in ("finetuned", "word+finetuned") for c in (0.5, 2.0, 8.0)],
}
# `talks train --quick`: one configuration per grid, the one the full grid usually picks.
QUICK: dict[str, dict] = {"tfidf": {"features": "word", "C": 4.0}, "cues": {"features": "word+cues+static", "C": 4.0},
                          "embeddings": {"features": "embeddings", "C": 2.0}, "both": {"features": "word+char+embeddings", "C": 2.0}}
GRID = GRIDS["cues"]  # the default: as fast as word n-grams alone, and blame moves most (README, models)
FEATURES = ("word", "word+char", "embeddings", "word+char+embeddings", "word+cues", "word+cues+static")
# Kept apart from FEATURES: these need an encoder file (make_pipeline's
# ``encoder``), which only pipeline/finetune.py makes.
FINETUNED_FEATURES = ("finetuned", "word+finetuned")


def uses_embeddings(features: str) -> bool:
    return "embeddings" in features or "finetuned" in features


# --------------------------------------------------------------------------
# The estimator
# --------------------------------------------------------------------------
def make_pipeline(features: str = "word", C: float = 4.0, encoder: str | Path | None = None):
    """A fresh, unfitted ``Pipeline(features -> one-vs-rest logistic regression)``.

    ``encoder`` is the ONNX file of a fine-tuned encoder, needed by (and only
    by) the :data:`FINETUNED_FEATURES`.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import FeatureUnion, Pipeline

    if features not in FEATURES + FINETUNED_FEATURES:
        raise ModelError(f"unknown features {features!r}; use one of {', '.join(FEATURES + FINETUNED_FEATURES)}")
    if (features in FINETUNED_FEATURES) != (encoder is not None):
        raise ModelError(f"features {features!r} {'need' if encoder is None else 'take no'} a fine-tuned encoder file "
                         "(encoder=...; scripts/finetune.py makes one)")
    parts = []
    if features.startswith("word"):
        parts.append(("word", TfidfVectorizer(
            ngram_range=(1, 2), min_df=2, sublinear_tf=True, strip_accents="unicode", lowercase=True, dtype=np.float32
        )))
    if "char" in features:
        parts.append(("char", TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True, lowercase=True, dtype=np.float32
        )))
    if "finetuned" in features:
        from .embed import SentenceEncoder

        parts.append(("emb", SentenceEncoder(onnx_path=str(encoder))))  # "emb": explain reads its dimensions as one embedding
    elif uses_embeddings(features):
        from .embed import SentenceEncoder, require_encoder

        require_encoder()  # one clear line on how to install the extra, before any work
        parts.append(("emb", SentenceEncoder()))
    if "cues" in features:
        from .cues import BlameCues

        parts.append(("cues", BlameCues()))
    if "static" in features:
        from .wordvec import StaticVectors

        parts.append(("static", StaticVectors()))
    vec = parts[0][1] if len(parts) == 1 else FeatureUnion(parts)
    clf = OneVsRestClassifier(
        LogisticRegression(C=C, class_weight="balanced", max_iter=2000, solver="liblinear", random_state=SEED)
    )
    return Pipeline([("features", vec), ("clf", clf)])


def grouped_folds(groups, n_splits: int = N_SPLITS) -> list[tuple[np.ndarray, np.ndarray]]:
    """Article-grouped folds, shuffled with a fixed seed so they are the same on every run."""
    from sklearn.model_selection import GroupKFold

    groups = np.asarray(groups)
    n = min(n_splits, len(np.unique(groups)))
    if n < 2:
        raise LabelError("need labelled sentences from at least 2 articles to cross-validate")
    try:
        gkf = GroupKFold(n_splits=n, shuffle=True, random_state=SEED)
    except TypeError:  # scikit-learn < 1.6 has no shuffle for GroupKFold
        gkf = GroupKFold(n_splits=n)
    return list(gkf.split(np.zeros(len(groups)), groups=groups))


def oof_proba(
    factory: Callable[[], object], texts, Y: np.ndarray, folds, progress: Callable[[int], None] | None = None
) -> np.ndarray:
    """Out-of-fold probabilities of a fresh pipeline per fold."""
    texts = np.asarray(texts, dtype=object)
    P = np.zeros(Y.shape, dtype=float)
    for tr, te in folds:
        model = factory()
        model.fit(texts[tr], Y[tr])
        P[te] = predict_proba(model, texts[te])
        if progress:
            progress(1)
    return P


def predict_proba(model, texts) -> np.ndarray:
    """(n, labels) probabilities; a label constant in training yields its constant."""
    return np.asarray(model.predict_proba(list(texts)), dtype=float)


def tune_thresholds(Y: np.ndarray, P: np.ndarray, labels=LABELS) -> dict[str, float]:
    """Per label, the probability cut that maximises F1 on out-of-fold predictions.

    Ties go to the higher threshold (fewer false positives), since the
    guidelines value precision.
    """
    from sklearn.metrics import precision_recall_curve

    out = {}
    for j, lab in enumerate(labels):
        if Y[:, j].sum() == 0:
            out[lab] = 0.5
            continue
        prec, rec, thr = precision_recall_curve(Y[:, j], P[:, j])
        f1 = np.where(prec + rec > 0, 2 * prec * rec / np.maximum(prec + rec, 1e-12), 0)[:-1]
        best = np.flatnonzero(f1 >= f1.max() - 1e-12)[-1]
        out[lab] = float(round(thr[best], 6))
    return out


def apply_thresholds(P: np.ndarray, thresholds: dict[str, float], labels=LABELS) -> np.ndarray:
    return (P >= np.array([thresholds[lab] for lab in labels])).astype(int)


def scores(Y: np.ndarray, Yhat: np.ndarray, labels=LABELS) -> dict:
    """Per-label precision/recall/F1/support, micro and macro F1."""
    from sklearn.metrics import f1_score, precision_recall_fscore_support

    p, r, f, s = precision_recall_fscore_support(Y, Yhat, average=None, zero_division=0)
    per = {lab: {"precision": float(p[j]), "recall": float(r[j]), "f1": float(f[j]), "support": int(s[j])} for j, lab in enumerate(labels)}
    return {
        "per_label": per,
        "macro_f1": float(f1_score(Y, Yhat, average="macro", zero_division=0)),
        "micro_f1": float(f1_score(Y, Yhat, average="micro", zero_division=0)),
    }


# --------------------------------------------------------------------------
# Training a model folder
# --------------------------------------------------------------------------
def training_data(labels_dir: str | Path, corpus_root: str | Path):
    """Gold labels outside the held-out articles as (DataFrame, texts, Y, groups)."""
    from .heldout import split_gold
    from .labels import gold_labels

    gold = split_gold(gold_labels(labels_dir, corpus_root), labels_dir)[0]
    if len(gold) == 0:
        raise LabelError("no labelled sentences outside the held-out set; label some with 'talks label' first", labels_dir)
    Y = gold[list(LABELS)].to_numpy(dtype=int)
    return gold, gold["text"].tolist(), Y, gold["article_id"].to_numpy()


def train(
    labels_dir: str | Path = "labels",
    corpus_root: str | Path = "corpus",
    models_dir: str | Path = "models",
    grid: list[dict] | None = None,
    set_current: bool = True,
    progress: Callable[[int], None] | None = None,
) -> dict:
    """Select, fit and save a model; return its card."""
    from .labels import labels_hash

    gold, texts, Y, groups = training_data(labels_dir, corpus_root)
    folds = grouped_folds(groups)
    grid = grid or GRID
    from sklearn.metrics import average_precision_score

    trials = []
    best = None
    for params in grid:
        P = oof_proba(lambda: make_pipeline(**params), texts, Y, folds, progress)
        ap = float(np.mean([average_precision_score(Y[:, j], P[:, j]) for j in range(len(LABELS)) if Y[:, j].any()]))
        th = tune_thresholds(Y, P)
        sc = scores(Y, apply_thresholds(P, th))
        trials.append({**params, "macro_ap": round(ap, 4), "macro_f1_tuned": round(sc["macro_f1"], 4)})
        if best is None or ap > best[0] + 1e-9:
            best = (ap, params, P, th, sc)
    _, params, P, thresholds, cv = best

    model = make_pipeline(**params)
    model.fit(np.asarray(texts, dtype=object), Y)
    versions = library_versions()
    lhash = labels_hash(gold)
    prefix = {"word": "tfidf", "word+char": "tfidf", "embeddings": "emb", "word+char+embeddings": "both",
              "word+cues": "cues", "word+cues+static": "cues"}[params["features"]]
    model_id = f"{prefix}-" + hashlib.sha256(json.dumps([lhash, params, versions["scikit-learn"]], sort_keys=True).encode()).hexdigest()[:10]
    card = {
        **card_head(model_id, params, thresholds, _encoder_info() if uses_embeddings(params["features"]) else None),
        "selection": {"cv": f"GroupKFold({len(folds)}) by article, seed {SEED}", "criterion": "macro average precision", "trials": trials},
        "cv_metrics": cv,
        "training": training_facts(gold, Y, groups, labels_dir, lhash),
        "versions": versions,
        "heldout": heldout_score(model, thresholds, labels_dir, corpus_root),
    }
    card = write_model_folder(models_dir, model, card)
    if set_current:
        from .registry import set_current as make_current

        make_current(models_dir, model_id, "train", "trained with set_current")
    return card


def card_head(model_id: str, params: dict, thresholds: dict[str, float], encoder: dict | None) -> dict:
    """The fields every model card starts with: its id, labels, thresholds and the estimator's parameters."""
    features = params["features"]
    return {
        "schema": SCHEMA_VERSION,
        "model_id": model_id,
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "labels": list(LABELS),
        "thresholds": thresholds,
        "features": features,
        "parameters": {**params, "estimator": "OneVsRest(LogisticRegression, class_weight=balanced, liblinear)",
                       "word_ngrams": [1, 2] if features.startswith("word") else None,
                       "char_wb_ngrams": [2, 5] if "char" in features else None,
                       "encoder": encoder},
    }


def training_facts(gold, Y: np.ndarray, groups, labels_dir: str | Path, labels_sha256: str) -> dict:
    """The card's account of the training data."""
    return {
        "labels_dir": str(labels_dir),
        "labels_sha256": labels_sha256,
        "sentences": int(len(gold)),
        "articles": int(len(set(groups))),
        "positives": {lab: int(Y[:, j].sum()) for j, lab in enumerate(LABELS)},
        "guidelines_version": guidelines_version(labels_dir),
    }


def write_model_folder(models_dir: str | Path, pipeline, card: dict, files: dict[str, Path] | None = None) -> dict:
    """Write ``models/<card's model_id>/`` whole or not at all; return the card as written.

    ``files`` (name in the folder -> file to copy) go in first, then the
    fitted pipeline with the card's labels and thresholds as ``model.skops``
    and the card, completed with the model
    file's format, name and sha256, as ``card.json`` and ``card.md``.  All of
    it is written into a staging folder that takes the place of the model
    folder only once complete (:func:`~pipeline.store.atomic_folder`), so a
    kill leaves the old folder (or none), never half a model.
    """
    import shutil

    from .store import atomic_folder

    with atomic_folder(Path(models_dir) / card["model_id"]) as staging:
        for name, src in (files or {}).items():
            shutil.copyfile(src, staging / name)
        artefact = {"schema": SCHEMA_VERSION, "labels": card["labels"], "thresholds": card["thresholds"], "pipeline": pipeline}
        _dump(artefact, staging / MODEL_FILE)
        card = {**card, "format": FORMAT, "file": MODEL_FILE, "sha256": sha256_file(staging / MODEL_FILE)}
        atomic_write_text(staging / "card.json", json.dumps(card, indent=2) + "\n")
        atomic_write_text(staging / "card.md", card_markdown(card))
    return card


def heldout_score(model, thresholds: dict[str, float], labels_dir: str | Path, corpus_root: str | Path) -> dict | None:
    """The fitted model scored as it is on the held-out gold, with its version; None without a held-out set."""
    from .heldout import heldout_articles, heldout_version, split_gold
    from .labels import gold_labels
    from .metrics import metric_block

    if not heldout_articles(labels_dir):
        return None
    held = split_gold(gold_labels(labels_dir, corpus_root), labels_dir)[1]
    if held.empty:
        return None
    Y = held[list(LABELS)].to_numpy(dtype=int)
    Yhat = apply_thresholds(predict_proba(model, held["text"].tolist()), thresholds)
    m = metric_block(Y, Yhat, held["article_id"].to_numpy())
    keep = ("precision", "recall", "f1", "f1_ci", "support")
    return {**heldout_version(held),
            "metrics": {"per_label": {lab: {k: m["per_label"][lab][k] for k in keep} for lab in LABELS},
                        "macro": {k: m["macro"][k] for k in ("precision", "recall", "f1", "f1_ci")},
                        "micro": {k: m["micro"][k] for k in ("precision", "recall", "f1", "f1_ci")}}}


def _encoder_info() -> dict:
    from .embed import DIM, MODEL_NAME, SentenceEncoder

    return {"model": MODEL_NAME, "id": SentenceEncoder().model_id, "dim": DIM, "requires": "pip install 'talks[embeddings]'"}


def _dump(obj, path: Path) -> None:
    from .artefact import save

    save(obj, path)


def walk_steps(est):
    """The estimator and every step inside it (Pipeline steps, FeatureUnion parts), depth first."""
    yield est
    for _, sub in getattr(est, "steps", None) or getattr(est, "transformer_list", None) or []:
        yield from walk_steps(sub)


def encoders(est) -> list:
    """The sentence encoders inside a pipeline or feature step (none for TF-IDF models)."""
    return [e for e in walk_steps(est) if type(e).__name__ == "SentenceEncoder"]


def feature_term(name: str) -> str | None:
    """A feature name as people read it; None for an embedding dimension.

    FeatureUnion prefixes names with the part that made them ("word__cease
    fire", "char__ fire", "emb__emb17", "cues__accuse_verb"); character
    n-grams are bracketed and blame cues (``cues.py``) read "cue:accuse_verb",
    so neither is taken for a word.  A single dimension of a sentence
    embedding, or of the static word vectors (``wordvec.py``), means nothing
    on its own.
    """
    kind, sep, term = name.partition("__")
    if not sep:
        kind, term = "", name
    if kind in ("emb", "static") or (not kind and term.startswith("emb") and term[3:].isdigit()):
        return None
    if kind == "cues":
        return f"cue:{term}"
    return f"[{term}]" if kind == "char" else term


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def library_versions() -> dict[str, str]:
    import joblib
    import nltk
    import pandas
    import sklearn
    import skops

    from . import __version__

    return {
        "talks": __version__,
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "joblib": joblib.__version__,
        "skops": skops.__version__,
        "pandas": pandas.__version__,
        "nltk": nltk.__version__,
    }


def guidelines_version(labels_dir: str | Path) -> str | None:
    """The version line of ``labels/GUIDELINES.md`` ("Version: 1.1")."""
    import re

    path = Path(labels_dir) / "GUIDELINES.md"
    if not path.exists():
        return None
    m = re.search(r"^\**version\**:?\s*\**\s*([0-9][\w.]*)", path.read_text(encoding="utf-8"), flags=re.I | re.M)
    return m.group(1) if m else None


def card_markdown(card: dict) -> str:
    cv = card["cv_metrics"]
    lines = [
        f"# Model card: {card['model_id']}",
        "",
        f"Features: {card['features']}; one-vs-rest logistic regression, C={card['parameters']['C']}."
        + (f" Needs the embeddings extra ({card['parameters']['encoder']['id']})." if card["parameters"].get("encoder") else ""),
        f"Trained on {card['training']['sentences']} gold sentences from {card['training']['articles']} articles "
        f"(guidelines v{card['training']['guidelines_version']}, labels sha256 {card['training']['labels_sha256'][:12]}).",
        "",
        f"Cross-validated ({card['selection']['cv']}), thresholds tuned on the same out-of-fold",
        f"predictions (slightly optimistic; `talks evaluate` gives the nested figure): macro-F1 {cv['macro_f1']:.3f}, micro-F1 {cv['micro_f1']:.3f}.",
        "",
        "| label | threshold | precision | recall | F1 | support |",
        "|---|---|---|---|---|---|",
    ]
    for lab in card["labels"]:
        m = cv["per_label"][lab]
        lines.append(f"| {lab} | {card['thresholds'][lab]:.3f} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | {m['support']} |")
    held = card.get("heldout")
    if held:
        hm = held["metrics"]
        lines += ["", f"Held-out set (version {held['sha256'][:12]}: {held['sentences']} sentences from {held['articles']} articles "
                  "never used for training or selection), stored thresholds, 95% article-bootstrap intervals:", "",
                  "| label | F1 | 95% interval | support |", "|---|---|---|---|"]
        for lab in card["labels"]:
            m = hm["per_label"][lab]
            lines.append(f"| {lab} | {m['f1']:.3f} | [{m['f1_ci'][0]:.2f}, {m['f1_ci'][1]:.2f}] | {m['support']} |")
        lines.append(f"| **macro** | **{hm['macro']['f1']:.3f}** | [{hm['macro']['f1_ci'][0]:.2f}, {hm['macro']['f1_ci'][1]:.2f}] | |")
    else:
        lines += ["", "No held-out set when this model was trained (`talks heldout init` sets one aside)."]
    lines += ["", "Library versions: " + ", ".join(f"{k} {v}" for k, v in card["versions"].items()), "",
              f"{card.get('file', LEGACY_FILE)} sha256: `{card['sha256']}`", ""]
    return "\n".join(lines)


# --------------------------------------------------------------------------
# Loading a model folder (checked)
# --------------------------------------------------------------------------
def resolve_model(model: str | Path | None = None, models_dir: str | Path = "models") -> Path:
    """A model folder from a path, a model id, or ``models/current``."""
    models_dir = Path(models_dir)
    if model is None or str(model) == "current":
        cur = models_dir / "current"
        if not cur.exists():
            raise ModelError("no current model; train one with 'talks train' or pass --model", cur)
        model = cur.read_text(encoding="utf-8").strip()
    p = Path(model)
    if not p.is_dir():
        p = models_dir / str(model)
    if not p.is_dir():
        raise ModelError(f"no model folder {model!r}; list models/ or train one with 'talks train'", p)
    return p


def load_model(model: str | Path | None = None, models_dir: str | Path = "models") -> dict:
    """Load a model folder as data, checking schema and the model file's sha256 against its card.

    The sha256 only catches accidents (anyone who can change the file can
    change the card); safety comes from the file being data (``artefact.load``).
    Returns ``{"card", "pipeline", "thresholds", "labels", "path", "file", "warnings"}``.
    """
    from .artefact import load
    from .registry import load_card

    folder = resolve_model(model, models_dir)
    card_path, model_path = folder / "card.json", folder / MODEL_FILE
    if not card_path.exists():
        raise ModelError("model folder is incomplete; re-train with 'talks train'", card_path)
    card = load_card(card_path)
    if card.get("schema") != SCHEMA_VERSION or card.get("format") != FORMAT:
        if (folder / LEGACY_FILE).exists():
            raise ModelError("this model folder was saved by an older version as a pickle, which can run code when loaded; "
                             f"re-save it with `talks models upgrade {folder}` if you trust it, or retrain", folder / LEGACY_FILE)
        raise ModelError(f"model schema {card.get('schema')}, format {card.get('format')} is not schema {SCHEMA_VERSION}, "
                         f"format {FORMAT}; re-train with this version", card_path)
    if not model_path.exists():
        raise ModelError("model folder is incomplete; re-train with 'talks train'", model_path)
    if uses_embeddings(str(card.get("features", ""))):
        from .embed import require_encoder

        require_encoder()
    if sha256_file(model_path) != card.get("sha256"):
        raise ModelError(f"{MODEL_FILE} does not match the sha256 in its card (changed or corrupted); re-train or restore it", model_path)
    art = load(model_path)
    return {"card": card, "pipeline": art["pipeline"], "thresholds": art["thresholds"], "labels": tuple(art["labels"]),
            "path": folder, "file": model_path, "warnings": _version_warnings(card, folder)}


def _version_warnings(card: dict, folder: Path) -> list[str]:
    """scikit-learn only promises to load its own version's pickles; say so when they differ."""
    import sklearn

    trained = card.get("versions", {}).get("scikit-learn")
    if trained and trained.split(".")[:2] != sklearn.__version__.split(".")[:2]:
        return [f"{folder}: trained with scikit-learn {trained}, running {sklearn.__version__}; "
                "predictions may differ: retrain with 'talks train' or install the version in card.json"]
    return []
