"""The plain way to tag a folder of articles: what a user would script by hand.

The baseline of ``benchmarks/bench.py``.  One process reads each file whole,
cuts the YAML front matter, strips the tags with regular expressions, splits
each paragraph with NLTK Punkt (the project's shipped parameters), predicts
each article's sentences with one ``predict_proba`` call of the project's
model, applies the model's thresholds and writes every sentence to a CSV
file.  No HTML extractor, no boilerplate rules, no chunking, no workers.

    python benchmarks/plain.py FOLDER --out tags.csv [--model ID] [--models DIR]
"""
from __future__ import annotations

import argparse
import csv
import html
import re
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pipeline.corpus.split import _tokenizer  # noqa: E402  (the shipped Punkt parameters, built as the project builds them)
from pipeline.model.selection import apply_thresholds
from pipeline.model.loading import load_model  # noqa: E402

_FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.S)
_INVISIBLE = re.compile(r"<(script|style)\b.*?</\1\s*>", re.I | re.S)
# Ends of block elements become paragraph breaks, so paragraphs survive the strip.
_BLOCK_END = re.compile(r"</(?:p|div|h[1-6]|li|blockquote|article|section|tr)\s*>|<br\s*/?>", re.I)
_TAG = re.compile(r"<[^>]*>")
_BREAK = re.compile(r"\n\s*\n")


def article_files(folder: str | Path) -> list[Path]:
    """Every file under ``folder``, sorted, so runs read the same files in the same order."""
    return sorted(p for p in Path(folder).rglob("*") if p.is_file() and not p.name.startswith("."))


def paragraphs(path: Path) -> list[str]:
    """The file's text paragraphs: front matter cut, tags stripped, entities decoded, white space collapsed."""
    text = path.read_text(encoding="utf-8", errors="replace").replace("\r\n", "\n")
    text = _TAG.sub(" ", _BLOCK_END.sub("\n\n", _INVISIBLE.sub(" ", _FRONT_MATTER.sub("", text))))
    return [" ".join(p.split()) for p in _BREAK.split(html.unescape(text)) if p.strip()]


def columns(labels) -> list[str]:
    return ["file", "position", "text", *labels, *(f"p_{lab}" for lab in labels)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder")
    ap.add_argument("--out", required=True, help="CSV file to write")
    ap.add_argument("--model", help="model id or folder (default: models/current)")
    ap.add_argument("--models", default=str(REPO / "models"), help="models folder")
    args = ap.parse_args(argv)
    model = load_model(args.model, args.models)
    pipe, labels = model["pipeline"], model["labels"]
    punkt = _tokenizer()
    with open(args.out, "w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(columns(labels))
        for path in article_files(args.folder):
            sentences = [s for p in paragraphs(path) for s in punkt.tokenize(p)]
            if not sentences:
                continue
            P = pipe.predict_proba(sentences)
            Y = apply_thresholds(P, model["thresholds"], labels)
            for i, (s, y, p) in enumerate(zip(sentences, Y, np.round(P, 4))):
                out.writerow([path.name, i, s, *y, *p])
    return 0


if __name__ == "__main__":
    sys.exit(main())
