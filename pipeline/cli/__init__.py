"""The ``talks`` command line: parse arguments, call one library function, show the result.

One module per command group, each holding its handlers and, beside them,
``register(subparsers)`` that adds their options: ``corpus`` (ingest, corpus),
``labels`` (labels, label, queue), ``train``, ``models`` (compare, models),
``heldout``, ``tag`` (tag, explain), ``ties`` (ties train, evaluate, agree), ``evaluate`` (evaluate, simulate) and
``analysis`` (trends, share-error); ``_util`` holds what they share.

This package is the only part of the pipeline that prints, draws progress
bars or sets exit codes.  The library raises :class:`PipelineError`; ``main``
turns it into one ``error: ...`` line and exit status 1 (no traceback).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline import __version__
from pipeline.cli import analysis, corpus, evaluate, heldout, labels, models, tag, ties, train
from pipeline.cli._util import resolve_defaults
from pipeline.errors import PipelineError

# In the order ``talks --help`` lists them: the workflow, ingest to trends.
COMMAND_MODULES = (corpus, labels, train, models, heldout, tag, ties, evaluate, analysis)


def build_parser() -> argparse.ArgumentParser:
    """The whole ``talks`` parser: the top level here, every command from its module's ``register``."""
    p = argparse.ArgumentParser(
        prog="talks",
        description="Tag news coverage of the Syria peace talks sentence by sentence "
        "(diplomacy, violence, humanitarian, blame): ingest, label, train, tag, evaluate, trends. "
        "Default paths (corpus, labels, models, out) are in the project root: $TALKS_ROOT, else the nearest folder "
        "from the current one upward that holds the project's pyproject.toml or labels/ and models/.",
    )
    p.add_argument("--version", action="version", version=f"talks {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMAND_MODULES:
        module.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run ``talks`` with ``argv`` (default: the process's); return the exit status."""
    args = build_parser().parse_args(argv)
    root = None
    try:
        root = resolve_defaults(args)
        return int(args.func(args) or 0)
    except PipelineError as e:
        # Something missing under a default path: say which project root it was looked for in.
        missing = root is not None and e.path is not None and not Path(e.path).exists()
        print(f"error: {e}" + (f" (project root: {root})" if missing else ""), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
