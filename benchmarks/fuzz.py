"""A longer fuzz campaign than the test suite's property tests: arbitrary bytes as
article files, arbitrary text through the splitter, arbitrary bytes as label stores.

Each target must raise nothing but the project's own errors (PipelineError);
anything else is a finding, printed with its input.  Usage:
    python benchmarks/fuzz.py [--examples 3000]
"""
from __future__ import annotations

import argparse
import tempfile
import time
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


def _record(target: str, data) -> None:
    FINDINGS.append(f"{target}: {data!r:.200}")


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

    start = time.time()
    articles()
    label_stores()
    print(f"{counts['articles']} article files and {counts['labels']} label stores in {time.time() - start:.0f} s; "
          f"{len(FINDINGS)} finding(s)")
    for f in FINDINGS[:20]:
        print("  " + f)


if __name__ == "__main__":
    main()
