"""Import a labelling round's batch outputs into annotator stores, one store per annotator.

Each ``<round>/<pass>/batch-NN.jsonl`` (doccano JSONL: sentence_id and a
label list) was written by one annotator; it goes into
``labels/<name>.csv`` through ``talks labels import`` (the same matching and
checks as any doccano export).  The mapping from files to names is given on
the command line, e.g. ``labels/round2/pass1/batch-01.jsonl=ann13``.  An
adjudicator's decisions go to the adjudications, with the adjudicator's name
in the annotator column: ``labels/round2/adjudication-a.jsonl=adjudications:adjudicator-r2``.
Usage: python scripts/import_round.py FILE=NAME[:ADJUDICATOR] [...]
"""
from __future__ import annotations

import sys

from pipeline.labels.interop import import_labels
from pipeline.labels.gold import read_store
from pipeline.labels.store import store_path, write_store
from pipeline.project import Project


def main(argv: list[str]) -> int:
    for pair in argv:
        path, _, name = pair.partition("=")
        name, _, adjudicator = name.partition(":")
        res = import_labels(path, "doccano", name, Project())
        if adjudicator:
            import json

            ids = {json.loads(line)["sentence_id"] for line in open(path, encoding="utf-8") if line.strip()}
            store = read_store(store_path("labels", name))
            store.loc[store["sentence_id"].isin(ids), "annotator"] = adjudicator
            write_store(store, store_path("labels", name))
        for w in res["warnings"]:
            print(f"warning: {w}", file=sys.stderr)
        print(f"{path} -> {res['path']}: {res['rows']} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
