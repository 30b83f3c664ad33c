"""The CLI: help everywhere, one-line errors, exit codes, and the whole flow end to end."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

from pipeline.cli import build_parser, main

REPO = Path(__file__).parent.parent
DATA = Path(__file__).parent / "data"


def _commands(parser, prefix=()):
    for action in parser._actions:
        if action.__class__.__name__ == "_SubParsersAction":
            for name, sub in action.choices.items():
                yield (*prefix, name), sub
                yield from _commands(sub, (*prefix, name))


def test_every_command_has_help():
    cmds = list(_commands(build_parser()))
    assert len(cmds) >= 12
    for path, sub in cmds:
        assert sub.description, f"'talks {' '.join(path)}' has no description"
        for action in sub._actions:
            if action.__class__.__name__ in ("_HelpAction", "_SubParsersAction"):
                continue
            assert action.help, f"'talks {' '.join(path)}' option {action.dest} has no help"


def test_python_dash_m_runs():
    out = subprocess.run([sys.executable, "-m", "pipeline", "--help"], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0 and "ingest" in out.stdout


def test_errors_are_one_line_without_traceback(tmp_path, capsys):
    rc = main(["ingest", str(tmp_path / "nope"), "--root", str(tmp_path / "c")])
    err = capsys.readouterr().err
    assert rc == 1 and err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    rc = main(["corpus", "stats", "--root", str(tmp_path / "empty")])
    assert rc == 1 and "talks ingest" in capsys.readouterr().err


def test_ingest_warns_on_bad_files_and_keeps_going(tmp_path, articles_dir, capsys):
    rc = main(["ingest", str(articles_dir), str(DATA / "bad"), "--root", str(tmp_path / "c")])
    out = capsys.readouterr()
    assert rc == 1
    assert out.err.count("warning:") == 4 and "cp1252.txt" in out.err
    assert "read 7 files: 3 articles added" in out.out
    assert (tmp_path / "c" / "sentences.csv").exists()


def test_end_to_end(labelled_project, tmp_path, capsys):
    """ingest -> labels -> train -> tag -> explain -> evaluate, all through the CLI."""
    p = labelled_project
    common = ["--root", str(p["corpus"])]
    assert main(["ingest", str(p["raw"]), *common]) == 0
    assert main(["corpus", "stats", *common]) == 0
    assert main(["labels", "check", "--labels", str(p["labels"]), *common]) == 0
    assert main(["labels", "stats", "--labels", str(p["labels"]), *common]) == 0
    assert main(["heldout", "init", "--labels", str(p["labels"]), *common]) == 0
    assert main(["train", "--labels", str(p["labels"]), "--models", str(p["models"]), *common]) == 0
    assert "promoted" in capsys.readouterr().out  # the first model: nothing to compare with
    out = tmp_path / "tags.csv"
    assert main(["tag", str(p["raw"]), "--out", str(out), "--summary", str(tmp_path / "sum.csv"), "--models", str(p["models"])]) == 0
    tags = pd.read_csv(out)
    assert len(tags) == len(pd.read_csv(p["corpus"] / "sentences.csv"))
    assert main(["explain", "Air strikes killed 30 people in Homs.", "--models", str(p["models"])]) == 0
    said = {line.split()[1]: line.split()[0] for line in capsys.readouterr().out.splitlines() if line[:3] in ("YES", "no ")}
    # every label is always printed: what can break is which of them are tagged
    assert said == {"diplomacy": "no", "violence": "YES", "humanitarian": "no", "blame": "no"}
    report = tmp_path / "report"
    assert main(["evaluate", "--labels", str(p["labels"]), "--models", str(p["models"]), "--report", str(report), *common]) == 0
    assert (report / "report.html").exists() and (report / "metrics.json").exists() and (report / "summary.md").exists()


def test_every_command_help_renders_and_is_listed():
    """Each (sub)command's --help prints, and the listing of its parent gives it a line of help."""
    parser = build_parser()
    for path, sub in [((), parser), *_commands(parser)]:
        text = sub.format_help()
        assert "option_strings" not in text, f"'talks {' '.join(path)} --help' prints argparse internals (a bare %?)"
        for action in sub._actions:
            if action.__class__.__name__ == "_SubParsersAction":
                listed = {a.dest: a.help for a in action._choices_actions}
                for name in action.choices:
                    assert listed.get(name), f"'talks {' '.join((*path, name))}' has no help line in 'talks {' '.join(path)} --help'"


def test_each_command_lives_beside_its_options():
    """pipeline/cli/__init__.py builds the top parser only; each handler is in the module that registers its options."""
    import pipeline.cli as cli

    for path, sub in _commands(build_parser()):
        func = sub.get_default("func")
        if func is None:
            continue  # a group: its subcommands are checked
        module = sys.modules[func.__module__]
        assert func.__module__ != "pipeline.cli" and hasattr(module, "register"), f"'talks {' '.join(path)}'"
        assert module in cli.COMMAND_MODULES
    assert len((REPO / "pipeline" / "cli" / "__init__.py").read_text().splitlines()) < 100


def test_models_accept_current_and_previous_in_their_help():
    parser = build_parser()
    helps = {path: sub for path, sub in _commands(parser)}
    for path, dest in [(("models", "show"), "model"), (("models", "promote"), "model"), (("compare",), "a"),
                       (("tag",), "model"), (("explain",), "model"), (("evaluate",), "model")]:
        action = next(a for a in helps[path]._actions if a.dest == dest)
        assert "previous" in action.help, path


def test_the_command_line_starts_without_the_numeric_libraries():
    """`talks --help` and argument errors answer at once: numpy, pandas and scikit-learn load only in the handlers."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", "import sys, pipeline.cli; "
                          "print(sorted(m for m in ('numpy', 'pandas', 'sklearn') if m in sys.modules))"],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
