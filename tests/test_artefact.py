"""artefact: model files are data; hostile model folders fail with one error line and run nothing."""
from __future__ import annotations

import importlib
import io
import json
import shutil
import zipfile
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.base import BaseEstimator, TransformerMixin

from pipeline.model import artefact
from pipeline.cli import main
from pipeline.errors import ModelError
from pipeline.records import LABELS
from pipeline.model.features import FEATURES, make_pipeline, uses_embeddings
from pipeline.model.loading import load_model
from pipeline.store import sha256_file
from pipeline.model.selection import training_data

PROBES = ["The envoy met the delegation in Geneva.", "Air strikes killed 40 people near Homs.", "Markets were quiet."]


class Boom(TransformerMixin, BaseEstimator):
    """A transformer whose construction from saved state would leave a marker file."""

    def __init__(self, marker: str = ""):
        self.marker = marker

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return np.zeros((len(X), 1))

    def __setstate__(self, state):
        Path(state["marker"]).touch()
        super().__setstate__(state)


class Pickled:
    """Unpickling this creates the marker file: what a hostile model.joblib does."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def _fitted(project, features="word", C=4.0):
    _, texts, Y, _ = training_data(project["project"])
    return make_pipeline(features, C).fit(np.asarray(texts, dtype=object), Y)


def _artefact(pipeline) -> dict:
    return {"schema": 2, "labels": list(LABELS), "thresholds": {lab: 0.5 for lab in LABELS}, "pipeline": pipeline}


def _folder(path: Path, model_file: str, data: bytes, **card) -> Path:
    """A model folder holding ``data`` as ``model_file``, its sha256 duly in card.json."""
    path.mkdir(parents=True)
    (path / model_file).write_bytes(data)
    card = {"schema": 2, "format": "skops", "file": "model.skops", "model_id": path.name, "features": "word",
            "parameters": {"features": "word", "C": 4.0}, "labels": list(LABELS), "thresholds": {lab: 0.5 for lab in LABELS},
            "sha256": sha256_file(path / model_file), **card}
    (path / "card.json").write_text(json.dumps(card))
    return path


def _rewrite_schema(data: bytes, change) -> bytes:
    """The skops file ``data`` with ``change(schema)`` applied to its schema.json."""
    src, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    schema = json.loads(src.read("schema.json"))
    change(schema)
    with zipfile.ZipFile(out, "w") as z:
        for name in src.namelist():
            z.writestr(name, json.dumps(schema) if name == "schema.json" else src.read(name))
    return out.getvalue()


def _nodes(node):
    if isinstance(node, dict):
        if "__loader__" in node:
            yield node
        for v in node.values():
            yield from _nodes(v)
    elif isinstance(node, list):
        for v in node:
            yield from _nodes(v)


def _hostile_folders(root: Path, project: dict, marker: Path) -> dict[str, tuple[Path, str]]:
    """Hostile model folders and a phrase of the error each must give."""
    import skops.io
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    boom = Pipeline([("features", Boom(str(marker))), ("clf", LogisticRegression())])
    good = root / "good.skops"
    artefact.save(_artefact(_fitted(project)), good)

    def function_node(schema):  # the vectorizer's preprocessor (None) becomes a function named by the file
        vec = next(n for n in _nodes(schema) if n["__class__"] == "TfidfVectorizer")
        vec["content"]["content"]["preprocessor"] = {"__class__": "str", "__module__": "builtins", "__loader__": "FunctionNode",
                                                     "content": {"module_path": "builtins", "function": "str"}}

    pickle_bytes = io.BytesIO()
    joblib.dump(_artefact(Pickled(marker)), pickle_bytes)
    return {
        "own class": (_folder(root / "own-class", "model.skops", skops.io.dumps(_artefact(boom))), f"{Boom.__module__}.Boom"),
        "sklearn class skops trusts": (_folder(root / "scaler", "model.skops", skops.io.dumps(_artefact(
            Pipeline([("features", StandardScaler())])))), "sklearn.preprocessing._data.StandardScaler"),
        "function node": (_folder(root / "function", "model.skops", _rewrite_schema(good.read_bytes(), function_node)), "FunctionNode"),
        "pickle, schema 1": (_folder(root / "pickle-1", "model.joblib", pickle_bytes.getvalue(), schema=1, format=None),
                             "older version as a pickle"),
        "pickle as model.skops": (_folder(root / "pickle-2", "model.skops", pickle_bytes.getvalue()), "not a skops model file"),
    }


# --------------------------------------------------------------------------
# The trusted list
# --------------------------------------------------------------------------
def test_trusted_names_are_the_classes_they_say():
    for name in artefact.TRUSTED + artefact.BUILTIN_TYPES:
        module, _, cls = name.rpartition(".")
        obj = getattr(importlib.import_module(module), cls)
        assert isinstance(obj, type) and f"{obj.__module__}.{obj.__name__}" == name


@pytest.mark.parametrize("features", FEATURES)
def test_every_feature_set_round_trips(features, labelled_project, tmp_path, monkeypatch):
    """Each pipeline train can build saves as data, loads under the list, and predicts the same."""
    if uses_embeddings(features):
        from pipeline.model.embed import encoder_available

        if not encoder_available():
            pytest.skip("the embeddings extra is not installed")
        monkeypatch.setenv("TALKS_EMBED_CACHE", str(tmp_path / "cache"))
    pipe = _fitted(labelled_project, features)
    path = tmp_path / "m.skops"
    artefact.save(_artefact(pipe), path)
    back = artefact.load(path)
    assert back["labels"] == list(LABELS) and back["thresholds"] == {lab: 0.5 for lab in LABELS}
    np.testing.assert_array_equal(back["pipeline"].predict_proba(PROBES), pipe.predict_proba(PROBES))
    again = tmp_path / "again.skops"
    artefact.save(_artefact(pipe), again)
    assert again.read_bytes() == path.read_bytes()  # ids and times do not leak into the bytes


def test_round_trip_keeps_the_live_model_and_vocabulary(labelled_project, tmp_path):
    pipe = _fitted(labelled_project, "word+char")
    vocab = dict(pipe.named_steps["features"].transformer_list[0][1].vocabulary_)
    artefact.save(_artefact(pipe), tmp_path / "m.skops")
    assert pipe.named_steps["features"].transformer_list[0][1].vocabulary_ == vocab  # saving changed nothing in memory
    back = artefact.load(tmp_path / "m.skops")["pipeline"]
    assert back.named_steps["features"].transformer_list[0][1].vocabulary_ == vocab


def test_saving_an_untrusted_class_fails_at_once(tmp_path):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    pipe = Pipeline([("features", Boom(str(tmp_path / "x"))), ("clf", LogisticRegression())])
    with pytest.raises(ModelError, match="Boom.*PROJECT_TRANSFORMERS"):
        artefact.save(_artefact(pipe), tmp_path / "m.skops")
    assert not (tmp_path / "m.skops").exists()


# --------------------------------------------------------------------------
# Hostile model folders, through every command that loads a model
# --------------------------------------------------------------------------
def test_hostile_model_folders_run_nothing(trained_project, tmp_path, capsys):
    p = trained_project
    marker = tmp_path / "marker"
    common = ["--models", str(p["models"])]
    for kind, (folder, phrase) in _hostile_folders(tmp_path / "hostile", p, marker).items():
        commands = {
            "tag": ["tag", str(p["raw"]), "--out", str(tmp_path / "t.csv"), "--model", str(folder), *common],
            "explain": ["explain", "Air strikes killed 30 people in Homs.", "--model", str(folder), *common],
            "compare": ["compare", str(folder), p["card"]["model_id"], "--labels", str(p["labels"]), "--root", str(p["corpus"]), *common],
            "evaluate --compare-settings": ["evaluate", "--compare-settings", str(folder), "--labels", str(p["labels"]), "--root", str(p["corpus"]),
                                   "--report", str(tmp_path / "report"), *common],
        }
        for name, argv in commands.items():
            assert main(argv) == 1, (kind, name)
            err = capsys.readouterr().err
            assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, (kind, name, err)
            assert str(folder) in err and phrase in err, (kind, name, err)
            assert not marker.exists(), (kind, name)
    assert not (tmp_path / "t.csv").exists()


def test_card_that_is_not_an_object(trained_project, tmp_path, capsys):
    folder = tmp_path / "m"
    shutil.copytree(trained_project["models"] / trained_project["card"]["model_id"], folder)
    (folder / "card.json").write_text("[1, 2]")
    assert main(["tag", str(trained_project["raw"]), "--out", str(tmp_path / "t.csv"), "--model", str(folder)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "card.json: model card is not a JSON object" in err


def test_a_folder_outside_the_models_dir_loads_as_data(trained_project, tmp_path, capsys):
    folder = tmp_path / "elsewhere" / "m"
    shutil.copytree(trained_project["models"] / trained_project["card"]["model_id"], folder)
    assert main(["tag", str(trained_project["raw"]), "--out", str(tmp_path / "t.csv"), "--model", str(folder),
                 "--models", str(tmp_path / "none")]) == 0
    assert (tmp_path / "t.csv").exists()


# --------------------------------------------------------------------------
# talks models upgrade
# --------------------------------------------------------------------------
def _as_schema_1(folder: Path) -> None:
    """Turn a trained folder into what the previous version wrote: a joblib pickle and a schema-1 card."""
    art = artefact.load(folder / "model.skops")
    (folder / "model.skops").unlink()
    joblib.dump({**art, "schema": 1}, folder / "model.joblib", compress=3)
    card = json.loads((folder / "card.json").read_text())
    for key in ("format", "file"):
        del card[key]
    card.update(schema=1, sha256=sha256_file(folder / "model.joblib"))
    (folder / "card.json").write_text(json.dumps(card))


def test_upgrade_re_saves_a_trusted_pickle_as_data(trained_project, capsys):
    p = trained_project
    mid = p["card"]["model_id"]
    folder = p["models"] / mid
    before = load_model(mid, p["models"])["pipeline"].predict_proba(PROBES)
    _as_schema_1(folder)
    with pytest.raises(ModelError, match=f"older version as a pickle.*runs any code.*talks models upgrade {folder} --trust"):
        load_model(mid, p["models"])

    assert main(["models", "upgrade", mid, "--trust", "--models", str(p["models"])]) == 0
    assert "re-saved as data" in capsys.readouterr().out
    assert {f.name for f in folder.iterdir()} == {"model.skops", "card.json", "card.md"}
    card = json.loads((folder / "card.json").read_text())
    assert card["model_id"] == mid and card["schema"] == 2 and card["format"] == "skops" and card["file"] == "model.skops"
    assert card["sha256"] == sha256_file(folder / "model.skops") and card["upgraded"]["from"] == "model.joblib"
    assert f"model.skops sha256: `{card['sha256']}`" in (folder / "card.md").read_text()
    m = load_model(mid, p["models"])
    np.testing.assert_array_equal(m["pipeline"].predict_proba(PROBES), before)
    assert m["thresholds"] == p["card"]["thresholds"]

    assert main(["models", "upgrade", mid, "--models", str(p["models"])]) == 0
    assert "already saved as data" in capsys.readouterr().out


def test_upgrade_refuses_what_it_cannot_vouch_for(trained_project, tmp_path, capsys):
    p = trained_project
    assert main(["models", "upgrade", "nope", "--models", str(p["models"])]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "no model folder 'nope'" in err
    folder = p["models"] / p["card"]["model_id"]
    _as_schema_1(folder)
    with open(folder / "model.joblib", "ab") as f:
        f.write(b"tampered")
    assert main(["models", "upgrade", p["card"]["model_id"], "--trust", "--models", str(p["models"])]) == 1
    assert "does not match the sha256" in capsys.readouterr().err
    assert not (folder / "model.skops").exists()


# --------------------------------------------------------------------------
# What ships, and what a user still trusts
# --------------------------------------------------------------------------
def test_shipped_models_are_data():
    from pipeline.model.embed import encoder_available

    models = Path(__file__).parent.parent / "models"
    folders = sorted(f for f in models.iterdir() if (f / "card.json").is_file())
    assert folders
    for folder in folders:
        card = json.loads((folder / "card.json").read_text())
        assert card["format"] == "skops" and not (folder / "model.joblib").exists(), folder
        if encoder_available() or not uses_embeddings(card["features"]):
            assert load_model(folder)["labels"] == LABELS


def test_embedding_weights_are_checked(monkeypatch):
    from pipeline.model import embed

    if not embed.backend_available("onnx"):
        pytest.skip("the onnx backend is not installed")
    monkeypatch.setattr(embed, "ONNX_SHA256", "0" * 64)
    with pytest.raises(ModelError, match="expected sha256"):
        embed._OnnxBackend(1)
