"""Import a labelling round's batch outputs into annotator stores, one store per annotator.

Each ``<round>/<pass>/batch-NN.jsonl`` (doccano JSONL: sentence_id and a
label list) was written by one annotator; it goes into
``labels/<name>.csv`` through ``talks labels import`` (the same matching and
checks as any doccano export).  The mapping from files to names is given on
the command line, e.g. ``labels/round2/pass1/batch-01.jsonl=ann13``.
Usage: python scripts/import_round.py FILE=NAME [FILE=NAME ...]
"""
from __future__ import annotations

import sys

from pipeline.interop import import_labels


def main(argv: list[str]) -> int:
    for pair in argv:
        path, _, name = pair.partition("=")
        res = import_labels(path, "doccano", name, "labels", "corpus")
        for w in res["warnings"]:
            print(f"warning: {w}", file=sys.stderr)
        print(f"{path} -> {res['path']}: {res['rows']} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
