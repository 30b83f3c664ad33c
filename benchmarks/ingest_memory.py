"""Peak memory and time of ingesting one hostile file, each in a fresh process.

Writes, in a temporary folder, one small article (the floor: Python, pandas,
NLTK, lxml and resiliparse loaded); files of ``--mb`` megabytes: normal paragraphs,
the same sentences on one line (one huge paragraph), one token with no space,
an HTML page; a YAML alias bomb of a few hundred bytes; and the largest text
ingest accepts (just under ``MAX_TEXT_CHARS``) as paragraphs, as one line and
as one-word sentences ("Yes. Yes. ...", Punkt's slowest input).  Each is
ingested on its own by ``talks ingest FILE --replace`` in a child process
that reports its peak RSS; the table shows that, the wall time, the exit code
and the warning.  Peak memory should stay near the floor whatever the file:
big files are refused before they are read past the limit, and over-long
text is cut before Punkt sees it.  Run with
``python benchmarks/ingest_memory.py [--mb 10]``.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pipeline.corpus.readers import MAX_TEXT_CHARS

# Runs the CLI in a child that reports its own peak RSS on exit.
_CHILD = (
    "import resource, sys; from pipeline.cli import main; rc = main(sys.argv[1:]); "
    "print(f'PEAK {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}', file=sys.stderr); sys.exit(rc)"
)

_SENTENCE = "The envoy met both delegations in Geneva on Monday, officials said. "


def hostile_files(folder: Path, mb: int) -> dict[str, Path]:
    size = mb * 1024 * 1024
    para = _SENTENCE * 8
    files = {
        "small article": ("small.txt", "Talks resume in Geneva\n\n" + para + "\n"),
        f"{mb} MB of paragraphs": ("paragraphs.txt", "Talks resume in Geneva\n\n" + (para + "\n\n") * (size // (len(para) + 2))),
        f"{mb} MB on one line": ("oneline.txt", "Talks resume in Geneva\n\n" + _SENTENCE * (size // len(_SENTENCE))),
        f"{mb} MB single token": ("token.txt", "Talks resume in Geneva\n\n" + "x" * size),
        f"{mb} MB HTML page": ("page.html", "<html><head><title>Talks resume in Geneva</title></head><body><article>"
                               + f"<p>{para}</p>" * (size // (len(para) + 7)) + "</article></body></html>"),
        f"YAML alias bomb ({len(_alias_bomb())} bytes)": ("bomb.md", _alias_bomb()),
    }
    most = int(MAX_TEXT_CHARS * 0.9)
    files.update({
        f"{most:,} chars, paragraphs": ("most-paragraphs.txt", "Talks resume in Geneva\n\n" + (para + "\n\n") * (most // (len(para) + 2))),
        f"{most:,} chars, one line": ("most-oneline.txt", "Talks resume in Geneva\n\n" + _SENTENCE * (most // len(_SENTENCE))),
        f"{most:,} chars of 'Yes. '": ("most-dense.txt", "Talks resume in Geneva\n\n" + "Yes. " * (most // 5)),
    })
    out = {}
    for label, (name, text) in files.items():
        (folder / name).write_text(text, encoding="utf-8")
        out[label] = folder / name
    return out


def _alias_bomb() -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, cur in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "---\n" + "\n".join(lines) + "\ntitle: *i\n---\nSome text about the talks in Geneva.\n"


def run(path: Path, root: Path, timeout: float) -> dict:
    t = time.perf_counter()
    try:
        p = subprocess.run([sys.executable, "-c", _CHILD, "ingest", str(path), "--replace", "--root", str(root)],
                           cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"seconds": None, "peak_rss_mib": None, "exit": f"killed after {timeout:.0f} s", "message": ""}
    wall = time.perf_counter() - t
    lines = p.stderr.strip().splitlines()
    peak = [int(ln.split()[1]) / 1024 for ln in lines if ln.startswith("PEAK ")]
    crashed = any(ln.startswith("Traceback") for ln in lines)
    message = next((ln for ln in lines if ln.startswith(("warning:", "error:"))), "")
    message = f"crash: {lines[-1]}" if crashed else message.replace(str(path), path.name)
    return {"seconds": round(wall, 2), "peak_rss_mib": round(peak[0]) if peak else None, "exit": p.returncode,
            "message": message[:150]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--mb", type=int, default=10, help="size of the big files (default 10)")
    ap.add_argument("--timeout", type=float, default=300, help="seconds before a case is killed (default 300)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "files"
        folder.mkdir()
        results = {label: run(path, Path(tmp) / "corpus", args.timeout) for label, path in hostile_files(folder, args.mb).items()}
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(f"{'case':<30} {'peak RSS MiB':>12} {'seconds':>8} {'exit':>6}  message")
        for label, r in results.items():
            print(f"{label:<30} {r['peak_rss_mib'] if r['peak_rss_mib'] is not None else '-':>12} "
                  f"{r['seconds'] if r['seconds'] is not None else '-':>8} {r['exit']!s:>6}  {r['message']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
