"""Fine-tune all-MiniLM-L6-v2 on the gold labels and train a model on it: models/ft-<hash>/.

Needs the training extra, in a venv of its own (PyTorch, about 1.25 GB):

    d=$(mktemp -d); python3 -m venv $d/v; $d/v/bin/pip install -U pip
    $d/v/bin/pip install -e '.[test,embeddings,finetune]'
    $d/v/bin/python scripts/finetune.py                      # about 25 minutes on 2 cores

What it does (pipeline/finetune.py): cross-fits an encoder per article-grouped
fold to choose the features and C and tune thresholds without the held-out
set, fine-tunes the final encoder on every training sentence, exports it to
int8 ONNX in the model folder, fits the logistic regression, scores the
held-out set into the card, and writes the figures (held-out and cross-fitted
F1, minutes, one-thread tagging speed, install size) to reports/finetune.json.
The model is not made current: `talks compare current ft-...` then
`talks models promote ft-...` if it should be.

Usage: python scripts/finetune.py [--epochs 3] [--folds 3] [--report reports/finetune.json]
                                   [--workdir DIR] [--models models] [--labels labels] [--root corpus]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--labels", default=str(REPO / "labels"))
    ap.add_argument("--root", default=str(REPO / "corpus"))
    ap.add_argument("--models", default=str(REPO / "models"))
    ap.add_argument("--epochs", type=int, default=None, help="fine-tuning epochs (default: pipeline.model.finetune.DEFAULTS)")
    ap.add_argument("--folds", type=int, default=None, help="cross-fitting folds (default 3; 0: none, thresholds 0.5, for trials only)")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--workdir", default=None, help="keep fold files and the fp32 export here (default: a temporary folder, removed)")
    ap.add_argument("--report", default=str(REPO / "reports" / "finetune.json"))
    args = ap.parse_args(argv)

    from pipeline.model import finetune as ft
    from pipeline.errors import PipelineError
    from pipeline.model.selection import training_data
    from pipeline.project import Project

    def say(msg: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)

    params = {"epochs": args.epochs} if args.epochs else None
    project = Project(corpus=Path(args.root), labels=Path(args.labels), models=Path(args.models))
    try:
        card = ft.train_finetuned(project, n_folds=ft.CV_FOLDS if args.folds is None else args.folds,
                                  params=params, threads=args.threads, workdir=args.workdir, progress=say)
    except PipelineError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    folder = Path(args.models) / card["model_id"]
    say(f"wrote {folder}/; measuring speed")
    _, texts, _, _ = training_data(project)
    sample = texts[:: max(1, len(texts) // 500)][:500]
    speed = {"finetuned_int8": ft.encode_speed(folder / ft.ENCODER_FILE, sample),
             "packaged_minilm_int8": ft.encode_speed(None, sample)}
    fp32 = Path(args.workdir) / "encoder-fp32.onnx" if args.workdir else None
    fidelity = ft.int8_fidelity(folder / ft.ENCODER_FILE, fp32, sample) if fp32 and fp32.exists() else None
    held = card.get("heldout") or {}
    hm = held.get("metrics", {})
    report = {
        "model_id": card["model_id"],
        "created": card["created"],
        "features": card["features"],
        "C": card["parameters"]["C"],
        "heldout": {"version": held.get("sha256"), "articles": held.get("articles"), "sentences": held.get("sentences"),
                    "macro_f1": hm.get("macro", {}).get("f1"), "macro_f1_ci": hm.get("macro", {}).get("f1_ci"),
                    "per_label_f1": {lab: m["f1"] for lab, m in hm.get("per_label", {}).items()},
                    "per_label_f1_ci": {lab: m["f1_ci"] for lab, m in hm.get("per_label", {}).items()}},
        "target": {"macro_f1": 0.85, "every_label_f1": 0.75},
        "cross_fitted": {"folds": card["finetune"]["cross_fit"]["folds"], "macro_f1_tuned": card["cv_metrics"]["macro"]["f1"],
                         "per_label_f1": {lab: m["f1"] for lab, m in card["cv_metrics"]["per_label"].items()},
                         "trials": card["selection"]["trials"]},
        "thresholds": card["thresholds"],
        "fine_tune": {k: card["finetune"][k] for k in ("params", "sentences", "steps", "last_epoch_loss")},
        "minutes": {"final_fine_tune": round(card["finetune"]["seconds"] / 60, 1),
                    "cross_fit_total": round(card["finetune"]["cross_fit"]["seconds"] / 60, 1),
                    "fold_fine_tunes": [round(s / 60, 1) for s in card["finetune"]["cross_fit"]["fine_tune_seconds"]],
                    "all": round(card["finetune"]["total_seconds"] / 60, 1)},
        "threads": args.threads,
        "load_average_after": os.getloadavg()[0],
        "encoder": {"file": f"{folder.name}/{ft.ENCODER_FILE}", "bytes": card["parameters"]["encoder"]["bytes"],
                    "fp32_bytes": card["finetune"]["export"]["fp32_bytes"], "sha256": card["parameters"]["encoder"]["sha256"],
                    "quantised": card["finetune"]["export"]["quantised"],
                    "int8_vs_fp32": fidelity or "run with --workdir DIR to measure (the fp32 export is kept there)"},
        "encode_speed_one_thread": speed,
        "install": {"finetune_extra_beyond_base": ft.install_bytes(),
                    "tagging_needs": "the embeddings extra only (onnxruntime + tokenizers), about 130 MB"},
        "versions": card["versions"],
    }
    out = Path(args.report)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    say(f"held-out macro-F1 {report['heldout']['macro_f1']:.3f}; per label "
        + ", ".join(f"{k} {v:.3f}" for k, v in report["heldout"]["per_label_f1"].items()))
    say(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
