"""Speed and memory of the main job, measured on this machine.

Makes N copies of the new-coverage articles (each copy renamed, so every
article is distinct to the pipeline), then times, in fresh processes:
ingest+split alone, and `talks tag` end to end with --jobs 1 and --jobs 2,
reporting sentences per second and peak resident memory.  Run with
`make bench` (or `python benchmarks/bench.py --copies 200`).
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


# Runs the CLI in a child that reports its own peak RSS (and its workers') on exit.
_CHILD = (
    "import resource, sys; from pipeline.cli import main; rc = main(sys.argv[1:]); "
    "peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
    "print(f'PEAK {peak}', file=sys.stderr); sys.exit(rc)"
)


def run(args: list[str], env: dict | None = None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB, largest single process) of one CLI run."""
    import os

    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", _CHILD, *args], check=True, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       text=True, env={**os.environ, **(env or {})})
    wall = time.perf_counter() - t
    peak = int(p.stderr.strip().splitlines()[-1].split()[1]) / 1024
    return wall, peak


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--copies", type=int, default=100, help="copies of corpus/new (8 articles each)")
    ap.add_argument("--model", action="append", default=[], help="also time `talks tag --model ID` (repeatable), e.g. the embeddings model")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src = sorted((REPO / "corpus" / "new").glob("*"))
        data = Path(tmp) / "articles"
        data.mkdir()
        for i in range(args.copies):
            for f in src:
                shutil.copy(f, data / f"{i:05d}-{f.name}")
        n_files = len(list(data.iterdir()))
        results = {"articles": n_files}
        wall, peak = run(["ingest", str(data), "--root", str(Path(tmp) / "corpus")])
        n_sent = sum(1 for _ in open(Path(tmp) / "corpus" / "sentences.csv", encoding="utf-8")) - 1
        results["sentences"] = n_sent
        results["ingest_split"] = {"seconds": round(wall, 2), "sentences_per_s": round(n_sent / wall), "peak_rss_mib": round(peak)}
        for jobs in (1, 2):
            wall, peak = run(["tag", str(data), "--out", str(Path(tmp) / f"tags{jobs}.csv"), "--jobs", str(jobs)])
            results[f"tag_jobs{jobs}"] = {"seconds": round(wall, 2), "sentences_per_s": round(n_sent / wall), "peak_rss_mib": round(peak)}
        # Streaming: a quarter of the input should need about the same memory.
        quarter = Path(tmp) / "quarter"
        quarter.mkdir()
        for f in sorted(data.iterdir())[: n_files // 4]:
            shutil.copy(f, quarter / f.name)
        _, peak_q = run(["tag", str(quarter), "--out", str(Path(tmp) / "tagsq.csv")])
        results["memory_streaming"] = {"peak_rss_mib_quarter_input": round(peak_q), "peak_rss_mib_full_input": results["tag_jobs1"]["peak_rss_mib"]}
        if args.model:
            # Models side by side on the real corpus: every sentence distinct and
            # a cold embedding cache, so the figure holds for text never seen before.
            raw = REPO / "corpus" / "raw"
            n_raw = None
            for mid in [None, *args.model]:
                name = mid or "current"
                cmd = ["tag", str(raw), "--out", str(Path(tmp) / f"raw-{name}.csv")] + (["--model", mid] if mid else [])
                wall, peak = run(cmd, {"TALKS_EMBED_CACHE": str(Path(tmp) / f"cache-{name}")})
                n_raw = n_raw or sum(1 for _ in open(Path(tmp) / f"raw-{name}.csv", encoding="utf-8")) - 1
                results[f"corpus_tag_{name}"] = {"sentences": n_raw, "seconds": round(wall, 2), "sentences_per_s": round(n_raw / wall), "peak_rss_mib": round(peak)}
        model = json.loads((REPO / "models" / (REPO / "models" / "current").read_text().strip() / "card.json").read_text())
        results["model_id"] = model["model_id"]
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(f"{results['articles']} articles, {results['sentences']} sentences (model {results['model_id']})")
        for name, key in (("ingest+split", "ingest_split"), ("tag --jobs 1", "tag_jobs1"), ("tag --jobs 2", "tag_jobs2")):
            r = results[key]
            print(f"{name:<14} {r['seconds']:>7} s  {r['sentences_per_s']:>7} sentences/s  peak RSS {r['peak_rss_mib']} MiB")
        for key, r in results.items():
            if key.startswith("corpus_tag_"):
                print(f"tag corpus/raw ({r['sentences']} distinct sentences) with {key[11:]}: {r['seconds']} s, "
                      f"{r['sentences_per_s']} sentences/s, peak RSS {r['peak_rss_mib']} MiB (process start-up included)")
        m = results["memory_streaming"]
        print(f"peak RSS tagging 1/4 of the input: {m['peak_rss_mib_quarter_input']} MiB; all of it: {m['peak_rss_mib_full_input']} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
