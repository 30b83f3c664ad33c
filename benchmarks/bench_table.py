"""Render benchmarks/results/bench.json into the ``<!-- figures:bench -->`` block (docs/speed.md).

    python benchmarks/bench_table.py [--json FILE] [--file FILE]

``make bench`` runs it after ``bench.py``.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))

from readme_figures import write_blocks  # noqa: E402

RESULTS = REPO / "benchmarks" / "results" / "bench.json"
# `make bench`'s results at commit ac570e0, before the speed work of issue 12
# (`git show ac570e0:benchmarks/results/bench.json`): its profile is the "before".
BEFORE = REPO / "benchmarks" / "results" / "bench-before.json"


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _ratio(x: float) -> str:
    return f"{x:.2f}x"


def _row(name: str, r: dict) -> str:
    return (f"| {name} | {r.get('jobs', 1)} | {r['seconds']:,.1f} | {r['cpu_seconds']:,.1f} | {r['sentences']:,} | {r['sentences_per_s']:,} "
            f"| {r['mb_per_s']:.3g} | {r['peak_rss_mib']:,} MiB | {r['peak_total_rss_mib']:,} MiB |")


def _measured(check: dict) -> str:
    """A target's measured figure: peak memories, a time, a share of the junk test set or a speed ratio."""
    if "peak_rss_mib" in check:
        return " -> ".join(f"{x:,} MiB" for x in check["peak_rss_mib"])
    if "seconds" in check:
        return f"{check['seconds']} s"
    if "share" in check:
        return f"{100 * check['share']:.1f}%"
    return _ratio(check["ratio"])


def _duration(hours: float) -> str:
    return f"{hours:.1f} h" if hours >= 1 else f"{hours * 60:.0f} min"


def _profile_line(res: dict, what: str) -> str:
    p, m, mod = res["profile"], res["machine"], res["model"]
    shares = ", ".join(f"{stage} {_pct(share)}" for stage, share in p["work_shares"].items())
    return (f"{what} (commit {m['git_commit'][:10]}, model `{mod['id']}`, {mod['features']}; pyinstrument, on the first "
            f"{p['files']:,} files, {p['mb']} MB, {p['seconds']} s): {p['start_up_seconds']} s of start-up (imports, model load), "
            f"then {shares}.")


def render(res: dict, before: dict | None = None) -> str:
    """The README block; ``before`` is an earlier run's results (``bench-before.json``) for its profile."""
    m, inp, runs, mod = res["machine"], res["input"], res["runs"], res["model"]
    jobs = runs["tag_all_cores"]["jobs"]
    lines = [
        (f"`make bench` on {m['date'][:10]}, commit {m['git_commit'][:10]}{' plus uncommitted changes' if m['git_dirty'] else ''}, "
         f"{m['cores']} cores, Python {m['python']}, load average {m['load_average_start'][0]} at the start and "
         f"{m['load_average_end'][0]} at the end (a shared machine: wall times move by 30% or more from run to run, CPU seconds much less). "
         f"Input: `{inp['feed']}` ({inp['copies']} cop{'ies' if inp['copies'] > 1 else 'y'}, {inp['files']:,} files, "
         f"{inp['mb']} MB); model `{mod['id']}` ({mod['features']}, C={mod['C']}). Each tool counts the sentences of its own "
         "cleaning and splitting; MB/s and the ratios compare the same files."),
        "",
        "| run | processes | seconds | CPU seconds | sentences | sentences/s | MB/s | peak RSS, largest process | all processes |",
        "|---|---|---|---|---|---|---|---|---|",
        _row(f"`talks ingest {runs['ingest']['input']}` ({runs['ingest']['files']:,} files, {runs['ingest']['mb']} MB)", runs["ingest"]),
        _row("`talks tag --jobs 1`", runs["tag_jobs1"]),
        _row(f"`talks tag --jobs {jobs}`", runs["tag_all_cores"]),
        _row("plain script (`benchmarks/plain.py`)", runs["plain"]),
    ]
    if "peer" in runs:
        lines.append(_row("peer: nupunkt + fastText (`benchmarks/peer.py`)", runs["peer"]))
    if "dask" in runs:
        lines.append(_row(f"`talks tag --engine dask` (LocalCluster of {runs['dask']['jobs']} started for the run)", runs["dask"]))
    if "baseline_all_cores" in runs:
        lines.append(_row(f"`talks tag --jobs {jobs}` with the code before issue 21 (commit {res['baseline']['commit'][:10]})",
                          runs["baseline_all_cores"]))
    if "one_article" in runs:
        one = runs["one_article"]
        lines.append(_row(f"`talks tag` of one article ({one['mb'] * 1000:.0f} kB; the median of {one['repeats']} runs: "
                          + ", ".join(f"{x} s" for x in one["all_seconds"]) + ")", one))
    lines += ["", "| target | measured | met |", "|---|---|---|"]
    for c in res["checks"].values():
        lines.append(f"| {c['target']} | {_measured(c)} | {'yes' if c['met'] else '**no**'} |")
    few1, fewN = runs["small_jobs1"], runs["small_all_cores"]
    best = f" (the fastest of {few1['repeats']} runs each)" if few1.get("repeats", 1) > 1 else ""
    lines += ["", f"{few1['files']} articles: {few1['seconds']} s with `--jobs 1`, {fewN['seconds']} s with `--jobs {fewN['jobs']}`{best}."]
    if "profile" in res:
        lines.append(_profile_line(res, "Where `talks tag --jobs 1` spends its time"))
    if "profile" in res.get("baseline", {}):
        base = {**res, "profile": res["baseline"]["profile"], "machine": {**m, "git_commit": res["baseline"]["commit"]}}
        lines.append(_profile_line(base, "The same with the code before issue 21, in the same run"))
    if before and "profile" in before:
        lines.append(_profile_line(before, "Before issue 12's speed work"))
    if res.get("junk"):
        j = res["junk"]
        lines.append(f"Cleaning, on the junk test set (`benchmarks/junk_eval.py`, {j['units']:,} hand-marked units of {j['articles']} "
                     f"feed articles): {100 * j['junk_removed_rate']:.1f}% of {j['junk_units']:,} junk units removed, "
                     f"{100 * j['text_kept_rate']:.1f}% of {j['text_units']:,} text units kept.")
    if "dask_estimate" in res:
        d, e = runs["dask"], res["dask_estimate"]
        lines.append(f"Dask: the cluster started in {d['cluster_seconds']} s and tagged in {d['tag_seconds']} s, "
                     f"{e['articles_per_worker_s']} articles per second per worker; at that rate {e['articles']:,} articles take "
                     + ", ".join(f"{_duration(h)} on {n} workers" for n, h in e["hours"].items())
                     + " (start-up plus articles / (rate x workers); a shared file system and the client writing the parts "
                     "limit it beyond a few dozen workers).")
    q = res["quality"]
    peer = f", the peer {q['peer']['macro_f1']:.3f} (fastText trained in {q['peer_train_seconds']} s on the same {q['peer_train_sentences']:,} training sentences)" if "peer" in q else ""
    lines.append(f"Held-out macro-F1 (the {q['heldout']['articles']} held-out articles the model never trained on, {q['heldout']['sentences']:,} sentences): "
                 f"the project's model {q['project']['macro_f1']:.3f}{peer}.")
    t = res["training"]
    fits = "; ".join(f"{f['sentences']:,} -> {f['fit_seconds']} s ({f['peak_rss_mib']:,} MiB)" if f["fit_seconds"] is not None
                     else f"{f['sentences']:,} -> {f['note']}" for f in t["fits"])
    lines.append(f"Training time, {t['features']} with C={t['C']} fitted on the {t['gold_sentences']:,} training gold sentences "
                 f"sampled or replicated to each size (sentences -> seconds, peak RSS): {fits}.")
    lines.append(f"The whole benchmark took {res['bench_seconds'] / 60:.1f} minutes.")
    return "\n".join(lines)


def write(res: dict, file: Path | None = None, before: dict | None = None) -> list[Path]:
    """Rewrite the bench block in ``file``, or in whichever of the README and docs/ holds it."""
    return write_blocks({"bench": render(res, before)}, [file] if file else None)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", default=str(RESULTS), help="bench.json to render (default: benchmarks/results/bench.json)")
    ap.add_argument("--file", help="the Markdown file to rewrite (default: whichever of README.md and docs/*.md holds the block)")
    args = ap.parse_args(argv)
    before = json.loads(BEFORE.read_text(encoding="utf-8")) if BEFORE.exists() else None
    done = write(json.loads(Path(args.json).read_text(encoding="utf-8")), Path(args.file) if args.file else None, before)
    print("rewrote the bench block" + (f" of {done[0]}" if done else " (unchanged)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
