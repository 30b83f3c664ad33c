"""trends: shares and intervals, periods, spikes, the on-topic flag; and the tag options of issue 13
(--threshold, --jobs -1, progress lines)."""
from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

from pipeline.cli import main
from pipeline.errors import PipelineError
from pipeline.records import LABELS
from pipeline.analysis.periods import period_name
from pipeline.analysis.trends import ALL, MIN_ARTICLES, MIN_OUTLET_ARTICLES, OTHER, load_tags, trends
from pipeline.model.relevance import article_topic, is_on_topic, on_topic_rows


def tags_table(articles: list[dict]) -> pd.DataFrame:
    """A tags table as ``talks tag`` writes it, from articles given as
    ``{"id", "date", "outlet", "sentences": [(text, {label: 1}, p)]}``
    (labels not named are 0; a tagged label has probability ``p``, the others 0.05)."""
    rows = []
    for a in articles:
        for pos, (text, labels, p) in enumerate(a["sentences"]):
            rows.append({"article_id": a["id"], "sentence_id": f"{a['id']}-{pos}", "position": pos, "text": text,
                         **{lab: labels.get(lab, 0) for lab in LABELS},
                         **{f"p_{lab}": p if labels.get(lab) else 0.05 for lab in LABELS}, "model_id": "m-1",
                         "title": a.get("title", f"Title of {a['id']}"), "date": a["date"], "outlet": a.get("outlet", "Reuters"),
                         "url": a.get("url", f"https://example.org/{a['id']}"), "source": f"raw/{a['id']}.md"})
    return pd.DataFrame(rows)


def art(aid: str, date: str, outlet: str = "Reuters", blame: int = 0, violence: int = 0, n: int = 4, syria: int = 0, p: float = 0.9) -> dict:
    """An article of ``n`` sentences: the first ``blame`` carry blame, the next ``violence`` violence; ``syria`` of them name Syria."""
    sents = []
    for i in range(n):
        labels = {"blame": 1} if i < blame else {"violence": 1} if i < blame + violence else {}
        sents.append((("In Syria, " if i < syria else "Elsewhere, ") + f"sentence {i} of {aid}.", labels, p - i / 100))
    return {"id": aid, "date": date, "outlet": outlet, "sentences": sents}


def row(res: dict, outlet: str, period: str, label: str) -> pd.Series:
    t = res["table"]
    hit = t[(t.outlet == outlet) & (t.period == period) & (t.label == label)]
    assert len(hit) == 1, (outlet, period, label)
    return hit.iloc[0]


# --------------------------------------------------------------------------
# Shares and intervals
# --------------------------------------------------------------------------
def test_shares_and_counts_by_hand():
    tags = tags_table([art("a", "2016-02-01", blame=1, violence=2, n=4), art("b", "2016-02-03", blame=2, n=2),
                       art("c", "2016-02-05", outlet="AFP", n=4)])
    res = trends(tags, n_boot=300)
    r = row(res, "Reuters", "2016-W05", "blame")
    assert (r.articles, r.sentences, r.tagged, r.share) == (2, 6, 3, 0.5)  # 3 of 6 sentences, pooled
    assert row(res, "Reuters", "2016-W05", "violence").share == pytest.approx(2 / 6, abs=1e-4)
    r = row(res, ALL, "2016-W05", "blame")
    assert (r.articles, r.sentences, r.tagged, r.share) == (3, 10, 3, 0.3)
    assert row(res, ALL, ALL, "violence").share == 0.2
    assert row(res, "AFP", ALL, "blame").share == 0.0
    assert res["overall"]["blame"] == {"share": 0.3, "ci": [row(res, ALL, ALL, "blame").ci_low, row(res, ALL, ALL, "blame").ci_high],
                                       "tagged": 3, "err": None}
    # no outlet has MIN_OUTLET_ARTICLES articles: no panel of its own, and no "other outlets" panel of everything
    assert res["outlets"] == [] and res["other"] is None


def test_intervals_resample_whole_articles():
    tags = tags_table([art("a", "2016-02-01", blame=1, n=4), art("b", "2016-02-03", blame=2, n=2), art("c", "2016-02-05", outlet="AFP", n=4)])
    res = trends(tags, n_boot=500)
    # A pooled share of resampled articles lies between the articles' own shares (1/4 and 2/2) and covers the estimate.
    two = row(res, "Reuters", "2016-W05", "blame")
    assert 0.25 <= two.ci_low < two.share < two.ci_high <= 1.0
    # One article: every resample is that article, so there is no interval to speak of.
    one = row(res, "AFP", "2016-W05", "blame")
    assert one.ci_low == one.ci_high == one.share == 0.0
    # Twenty times as many such articles: the same share, a much narrower interval.
    many = tags_table([art(f"{k}{i}", "2016-02-02", blame=b, n=n) for i in range(20) for k, b, n in (("a", 1, 4), ("b", 2, 2))])
    forty = row(trends(many, n_boot=500), "Reuters", "2016-W05", "blame")
    assert forty.share == 0.5 and forty.ci_low < 0.5 < forty.ci_high
    assert forty.ci_high - forty.ci_low < 0.5 * (two.ci_high - two.ci_low)


# --------------------------------------------------------------------------
# Periods
# --------------------------------------------------------------------------
def test_weeks_across_the_year_boundary():
    # 2016-01-01 is a Friday: ISO puts it in week 53 of 2015, which runs from Monday 2015-12-28.
    tags = tags_table([art("thu", "2015-12-31", blame=1), art("fri", "2016-01-01"), art("sun", "2016-01-03", blame=2),
                       art("mon", "2016-01-04", blame=4), art("later", "2016-01-19")])
    res = trends(tags, n_boot=100)
    w53 = row(res, ALL, "2015-W53", "blame")
    assert (w53.start, w53.articles, w53.tagged) == ("2015-12-28", 3, 3)
    w01 = row(res, ALL, "2016-W01", "blame")
    assert (w01.start, w01.articles, w01.share) == ("2016-01-04", 1, 1.0)
    assert w01.change == pytest.approx(1.0 - 3 / 12, abs=1e-4)  # consecutive weeks: a change
    w03 = row(res, ALL, "2016-W03", "blame")
    assert w03.start == "2016-01-18" and math.isnan(w03.change)  # week 2 had no articles: no week-on-week change
    assert math.isnan(row(res, ALL, "2015-W53", "blame").change)
    assert set(res["table"].period) == {ALL, "2015-W53", "2016-W01", "2016-W03"}
    months = trends(tags, by="month", n_boot=100)
    assert set(months["table"].period) == {ALL, "2015-12", "2016-01"} and row(months, ALL, "2016-01", "blame").articles == 4
    days = trends(tags, by="day", n_boot=100)
    assert row(days, ALL, "2016-01-01", "blame").start == "2016-01-01"
    assert period_name(pd.Timestamp("2016-01-01"), "week") == "2015-W53"


def test_undated_articles_are_left_out_and_counted():
    tags = tags_table([art("a", "2016-02-01", blame=1), art("b", "", blame=1), art("c", "2016-02-30"), art("d", "2016-02-02T10:00:00Z")])
    res = trends(tags, n_boot=100)
    assert res["counts"]["undated"] == 2 and res["counts"]["articles"] == 2
    with pytest.raises(PipelineError, match="no article has a date"):
        trends(tags_table([art("b", "")]), n_boot=100)


def test_spike_is_the_biggest_rise_with_the_sentences_behind_it():
    quiet = [art(f"q{i}", "2016-02-01") for i in range(MIN_ARTICLES)]
    loud = [art(f"l{i}", "2016-02-08", blame=2, p=0.6 + i / 20) for i in range(MIN_ARTICLES)]
    few = [art("f0", "2016-02-15", blame=4)]  # a bigger jump in share, but from one article: not called a rise
    res = trends(tags_table(quiet + loud + few), n_boot=300, top=3)
    [spike] = [s for s in res["spikes"] if s["label"] == "blame"]
    assert (spike["from"], spike["to"], spike["share_from"], spike["share_to"]) == ("2016-W05", "2016-W06", 0.0, 0.5)
    assert spike["rise_ci"][0] > 0  # every resample of these periods rises
    # the most probable blame sentences of the week it rose to, one per article
    assert [s["article_id"] for s in spike["sentences"]] == ["l4", "l3", "l2"]
    assert spike["sentences"][0]["p"] == pytest.approx(0.8) and spike["sentences"][0]["period"] == "2016-W06"


# --------------------------------------------------------------------------
# On topic
# --------------------------------------------------------------------------
def test_on_topic_flag_and_filter():
    assert is_on_topic(0.2, 0.1) and not is_on_topic(0.19, 0.5) and not is_on_topic(1.0, 0.09)
    tags = tags_table([art("syria", "2016-02-01", blame=2, n=10, syria=1),    # relevance 0.2, a tenth names Syria: on topic
                       art("thin", "2016-02-02", blame=1, n=10, syria=3),     # relevance 0.1
                       art("elsewhere", "2016-02-03", violence=5, n=10)])     # no Syria
    all_ = trends(tags, n_boot=100)
    assert all_["counts"]["articles"] == 3
    on = trends(tags, on_topic=True, n_boot=100)
    assert on["counts"]["articles"] == 1 and on["counts"]["off_topic_left_out"] == 2
    assert row(on, ALL, ALL, "blame").share == 0.2 and row(on, ALL, ALL, "violence").share == 0.0
    with pytest.raises(PipelineError, match="no article is on topic"):
        trends(tags_table([art("elsewhere", "2016-02-03", violence=5, n=10)]), on_topic=True, n_boot=100)


# --------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------
def test_trends_command_writes_table_plot_and_report(tmp_path, capsys):
    src = tmp_path / "tags.parquet"
    tags_table([art(f"a{i}", f"2016-02-0{1 + i % 7}", outlet=["Reuters", "AFP"][i % 2], blame=i % 3, n=5) for i in range(12)]).to_parquet(src)
    out, png, report = tmp_path / "trends.csv", tmp_path / "trends.png", tmp_path / "report"
    assert main(["trends", str(src), "--out", str(out), "--plot", str(png), "--report", str(report), "--outlets", "2"]) == 0
    printed = capsys.readouterr().out
    assert "12 articles, 60 sentences from 2 outlets" in printed
    t = pd.read_csv(out)
    assert list(t.columns) == ["outlet", "period", "start", "label", "articles", "sentences", "tagged", "share", "ci_low", "ci_high",
                               "err_low", "err_high", "corrected", "change", "change_low", "change_high"]
    assert len(t) == (1 + 2) * 2 * len(LABELS)  # (all, Reuters, AFP) x (all, 2016-W05) x labels
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (report / "coverage.html").read_text().startswith("<!doctype html>")


def test_trends_command_errors(tmp_path, capsys):
    src = tmp_path / "tags.csv"
    tags_table([art("a", "2016-02-01")]).drop(columns="date").to_csv(src, index=False)
    assert main(["trends", str(src)]) == 1
    assert "no date" in capsys.readouterr().err
    tags_table([art("a", "2016-02-01")]).to_csv(src, index=False)
    assert main(["trends", str(src), "--out", str(tmp_path / "t.xlsx")]) == 1
    assert "unknown output format" in capsys.readouterr().err
    nodate = tmp_path / "nodate.parquet"
    tags_table([art("a", "2016-02-01")]).drop(columns=["date", "outlet"]).to_parquet(nodate)
    with pytest.raises(PipelineError, match="no date"):
        load_tags(nodate)


# --------------------------------------------------------------------------
# Tag options: --threshold, --jobs -1, progress lines
# --------------------------------------------------------------------------
def test_threshold_changes_tags_and_is_recorded(trained_project, tmp_path, capsys):
    base, strict, both = tmp_path / "base.csv", tmp_path / "strict.csv", tmp_path / "both.csv"
    models = str(trained_project["models"])
    mid = trained_project["card"]["model_id"]
    assert main(["tag", str(trained_project["raw"]), "--out", str(base), "--models", models]) == 0
    assert main(["tag", str(trained_project["raw"]), "--out", str(strict), "--summary", str(tmp_path / "s.csv"), "--models", models,
                 "--threshold", "violence=0.999", "--jobs", "2"]) == 0
    a, b = pd.read_csv(base), pd.read_csv(strict)
    assert b.violence.sum() < a.violence.sum() and (b.violence == (b.p_violence >= 0.999)).all()
    assert (a.diplomacy == b.diplomacy).all()  # only the named label changes
    assert set(b.model_id) == {f"{mid}+violence=0.999"} and set(pd.read_csv(tmp_path / "s.csv").model_id) == {f"{mid}+violence=0.999"}
    assert f"with model {mid}+violence=0.999" in capsys.readouterr().out
    assert main(["tag", str(trained_project["raw"]), "--out", str(both), "--models", models,
                 "--threshold", "blame=0.4", "--threshold", "diplomacy=0"]) == 0
    c = pd.read_csv(both)
    assert set(c.model_id) == {f"{mid}+diplomacy=0+blame=0.4"} and c.diplomacy.all()  # in label order; 0 tags every sentence
    for bad, why in (("junk=0.5", "no label 'junk'"), ("blame=1.5", "between 0 and 1"), ("blame", "LABEL=VALUE"), ("blame=high", "LABEL=VALUE")):
        assert main(["tag", str(trained_project["raw"]), "--out", str(tmp_path / "x.csv"), "--models", models, "--threshold", bad]) == 1
        assert why in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()


def test_jobs_minus_one_uses_every_core_and_changes_nothing(trained_project, tmp_path, capsys, monkeypatch):
    import os

    from pipeline.tagging import tag as tag_module
    from pipeline.tagging.tag import resolve_jobs

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert resolve_jobs(-1) == resolve_jobs(0) == cores and resolve_jobs(3) == 3
    with pytest.raises(PipelineError, match="-1 \\(or 0\\) for all cores"):
        resolve_jobs(-2)
    # The CLI has no chunk option: one file per chunk makes the 12 files enough work for a pool
    # (12 chunks, 4 per worker: up to 3 workers), and the results the CLI gets are kept to check it ran.
    monkeypatch.setattr(tag_module, "CHUNK_FILES", 1)
    runs, real_tag = [], tag_module.tag
    monkeypatch.setattr(tag_module, "tag", lambda *a, **kw: runs.append(real_tag(*a, **kw)) or runs[-1])
    one, every = tmp_path / "one.csv", tmp_path / "every.csv"
    for out, jobs in ((one, "1"), (every, "-1")):
        assert main(["tag", str(trained_project["raw"]), "--out", str(out), "--models", str(trained_project["models"]), "--jobs", jobs]) == 0
    assert [r["processes"] for r in runs] == [1, min(cores, 3)]
    assert one.read_bytes() == every.read_bytes()
    if cores < 2:
        pytest.skip("one core: --jobs -1 is one process here, so the pool was not compared (reported, not silent)")


def test_progress_is_logged_as_lines_without_a_terminal(trained_project, tmp_path, capsys, monkeypatch):
    from pipeline.cli import _util

    monkeypatch.setattr(_util, "LOG_EVERY", 0.0)  # a line at every step instead of every 30 s
    assert main(["tag", str(trained_project["raw"]), str(trained_project["labels"] / "tester.csv"), "--out", str(tmp_path / "t.csv"),
                 "--models", str(trained_project["models"])]) == 0
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("tagging:")]
    # 12 article files and one table: a total and a rate, and no carriage returns
    assert lines and lines[-1].startswith("tagging: 13/13 files, ") and lines[-1].endswith(" files/s")
    assert all("\r" not in line for line in lines)
    assert np.all(np.diff([int(line.split()[1].split("/")[0]) for line in lines]) >= 0)


def test_trends_reads_a_folder_of_parquet_parts_as_one_table(tmp_path, capsys):
    """What `talks tag --engine dask` writes: part files read in name order give the single file's trends."""
    tags = tags_table([art(f"a{i}", f"2016-02-0{1 + i % 7}", outlet=["Reuters", "AFP"][i % 2], blame=i % 3, n=5) for i in range(12)])
    single = tmp_path / "tags.parquet"
    tags.to_parquet(single)
    folder = tmp_path / "tags"
    folder.mkdir()
    for k, start in enumerate(range(0, len(tags), 25)):  # 60 rows in 3 parts
        tags.iloc[start : start + 25].to_parquet(folder / f"part-{k:05d}.parquet")
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    assert main(["trends", str(single), "--out", str(a)]) == 0
    assert main(["trends", str(folder), "--out", str(b)]) == 0
    assert a.read_bytes() == b.read_bytes()
    pd.testing.assert_frame_equal(load_tags(folder), load_tags(single))
    (tmp_path / "empty").mkdir()
    capsys.readouterr()
    assert main(["trends", str(tmp_path / "empty")]) == 1
    assert "without part-*.parquet files" in capsys.readouterr().err


# --------------------------------------------------------------------------
# Hostile tags files with --plot/--report: one line each, no traceback (issue 22)
# --------------------------------------------------------------------------
def _run(tmp_path, capsys, tags: pd.DataFrame) -> tuple[int, str, str]:
    src = tmp_path / "tags.csv"
    tags.to_csv(src, index=False)
    rc = main(["trends", str(src), "--plot", str(tmp_path / "p.png"), "--report", str(tmp_path / "r")])
    out, err = capsys.readouterr()
    return rc, out, err


def _six(**kw) -> pd.DataFrame:
    return tags_table([art(f"a{i}", f"2016-02-0{1 + i % 7}", blame=1, n=4, **kw) for i in range(6)])


def test_a_label_value_that_is_not_0_or_1_is_one_error_naming_the_line(tmp_path, capsys):
    tags = _six()
    tags["blame"] = tags["blame"].astype(object)
    tags.loc[5, "blame"] = "yes"
    rc, _, err = _run(tmp_path, capsys, tags)
    assert rc == 1 and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"error: {tmp_path / 'tags.csv'}:7: column blame has 'yes' where it needs 0 or 1")
    assert not (tmp_path / "p.png").exists()
    tags = _six()
    tags.loc[0, "p_violence"] = 1.5
    rc, _, err = _run(tmp_path, capsys, tags)
    assert rc == 1 and ":2: column p_violence has '1.5' where it needs a probability" in err


def test_dates_at_the_ends_of_the_calendar_are_left_out_with_a_warning(tmp_path, capsys):
    tags = _six()
    tags.loc[tags.article_id == "a0", "date"] = "0001-01-01"
    tags.loc[tags.article_id == "a1", "date"] = "9999-12-31"
    rc, out, err = _run(tmp_path, capsys, tags)
    assert rc == 0 and "Traceback" not in err
    assert "2 article(s) dated before 1900 or after 2100 left out" in err
    assert "4 articles, 16 sentences" in out and (tmp_path / "p.png").exists() and (tmp_path / "r" / "coverage.html").exists()
    tags["date"] = "9999-12-31"
    rc, _, err = _run(tmp_path, capsys, tags)
    assert rc == 1 and "no article has a date from 1900 to 2100" in err


def test_no_outlet_column_warns_and_still_draws(tmp_path, capsys):
    rc, out, err = _run(tmp_path, capsys, _six().drop(columns="outlet"))
    assert rc == 0 and "Traceback" not in err
    assert "no outlet column: every article counts as (unknown)" in err
    assert (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG" and (tmp_path / "r" / "coverage.html").exists()


def test_a_missing_label_column_is_a_warning_not_silence(tmp_path, capsys):
    rc, out, err = _run(tmp_path, capsys, _six().drop(columns="blame"))
    assert rc == 0 and "no blame column (with its p_ column): left out of the trends" in err
    assert "blame" not in out.split("biggest")[0]  # the shares printed are the other labels'


# --------------------------------------------------------------------------
# Outlet panels, ticks
# --------------------------------------------------------------------------
def test_outlets_with_few_articles_are_grouped_as_other_outlets():
    big = [art(f"r{i}", "2016-02-01", outlet="Reuters", blame=1, n=4) for i in range(MIN_OUTLET_ARTICLES)]
    small = [art("b0", "2016-02-02", outlet="BBC", blame=2, n=4), art("c0", "2016-02-09", outlet="CNN", n=2)]
    res = trends(tags_table(big + small), n_boot=100)
    assert res["outlets"] == ["Reuters"] and res["other_outlets"] == 2
    other = res["other"]
    assert set(other.outlet) == {OTHER}
    w05 = other[(other.period == "2016-W05") & (other.label == "blame")].iloc[0]
    assert (w05.articles, w05.sentences, w05.tagged, w05.share) == (1, 4, 2, 0.5)
    whole = other[(other.period == ALL) & (other.label == "blame")].iloc[0]
    assert (whole.articles, whole.sentences, whole.tagged) == (2, 6, 2)
    assert OTHER not in set(res["table"].outlet)  # the tidy table keeps one row per real outlet


def _tick_labels(res: dict) -> list[str]:
    from pipeline.analysis.coverage import plot_over_time
    from pipeline.html import pyplot

    fig = pyplot().figure(figsize=(9, 3))
    plot_over_time(fig, res)
    fig.canvas.draw()
    return [t.get_text() for t in fig.axes[0].get_xticklabels() if t.get_text()]


def test_ticks_match_the_period():
    tags = tags_table([art(f"a{m}{d}", f"2016-{m:02d}-{d:02d}", blame=1) for m in (1, 2, 3) for d in (4, 11, 18, 25)])
    assert _tick_labels(trends(tags, by="month", n_boot=50)) == ["2016-01", "2016-02", "2016-03"]
    weeks = _tick_labels(trends(tags, by="week", n_boot=50))
    assert weeks and all(re.fullmatch(r"2016-W\d\d", w) for w in weeks) and weeks[0] == "2016-W01"


def test_every_tag_row_carries_its_articles_on_topic_flag(trained_project, tmp_path):
    """The summary's flag on each row (issue 23), so sentences of on-topic articles need no join; the same in Parquet."""
    out, summ = tmp_path / "t.parquet", tmp_path / "s.csv"
    models = str(trained_project["models"])
    # diplomacy from p >= 0: every sentence is tagged, so the articles naming Syria are on topic and the others not
    assert main(["tag", str(trained_project["raw"]), "--out", str(out), "--summary", str(summ), "--models", models,
                 "--threshold", "diplomacy=0"]) == 0
    rows, s = pd.read_parquet(out), pd.read_csv(summ).set_index("article_id")
    assert rows["on_topic"].dtype == bool and set(s["on_topic"]) == {True, False}
    assert (rows["on_topic"] == rows["article_id"].map(s["on_topic"])).all()


def test_article_topic_counts_each_articles_own_rows():
    # Rows of two articles, one Syria sentence in each; "b" sorts after "a" though it comes first.
    df = pd.DataFrame({"article_id": ["b", "b", "a", "a", "a", "a"],
                       "text": ["Assad spoke.", "Rain.", "In Aleppo, shelling.", "Sun.", "Wind.", "Snow."],
                       "diplomacy": [1, 0, 0, 0, 0, 0], "violence": [0, 0, 1, 0, 0, 0], "humanitarian": [0] * 6, "blame": [0] * 6})
    topic = article_topic(df)
    assert list(topic.index) == ["a", "b"]
    assert topic.loc["a", "relevance"] == 0.25 and topic.loc["b", "relevance"] == 0.5
    assert topic.loc["a", "syria_share"] == 0.25 and topic.loc["a", "syria_sentences"] == 1
    assert topic["on_topic"].tolist() == [True, True] and topic["syria_coverage"].tolist() == [True, True]
    df.loc[2, "violence"] = 0  # "a" now has no labelled sentence: off topic, still Syria coverage
    assert on_topic_rows(df).tolist() == [True, True, False, False, False, False]
    assert article_topic(df)["syria_coverage"].tolist() == [True, True]
