"""The model file: a fitted pipeline saved and loaded as data, never as a pickle.

A model folder's ``model.skops`` is a skops file (a zip of ``schema.json``,
which names every object's class and holds its attributes, and ``.npy``
arrays read with ``allow_pickle=False``).  Loading it creates objects only of
the classes listed in :data:`TRUSTED` and sets their attributes; no code
named by the file runs.  A pickle (the ``model.joblib`` of schema-1 folders)
can run any code when loaded, whatever its sha256, so it is never loaded
except by :func:`upgrade`, on the user's word that the folder is trusted.

skops trusts every scikit-learn estimator and numpy dtype on top of the list
it is given, and cannot be told not to, so :func:`load` first checks every
node of ``schema.json`` (plain JSON, nothing imported) against exactly
:data:`TRUSTED` and the node kinds in :data:`LOADERS`, then lets skops audit
and build the objects with the same list.

Two pieces of a fitted pipeline are stored differently from how they live in
memory, both here and nowhere else:

- A TF-IDF vocabulary (term -> column) is stored as an array of its terms in
  column order and made a dict again on load: as a dict, skops writes one
  JSON node per term (a 47 MB schema and a 1 s load for the shipped model,
  against 0.15 MB and 0.04 s).
- The vectorizers' ``_stop_words_id`` (``id()`` of the stop word list, a
  memory address that differs per process; scikit-learn only re-checks the
  list without it) is dropped.

skops names arrays and shared objects by their ``id()`` and stamps zip
entries with the time, so the saved zip is re-packed with those ids
renumbered in order of appearance and a fixed time: the same model gives the
same bytes.  The sentence encoder's loaded network is never part of its
state (``SentenceEncoder.__getstate__`` leaves it out): its weights come
from the installed package (the ONNX file's sha256 is checked when it loads).

A fine-tuned encoder's weights are a file in the model folder
(``encoder.onnx``, made by ``scripts/finetune.py``): the model file names it
by a path relative to its folder and by its sha256.  :func:`load` accepts
only such a path (no absolute path, nothing outside the folder), points the
encoder at the folder it loaded from, and refuses the model when the file is
missing or its sha256 differs; where the folder was is never stored.
"""
from __future__ import annotations

import copy
import importlib
import io
import json
import math
import re
import sys
import zipfile
from pathlib import Path

import numpy as np

from pipeline.errors import ModelError
from pipeline.store import atomic_open

SCHEMA_VERSION = 2  # 2: the pipeline is a skops file (data); 1 was a joblib pickle
FORMAT = "skops"
MODEL_FILE = "model.skops"
LEGACY_FILE = "model.joblib"

# The classes the pipelines of train.make_pipeline are built of, and the ones
# they create when fitted.  Any other class in a model file stops the load.
LIBRARY_TYPES = (
    "sklearn.pipeline.Pipeline",
    "sklearn.pipeline.FeatureUnion",
    "sklearn.feature_extraction.text.TfidfVectorizer",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "sklearn.multiclass.OneVsRestClassifier",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.preprocessing._label.LabelBinarizer",
    "numpy.ndarray",
    "numpy.float32",  # the vectorizers' dtype parameter
)
# The project's own transformers that can stand in a pipeline: a new feature
# step must be added here, or its models cannot be saved.
PROJECT_TRANSFORMERS = (
    "pipeline.model.embed.SentenceEncoder",
    "pipeline.model.cues.BlameCues",
    "pipeline.model.wordvec.StaticVectors",
)
TRUSTED = LIBRARY_TYPES + PROJECT_TRANSFORMERS
# Where the project's transformers lived before the package had a folder per
# stage: model files name a class by its module, so files saved then name the
# old one.  Loading reads them under the new name; nothing else is accepted.
MOVED_MODULES = {"pipeline.embed": "pipeline.model.embed", "pipeline.cues": "pipeline.model.cues",
                 "pipeline.wordvec": "pipeline.model.wordvec"}
# Containers, and "str": the class skops gives every JSON value (numbers and None too) and dict keys' type.
BUILTIN_TYPES = ("builtins.dict", "builtins.list", "builtins.tuple", "builtins.str")
# skops' node kinds our pipelines need: objects set from their attributes,
# containers, JSON values, a class as a parameter value, and arrays.  Kinds
# that call functions or methods named in the file are not among them.
LOADERS = ("ObjectNode", "DictNode", "ListNode", "TupleNode", "JsonNode", "TypeNode", "NdArrayNode")

_ARRAY_FILE = re.compile(r"(\d+)(\.np[yz])")


# --------------------------------------------------------------------------
# Saving
# --------------------------------------------------------------------------
def save(artefact: dict, path: str | Path) -> None:
    """Write ``{"labels", "thresholds", "pipeline", ...}`` to ``path`` as a skops file (atomically).

    ModelError if the pipeline holds a class outside :data:`TRUSTED` or a
    value outside ``allowed.py``'s: such a file could not be loaded.
    """
    from pipeline.model.allowed import check_values

    skops_io = _skops_io()
    stored = {**artefact, "pipeline": _for_storage(artefact["pipeline"])}
    data = _canonical(skops_io.dumps(stored))
    _check_types(_schema(data, path), path, fix="add it to artefact.PROJECT_TRANSFORMERS if it is one of ours and holds only data")
    check_values(stored["pipeline"], path, fix="a model the project would refuse to load is not saved; build it with "
                 "features.make_pipeline, or add the value to pipeline/model/allowed.py if the project now writes it")
    with atomic_open(path, "wb") as f:
        f.write(data)


def _for_storage(pipeline):
    """A copy of the fitted pipeline with vocabularies as term arrays and no stop-word id cache."""
    from sklearn.feature_extraction.text import CountVectorizer

    from pipeline.model.features import walk_steps

    pipeline = copy.deepcopy(pipeline)
    for est in walk_steps(pipeline):
        for attr in ("_onnx_root", "_digest"):  # where a fine-tuned encoder's folder is, known only at load time
            if type(est).__name__ == "SentenceEncoder" and attr in est.__dict__:
                delattr(est, attr)
        if isinstance(est, CountVectorizer):
            if hasattr(est, "_stop_words_id"):
                del est._stop_words_id
            if isinstance(getattr(est, "vocabulary_", None), dict):
                terms = sorted(est.vocabulary_, key=est.vocabulary_.__getitem__)
                est.vocabulary_ = np.array(terms, dtype=str)
    return pipeline


def _skops_io():
    """The ``skops.io`` module, imported without its scan of every scikit-learn estimator.

    On import skops lists all of scikit-learn's estimators as trusted by
    default, which imports every scikit-learn module, and through its test
    helpers pytest: most of a second of every command that loads a model.
    It adds that default to any list it is given, so scanning only the
    classes of :data:`LIBRARY_TYPES` also leaves skops trusting exactly
    :data:`TRUSTED`, nothing more.
    """
    if "skops.io" not in sys.modules:
        import sklearn.utils

        everything = sklearn.utils.all_estimators
        sklearn.utils.all_estimators = _library_estimators
        try:
            import skops.io  # noqa: F401  (its import reads sklearn.utils.all_estimators)
        finally:
            sklearn.utils.all_estimators = everything
    return sys.modules["skops.io"]


def _library_estimators(type_filter=None) -> list[tuple[str, type]]:
    """``(name, class)`` of the scikit-learn classes in :data:`LIBRARY_TYPES`, in the shape of ``all_estimators``."""
    out = []
    for name in LIBRARY_TYPES:
        module, _, cls = name.rpartition(".")
        if module.startswith("sklearn."):
            out.append((cls, getattr(importlib.import_module(module), cls)))
    return out


def _canonical(data: bytes) -> bytes:
    """The skops zip with ids numbered in order of appearance and fixed entry times."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        schema = json.loads(z.read("schema.json"))
        ids: dict[int, int] = {}
        names: dict[str, str] = {}

        def renumber(node):
            if isinstance(node, dict):
                for k, v in node.items():
                    if k == "__id__":
                        node[k] = ids.setdefault(v, len(ids))
                    elif k == "file" and isinstance(v, str) and (m := _ARRAY_FILE.fullmatch(v)):
                        node[k] = names[v] = f"{ids.setdefault(int(m[1]), len(ids))}{m[2]}"
                    else:
                        renumber(v)
            elif isinstance(node, list):
                for v in node:
                    renumber(v)

        renumber(schema)
        entries = [("schema.json", json.dumps(schema, indent=2).encode("utf-8"))]
        entries += [(names[n], z.read(n)) for n in z.namelist() if n != "schema.json"]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, payload in entries:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, payload, compresslevel=6)
    return out.getvalue()


# --------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------
def load(path: str | Path) -> dict:
    """Load a model file as data: ``{"labels", "thresholds", "pipeline", ...}``.

    ModelError, naming the file and the class, if it holds anything outside
    :data:`TRUSTED`, a value the project never writes (``allowed.py``), or is
    not a model file at all.
    """
    skops_io = _skops_io()
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.pipeline import Pipeline
    from skops.io.exceptions import UntrustedTypesFoundException

    from pipeline.model.allowed import check_values, shown_value
    from pipeline.model.features import walk_steps

    data = Path(path).read_bytes()
    fix = "do not use this model folder unless you know where it came from; re-train with 'talks train'"
    schema = _schema(data, path)
    if _rename_moved(schema):
        data = _with_schema(data, schema)
    _check_types(schema, path, fix)
    try:
        art = skops_io.loads(data, trusted=list(TRUSTED))
    except UntrustedTypesFoundException as e:
        raise ModelError(f"model file holds a type outside the trusted list ({e}); {fix}", path) from None
    except Exception as e:  # a file that passed the type check but is malformed: skops raises anything
        raise ModelError(f"not a readable model file ({type(e).__name__}: {e}); re-train or restore it", path) from None
    if not (isinstance(art, dict) and isinstance(art.get("pipeline"), Pipeline)
            and isinstance(art.get("labels"), list) and isinstance(art.get("thresholds"), dict)):
        raise ModelError("model file does not hold labels, thresholds and a scikit-learn Pipeline; re-train with 'talks train'", path)
    labels, thresholds = art["labels"], art["thresholds"]
    if not (labels and all(isinstance(lab, str) for lab in labels) and set(thresholds) == set(labels)
            and all(type(t) in (int, float) and math.isfinite(t) for t in thresholds.values())):
        raise ModelError(f"model file's labels {shown_value(labels)} and thresholds {shown_value(thresholds)} are not one "
                         f"threshold (a number) per label; {fix}", path)
    check_values(art["pipeline"], path, fix)  # before any step runs: the values decide what a step opens, spawns or writes
    for est in walk_steps(art["pipeline"]):
        if isinstance(est, CountVectorizer) and isinstance(getattr(est, "vocabulary_", None), np.ndarray):
            est.vocabulary_ = {t: i for i, t in enumerate(est.vocabulary_.tolist())}
        if type(est).__name__ == "SentenceEncoder" and getattr(est, "onnx_path", None):
            _attach_encoder_file(est, Path(path))
    return art


def _attach_encoder_file(encoder, model_path: Path) -> None:
    """Point a fine-tuned encoder at its file beside ``model_path``, after checking the file's sha256."""
    from pipeline.store import sha256_file

    rel, want = str(encoder.onnx_path), getattr(encoder, "onnx_sha256", None)
    folder = model_path.parent
    if Path(rel).is_absolute() or ".." in Path(rel).parts or not isinstance(want, str) or len(want) != 64:
        raise ModelError(f"model file names its encoder as {rel!r} (sha256 {want!r}); a model file may only name a file "
                         "in its own folder, by a relative path and its sha256; re-train with scripts/finetune.py", model_path)
    file = folder / rel
    if not file.is_file():
        raise ModelError(f"the model's encoder file is missing; restore {rel} beside {model_path.name} or re-train with scripts/finetune.py", file)
    if sha256_file(file) != want:
        raise ModelError(f"the encoder file does not match the sha256 in {model_path.name} (changed or corrupted); "
                         "restore it from the commit that added the model, or re-train with scripts/finetune.py", file)
    encoder.set_onnx_root(folder)


def _rename_moved(schema: dict) -> bool:
    """Rename, in place, the classes of :data:`MOVED_MODULES` to where they live now; True if any was."""
    renamed = False
    todo: list = [schema]
    while todo:
        node = todo.pop()
        if isinstance(node, list):
            todo.extend(node)
        elif isinstance(node, dict):
            if isinstance(node.get("__module__"), str) and node["__module__"] in MOVED_MODULES:  # a hostile file's may be a list
                node["__module__"] = MOVED_MODULES[node["__module__"]]
                renamed = True
            todo.extend(node.values())
    return renamed


def _with_schema(data: bytes, schema: dict) -> bytes:
    """The skops zip ``data`` with its schema.json replaced by ``schema`` (in memory; the file is not changed)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dst:  # in memory only: no need to compress again
        for name in src.namelist():
            dst.writestr(name, json.dumps(schema) if name == "schema.json" else src.read(name))
    return out.getvalue()


def _schema(data: bytes, path: str | Path) -> dict:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            schema = json.loads(z.read("schema.json"))
    except (zipfile.BadZipFile, KeyError, ValueError, RecursionError) as e:
        raise ModelError(f"not a skops model file ({e}); re-train or restore it", path) from None
    if not isinstance(schema, dict):
        raise ModelError("not a skops model file (schema.json is not a JSON object); re-train or restore it", path)
    return schema


def _check_types(schema: dict, path: str | Path, fix: str) -> None:
    """ModelError naming the first class or node kind in ``schema`` outside the lists above."""
    allowed = set(TRUSTED) | set(BUILTIN_TYPES)
    todo = [schema]
    while todo:
        node = todo.pop()
        if isinstance(node, list):
            todo.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        if "__loader__" in node:
            name = f"{node.get('__module__')}.{node.get('__class__')}"
            if name not in allowed:
                raise ModelError(f"model file holds {name}, which is not in the trusted list of pipeline/artefact.py; {fix}", path)
            if node["__loader__"] not in LOADERS:
                raise ModelError(f"model file holds a {node['__loader__']} ({name}), which is not a kind of node "
                                 f"a model needs; {fix}", path)
        todo.extend(node.values())
