"""Speed and memory of `talks tag` against the plain way and a fast peer.

Builds the input once in a temporary folder: the Jan-Mar 2016 feed
(``corpus/raw/feed-2016q1``) copied ``--copies`` times, each copy's files
renamed so every article is distinct, a folder of its first ``--small``
articles, and single articles of two sizes.  Then each of these runs as a
process of its own, timed by the wall clock, with the peak resident memory
of its largest process (from the kernel, worker processes included) and of
all its processes together (sampled from /proc):

* ``talks ingest corpus/raw`` (read, clean, split, write) into a fresh
  corpus folder: the feed and the labelled articles, whose gold labels the
  quality figures below need;
* ``talks tag FOLDER --out x.parquet`` with ``--jobs 1`` and ``--jobs``
  all cores, on the full and on the small folder, and ``--jobs 1`` on each
  single article (one of the feed's, three times: the median is the
  start-up a user waits for);
* the same ``talks tag`` on all cores with the code before issue 21's speed
  work (:data:`BASELINE`, from ``git archive``), for the speed-up;
* ``benchmarks/plain.py``, the plain way, in one process;
* ``benchmarks/peer.py``, nupunkt + fastText on all cores (shared/FACTS.md),
  its model trained here on the gold labels outside the held-out articles.

Then ``talks tag --jobs 1`` under pyinstrument on the first 600 files, for
the share of time in each stage (with this code and the baseline's); the
junk test set scored with this code's cleaning (``junk_eval.py``); the project's and the peer's macro-F1 on the held-out
set, so speed is never compared without quality; and the time to fit the
current model's configuration on the training gold replicated to 1k, 10k
and 100k sentences, each fit only while the time budget (``--budget``,
counted from the start) lasts.  Everything goes to
``benchmarks/results/bench.json``; ``bench_table.py`` renders it into the
README.  ``make bench`` runs both.
"""
from __future__ import annotations

import argparse
import csv
import importlib.util
import itertools
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))

from measure import PAGE, measure  # noqa: E402
from plain import article_files, paragraphs  # noqa: E402

from pipeline.project import Project  # noqa: E402
from pipeline.records import LABELS  # noqa: E402

FEED = REPO / "corpus" / "raw" / "feed-2016q1"
RAW = REPO / "corpus" / "raw"
RESULTS = BENCH / "results" / "bench.json"
CORES = os.cpu_count() or 1
# One copy of the feed keeps `make bench` under 10 minutes on 2 busy cores;
# --copies 3 is the input of the peer measurement in shared/FACTS.md.
COPIES = 1
SMALL = 50
SMALL_REPEATS = 3  # the small folder's runs: the fastest of 3 counts
# Two runs of the same command of a few seconds differ by up to this share on
# this shared machine (both small-folder runs take the same one-process path),
# so "not slower" allows it.
NOISE = 0.05
# The profile runs on the first third of the feed: text enough for the
# shares of the stages, at a third of the cost of the whole folder.
PROFILE_FILES = 600
# Two sizes of one article, both under ingest's cap on one article's text
# (500,000 characters), which refuses anything longer.
ONE_FILE_CHARS = (100_000, 400_000)
TRAIN_SIZES = (1_000, 10_000, 100_000)
# The code before issue 21's speed work: its `talks tag` runs on the same input
# in the same benchmark, so "3x faster" is a ratio of one machine at one time.
BASELINE = "e53d5659a1dadaf8120e1f64a1495fc44e242b97"
BASELINE_SPEEDUP = 3
# One article as a process, as a user tags a daily batch: the median of 3.
ONE_ARTICLE_REPEATS = 3
ONE_ARTICLE_SECONDS = 2.0
# The junk test set's targets (benchmarks/junk_eval.py), shown beside the speed.
JUNK_REMOVED, TEXT_KEPT = 0.98, 0.985
# Fits start only, and run only, until this many seconds after the start, so
# that `make bench` ends within 10 minutes whatever the machine's load.
BUDGET_S = 540
SEED = 13
# Peak memory counts as flat while the larger input needs at most this much
# more than the smaller one (allocator and page-cache noise).
FLAT = 1.10

# Where a profile sample's time goes: to start-up when any frame on its stack
# is an import or the model load, else to the stage of the innermost frame
# whose file belongs to one (so numpy under the vectoriser is vectorising).
STAGES = {
    "reading/cleaning": ("/pipeline/corpus/ingest.py", "/pipeline/corpus/discover.py", "/pipeline/corpus/readers.py",
                         "/pipeline/corpus/metadata.py", "/pipeline/corpus/extract.py", "/pipeline/corpus/boilerplate.py",
                         "/resiliparse/", "/trafilatura/", "/lxml/",
                         "/lxml_html_clean/", "/yaml/", "/justext/", "/htmldate/", "/courlan/", "/charset_normalizer/"),
    "splitting": ("/pipeline/corpus/split.py", "/nltk/"),
    "vectorising": ("/sklearn/feature_extraction/", "/pipeline/model/cues.py", "/pipeline/model/wordvec.py", "/pipeline/model/embed.py"),
    "predicting": ("/sklearn/linear_model/", "/sklearn/multiclass.py", "/sklearn/svm/"),
    "pandas/writing": ("/pandas/", "/pyarrow/", "/pipeline/store.py"),
}
START_UP = "start-up (imports, model load)"
# Like start-up, by any frame on the stack: the tie extractor's own vectoriser and classifier count as ties.
TIES = "blame ties"
TIE_FILES = ("/pipeline/model/ties.py",)
OTHER = "other"


def with_rates(m: dict, sentences: int, n_bytes: int, files: int) -> dict:
    """A measurement with its input and throughput: sentences/s and MB/s (10^6 bytes)."""
    return {**m, "files": files, "mb": round(n_bytes / 1e6, 2), "sentences": sentences,
            "sentences_per_s": round(sentences / m["seconds"]), "mb_per_s": float(f"{n_bytes / 1e6 / m['seconds']:.3g}")}


def _talks(*args) -> list:
    return [sys.executable, "-m", "pipeline", *args]


def _csv_rows(path: Path) -> int:
    with open(path, encoding="utf-8", newline="") as f:
        return sum(1 for _ in csv.reader(f)) - 1


def _parquet_rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return pq.read_metadata(path).num_rows


# --------------------------------------------------------------------------
# The input
# --------------------------------------------------------------------------
def _folder(path: Path) -> dict:
    files = article_files(path)
    return {"path": path, "files": len(files), "bytes": sum(f.stat().st_size for f in files)}


def build_inputs(src: Path, dest: Path, copies: int, small: int, profile_files: int, one_file_chars=ONE_FILE_CHARS) -> dict:
    """The full folder (``copies`` renamed copies of ``src``), the small, the
    profile and the one-article folder (its first ``small``, ``profile_files``
    and 1 files) and one folder per single-article size."""
    files = article_files(src)
    full = dest / "full"
    full.mkdir(parents=True)
    for c in range(copies):
        for f in files:
            shutil.copyfile(f, full / f"c{c}-{f.name}")
    out = {"full": _folder(full), "one_file": []}
    for name, n in (("small", small), ("profile", profile_files), ("one_article", 1)):
        (dest / name).mkdir()
        for f in article_files(full)[:n]:
            shutil.copyfile(f, dest / name / f.name)
        out[name] = _folder(dest / name)
    # One long plain-text article made of the feed's own paragraphs, in order.
    paras = itertools.cycle([p for f in files for p in paragraphs(f)])
    for chars in one_file_chars:
        body, n = [], 0
        while n < chars:
            body.append(next(paras))
            n += len(body[-1]) + 2
        folder = dest / f"one-{chars}"
        folder.mkdir()
        (folder / "article.txt").write_text("A very long article\n\n" + "\n\n".join(body) + "\n", encoding="utf-8")
        out["one_file"].append({**_folder(folder), "chars": chars})
    return out


# --------------------------------------------------------------------------
# The runs
# --------------------------------------------------------------------------
def tag_run(folder: dict, jobs: int, out: Path, model_args: list, repeats: int = 1, code: Path = REPO) -> dict:
    """``talks tag``, the fastest of ``repeats`` runs (a run of a few seconds is mostly start-up, which
    a busy machine's noise moves by more than the difference the small-folder check looks for).
    ``code``: the checkout whose ``pipeline`` runs (``python -m`` imports it from the working folder)."""
    m = min((measure(_talks("tag", folder["path"], "--out", out, "--jobs", jobs, *model_args), cwd=code) for _ in range(repeats)),
            key=lambda r: r["seconds"])
    return {**with_rates(m, _parquet_rows(out), folder["bytes"], folder["files"]), "jobs": jobs, "repeats": repeats}


def one_article_run(folder: dict, out: Path, model_args: list, repeats: int = ONE_ARTICLE_REPEATS) -> dict:
    """``talks tag`` of one article file, the median of ``repeats`` runs: what a user waits for on a small batch."""
    ms = sorted((measure(_talks("tag", folder["path"], "--out", out, *model_args)) for _ in range(repeats)), key=lambda r: r["seconds"])
    return {**with_rates(ms[len(ms) // 2], _parquet_rows(out), folder["bytes"], folder["files"]), "jobs": 1, "repeats": repeats,
            "all_seconds": [r["seconds"] for r in ms]}


def baseline_code(dest: Path, commit: str = BASELINE) -> Path | None:
    """The ``pipeline`` package and ``pyproject.toml`` of ``commit`` in ``dest`` (from ``git archive``),
    or None when this checkout's history does not hold it."""
    import tarfile

    archive = dest.with_suffix(".tar")
    done = subprocess.run(["git", "archive", "-o", archive, commit, "pipeline", "pyproject.toml"], cwd=REPO, capture_output=True)
    if done.returncode != 0:
        return None
    dest.mkdir(parents=True)
    with tarfile.open(archive) as tar:
        tar.extractall(dest, filter="data")
    return dest


def junk_run() -> dict | None:
    """The junk test set scored with this checkout's cleaning (``benchmarks/junk_eval.py``); None without the set or the feed."""
    sys.path.insert(0, str(BENCH))
    import junk_eval

    if not (junk_eval.UNITS.exists() and junk_eval.FEED.is_dir()):
        return None
    overall = junk_eval.evaluate()["overall"]
    return {k: overall[k] for k in ("articles", "units", "junk_units", "junk_removed_rate", "text_units", "text_kept_rate")}


def ingest_run(raw: Path, root: Path) -> dict:
    m = measure(_talks("ingest", raw, "--root", root))
    folder = _folder(raw)
    return with_rates(m, _csv_rows(root / "sentences.csv"), folder["bytes"], folder["files"])


def plain_run(folder: dict, out: Path, model_args: list) -> dict:
    m = measure([sys.executable, BENCH / "plain.py", folder["path"], "--out", out, *model_args])
    return {**with_rates(m, _csv_rows(out), folder["bytes"], folder["files"]), "jobs": 1}


def peer_run(folder: dict, model: Path, out: Path, jobs: int) -> dict:
    m = measure([sys.executable, BENCH / "peer.py", folder["path"], "--model", model, "--out", out, "--jobs", jobs])
    return {**with_rates(m, _csv_rows(out), folder["bytes"], folder["files"]), "jobs": jobs}


_DASK_RUN = (
    "import json, sys; from pipeline.tagging.cluster import tag_dask; "
    "r = tag_dask([sys.argv[1]], sys.argv[2], models_dir=sys.argv[3], model=sys.argv[4] or None, workers=int(sys.argv[5])); "
    "open(sys.argv[6], 'w').write(json.dumps(r))"
)


def dask_run(folder: dict, out: Path, models: Path, model: str | None, workers: int, report: Path) -> dict:
    """``talks tag --engine dask`` on a LocalCluster of ``workers`` processes started for the run;
    with the cluster's start-up and the tagging time apart, for the estimate of a larger job."""
    m = measure([sys.executable, "-c", _DASK_RUN, folder["path"], out, models, model or "", workers, report])
    r = json.loads(report.read_text())
    return {**with_rates(m, r["sentences"], folder["bytes"], folder["files"]), "jobs": workers,
            "cluster_seconds": r["cluster_seconds"], "tag_seconds": r["tag_seconds"], "partitions": r["partitions"]}


def dask_estimate(run: dict, articles: int = 1_000_000, workers=(8, 32, 128)) -> dict:
    """Hours for ``articles`` on N workers like these: the cluster's start-up plus the
    articles at the measured rate per worker (tagging time only)."""
    rate = run["files"] / (run["tag_seconds"] * run["jobs"])  # articles per second per worker
    return {"articles": articles, "articles_per_worker_s": round(rate, 1),
            "hours": {str(n): round((run["cluster_seconds"] + articles / (rate * n)) / 3600, 2) for n in workers}}


def stage_of(leaf) -> str:
    """The stage a pyinstrument leaf frame's time belongs to (see STAGES)."""
    chain = []
    frame = leaf
    while frame is not None:
        chain.append(frame)
        frame = frame.parent
    if any((f.file_path or "").startswith("<frozen importlib") or f.function == "load_model" for f in chain):
        return START_UP
    if any(any(p in (f.file_path or "") for p in TIE_FILES) for f in chain):
        return TIES
    for f in chain:
        path = f.file_path or ""
        for stage, parts in STAGES.items():
            if any(p in path for p in parts):
                return stage
    return OTHER


def profile_run(folder: dict, tmp: Path, model_args: list, code: Path = REPO) -> dict:
    """``talks tag --jobs 1`` under pyinstrument: the share of time in each stage,
    of the whole run and of the work after start-up (which grows with the input).
    ``code``: the checkout whose ``pipeline`` runs."""
    from pyinstrument.session import Session

    session = tmp / f"tag-{code.name}.pyisession"
    m = measure([sys.executable, "-m", "pyinstrument", "-i", "0.002", "-r", "pyisession", "-o", session,
                 *_talks("tag", folder["path"], "--out", tmp / "profile.parquet", *model_args)[1:]], cwd=code)
    root = Session.load(session).root_frame()
    seconds = Counter()
    todo = [root]
    while todo:
        frame = todo.pop()
        if frame.children:
            todo += frame.children
        else:
            seconds[stage_of(frame)] += frame.time
    total = sum(seconds.values())
    work = total - seconds[START_UP]
    return {"files": folder["files"], "mb": round(folder["bytes"] / 1e6, 2), "seconds": m["seconds"],
            "profiled_seconds": round(total, 2), "start_up_seconds": round(seconds[START_UP], 2),
            "shares": {s: round(seconds[s] / total, 3) for s in [*STAGES, TIES, START_UP, OTHER]},
            "work_shares": {s: round(seconds[s] / work, 3) for s in [*STAGES, TIES, OTHER]}}


def sized(texts: list[str], Y: np.ndarray, n: int, seed: int = SEED) -> tuple[list[str], np.ndarray]:
    """``n`` labelled sentences: whole copies of the gold and a seeded sample of it for the rest."""
    rng = np.random.default_rng(seed)
    idx = np.concatenate([np.tile(np.arange(len(texts)), n // len(texts)), rng.choice(len(texts), n % len(texts), replace=False)])
    return [texts[i] for i in idx], Y[idx]


def fit_once(gold_csv: str, n: str, features: str, C: str, out: str) -> None:
    """In a child process: fit the model's configuration on ``n`` gold sentences; write the fit's seconds."""
    import pandas as pd

    from pipeline.model.features import make_pipeline

    gold = pd.read_csv(gold_csv, dtype={"text": str}, keep_default_na=False)
    texts, Y = sized(gold["text"].tolist(), gold[list(LABELS)].to_numpy(dtype=int), int(n))
    pipe = make_pipeline(features, float(C))
    start = time.perf_counter()
    pipe.fit(np.asarray(texts, dtype=object), Y)
    Path(out).write_text(json.dumps({"fit_seconds": round(time.perf_counter() - start, 2)}))


def training_runs(gold, features: str, C: float, sizes, deadline: float, tmp: Path) -> list[dict]:
    """Each fit in a process of its own (its own peak memory; stopped at the deadline)."""
    gold_csv = tmp / "gold.csv"
    gold[["text", *LABELS]].to_csv(gold_csv, index=False)
    runs = []
    for n in sizes:
        left = deadline - time.perf_counter()
        row = {"sentences": n}
        if left <= 0:
            runs.append({**row, "fit_seconds": None, "note": "not run: the time budget was spent"})
            continue
        out = tmp / f"fit-{n}.json"
        code = f"import sys; sys.path.insert(0, {str(BENCH)!r}); import bench; bench.fit_once(*sys.argv[1:])"
        m = measure([sys.executable, "-c", code, gold_csv, n, features, C, out], timeout=left)
        if m is None:
            runs.append({**row, "fit_seconds": None, "note": f"stopped after {left:.0f} s, at the end of the time budget"})
        else:
            runs.append({**row, **json.loads(out.read_text()), "peak_rss_mib": m["peak_rss_mib"]})
    return runs


def quality(labels: Path, corpus: Path, model: dict, peer_model: Path | None) -> tuple[dict, object]:
    """Held-out macro-F1 of the project's model and (trained here) of the peer, on the held-out articles the model
    never trained on (its card says which); also the training gold."""
    from pipeline.labels.heldout import untrained_heldout
    from pipeline.metrics import scores
    from pipeline.model.selection import apply_thresholds, predict_proba, training_data

    project = Project(corpus=corpus, labels=labels)
    held, _ = untrained_heldout(project, model["card"])
    Y = held[list(LABELS)].to_numpy(dtype=int)
    P = predict_proba(model["pipeline"], held["text"].tolist())
    out = {"heldout": {"articles": int(held["article_id"].nunique()), "sentences": len(held)},
           "project": _f1s(scores(Y, apply_thresholds(P, model["thresholds"], model["labels"])))}
    train_gold, texts, Yt, _ = training_data(project)
    if peer_model is not None:
        import peer

        start = time.perf_counter()
        peer.train(texts, Yt, peer_model)
        out["peer_train_seconds"] = round(time.perf_counter() - start, 2)
        out["peer_train_sentences"] = len(texts)
        out["peer"] = _f1s(scores(Y, peer.predict(peer.load(peer_model), held["text"].tolist())))
    return out, train_gold


def _f1s(sc: dict) -> dict:
    return {"macro_f1": round(sc["macro"]["f1"], 3), "f1": {lab: round(sc["per_label"][lab]["f1"], 3) for lab in LABELS}}


# --------------------------------------------------------------------------
# The whole benchmark
# --------------------------------------------------------------------------
def machine_info() -> dict:
    def version(dist: str) -> str | None:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return None

    def git(*args) -> str:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True).stdout.strip()

    dists = ("talks", "scikit-learn", "numpy", "scipy", "pandas", "pyarrow", "nltk", "resiliparse", "trafilatura", "lxml", "skops",
             "nupunkt", "fasttext-numpy2", "pyinstrument")
    return {"date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "cores": CORES,
            "cpu": _cpu_model(), "memory_gib": round(os.sysconf("SC_PHYS_PAGES") * PAGE / 2**30, 1),
            "python": platform.python_version(), "platform": platform.platform(),
            "versions": {d: version(d) for d in dists},
            "git_commit": git("rev-parse", "HEAD"), "git_dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
            "load_average_start": [round(x, 2) for x in os.getloadavg()]}


def _cpu_model() -> str | None:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return None
    return next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("model name")), None)


def run(tmp: Path, *, feed: Path = FEED, raw: Path = RAW, labels: Path = REPO / "labels", models: Path = REPO / "models",
        model: str | None = None, copies: int = COPIES, small: int = SMALL, profile_files: int = PROFILE_FILES,
        jobs: int = CORES, one_file_chars=ONE_FILE_CHARS, train_sizes=TRAIN_SIZES, budget_s: float = BUDGET_S, peer: bool = True, profile: bool = True, dask: bool = True,
        baseline: bool = True, log=print) -> dict:
    """Every measurement, as the dict written to bench.json."""
    from pipeline.model.loading import load_model

    start = time.perf_counter()
    res = {"machine": machine_info()}
    loaded = load_model(model, models)
    card = loaded["card"]
    model_args = ["--models", models, *(["--model", model] if model else [])]
    res["model"] = {"id": card["model_id"], "features": card["features"], "C": card["parameters"]["C"]}
    inputs = build_inputs(feed, tmp / "input", copies, small, profile_files, one_file_chars)
    full, few = inputs["full"], inputs["small"]
    res["input"] = {"feed": _shown(feed), "copies": copies, "files": full["files"], "mb": round(full["bytes"] / 1e6, 2),
                    "small_files": few["files"], "small_mb": round(few["bytes"] / 1e6, 3)}
    log(f"input: {full['files']} files, {full['bytes'] / 1e6:.1f} MB; small: {few['files']} files")
    runs = res["runs"] = {}

    def done(name: str, r: dict) -> None:
        runs[name] = r
        log(f"{name}: {r['seconds']} s, {r['sentences_per_s']:,} sentences/s, {r['mb_per_s']} MB/s, "
            f"peak RSS {r['peak_rss_mib']} MiB (all processes {r['peak_total_rss_mib']} MiB)")

    corpus = tmp / "corpus"
    done("ingest", {**ingest_run(raw, corpus), "input": _shown(raw)})
    peer_model = tmp / "peer.bin" if peer else None
    res["quality"], train_gold = quality(labels, corpus, loaded, peer_model)
    q = res["quality"]
    log(f"held-out macro-F1: project {q['project']['macro_f1']}" + (f", peer {q['peer']['macro_f1']}" if peer else ""))
    done("tag_jobs1", tag_run(full, 1, tmp / "tag1.parquet", model_args))
    done("tag_all_cores", tag_run(full, jobs, tmp / "tagN.parquet", model_args))
    done("small_jobs1", tag_run(few, 1, tmp / "small1.parquet", model_args, SMALL_REPEATS))
    done("small_all_cores", tag_run(few, jobs, tmp / "smallN.parquet", model_args, SMALL_REPEATS))
    done("one_article", one_article_run(inputs["one_article"], tmp / "one-article.parquet", model_args))
    base = baseline_code(tmp / "baseline") if baseline else None
    if base is not None:
        res["baseline"] = {"commit": BASELINE}
        done("baseline_all_cores", tag_run(full, jobs, tmp / "tagB.parquet", model_args, code=base))
    runs["one_file"] = []
    for one in inputs["one_file"]:
        runs["one_file"].append({**tag_run(one, 1, tmp / f"one-{one['chars']}.parquet", model_args), "chars": one["chars"]})
        log(f"one file of {one['chars']:,} characters: peak RSS {runs['one_file'][-1]['peak_rss_mib']} MiB")
    done("plain", plain_run(full, tmp / "plain.csv", model_args))
    if peer:
        done("peer", peer_run(full, peer_model, tmp / "peer.csv", jobs))
    if dask and importlib.util.find_spec("distributed") is not None:
        done("dask", dask_run(full, tmp / "dask-tags", models, model, jobs, tmp / "dask.json"))
        res["dask_estimate"] = dask_estimate(runs["dask"])
    res["junk"] = junk_run()
    res["checks"] = checks(runs, res["junk"])
    if profile:
        res["profile"] = profile_run(inputs["profile"], tmp, model_args)
        log(f"profile: {res['profile']['work_shares']}, start-up {res['profile']['start_up_seconds']} s")
        if base is not None:
            res["baseline"]["profile"] = profile_run(inputs["profile"], tmp, model_args, code=base)
    res["training"] = {"features": card["features"], "C": card["parameters"]["C"], "gold_sentences": len(train_gold),
                       "budget_s": budget_s,
                       "fits": training_runs(train_gold, card["features"], card["parameters"]["C"], train_sizes, start + budget_s, tmp)}
    log(f"training: {res['training']['fits']}")
    res["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    res["bench_seconds"] = round(time.perf_counter() - start, 1)
    return res


def checks(runs: dict, junk: dict | None = None) -> dict:
    """The targets of issues 12 and 21 against this run: each a measured figure and whether it is met."""
    def speed(target: str, slow: dict, fast: dict, at_least: float) -> dict:
        r = slow["seconds"] / fast["seconds"]
        return {"target": target, "ratio": round(r, 3), "met": r >= at_least}

    def memory(target: str, small: dict, big: dict) -> dict:
        r = big["peak_rss_mib"] / small["peak_rss_mib"]
        return {"target": target, "ratio": round(r, 3), "met": r <= FLAT, "peak_rss_mib": [small["peak_rss_mib"], big["peak_rss_mib"]]}

    full1, fullN, few1, fewN = runs["tag_jobs1"], runs["tag_all_cores"], runs["small_jobs1"], runs["small_all_cores"]
    one, big = runs["one_file"][0], runs["one_file"][-1]
    out = {
        "vs_plain": speed("end to end, all cores, at least 5x the plain script", runs["plain"], fullN, 5),
        "jobs_small": speed(f"--jobs {fewN['jobs']} not slower than --jobs 1 on {few1['files']:,} articles (within {NOISE:.0%})",
                            few1, fewN, 1 - NOISE),
        "jobs_full": speed(f"--jobs {fullN['jobs']} not slower than --jobs 1 on {full1['files']:,} articles (within {NOISE:.0%})",
                           full1, fullN, 1 - NOISE),
        "memory_files": memory(f"peak memory flat from {few1['files']:,} to {full1['files']:,} articles (--jobs 1)", few1, full1),
        "memory_file_size": memory(f"peak memory flat from one article of {one['chars']:,} to one of {big['chars']:,} characters",
                                   one, big),
    }
    if "baseline_all_cores" in runs:
        out["vs_baseline"] = speed(f"end to end, all cores, at least {BASELINE_SPEEDUP}x the code before issue 21 "
                                   f"(commit {BASELINE[:10]}, same input)", runs["baseline_all_cores"], fullN, BASELINE_SPEEDUP)
    if "peer" in runs:
        out["vs_peer_half"] = speed("end to end, all cores, at least 0.5x the nupunkt + fastText peer", runs["peer"], fullN, 0.5)
        out["vs_peer"] = speed("end to end, all cores, at least as fast as the nupunkt + fastText peer", runs["peer"], fullN, 1)
    one = runs["one_article"]
    out["one_article"] = {"target": f"one article as a process at most {ONE_ARTICLE_SECONDS:g} s (median of {one['repeats']})",
                          "seconds": one["seconds"], "met": one["seconds"] <= ONE_ARTICLE_SECONDS}
    if junk is not None:
        out["junk_removed"] = {"target": f"junk test set: at least {JUNK_REMOVED:.0%} of junk units removed",
                               "share": junk["junk_removed_rate"], "met": junk["junk_removed_rate"] >= JUNK_REMOVED}
        out["text_kept"] = {"target": f"junk test set: at least {TEXT_KEPT:.1%} of text units kept",
                            "share": junk["text_kept_rate"], "met": junk["text_kept_rate"] >= TEXT_KEPT}
    return out


def _shown(path: Path) -> str:
    """A path as a reader of the README sees it: relative to the repo when inside it."""
    path = Path(path).resolve()
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--copies", type=int, default=COPIES, help=f"copies of the feed (default: {COPIES})")
    ap.add_argument("--small", type=int, default=SMALL, help=f"articles in the small folder (default: {SMALL})")
    ap.add_argument("--jobs", type=int, default=CORES, help=f"--jobs of the all-cores runs (default: {CORES})")
    ap.add_argument("--model", help="model id or folder to time (default: the one named in models/current)")
    ap.add_argument("--train-sizes", default=",".join(map(str, TRAIN_SIZES)), help="labelled sentences to fit on (default: %(default)s)")
    ap.add_argument("--budget", type=float, default=BUDGET_S, help="seconds after which no more fits start, and a running one stops (default: %(default)s)")
    ap.add_argument("--out", default=str(RESULTS), help="JSON file to write (default: benchmarks/results/bench.json)")
    args = ap.parse_args(argv)
    from pipeline.store import atomic_write_text

    with tempfile.TemporaryDirectory(prefix="talks-bench-") as tmp:
        res = run(Path(tmp), model=args.model, copies=args.copies, small=args.small, jobs=args.jobs,
                  train_sizes=[int(n) for n in args.train_sizes.split(",")], budget_s=args.budget,
                  log=lambda s: print(s, flush=True))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out, json.dumps(res, indent=1) + "\n")
    print(f"wrote {args.out} ({res['bench_seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
