"""Stage 6b: an evaluation dict -> ``report.html``, ``metrics.json`` and ``summary.md`` in one folder.

Sits after :func:`pipeline.evaluation.evaluate.evaluate`.  ``metrics.json`` holds every figure in
the report; the page is built by ``report_html`` and the Markdown by ``report_text``.
"""
from __future__ import annotations

import json
from pathlib import Path

from pipeline.evaluation.report_html import report_html
from pipeline.evaluation.report_text import summary_markdown
from pipeline.store import atomic_write_text

# Temporary: pipeline/cli/ still imports these two from here (they are in report_text now).


def write_report(result: dict, out_dir: str | Path) -> dict:
    """Write the three report files into ``out_dir``; return their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"html": out / "report.html", "metrics": out / "metrics.json", "summary": out / "summary.md"}
    atomic_write_text(paths["metrics"], json.dumps(result, indent=2, ensure_ascii=False, allow_nan=False) + "\n")
    atomic_write_text(paths["summary"], summary_markdown(result))
    atomic_write_text(paths["html"], report_html(result))
    return {k: str(v) for k, v in paths.items()}
