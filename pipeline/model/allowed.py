"""The values a model file's objects may hold: what the project itself writes, per class and parameter.

``artefact.py`` lets a model file hold only trusted classes, but a trusted
class acts on the values stored with it: a ``TfidfVectorizer`` whose
``input`` is ``"filename"`` opens the file each sentence names, one whose
``token_pattern`` backtracks catastrophically hangs on a long word, a
``SentenceEncoder`` with 100,000 ``threads`` exhausts memory and one with a
``cache_dir`` writes wherever it says.  So every object of a loaded (or
saved) pipeline is checked here, before any step runs, against the rules of
:func:`_rules`: for each class, the values or ranges the project's own
pipelines use (``features.make_pipeline``, the tie extractor's
``ties.make_pair_model``, the fine-tuned encoder), with some room for the
grid's C and for what older scikit-learn versions stored.  A parameter a rule
does not name (one a newer scikit-learn adds) must keep its constructor
default.  Fitted attributes are checked by kind (:data:`STATE`), so a
prediction never meets one missing or of the wrong type; the project's own
transformers may hold nothing beyond their parameters and those attributes:
anything else (a folder to read the encoder from) would be used as it is.
"""
from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np

from pipeline.errors import ModelError


class Rule(NamedTuple):
    """What a parameter may be: a test of the value and how to say it in an error."""

    test: Callable[[object], bool]
    says: str


def _one_of(*values) -> Rule:
    # type() as well as ==: True == 1 and 1.0 == 1, but a model file must hold what we wrote
    return Rule(lambda v: any(type(v) is type(x) and v == x for x in values if x is not None) or (None in values and v is None),
                " or ".join(repr(x) for x in values))


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_real(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and bool(np.isfinite(v))


def _int_in(lo: int, hi: int, none: bool = False) -> Rule:
    return Rule(lambda v: (none and v is None) or (_is_int(v) and lo <= v <= hi),
                f"{'None or ' if none else ''}an integer from {lo} to {hi}")


def _real_in(lo: float, hi: float) -> Rule:
    return Rule(lambda v: _is_real(v) and lo <= v <= hi, f"a number from {lo:g} to {hi:g}")


def _pair(lo: int, hi: int) -> Rule:
    return Rule(lambda v: isinstance(v, (tuple, list)) and len(v) == 2 and all(_is_int(x) for x in v) and lo <= v[0] <= v[1] <= hi,
                f"a pair (low, high) with {lo} <= low <= high <= {hi}")


# The shape of every pipeline the project builds: features (one transformer, or a union of them), then a classifier.
FEATURE_STEPS = ("TfidfVectorizer", "SentenceEncoder", "BlameCues", "StaticVectors")
CLASSIFIERS = ("OneVsRestClassifier", "LogisticRegression")


def _named(v, kinds: tuple[str, ...]) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(s, tuple) and len(s) == 2 and isinstance(s[0], str)
                                                    and type(s[1]).__name__ in kinds for s in v)


def _two_steps(v) -> bool:
    return isinstance(v, list) and len(v) == 2 and _named(v[:1], (*FEATURE_STEPS, "FeatureUnion")) and _named(v[1:], CLASSIFIERS)


BOOL = _one_of(True, False)
SHA256 = Rule(lambda v: isinstance(v, str) and re.fullmatch(r"[0-9a-f]{64}", v) is not None, "a sha256 (64 hex digits)")
# The regular expressions the project's vectorizers use: a pattern cannot be checked for how long it runs, only listed.
TOKEN_PATTERNS = (r"(?u)\b\w\w+\b", r"\S+")
# The fine-tuned encoder's file and its sha256: text here; artefact.load then accepts only a file in the model's own
# folder whose bytes match (one check, with its own message).
TEXT_OR_NONE = Rule(lambda v: v is None or isinstance(v, str), "None or text")
_DF = Rule(lambda v: (_is_int(v) and 1 <= v <= 100_000) or (isinstance(v, float) and 0.0 <= v <= 1.0),
           "an integer from 1 to 100000 or a fraction from 0 to 1")


@functools.cache
def _rules() -> dict[str, dict[str, Rule]]:
    from pipeline.model.embed import BACKENDS
    from pipeline.model.wordvec import VECTORS_FILE

    return {
        "sklearn.pipeline.Pipeline": {"steps": Rule(_two_steps, "(name, features) then (name, classifier)"), "memory": _one_of(None),
                                      "verbose": _one_of(False), "transform_input": _one_of(None)},
        "sklearn.pipeline.FeatureUnion": {"transformer_list": Rule(lambda v: _named(v, FEATURE_STEPS), "(name, feature step) pairs"),
                                          "n_jobs": _one_of(None), "transformer_weights": _one_of(None), "verbose": _one_of(False),
                                          "verbose_feature_names_out": BOOL},
        "sklearn.feature_extraction.text.TfidfVectorizer": {
            "input": _one_of("content"), "encoding": _one_of("utf-8"), "decode_error": _one_of("strict"),
            "strip_accents": _one_of(None, "unicode"), "lowercase": BOOL, "preprocessor": _one_of(None),
            "tokenizer": _one_of(None), "analyzer": _one_of("word", "char_wb"), "stop_words": _one_of(None),
            "token_pattern": _one_of(*TOKEN_PATTERNS), "ngram_range": _pair(1, 5), "max_df": _DF, "min_df": _DF,
            "max_features": _int_in(1, 10_000_000, none=True), "vocabulary": _one_of(None), "binary": BOOL,
            "dtype": Rule(lambda v: v is np.float32 or v is np.float64, "numpy.float32 or numpy.float64"),
            "norm": _one_of("l2", None), "use_idf": BOOL, "smooth_idf": BOOL, "sublinear_tf": BOOL},
        "sklearn.feature_extraction.text.TfidfTransformer": {"norm": _one_of("l2", None), "use_idf": BOOL, "smooth_idf": BOOL,
                                                             "sublinear_tf": BOOL},
        "sklearn.multiclass.OneVsRestClassifier": {"estimator": _instance("LogisticRegression"),
                                                   "n_jobs": _one_of(None), "verbose": _one_of(0)},
        "sklearn.linear_model._logistic.LogisticRegression": {
            "C": _real_in(1e-4, 1e4), "class_weight": _one_of("balanced", None), "dual": _one_of(False),
            "fit_intercept": _one_of(True), "intercept_scaling": _one_of(1, 1.0), "l1_ratio": _one_of(None, 0.0),
            "max_iter": _int_in(1, 10_000), "n_jobs": _one_of(None), "penalty": _one_of("l2", "deprecated"),
            "random_state": _int_in(0, 2**32 - 1, none=True), "solver": _one_of("liblinear", "lbfgs"),
            "tol": _real_in(1e-10, 1.0), "verbose": _one_of(0), "warm_start": _one_of(False)},
        "sklearn.preprocessing._label.LabelBinarizer": {"neg_label": _one_of(0), "pos_label": _one_of(1), "sparse_output": BOOL},
        "pipeline.model.embed.SentenceEncoder": {
            "batch_size": _int_in(1, 1024), "threads": _int_in(1, 64, none=True),
            "cache_dir": Rule(lambda v: v is None or v is False, "None (the project's cache) or False (no cache)"),
            "backend": _one_of("auto", *BACKENDS), "onnx_path": TEXT_OR_NONE, "onnx_sha256": TEXT_OR_NONE},
        "pipeline.model.cues.BlameCues": {},
        "pipeline.model.wordvec.StaticVectors": {"vectors": _one_of(VECTORS_FILE)},
    }


def _array(kinds: str, ndim: int) -> Rule:
    return Rule(lambda v: isinstance(v, np.ndarray) and v.dtype.kind in kinds and v.ndim == ndim, f"a {ndim}-d array")


def _instance(cls: str) -> Rule:
    return Rule(lambda v: type(v).__name__ == cls, f"a {cls}")


COUNT = _int_in(0, 2**31)
VERSION = Rule(lambda v: isinstance(v, str), "a version")
# Fitted attributes and their kinds, so a prediction never meets one missing or of the wrong type:
# scikit-learn's classes must have all of theirs (a model file holds fitted estimators), and other
# attributes of theirs pass (each version adds some); the project's own transformers may hold these and
# nothing else (:data:`STRICT`).
STATE: dict[str, dict[str, Rule]] = {
    "sklearn.feature_extraction.text.TfidfVectorizer": {
        "_tfidf": _instance("TfidfTransformer"), "fixed_vocabulary_": BOOL,
        "vocabulary_": Rule(lambda v: (isinstance(v, np.ndarray) and v.dtype.kind == "U" and v.ndim == 1)
                            or (isinstance(v, dict) and all(isinstance(k, str) and _is_int(i) for k, i in v.items())),
                            "its terms in column order")},
    "sklearn.feature_extraction.text.TfidfTransformer": {"idf_": _array("f", 1), "n_features_in_": COUNT},
    "sklearn.multiclass.OneVsRestClassifier": {
        "classes_": _array("iub", 1), "label_binarizer_": _instance("LabelBinarizer"), "n_features_in_": COUNT,
        "estimators_": Rule(lambda v: isinstance(v, list) and all(type(e).__name__ == "LogisticRegression" for e in v),
                            "a list of LogisticRegression")},
    "sklearn.preprocessing._label.LabelBinarizer": {"classes_": _array("iubUO", 1), "sparse_input_": BOOL,
                                                    "y_type_": _one_of("binary", "multiclass", "multilabel-indicator")},
    "sklearn.linear_model._logistic.LogisticRegression": {"classes_": _array("iubUO", 1), "coef_": _array("f", 2),
                                                          "intercept_": _array("f", 1), "n_iter_": _array("iu", 1),
                                                          "n_features_in_": COUNT},
    "pipeline.model.embed.SentenceEncoder": {"n_features_in_": _int_in(1, 1), "_sklearn_version": VERSION},
    "pipeline.model.cues.BlameCues": {"n_features_in_": _int_in(1, 1), "_sklearn_version": VERSION},
    "pipeline.model.wordvec.StaticVectors": {"sha256_": SHA256, "_sklearn_version": VERSION},
}
STRICT = ("pipeline.model.embed.SentenceEncoder", "pipeline.model.cues.BlameCues", "pipeline.model.wordvec.StaticVectors")

def check_values(pipeline, path: str | Path, fix: str) -> None:
    """ModelError naming the first object in ``pipeline`` with a value the project never writes.

    Walks every object reachable from the pipeline (steps, parts, the
    classifier's estimators, fitted attributes) once; returns nothing when all
    of them hold allowed values.
    """
    seen: set[int] = set()
    todo: list[tuple[object, bool]] = [(pipeline, True)]
    while todo:
        obj, fitted = todo.pop()
        if id(obj) in seen or isinstance(obj, (str, bytes, int, float, type(None), np.ndarray, type)):
            continue
        seen.add(id(obj))
        if isinstance(obj, (list, tuple)):
            todo.extend((v, fitted) for v in obj)
        elif isinstance(obj, dict):
            todo.extend((v, fitted) for v in obj.values())
        elif hasattr(obj, "__dict__"):
            _check_object(obj, path, fix, fitted)
            # a one-vs-rest classifier's ``estimator`` is the unfitted template its fitted ``estimators_`` were cloned from
            todo.extend((v, fitted and not (k == "estimator" and type(obj).__name__ == "OneVsRestClassifier"))
                        for k, v in vars(obj).items())


def _check_object(obj, path: str | Path, fix: str, fitted_expected: bool) -> None:
    cls = type(obj)
    name = f"{cls.__module__}.{cls.__name__}"
    rules = _rules().get(name)
    if rules is None:  # artefact's type check keeps other classes out; an object of one here is a bug of ours
        raise ModelError(f"model file holds a {name}, which has no allowed values in pipeline/model/allowed.py; {fix}", path)
    state = vars(obj)
    for param, default in _defaults(cls).items():
        if param not in state:
            continue  # saved by an older scikit-learn that had no such parameter
        value = state[param]
        rule = rules.get(param) or Rule(lambda v, d=default: (v is d) or (type(v) is type(d) and _equal(v, d)), f"its default {default!r}")
        if not _passes(rule, value):
            raise ModelError(f"model file sets {cls.__name__}.{param} to {shown_value(value)}, which the project never writes "
                             f"(allowed: {rule.says}); {fix}", path)
    fitted = STATE.get(name, {})
    # idf_ exists only with use_idf (the tie extractor's vectorizer has none)
    missing = [key for key in fitted if key not in state and (key != "idf_" or state.get("use_idf") is True)
               ] if fitted_expected and name not in STRICT else []
    if missing:
        raise ModelError(f"model file gives {cls.__name__} no {missing[0]}: not a fitted model; {fix}", path)
    for key, value in state.items():
        if key in rules or (key not in fitted and name not in STRICT):
            continue
        if key not in fitted or not _passes(fitted[key], value):
            raise ModelError(f"model file gives {cls.__name__} the state {key}={shown_value(value)}, which the project never "
                             f"writes{f' (allowed: {fitted[key].says})' if key in fitted else ''}; {fix}", path)


def _defaults(cls) -> dict[str, object]:
    params = inspect.signature(cls.__init__).parameters.values()
    return {p.name: p.default for p in params if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}


def _equal(a, b) -> bool:
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - any value a file holds: "not equal" is the safe answer
        return False


def _passes(rule: Rule, value) -> bool:
    try:
        return bool(rule.test(value))
    except Exception:  # noqa: BLE001 - a test that cannot judge a value refuses it
        return False


def shown_value(value) -> str:
    """A value on one error line: repr (which escapes control characters) on one line, cut to 80 characters."""
    text = " ".join(repr(value).split())
    return text if len(text) <= 80 else text[:77] + "..."
