"""report.html in a real browser: every plot decodes and the metric tables have rows.

Uses Debian's chromium through Playwright (the ``browser`` fixture in conftest.py); the
page is opened from file:// with networking off, which also proves the report
is self-contained.
"""
from __future__ import annotations

from pathlib import Path

import pytest

@pytest.fixture(scope="module")
def report_html(tmp_path_factory) -> Path:
    from test_evaluate import synthetic_gold

    from pipeline.evaluation.crossval import evaluate_frame
    from pipeline.evaluation.report import write_report

    result = evaluate_frame(synthetic_gold(), "word", 4.0, n_boot=200, jobs=1)
    return Path(write_report(result, tmp_path_factory.mktemp("report"))["html"])


def test_report_renders_in_chromium(report_html, browser):
    page = browser.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(report_html.resolve().as_uri(), wait_until="load")
    imgs = page.eval_on_selector_all("img", "els => els.map(e => [e.complete, e.naturalWidth, e.naturalHeight])")
    assert len(imgs) == 4
    assert all(ok and w > 0 and h > 0 for ok, w, h in imgs), imgs
    for table in ("metrics", "baselines", "confusion", "learning"):
        assert page.locator(f"table.{table} tbody tr").count() > 0, table
    assert page.locator("table.metrics tbody tr").count() == 4 + 2  # labels + micro + macro
    assert page.locator("table.baselines tbody tr").count() == 3
    assert "macro-F1" in page.locator(".cards").inner_text()
    # nothing fetched but the page itself (images are data: URIs)
    assert [u for u in requests if not u.startswith(("file:", "data:"))] == []

