"""The speed peer of shared/FACTS.md: nupunkt sentences and a fastText classifier.

Reads each file as the plain script does (``plain.paragraphs``: front matter
cut, tags stripped with regular expressions), splits each paragraph with
``nupunkt.sent_tokenize`` and tags the sentences with a fastText one-vs-all
model (word bigrams, 25 epochs) trained on the project's gold labels, in one
batch ``predict(k=-1, threshold=0.5)`` per task of 64 files, the tasks spread
over a process pool.  fastText's defaults (2 million hash buckets for the
bigrams, 100 dimensions) make the model about 800 MB, loaded by every worker:
that, not the text, is the peer's memory.  ``benchmarks/bench.py`` trains the
model (:func:`train`) and times this script:

    python benchmarks/peer.py FOLDER --model MODEL.bin --out tags.csv [--jobs N]

Needs ``nupunkt`` and ``fasttext-numpy2`` (the plain ``fasttext`` wheel breaks
on numpy 2); ``make bench`` installs them.
"""
from __future__ import annotations

import argparse
import csv
import os
import re
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from plain import article_files, paragraphs  # noqa: E402

from pipeline.records import LABELS  # noqa: E402

TASK_FILES = 64
THRESHOLD = 0.5
SEED = 13
# fastText skips a training line without a label, so sentences with none of
# the four get this one: without it they would not count as negatives.
NONE = "__label__none"
_TOKEN = re.compile(r"\w+|[^\w\s]")


def tokens(text: str) -> str:
    """fastText splits on white space only: lower case, punctuation apart, one line."""
    return " ".join(_TOKEN.findall(text.lower()))


def train(texts: list[str], Y: np.ndarray, path: str | Path, labels=LABELS) -> None:
    """Fit the peer's model on sentences and their 0/1 label rows; save it to ``path``."""
    import fasttext

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "train.txt"
        with open(data, "w", encoding="utf-8") as f:
            for text, row in zip(texts, Y):
                names = " ".join(f"__label__{lab}" for lab, v in zip(labels, row) if v) or NONE
                f.write(f"{names} {tokens(text)}\n")
        # One thread: fastText's threads race on the weights, so only one gives the same model every run.
        model = fasttext.train_supervised(input=str(data), loss="ova", wordNgrams=2, epoch=25, thread=1, seed=SEED, verbose=0)
    model.save_model(str(path))


def load(path: str | Path):
    import fasttext

    return fasttext.load_model(str(path))


def predict(model, texts: list[str], labels=LABELS) -> np.ndarray:
    """(n, labels) 0/1: each label whose probability reaches the threshold."""
    Y = np.zeros((len(texts), len(labels)), dtype=int)
    if not texts:
        return Y
    index = {f"__label__{lab}": j for j, lab in enumerate(labels)}
    found, _ = model.predict([tokens(t) for t in texts], k=-1, threshold=THRESHOLD)
    for i, names in enumerate(found):
        for name in names:
            if name in index:
                Y[i, index[name]] = 1
    return Y


_MODEL = None


def _load_worker(path: str) -> None:
    global _MODEL
    _MODEL = load(path)


def _tag_task(files: list[str]) -> list[tuple]:
    from nupunkt import sent_tokenize

    rows = [(Path(f).name, i, s) for f in files for i, s in enumerate(s for p in paragraphs(Path(f)) for s in sent_tokenize(p))]
    return [(*r, *y) for r, y in zip(rows, predict(_MODEL, [r[2] for r in rows]))]


def tag(folder: str | Path, model: str | Path, out: str | Path, jobs: int) -> int:
    """Tag every file under ``folder`` into the CSV ``out``; return the number of sentences."""
    files = [str(p) for p in article_files(folder)]
    tasks = [files[i : i + TASK_FILES] for i in range(0, len(files), TASK_FILES)]
    n = 0
    with ProcessPoolExecutor(jobs, initializer=_load_worker, initargs=(str(model),)) as pool, \
            open(out, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["file", "position", "text", *LABELS])
        for rows in pool.map(_tag_task, tasks):
            w.writerows(rows)
            n += len(rows)
    return n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder")
    ap.add_argument("--model", required=True, help="fastText model file saved by peer.train")
    ap.add_argument("--out", required=True, help="CSV file to write")
    ap.add_argument("--jobs", type=int, default=os.cpu_count(), help="worker processes (default: all cores)")
    args = ap.parse_args(argv)
    tag(args.folder, args.model, args.out, args.jobs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
