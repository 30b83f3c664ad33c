"""A longer fuzz campaign than the test suite's property tests: arbitrary bytes as
article files, arbitrary text through the splitter, arbitrary bytes as label stores,
arbitrary fields in a model card, arbitrary values in a model file's skops schema.

Each target must raise nothing but the project's own errors (PipelineError);
anything else is a finding, printed with its input.  A card's fields must also
reach the terminal (``talks models list|show``) with no control character, and
a model file whose schema loads must predict without an error of another kind.
Usage:
    python benchmarks/fuzz.py [--examples 3000]
"""
from __future__ import annotations

import argparse
import io
import json
import shutil
import tempfile
import time
import zipfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.errors import PipelineError
from pipeline.project import Project

FINDINGS: list[str] = []
SUFFIXES = [".txt", ".md", ".html", ""]
# Bytes that look like the formats: front matter, markup, entities, YAML anchors, control characters.
_pieces = st.sampled_from([b"---\n", b"title: ", b"date: 2016-02-30\n", b"url: http://[::1/x\n", b"&a [*a,*a]\n",
                           b"<p>", b"</p>", b"<html><body>", b"&amp;", b"\x00", b"\x1b[2J", b"\r\n", b"\n\n",
                           b"Mr. Smith said.", b'"Quote," he said.', b"\xff\xfe", b"**bold** ", b"> quote\n"])
_files = st.lists(st.one_of(_pieces, st.binary(max_size=64)), max_size=40).map(b"".join)


# JSON values, with the ones that hurt a model: huge and negative numbers, regular expressions that
# backtrack, file names, paths out, escape sequences, wrong containers, deep nesting.
_json_leaf = st.one_of(st.none(), st.booleans(), st.integers(min_value=-2**63, max_value=2**63), st.floats(allow_nan=False),
                       st.text(max_size=20), st.sampled_from(["(a|aa)+$", "filename", "file", "/etc/passwd", "../../x", "..",
                                                              "char", "char_wb", "\x1b]0;x\x07", "\x1b[2J", "\u202e", "l1", "sag",
                                                              "numpy.float32", "builtins.eval", "FunctionNode", "MethodNode"]),
                       st.sampled_from([100_000, 10**12, -1, 0, 1, 2, 64, 65]))
_json = st.recursive(_json_leaf, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                     max_leaves=12)
CARD_KEYS = ["schema", "model_id", "created", "labels", "thresholds", "features", "parameters", "selection", "cv_metrics",
             "training", "versions", "heldout", "format", "file", "sha256", "finetune"]
# What must never reach a terminal from a card: C0 controls (a line break only between Markdown lines), DEL, C1, bidi overrides.
_CONTROLS = {*map(chr, range(0x20)), "\x7f", *map(chr, range(0x80, 0xA0)), "\u202e", "\u202d", "\u2066", "\u2067", "\u2068"}


def _finding(target: str, data) -> str:
    return f"{target}: {data!r:.200}"


def _record(target: str, data) -> None:
    FINDINGS.append(_finding(target, data))


def _where(e: Exception) -> str:
    """The line an exception came from (the first frame in the project's code), for a finding."""
    import traceback

    frames = traceback.extract_tb(e.__traceback__)
    ours = [f for f in frames if "/pipeline/" in f.filename] or frames
    return f"{Path(ours[-1].filename).name}:{ours[-1].lineno}" if ours else "?"


CARD_FIELDS = st.dictionaries(st.sampled_from(CARD_KEYS + ["x"]), _json, max_size=6)


class ModelTargets:
    """A small trained model folder (word n-grams, written as ``talks train`` writes one) and the two
    model targets run against it; ``tests/test_robust_models.py`` runs them too, on fewer examples."""

    def __init__(self, tmp: Path):
        import numpy as np

        from pipeline.model.features import make_pipeline
        from pipeline.model.folder import card_head, library_versions, write_model_folder
        from pipeline.records import LABELS

        texts = np.array(["Envoys met in Geneva.", "Air strikes killed 40 people.", "Aid reached Madaya.", "Russia was blamed.",
                          "Talks resumed on Monday.", "Shelling hit Aleppo.", "Food ran short.", "The opposition accused Assad."] * 3,
                         dtype=object)
        Y = np.array([[i % 4 == j for j in range(4)] for i in range(len(texts))], dtype=int)
        scores = {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 6}
        card = {**card_head("fuzz-model", {"features": "word", "C": 1.0}, {lab: 0.5 for lab in LABELS}, None),
                "selection": {"cv": "grouped 5-fold"}, "versions": library_versions(), "heldout": None,
                "cv_metrics": {"per_label": {lab: scores for lab in LABELS}, "macro": {"f1": 0.5}, "micro": {"f1": 0.5}},
                "training": {"sentences": len(texts), "articles": 8, "guidelines_version": "1", "labels_sha256": "0" * 64}}
        self.tmp = tmp
        self.good_card = write_model_folder(tmp / "models", make_pipeline("word", 1.0).fit(texts, Y), card)
        self.folder = tmp / "models" / "fuzz-model"
        with zipfile.ZipFile(self.folder / "model.skops") as z:
            self.entries = {n: z.read(n) for n in z.namelist()}
        schema = json.loads(self.entries["schema.json"])
        self.paths = _schema_paths(schema)
        # the parameters and attributes: a JSON value stored as text in its node (what a hand edit changes)
        self.values = [p for p in self.paths if isinstance(_at(schema, p), dict) and _at(schema, p).get("__loader__") == "JsonNode"]

    def card(self, fields: dict, keep: bool) -> list[str]:
        """Findings for ``fields`` written into the card (over the good card's, if ``keep``)."""
        from pipeline.model.folder import card_markdown, load_card
        from pipeline.model.loading import load_model
        from pipeline.model.registry import list_models

        (self.folder / "card.json").write_text(json.dumps({**(self.good_card if keep else {}), **fields}))
        found, shown = [], []
        for name, step in (("load_card", lambda: shown.append(card_markdown(load_card(self.folder / "card.json")))),
                           ("list_models", lambda: shown.extend(str(v) for r in list_models(self.folder.parent) for v in r.values())),
                           ("load_model", lambda: load_model(self.folder))):
            try:
                step()
            except PipelineError:
                pass
            except Exception as e:  # noqa: BLE001 - a finding, recorded with its input
                found.append(_finding(f"card {name} {type(e).__name__} at {_where(e)}: {e}", fields))
        if any(c in _CONTROLS for text in shown for c in text.replace("\n", "")):
            found.append(_finding("card field reaches the terminal with a control character", fields))
        return found

    def schema(self, draw) -> tuple[list[str], bool]:
        """Findings for the model file with one to three places of its schema changed (``draw``: hypothesis's),
        and whether it loaded (and then predicted)."""
        from pipeline.model.artefact import load

        schema = json.loads(self.entries["schema.json"])
        for _ in range(draw(st.integers(1, 3))):
            try:
                if draw(st.booleans()):
                    _at(schema, draw(st.sampled_from(self.values)))["content"] = json.dumps(draw(_json))
                else:
                    *parents, key = draw(st.sampled_from(self.paths))
                    _at(schema, parents)[key] = draw(_json)
            except (KeyError, IndexError, TypeError):  # an earlier change removed the place
                continue
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as z:
            for n, payload in self.entries.items():
                z.writestr(n, json.dumps(schema) if n == "schema.json" else payload)
        path = self.tmp / "schema-fuzz.skops"
        path.write_bytes(out.getvalue())
        try:
            art = load(path)
        except PipelineError:
            return [], False
        except Exception as e:  # noqa: BLE001
            return [_finding(f"schema load {type(e).__name__} at {_where(e)}: {e}", schema)], False
        try:
            art["pipeline"].predict_proba(["Envoys met in Geneva.", "a" * 40])
        except PipelineError:
            pass
        except Exception as e:  # noqa: BLE001
            return [_finding(f"schema predict {type(e).__name__} at {_where(e)}: {e}", schema)], True
        return [], True


def _schema_paths(node, path=()) -> list[tuple]:
    """Every place in a skops schema a value can be changed: (keys...) to each dict entry and list item."""
    out = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for k, v in items:
        out.append((*path, k))
        out += _schema_paths(v, (*path, k))
    return out


def _at(schema, path):
    for k in path:
        schema = schema[k]
    return schema


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=3000)
    args = ap.parse_args()
    from pipeline.corpus.ingest import read_article
    from pipeline.labels.gold import find_problems
    from pipeline.corpus.split import split_article
    from pipeline.corpus.store import build_corpus

    tmp = Path(tempfile.mkdtemp(prefix="talks-fuzz-"))
    corpus = tmp / "corpus"
    (tmp / "seed").mkdir()
    (tmp / "seed" / "a.txt").write_text("Talks open\n\nEnvoys met in Geneva on Monday.\n")
    build_corpus([tmp / "seed"], corpus)
    counts = {"articles": 0, "labels": 0}
    fuzz = settings(max_examples=args.examples, deadline=None, derandomize=False, database=None,
                    suppress_health_check=list(HealthCheck))

    @fuzz
    @given(data=_files, suffix=st.sampled_from(SUFFIXES))
    def articles(data: bytes, suffix: str) -> None:
        counts["articles"] += 1
        path = tmp / f"x{suffix}"
        path.write_bytes(data)
        try:
            split_article(read_article(path))
        except PipelineError:
            pass
        except Exception as e:  # noqa: BLE001 - a finding, recorded with its input
            _record(f"article{suffix} {type(e).__name__}: {e}", data)

    @fuzz
    @given(data=st.lists(st.one_of(st.sampled_from([b"sentence_id,article_id,text,diplomacy,violence,humanitarian,blame,junk,annotator,timestamp\n",
                                                   b"\xef\xbb\xbf", b'"', b",", b"\r\n", b"1", b"0", b"s1", b"a"]),
                                   st.binary(max_size=16)), max_size=60).map(b"".join))
    def label_stores(data: bytes) -> None:
        counts["labels"] += 1
        labels = tmp / "labels"
        labels.mkdir(exist_ok=True)
        (labels / "fuzz.csv").write_bytes(data)
        try:
            find_problems(Project(corpus=corpus, labels=labels))
        except PipelineError:
            pass
        except Exception as e:  # noqa: BLE001
            _record(f"label store {type(e).__name__}: {e}", data)

    models = ModelTargets(tmp)
    counts.update(cards=0, schemas=0, schemas_loaded=0)

    @fuzz
    @given(fields=CARD_FIELDS, keep=st.booleans())
    def cards(fields: dict, keep: bool) -> None:
        counts["cards"] += 1
        FINDINGS.extend(models.card(fields, keep))

    @fuzz
    @given(data=st.data())
    def schemas(data) -> None:
        counts["schemas"] += 1
        found, loaded = models.schema(data.draw)
        counts["schemas_loaded"] += loaded
        FINDINGS.extend(found)

    start = time.time()
    articles()
    label_stores()
    cards()
    schemas()
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"{counts['articles']} article files, {counts['labels']} label stores, {counts['cards']} model cards and "
          f"{counts['schemas']} skops schemas ({counts['schemas_loaded']} loaded and predicted) in {time.time() - start:.0f} s; "
          f"{len(FINDINGS)} finding(s)")
    for f in sorted(set(FINDINGS), key=FINDINGS.index)[:20]:
        print("  " + f[:300])


if __name__ == "__main__":
    main()
