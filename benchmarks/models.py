"""The README's table of models: quality on the held-out set, speed per core and install size.

For every trained model in ``models/`` that was scored on a held-out set at
training, one row, scored on the held-out articles every such model held out
(the stratified and hand-picked parts of ``labels/heldout.csv``: round 3 moved
articles older models trained on into the set, so the whole set would
flatter them):

* per-label and macro F1 on the held-out set, with the 95% article-bootstrap
  interval of macro-F1, recomputed now with ``talks compare``'s code (so a
  card that no longer reproduces shows up as a changed figure, not a stale one);
* sentences per second per core: ``cost.tagging_speed`` (what ``talks
  evaluate --compare`` reports: the embedding cache off, a warm model, the
  median of up to ``--repeats`` passes) on ``--sentences`` corpus sentences
  (a fixed, seeded sample), on one thread (``OMP_NUM_THREADS`` and
  ``TALKS_EMBED_THREADS`` = 1); reading and splitting articles are the same
  for every model and are in ``make bench``;
* the model folder's size and ``cost.install_footprint``: the installed size
  of the packages its optional extra adds to the base install, with the
  dependencies they pull in.

Each model is timed in a process of its own, so one model's imports or
threads never slow another's.  Writes ``benchmarks/results/models.json`` and
the README's ``<!-- figures:models -->`` block:

    .venv/bin/python benchmarks/models.py [--sentences 3000] [--repeats 3]   (or: make models-table)
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

RESULTS = REPO / "benchmarks" / "results" / "models.json"
COMMON_PARTS = ("stratified", "hand-picked")
LABELS_ORDER = ("diplomacy", "violence", "humanitarian", "blame")
SEED = 13


def _folder_mb(path: Path) -> float:
    return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20, 1)


def sample_sentences(corpus: Path, n: int) -> list[str]:
    import pandas as pd

    df = pd.read_csv(corpus / "sentences.csv", usecols=["text"], dtype=str, keep_default_na=False)
    return df["text"].sample(n=min(n, len(df)), random_state=SEED).tolist()


_TIMER = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from pipeline.model.cost import tagging_speed
from pipeline.model.loading import load_model
r = tagging_speed(load_model(sys.argv[2])["pipeline"], json.load(open(sys.argv[3])), max_runs=int(sys.argv[4]))
print(json.dumps(r))
"""


def time_model(folder: Path, texts_file: Path, repeats: int) -> dict:
    """``cost.tagging_speed`` (the embedding cache off, warm, median pass) in a process of its own on one thread."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "TALKS_EMBED_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", _TIMER, str(REPO), str(folder), str(texts_file), str(repeats)],
                         capture_output=True, text=True, env=env, check=True)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    return {"seconds": round(r["seconds"], 3), "runs": r["runs"], "sentences_per_s": round(r["sentences_per_second"])}


def run(models: Path, labels: Path, corpus: Path, n_sentences: int, repeats: int) -> dict:
    from pipeline.evaluation.compare import compare_models
    from pipeline.model.cost import base_install_bytes, install_footprint
    from pipeline.model.embed import encoder_available
    from pipeline.model.features import uses_embeddings
    from pipeline.labels.heldout import heldout_version
    from pipeline.model.registry import current_id, list_models
    from pipeline.project import Project

    from pipeline.evaluation.compare import scoring_data

    project = Project(corpus=corpus, labels=labels, models=models)
    version = heldout_version(scoring_data(project, parts=COMMON_PARTS)[0])
    cur = current_id(models)
    base_mb = round(base_install_bytes() / 2**20, 1)
    texts = sample_sentences(corpus, n_sentences)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(texts, f)
        texts_file = Path(f.name)
    rows, skipped = [], []
    try:
        for m in sorted(list_models(models), key=lambda r: r["model_id"]):
            mid, feats = m["model_id"], m.get("features") or ""
            if not m.get("heldout_version"):
                skipped.append({"model_id": mid, "why": "trained before the held-out set existed"})
                continue
            if uses_embeddings(feats) and not encoder_available():
                skipped.append({"model_id": mid, "why": "needs the embeddings extra, not installed here"})
                continue
            inst = install_footprint(feats)  # the extra's packages; the folder's size is measured below
            c = compare_models(mid, mid, project, parts=COMMON_PARTS)
            met = c["models"][0]["metrics"]
            rows.append({
                "model_id": mid, "features": feats, "current": mid == cur,
                "f1": {lab: round(met["per_label"][lab]["f1"], 3) for lab in LABELS_ORDER},
                "macro_f1": round(met["macro"]["f1"], 3), "macro_f1_ci": [round(x, 3) for x in met["macro"]["f1_ci"]],
                "speed": time_model(models / mid, texts_file, repeats),
                "model_mb": _folder_mb(models / mid), "extra": inst["extra"],
                "extra_mb": round((inst["bytes"] + inst["dependency_bytes"]) / 2**20, 1),
            })
    finally:
        texts_file.unlink()
    ft_json = Path("reports") / "finetune.json"
    finetune = json.loads(ft_json.read_text(encoding="utf-8")) if ft_json.exists() else None
    return {"finetune": finetune, "heldout": {"sentences": version["sentences"], "articles": version["articles"], "sha256": version["sha256"]},
            "timing": {"sentences": len(texts), "repeats": repeats, "threads": 1}, "install": {"base_mb": base_mb},
            "models": rows, "skipped": skipped, "cores": os.cpu_count()}


def render(res: dict) -> str:
    h, t = res["heldout"], res["timing"]
    lines = [f"Held-out articles every model here held out (the stratified and hand-picked parts of the held-out set): "
             f"{h['sentences']:,} sentences of {h['articles']} articles (version {h['sha256'][:12]}); "
             f"F1 per label, macro-F1 with its 95% article-bootstrap interval; speed is features + classifier on "
             f"{t['sentences']:,} corpus sentences on one thread (reading and splitting, the same for all, are in the speed benchmark, docs/speed.md); "
             f"size is the model folder plus the optional extra it needs (base install {res['install']['base_mb']:,.0f} MB, "
             "with the static word vectors of the cues models). "
             "`make models-table` regenerates this table.", "",
             "| model | features | " + " | ".join(LABELS_ORDER) + " | macro-F1 [95% CI] | sentences/s/core | size |",
             "|---|---|" + "---|" * len(LABELS_ORDER) + "---|---|---|"]
    for r in sorted(res["models"], key=lambda r: -r["macro_f1"]):
        name = f"`{r['model_id']}`" + (" (current)" if r["current"] else "")
        size = f"{r['model_mb']:,.1f} MB" + (f" + {r['extra_mb']:,.0f} MB `{r['extra']}` extra" if r["extra"] else "")
        lines.append(f"| {name} | {r['features']} | " + " | ".join(f"{r['f1'][lab]:.3f}" for lab in LABELS_ORDER)
                     + f" | **{r['macro_f1']:.3f}** [{r['macro_f1_ci'][0]:.2f}, {r['macro_f1_ci'][1]:.2f}]"
                     + f" | {r['speed']['sentences_per_s']:,} | {size} |")
    ft = res.get("finetune")
    if ft:
        m = ft["minutes"]
        lines += ["", f"Fine-tuning `{ft['model_id']}` (`make finetune`, {ft['threads']} threads, figures from "
                  f"`reports/finetune.json`): {m['all']:.0f} minutes in all, of which {m['cross_fit_total']:.0f} cross-fitting "
                  f"{len(m['fold_fine_tunes'])} story-grouped folds (an encoder fine-tuned per fold, to choose C and the "
                  f"thresholds without the held-out set) and {m['final_fine_tune']:.0f} the final encoder; cross-fitted macro-F1 "
                  f"{ft['cross_fitted']['macro_f1_tuned']:.3f}; the training extra adds "
                  f"{ft['install']['finetune_extra_beyond_base']['bytes'] / 2**30:.2f} GB (PyTorch), tagging needs only the "
                  f"`embeddings` extra. Target of issue 10: macro-F1 {ft['target']['macro_f1']}, every label "
                  f"{ft['target']['every_label_f1']}."]
    if res["skipped"]:
        lines += ["", "Not in the table: " + "; ".join(f"`{s['model_id']}` ({s['why']})" for s in res["skipped"]) + "."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from readme_figures import write_blocks

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sentences", type=int, default=3000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--render", action="store_true", help="only re-render the models block from the JSON")
    ap.add_argument("--json", default=str(RESULTS))
    ap.add_argument("--file", help="the Markdown file to rewrite (default: whichever of README.md and docs/*.md holds the block)")
    a = ap.parse_args(argv)
    if a.render:
        res = json.loads(Path(a.json).read_text(encoding="utf-8"))
    else:
        from pipeline.store import atomic_write_text

        os.chdir(REPO)
        res = run(Path("models"), Path("labels"), Path("corpus"), a.sentences, a.repeats)
        atomic_write_text(Path(a.json), json.dumps(res, indent=1) + "\n")
    write_blocks({"models": render(res)}, [Path(a.file)] if a.file else None)
    print(f"wrote {a.json} and the models block")
    return 0


if __name__ == "__main__":
    sys.exit(main())
