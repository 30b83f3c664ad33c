"""How well does ingest remove junk and keep article text?  Measured on hand-marked units.

``benchmarks/junk/units.csv`` holds the text units of a sample of feed
articles, cut from the raw bodies independently of the pipeline
(``benchmarks/junk/units.py``) and marked by hand ``text`` or ``junk``
(``benchmarks/junk/README.md``).  For every sampled article this script runs
the project's ingest on the file (``pipeline.corpus.ingest.read_article``; a
``PipelineError`` counts as "article failed", so all its units are dropped)
and decides, for each unit, whether ingest KEPT it:

- the unit and the article (title and paragraphs, what ``Article.body``
  holds) are normalised with ``pipeline.records.normalise_text`` and cut into
  words (runs of letters and digits; soft hyphens and zero-width characters
  dropped);
- a unit is kept when its words are found in the article, or mostly found:
  at least 80% of its characters (letters and digits) lie in runs of at least
  3 consecutive words (the whole unit when it is shorter) that appear, in
  order, in the article.  The 80% rule is for units that ingest split or
  trimmed differently (a trailing credit cut off a paragraph, a unit split in
  two, a template marker stripped inside it);
- each stretch of the article accounts for one unit only, so that a pull
  quote, a repeated caption or a one-word unit ("Source") does not count as
  kept just because the same words occur inside a kept paragraph or the
  headline.  Matching goes in three passes: the unit that is the headline
  (unit and title each mostly cover the other) takes the title; then units
  found whole in the paragraphs, longest first; then the rest, longest first,
  by the 80% rule.  The words a kept unit matched are used up.

Reported per outlet and overall: junk units removed / junk units and text
units kept / text units (targets: >= 90% junk removed, >= 98% text kept),
printed as a table and written to ``benchmarks/junk/results.json`` with the
misclassified units (junk kept, text dropped).

    .venv/bin/python benchmarks/junk_eval.py [--units FILE] [--feed DIR] [--out FILE] [--check]
"""
from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from collections import defaultdict
from difflib import SequenceMatcher
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

# ingest.read_article is looked up at call time, so tests can stand in for it.
from pipeline.corpus import ingest
from pipeline.errors import PipelineError
from pipeline.records import article_id_for, normalise_text

UNITS = REPO / "benchmarks" / "junk" / "units.csv"
# What decides which text ingest keeps, in pipeline/corpus/ (their sources, in this order, make the ingest hash).
INGEST_MODULES = ("ingest", "discover", "readers", "metadata", "extract", "boilerplate")
FEED = REPO / "corpus" / "raw" / "feed-2016q1"
OUT = REPO / "benchmarks" / "junk" / "results.json"

MOSTLY = 0.80  # share of a unit's characters that must be found in the body
MIN_RUN = 3  # words in a run that counts as found (the whole unit when shorter)
TARGET_JUNK_REMOVED = 0.90
TARGET_TEXT_KEPT = 0.98

_WORD = re.compile(r"\w+")
_INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")  # soft hyphen, zero-width characters


def tokens(text: str) -> list[str]:
    """The words of ``text`` as compared: normalised (``normalise_text``), invisible characters dropped."""
    return _WORD.findall(normalise_text(_INVISIBLE.sub("", text)))


# --------------------------------------------------------------------------
# Kept or not
# --------------------------------------------------------------------------
def match_units(units: list[str], paragraphs: list[str] | tuple[str, ...], title: str = "") -> list[tuple[bool, float]]:
    """(kept, coverage) of each unit against one article (title and paragraphs), as defined above.

    Three passes, each stretch of the article used by one unit only: (0) the
    unit that is the headline (each mostly covers the other) takes the title;
    (1) units found whole in the paragraphs, longest first; (2) the other
    units, longest first, by the share of their characters found in runs of
    >= MIN_RUN words.  Whole matches go first so that a partial match of a
    short, formulaic unit cannot take the words of a unit that is there whole.
    """
    body: list = tokens("\n\n".join(paragraphs))
    title_toks = tokens(title)
    unit_toks = [tokens(u) for u in units]
    out: list[tuple[bool, float] | None] = [None] * len(units)
    order = sorted(range(len(units)), key=lambda i: (-len(unit_toks[i]), i))
    for i in order:
        if not unit_toks[i]:
            out[i] = (False, 0.0)

    # (0) the headline
    if title_toks:
        for i in range(len(units)):
            if out[i] is None and _coverage(unit_toks[i], title_toks)[0] >= MOSTLY and _coverage(title_toks, unit_toks[i])[0] >= MOSTLY:
                out[i] = (True, 1.0)
                break

    # (1) found whole
    for i in order:
        if out[i] is not None:
            continue
        j = _find(unit_toks[i], body)
        if j is not None:
            _use(body, j, len(unit_toks[i]))
            out[i] = (True, 1.0)

    # (2) mostly found
    for i in order:
        if out[i] is not None:
            continue
        coverage, blocks = _coverage(unit_toks[i], body)
        kept = coverage >= MOSTLY
        if kept:
            for b in blocks:
                _use(body, b.b, b.size)
        out[i] = (kept, round(coverage, 3))
    return out  # type: ignore[return-value]


def _coverage(toks: list[str], body: list) -> tuple[float, list]:
    """Share of the characters of ``toks`` in runs of >= MIN_RUN words (all of them when shorter) found in order in ``body``."""
    total = sum(len(t) for t in toks)
    if not total or not body:
        return 0.0, []
    sm = SequenceMatcher(None, toks, body, autojunk=False)
    need = min(MIN_RUN, len(toks))
    blocks = [b for b in sm.get_matching_blocks() if b.size >= need]
    return sum(len(t) for b in blocks for t in toks[b.a : b.a + b.size]) / total, blocks


def _find(toks: list[str], body: list) -> int | None:
    """Index of the first whole, unused occurrence of ``toks`` in ``body``."""
    n = len(toks)
    first = toks[0]
    for j in range(len(body) - n + 1):
        if body[j] == first and body[j : j + n] == toks:
            return j
    return None


def _use(body: list, start: int, size: int) -> None:
    for j in range(start, start + size):
        body[j] = (None, j)  # never equal to a word again


# --------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------
def read_units(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    unmarked = [r for r in rows if r["label"] not in ("text", "junk")]
    if unmarked:
        r = unmarked[0]
        raise SystemExit(f"{path}: {len(unmarked)} units are not marked text/junk (first: {r['article_id']} unit {r['unit']})")
    return rows


def feed_files(feed: Path) -> dict[str, Path]:
    """article id -> file, for every article file under the feed folder."""
    return {article_id_for(p.name): p for p in sorted(feed.rglob("*")) if p.is_file() and not p.name.startswith(".")}


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def _figures(units: list[dict]) -> dict:
    junk = [u for u in units if u["label"] == "junk"]
    text = [u for u in units if u["label"] == "text"]
    removed = sum(1 for u in junk if not u["kept"])
    kept = sum(1 for u in text if u["kept"])
    return {
        "articles": len({u["article_id"] for u in units}),
        "units": len(units),
        "junk_units": len(junk),
        "junk_removed": removed,
        "junk_removed_rate": _ratio(removed, len(junk)),
        "text_units": len(text),
        "text_kept": kept,
        "text_kept_rate": _ratio(kept, len(text)),
    }


def evaluate(units_csv: Path = UNITS, feed: Path = FEED, articles: list[str] | None = None) -> dict:
    """Run ingest on every marked article (or only ``articles``) and score the units."""
    rows = read_units(units_csv)
    if articles is not None:
        rows = [r for r in rows if r["article_id"] in set(articles)]
    files = feed_files(feed)
    by_article: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_article[r["article_id"]].append(r)

    scored: list[dict] = []
    failed: list[dict] = []
    for aid, units in by_article.items():
        units = sorted(units, key=lambda r: int(r["unit"]))
        path = files.get(aid)
        body = None
        if path is None:
            failed.append({"article_id": aid, "error": f"no file for this article under {feed}"})
        else:
            try:
                art = ingest.read_article(path)
                body = (art.title, art.paragraphs)
            except PipelineError as e:
                failed.append({"article_id": aid, "error": str(e)})
        texts = [u["text"] for u in units]
        results = match_units(texts, body[1], body[0]) if body is not None else [(False, 0.0)] * len(units)
        for u, (kept, cov) in zip(units, results):
            scored.append({"article_id": aid, "outlet": u["outlet"], "unit": int(u["unit"]), "label": u["label"],
                           "text": u["text"], "kept": kept, "coverage": cov, "article_failed": body is None})

    per_outlet = {}
    outlets: dict[str, list[dict]] = defaultdict(list)
    for s in scored:
        outlets[s["outlet"]].append(s)
    for name in sorted(outlets, key=str.lower):
        per_outlet[name] = _figures(outlets[name])
    overall = _figures(scored)
    overall["meets_targets"] = {
        "junk_removed": overall["junk_removed_rate"] is not None and overall["junk_removed_rate"] >= TARGET_JUNK_REMOVED,
        "text_kept": overall["text_kept_rate"] is not None and overall["text_kept_rate"] >= TARGET_TEXT_KEPT,
    }

    def _unit(s: dict) -> dict:
        return {k: s[k] for k in ("article_id", "outlet", "unit", "text", "coverage")}

    return {
        "ingest": _ingest_version(),
        "definition": {
            "kept": f"the unit's normalised words are found in the article (title + paragraphs), or >= {MOSTLY:.0%} "
                    f"of its characters lie in runs of >= {MIN_RUN} words found in order; each stretch of the article "
                    "used by one unit only: the headline unit takes the title, then whole matches longest first, "
                    "then partial matches longest first",
            "targets": {"junk_removed_rate": TARGET_JUNK_REMOVED, "text_kept_rate": TARGET_TEXT_KEPT},
        },
        "overall": overall,
        "per_outlet": per_outlet,
        "failed_articles": failed,
        "junk_kept": [_unit(s) for s in scored if s["label"] == "junk" and s["kept"]],
        "text_dropped": [_unit(s) for s in scored if s["label"] == "text" and not s["kept"]],
    }


def _ingest_version() -> dict:
    """Which ingest the figures are for: one sha256 over the corpus reading modules and the checkout's commit."""
    import hashlib
    import subprocess

    folder = Path(ingest.__file__).parent
    src = b"".join((folder / f"{name}.py").read_bytes() for name in INGEST_MODULES)
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], check=False, cwd=REPO, capture_output=True, text=True, timeout=10).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        head = None
    return {"ingest_py_sha256": hashlib.sha256(src).hexdigest(), "git_head": head}


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------
def _pct(x: float | None) -> str:
    return "   n/a" if x is None else f"{100 * x:5.1f}%"


def table(res: dict) -> str:
    lines = [
        "| outlet | articles | junk removed | % | text kept | % |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, f in res["per_outlet"].items():
        lines.append(f"| {name} | {f['articles']} | {f['junk_removed']}/{f['junk_units']} | {_pct(f['junk_removed_rate'])} "
                     f"| {f['text_kept']}/{f['text_units']} | {_pct(f['text_kept_rate'])} |")
    o = res["overall"]
    lines.append(f"| **overall** | {o['articles']} | {o['junk_removed']}/{o['junk_units']} | {_pct(o['junk_removed_rate'])} "
                 f"| {o['text_kept']}/{o['text_units']} | {_pct(o['text_kept_rate'])} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--units", type=Path, default=UNITS)
    ap.add_argument("--feed", type=Path, default=FEED)
    ap.add_argument("--out", type=Path, default=OUT, help="results JSON ('-' for none)")
    ap.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = ap.parse_args(argv)

    res = evaluate(args.units, args.feed)
    print(table(res))
    o = res["overall"]
    print(f"\njunk removed {_pct(o['junk_removed_rate']).strip()} (target {TARGET_JUNK_REMOVED:.0%}), "
          f"text kept {_pct(o['text_kept_rate']).strip()} (target {TARGET_TEXT_KEPT:.0%}); "
          f"{len(res['junk_kept'])} junk units kept, {len(res['text_dropped'])} text units dropped, "
          f"{len(res['failed_articles'])} articles failed")
    for f in res["failed_articles"]:
        print(f"  article failed: {f['article_id']}: {f['error']}")
    if str(args.out) != "-":
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(res, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"-> {args.out}")
    if args.check and not all(o["meets_targets"].values()):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
