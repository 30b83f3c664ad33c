"""coverage.html in a real browser: no console errors, every plot decodes, the sentence table's search, filters
and pages work, and article text (markup included) is shown as text, never run.

Uses Debian's chromium through Playwright, as tests/test_report_browser.py does.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from test_trends import art, tags_table

HOSTILE = "<script>window.pwned = 1</script><img src=x onerror='window.pwned = 2'> The rebels accused the army."


@pytest.fixture(scope="module")
def coverage_page(tmp_path_factory) -> Path:
    from pipeline.analysis.coverage import write_coverage
    from pipeline.analysis.trends import trends

    arts = [art(f"a{i}", f"2016-02-{1 + i:02d}", outlet=["Reuters", "AFP", "BBC"][i % 3], blame=i % 3, violence=4, n=6)
            for i in range(15)]
    arts[0]["sentences"][0] = (HOSTILE, {"blame": 1}, 0.99)
    arts[1]["title"] = "<b>bold</b> & <i>title</i>"
    arts[2]["url"] = "javascript:window.pwned = 3"
    res = trends(tags_table(arts), n_boot=200)
    res["source"] = "<tags>.parquet"
    return Path(write_coverage(res, tmp_path_factory.mktemp("coverage")))


def test_coverage_page_in_chromium(coverage_page, browser):
    page = browser.new_page()
    problems: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(coverage_page.resolve().as_uri(), wait_until="load")

    assert problems == []  # no script error, nothing the Content-Security-Policy had to block
    imgs = page.eval_on_selector_all("img", "els => els.map(e => [e.complete, e.naturalWidth, e.naturalHeight])")
    assert len(imgs) == 3 and all(ok and w > 0 and h > 0 for ok, w, h in imgs), imgs
    assert [u for u in requests if not u.startswith(("file:", "data:"))] == []

    shown = lambda: page.eval_on_selector_all(
        "#sentences tbody tr", "trs => trs.map(t => [t.cells[0].textContent, t.dataset.labels, t.dataset.outlet, t.dataset.period])")
    found = lambda: int(page.locator("#shown").inner_text())
    tagged = 15 * 4 + sum(i % 3 for i in range(15))  # every sentence carrying a label: 4 violence per article, and blame
    assert found() == tagged and len(shown()) == 50 and page.locator("#page").inner_text() == "page 1 of 2"
    page.click("#next")
    assert len(shown()) == tagged - 50 and page.locator("#page").inner_text() == "page 2 of 2"
    assert page.locator("#next").is_disabled() and not page.locator("#prev").is_disabled()
    page.click("#prev")
    assert page.locator("#page").inner_text() == "page 1 of 2"

    page.select_option("#label-filter", "blame")
    rows = shown()
    assert found() == sum(i % 3 for i in range(15)) + 1 == len(rows)  # and the hostile sentence of a0
    assert all("blame" in r[1].split() for r in rows)
    page.select_option("#outlet-filter", "AFP")  # a1, a4, ...: one blame sentence each
    rows = shown()
    assert found() == 5 and {r[2] for r in rows} == {"AFP"} and all("blame" in r[1].split() for r in rows)
    page.select_option("#label-filter", "")
    page.select_option("#outlet-filter", "")
    page.select_option("#period-filter", "2016-W06")  # 8-14 February: a7 to a13
    assert found() == sum(4 + i % 3 for i in range(7, 14)) and {r[3] for r in shown()} == {"2016-W06"}
    page.select_option("#period-filter", "")
    page.fill("#text-filter", "SENTENCE 2 of a11")  # words, in any case
    assert [r[0] for r in shown()] == ["Elsewhere, sentence 2 of a11."]
    page.fill("#text-filter", "accused army")
    assert [r[0] for r in shown()] == [HOSTILE] and found() == 1
    page.fill("#text-filter", "no such words")
    assert found() == 0 and shown() == [] and page.locator("#page").inner_text() == "page 1 of 1"
    page.fill("#text-filter", "")
    assert found() == tagged

    # markup in a sentence, a title or a url is text on the page, and none of it ran
    assert page.evaluate("window.pwned") is None
    page.fill("#text-filter", "accused")
    cells = page.eval_on_selector_all("#sentences td", "tds => tds.map(t => t.textContent)")
    assert HOSTILE in cells
    assert HOSTILE in page.locator("body").inner_text()
    assert "<b>bold</b> & <i>title</i>" in page.locator("table.articles").inner_text()
    assert page.locator("a[href^='javascript']").count() == 0
    assert page.locator("main img").count() == 3  # the <img> of the sentence is not an element



def test_who_blames_whom_on_the_coverage_page(tmp_path, browser):
    """Tags with blame ties give the page a source-by-target matrix and per-period ties; actor names with markup
    are text; no console error under the page's Content-Security-Policy."""
    from pipeline.analysis.coverage import write_coverage
    from pipeline.analysis.trends import trends

    arts = [art(f"a{i}", f"2016-02-{1 + i:02d}", outlet="Reuters", blame=2, n=4) for i in range(6)]
    tags = tags_table(arts)
    ties = ["Syrian opposition -> Russia", "Russia -> Turkey; <b>Rebels</b> -> Syrian government"]
    tags["blame_ties"] = [ties[i % 2] if b == 1 else "" for i, b in enumerate(tags["blame"])]
    res = trends(tags, n_boot=100)
    assert res["ties"] is not None and len(res["ties"])
    page = browser.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(Path(write_coverage(res, tmp_path)).resolve().as_uri(), wait_until="load")
    assert problems == []
    sources = page.eval_on_selector_all("#tie-matrix tbody th", "ths => ths.map(t => t.textContent)")
    targets = page.eval_on_selector_all("#tie-matrix thead th", "ths => ths.slice(1).map(t => t.textContent)")
    assert set(sources) == {"Syrian opposition", "Russia", "<b>Rebels</b>"} and "Turkey" in targets
    n = tags["blame_ties"].str.count("Syrian opposition -> Russia").sum()
    row = sources.index("Syrian opposition")
    col = targets.index("Russia")
    cell = page.eval_on_selector_all("#tie-matrix tbody tr", f"trs => trs[{row}].cells[{col + 1}].textContent")
    assert cell == str(n)
    assert page.locator("#tie-periods tbody tr").count() > 0
    # each blame sentence of the table shows its ties, as text
    page.select_option("#label-filter", "blame")
    ties_shown = page.eval_on_selector_all("#sentences tbody tr", "trs => trs.map(t => t.cells[2].textContent)")
    assert sorted(set(ties_shown)) == sorted(ties) and len(ties_shown) == int((tags["blame"] == 1).sum())
