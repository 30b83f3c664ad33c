"""Model folders whose values are hostile, registry paths, card fields on the terminal, and upgrading a pickle
(docs/robustness.md, "Model folders and the registry")."""
from __future__ import annotations

import copy
import io
import json
import os
import shutil
from pathlib import Path

import sys

import joblib
import pytest
from conftest import make_labelled_project
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.cli import main
from pipeline.errors import ModelError
from pipeline.model import artefact
from pipeline.model.loading import load_model, promote, upgrade
from pipeline.model.registry import current_id, read_history, rollback, set_current
from pipeline.model.selection import train
from pipeline.records import LABELS
from pipeline.store import sha256_file

SHIPPED = Path(__file__).parent.parent / "models"
sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))

import fuzz  # noqa: E402  (the fuzz campaign's model targets, run here on fewer examples)
# What a terminal acts on: ESC (CSI, OSC), BEL (ends an OSC), CSI as one C1 byte, and a right-to-left override.
TERMINAL_CONTROLS = ("\x1b", "\x07", "\x9b", "\u202e")


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict:
    """A project with two trained word models; tests copy what they change."""
    p = make_labelled_project(tmp_path_factory.mktemp("robust"), n_articles=12)
    a = train(p["project"], grid=[{"features": "word", "C": 4.0}])["model_id"]
    b = train(p["project"], grid=[{"features": "word", "C": 1.0}])["model_id"]
    return {**p, "a": a, "b": b}


def _models(p: dict, tmp_path: Path) -> Path:
    """A copy of the project's models folder."""
    shutil.copytree(p["models"], tmp_path / "models")
    return tmp_path / "models"


def _write_folder(folder: Path, data: bytes, card: dict) -> Path:
    """A model folder holding ``data`` as model.skops, with the card's sha256 duly updated (as anyone could)."""
    folder.mkdir(parents=True)
    (folder / "model.skops").write_bytes(data)
    (folder / "card.json").write_text(json.dumps({**card, "sha256": sha256_file(folder / "model.skops")}))
    return folder


def _hostile_bytes(pipeline, change) -> bytes:
    """The fitted ``pipeline`` changed by ``change`` and saved by skops directly (artefact.save would refuse it)."""
    import skops.io

    pipe = copy.deepcopy(pipeline)
    change(pipe)
    return skops.io.dumps({"schema": 2, "labels": list(LABELS), "thresholds": {lab: 0.5 for lab in LABELS}, "pipeline": pipe})


def _with_part(part):
    """A change that puts ``part`` beside the word n-grams, as a FeatureUnion of the features."""
    def change(pipe):
        from sklearn.pipeline import FeatureUnion

        pipe.steps[0] = ("features", FeatureUnion([("word", pipe.steps[0][1]), ("extra", part)]))
    return change


def _set(path: str, value):
    """A change setting the attribute at ``path`` (steps by name, then attributes) to ``value``."""
    def change(pipe):
        *parents, attr = path.split(".")
        obj = pipe
        for name in parents:
            obj = obj.named_steps[name] if hasattr(obj, "named_steps") and name in obj.named_steps else getattr(obj, name)
        setattr(obj, attr, value)
    return change


def _hostile_kinds(tmp_path: Path) -> dict[str, tuple]:
    """Each hostile value the issue reproduced, and more of the same kind: (change, phrase of the error)."""
    from pipeline.model.embed import SentenceEncoder
    from pipeline.model.wordvec import StaticVectors

    return {
        "encoder threads (hung tag at 5.3 GB)": (_with_part(SentenceEncoder(threads=100_000)), "SentenceEncoder.threads to 100000"),
        "encoder cache_dir (chose where files are written)": (_with_part(SentenceEncoder(cache_dir=str(tmp_path / "elsewhere"))),
                                                              "SentenceEncoder.cache_dir"),
        "encoder state (a folder of its own to read from)": (_with_part(_encoder_with_state()), "SentenceEncoder the state _onnx_root"),
        "backtracking token_pattern (hung on a 40-letter word)": (_set("features.token_pattern", "(a|aa)+$"),
                                                                   "TfidfVectorizer.token_pattern to '(a|aa)+$'"),
        "vectorizer input=filename (opened /etc/passwd)": (_set("features.input", "filename"), "TfidfVectorizer.input to 'filename'"),
        "n-gram range (1, 1000)": (_set("features.ngram_range", (1, 1000)), "TfidfVectorizer.ngram_range"),
        "max_features of the wrong kind": (_set("features.max_features", -5), "TfidfVectorizer.max_features to -5"),
        "pipeline memory (a cache folder)": (_set("memory", str(tmp_path / "joblib-cache")), "Pipeline.memory"),
        "one-vs-rest n_jobs=100000": (_set("clf.n_jobs", 100_000), "OneVsRestClassifier.n_jobs to 100000"),
        "static vectors read from elsewhere": (_with_part(StaticVectors(vectors="../../../../etc/passwd")), "StaticVectors.vectors"),
        "a pipeline without its classifier (a traceback when predicting)": (lambda pipe: pipe.steps.pop(), "Pipeline.steps"),
        "fitted attribute of the wrong kind (a traceback when predicting)": (_set("clf.label_binarizer_.y_type_", ["binary"]),
                                                                             "LabelBinarizer the state y_type_"),
    }


def _encoder_with_state():
    from pipeline.model.embed import SentenceEncoder

    enc = SentenceEncoder()
    enc._onnx_root = "/"  # only artefact.load sets it, to the model's own folder
    return enc


# --------------------------------------------------------------------------
# Hostile values in trusted classes
# --------------------------------------------------------------------------
def test_a_hostile_value_of_each_kind_is_refused_before_any_work(trained, tmp_path, capsys):
    p = trained
    pipe = load_model(p["a"], p["models"])["pipeline"]
    card = json.loads((p["models"] / p["a"] / "card.json").read_text())
    marker = tmp_path / "secret.txt"
    marker.write_text("Envoys met in Geneva.\n")
    for i, (kind, (change, phrase)) in enumerate(_hostile_kinds(tmp_path).items()):
        folder = _write_folder(tmp_path / f"hostile-{i}", _hostile_bytes(pipe, change), card)
        # the library first: loading refuses (before the fix it loaded, and tag then hung, opened or wrote files)
        with pytest.raises(ModelError, match="the project never writes") as e:
            load_model(folder)
        assert phrase in str(e.value) and str(folder / "model.skops") in str(e.value), kind
        out = tmp_path / f"t{i}.csv"
        before = os.stat(marker).st_atime_ns
        assert main(["tag", str(p["raw"]), "--out", str(out), "--model", str(folder), "--models", str(p["models"])]) == 1, kind
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err and phrase in err, (kind, err)
        assert not out.exists() and os.stat(marker).st_atime_ns == before, kind
    assert not (tmp_path / "elsewhere").exists() and not (tmp_path / "joblib-cache").exists()


def test_a_sentence_naming_a_file_is_text_not_a_file_to_open(trained, tmp_path, capsys):
    """The reproduced case itself: input='filename' made each sentence a path to open (exit 0 on /etc/passwd)."""
    p = trained
    pipe = load_model(p["a"], p["models"])["pipeline"]
    card = json.loads((p["models"] / p["a"] / "card.json").read_text())
    folder = _write_folder(tmp_path / "filename", _hostile_bytes(pipe, _set("features.input", "filename")), card)
    assert main(["explain", "/etc/passwd", "--model", str(folder), "--models", str(p["models"])]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "TfidfVectorizer.input to 'filename'" in err


def test_hostile_thresholds_are_refused(trained, tmp_path):
    import skops.io

    p = trained
    pipe = load_model(p["a"], p["models"])["pipeline"]
    card = json.loads((p["models"] / p["a"] / "card.json").read_text())
    data = skops.io.dumps({"labels": list(LABELS), "thresholds": {lab: "0.5" for lab in LABELS}, "pipeline": pipe})
    folder = _write_folder(tmp_path / "thresholds", data, card)
    with pytest.raises(ModelError, match=r"not one threshold \(a number\) per label"):
        load_model(folder)


def test_a_model_with_hostile_values_is_never_saved(trained, tmp_path):
    from pipeline.model.embed import SentenceEncoder

    pipe = copy.deepcopy(load_model(trained["a"], trained["models"])["pipeline"])
    _with_part(SentenceEncoder(threads=100_000))(pipe)
    with pytest.raises(ModelError, match="SentenceEncoder.threads to 100000.*not saved"):
        artefact.save({"labels": list(LABELS), "thresholds": {lab: 0.5 for lab in LABELS}, "pipeline": pipe}, tmp_path / "m.skops")
    assert not (tmp_path / "m.skops").exists()


def test_every_committed_model_file_holds_only_allowed_values():
    """The rules are what the project writes: every model folder in models/ (the tie extractor too) passes them."""
    files = sorted(SHIPPED.glob("*/model.skops"))
    assert len(files) >= 8 and SHIPPED / "ties" / "model.skops" in files
    for path in files:
        art = artefact.load(path)
        assert art["labels"] and art["pipeline"] is not None, path


# --------------------------------------------------------------------------
# Cards and folder names on the terminal
# --------------------------------------------------------------------------
def test_card_fields_reach_the_terminal_cleaned_and_the_folder_names_the_model(trained, tmp_path, capsys):
    p = trained
    models = _models(p, tmp_path)
    card_path = models / p["a"] / "card.json"
    card = json.loads(card_path.read_text())
    card.update(model_id=p["b"], features="word\x1b]0;owned\x07\x1b[2J", created="2099-01-01\x9b31m",
                versions={**card["versions"], "scikit-learn": "0.1\u202egnp.exe"})
    card_path.write_text(json.dumps(card))
    evil = models / "m\x1b[31mred"
    shutil.copytree(models / p["b"], evil)
    for argv in (["models", "list"], ["models", "show", p["a"]], ["models", "show", p["a"], "--json"]):
        assert main([*argv, "--models", str(models)]) == 0, argv
        out = capsys.readouterr()
        assert not any(c in out.out + out.err for c in TERMINAL_CONTROLS), (argv, out)
    assert main(["models", "list", "--models", str(models)]) == 0
    listing = capsys.readouterr().out
    row = next(line for line in listing.splitlines() if "2099" in line)
    assert p["a"] in row and p["b"] not in row  # the folder's name, not the one the card claims
    assert "m\u241b[31mred" in listing  # the folder name with ESC shown as its control picture
    assert main(["models", "show", p["a"], "--models", str(models)]) == 0
    assert capsys.readouterr().out.startswith(f"# Model card: {p['a']}\n")
    assert main(["explain", "Talks resumed.", "--model", p["a"], "--json", "--models", str(models)]) == 0
    assert json.loads(capsys.readouterr().out)["model_id"] == p["a"]


def test_cards_with_fields_of_the_wrong_kind_are_one_error_line(trained, tmp_path, capsys):
    p = trained
    models = _models(p, tmp_path)
    card_path = models / p["a"] / "card.json"
    card = json.loads(card_path.read_text())
    for change, listed in ((lambda c: c.update(heldout="yes"), False), (lambda c: c.update(created=5), False),
                           (lambda c: c.pop("cv_metrics"), True), (lambda c: c.update(versions=["1.0"]), False)):
        bad = copy.deepcopy(card)
        change(bad)
        card_path.write_text(json.dumps(bad))
        assert main(["models", "list", "--models", str(models)]) == 0
        out = capsys.readouterr()
        assert "Traceback" not in out.err and p["b"] in out.out
        assert (p["a"] in out.out) is listed or "model card field" in out.err
        assert main(["models", "show", p["a"], "--models", str(models)]) == 1
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err


@pytest.fixture(scope="module")
def fuzz_targets(tmp_path_factory) -> fuzz.ModelTargets:
    return fuzz.ModelTargets(tmp_path_factory.mktemp("fuzz"))


_FEW = settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))


@_FEW
@given(fields=fuzz.CARD_FIELDS, keep=st.booleans())
def test_any_card_fields_give_model_errors_only_and_reach_no_terminal(fuzz_targets, fields, keep):
    """Any JSON in card.json's fields: load_card, talks models list|show and load_model raise nothing but
    ModelError, and nothing they show holds a control character (python benchmarks/fuzz.py runs more)."""
    assert fuzz_targets.card(fields, keep) == []


@_FEW
@given(data=st.data())
def test_any_value_in_a_skops_schema_gives_model_errors_only(fuzz_targets, data):
    """Any JSON at any place of a model's schema.json (or as a parameter's value): loading raises nothing but
    ModelError, and a model that loads predicts without an error of another kind."""
    assert fuzz_targets.schema(data.draw)[0] == []


# --------------------------------------------------------------------------
# The registry: only folders inside models/ that load
# --------------------------------------------------------------------------
def _elsewhere(p: dict, tmp_path: Path) -> Path:
    m = tmp_path / "elsewhere" / "m"
    shutil.copytree(p["models"] / p["a"], m)
    return m


def test_promote_refuses_a_folder_outside_models(trained, tmp_path, capsys, monkeypatch):
    p = trained
    models = _models(p, tmp_path)
    _elsewhere(p, tmp_path)
    history = (models / "history.jsonl").read_bytes()
    monkeypatch.chdir(models)
    for name in ("../elsewhere/m", str(tmp_path / "elsewhere" / "m"), "../models/../elsewhere/m"):
        assert main(["models", "promote", name, "--models", str(models)]) == 1, name
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "is not a model folder inside" in err, err
        assert current_id(models) == p["b"] and (models / "history.jsonl").read_bytes() == history
    # a path that does lead into models/ is the model of that name
    assert main(["models", "promote", str(models / p["a"]), "--models", str(models)]) == 0
    assert current_id(models) == p["a"] and read_history(models)[-1]["model_id"] == p["a"]


def test_promote_refuses_a_link_out_of_models(trained, tmp_path, capsys):
    p = trained
    models = _models(p, tmp_path)
    (models / "linked").symlink_to(_elsewhere(p, tmp_path), target_is_directory=True)
    assert main(["models", "promote", "linked", "--models", str(models)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is a link to" in err and "outside" in err
    assert current_id(models) == p["b"]


def test_promote_refuses_a_model_that_does_not_load(trained, tmp_path, capsys):
    p = trained
    models = _models(p, tmp_path)
    with open(models / p["a"] / "model.skops", "ab") as f:
        f.write(b"junk")
    assert main(["models", "promote", p["a"], "--models", str(models)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not match the sha256" in err
    assert current_id(models) == p["b"]
    assert main(["tag", str(p["raw"]), "--out", str(tmp_path / "t.csv"), "--models", str(models)]) == 0  # tag still works


def test_history_and_current_never_point_outside_models(trained, tmp_path, capsys):
    p = trained
    models = _models(p, tmp_path)
    _elsewhere(p, tmp_path)
    # a history line (hand-edited, or written before this check) that says the current model replaced one outside
    line = {"time": "2026-01-01T00:00:00Z", "action": "promote", "model_id": p["b"], "previous": "../elsewhere/m", "reason": ""}
    with open(models / "history.jsonl", "a") as f:
        f.write(json.dumps(line) + "\n")
    with pytest.raises(ModelError, match="is not a model folder inside"):
        rollback(models)
    assert current_id(models) == p["b"]
    with pytest.raises(ModelError, match="is not a model folder inside"):
        set_current(models, "../elsewhere/m", "promote", "test")
    (models / "current").write_text("../elsewhere/m\n")
    assert main(["tag", str(p["raw"]), "--out", str(tmp_path / "t.csv"), "--models", str(models)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a model folder directly inside" in err and not (tmp_path / "t.csv").exists()


def test_library_promote_loads_the_model_first(trained, tmp_path):
    p = trained
    models = _models(p, tmp_path)
    (models / p["a"] / "model.skops").write_bytes(b"not a zip")
    with pytest.raises(ModelError):
        promote(p["a"], models)
    assert current_id(models) == p["b"] and len(read_history(models)) == len(read_history(p["models"]))


# --------------------------------------------------------------------------
# Upgrading a pickle: only on the user's word
# --------------------------------------------------------------------------
class _Pickled:
    """Unpickling this creates the marker file: what a hostile model.joblib does."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def _pickle_folder(p: dict, models: Path, marker: Path) -> Path:
    folder = models / "old"
    folder.mkdir()
    joblib.dump({"labels": list(LABELS), "thresholds": {lab: 0.5 for lab in LABELS}, "pipeline": _Pickled(marker)},
                folder / "model.joblib")
    (folder / "card.json").write_text(json.dumps({"schema": 1, "model_id": "old", "sha256": sha256_file(folder / "model.joblib")}))
    return folder


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_upgrade_of_a_pickle_needs_trust_or_a_yes(trained, tmp_path, capsys, monkeypatch):
    p = trained
    models = _models(p, tmp_path)
    marker = tmp_path / "ran"
    folder = _pickle_folder(p, models, marker)
    # the tag error that suggests upgrading names the risk and --trust
    assert main(["tag", str(p["raw"]), "--out", str(tmp_path / "t.csv"), "--model", "old", "--models", str(models)]) == 1
    err = capsys.readouterr().err
    assert "runs any code" in err and "talks models upgrade" in err and "--trust" in err
    # not a terminal, no --trust: refused before the pickle is opened
    assert main(["models", "upgrade", "old", "--models", str(models)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "runs any code" in err and "--trust" in err
    assert not marker.exists() and (folder / "model.joblib").exists()
    # on a terminal: asked, naming the risk; anything but yes refuses
    monkeypatch.setattr("sys.stdin", _Terminal("no\n"))
    assert main(["models", "upgrade", "old", "--models", str(models)]) == 1
    assert "runs any code" in capsys.readouterr().err and not marker.exists()
    # the library asks through its caller, only when a pickle is about to be loaded
    asked = []
    with pytest.raises(ModelError, match="not upgraded"):
        upgrade("old", models, confirm=lambda path, risk: asked.append((path, risk)) or False)
    assert asked == [(folder / "model.joblib", asked[0][1])] and "runs any code" in asked[0][1] and not marker.exists()
    # with the user's word the pickle is loaded (and its code runs: that is what trusting it means)
    assert main(["models", "upgrade", "old", "--trust", "--models", str(models)]) == 1
    assert marker.exists() and "does not hold a model" in capsys.readouterr().err
    assert not (folder / "model.skops").exists()

