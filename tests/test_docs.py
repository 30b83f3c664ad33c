"""The README and docs/: every generated block has one home and renders there, links resolve, the README stays a first page."""
from __future__ import annotations

import json
import re
import shutil
import sys

import pytest

from conftest import REPO

sys.path.insert(0, str(REPO / "scripts"))

import readme_figures  # noqa: E402

BLOCK = re.compile(r"<!-- figures:([a-z0-9-]+) -->\n")
# Blocks written by the other generators (benchmarks/bench_table.py, benchmarks/models.py, scripts/label_dependencies.py).
OTHER_GENERATORS = {"bench", "models", "heads"}


def _docs(root):
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


def test_every_block_has_exactly_one_home():
    homes: dict[str, list[str]] = {}
    for p in _docs(REPO):
        for name in BLOCK.findall(p.read_text(encoding="utf-8")):
            homes.setdefault(name, []).append(p.name)
    assert all(len(v) == 1 for v in homes.values()), homes
    rendered = set(readme_figures.render(json.loads(readme_figures.OUT.read_text())))
    assert rendered <= set(homes), rendered - set(homes)
    assert set(homes) == rendered | OTHER_GENERATORS


def test_render_rewrites_each_block_where_it_lives(tmp_path):
    (tmp_path / "docs").mkdir()
    files = [tmp_path / "README.md", tmp_path / "docs" / "a.md"]
    files[0].write_text("# x\n<!-- figures:one -->\nold\n<!-- /figures -->\n", encoding="utf-8")
    files[1].write_text("<!-- figures:two -->\nold\n<!-- /figures -->\nafter\n", encoding="utf-8")
    assert readme_figures.write_blocks({"one": "new 1", "two": "new 2"}, files) == files
    assert files[0].read_text() == "# x\n<!-- figures:one -->\nnew 1\n<!-- /figures -->\n"
    assert files[1].read_text() == "<!-- figures:two -->\nnew 2\n<!-- /figures -->\nafter\n"
    with pytest.raises(SystemExit, match="three"):
        readme_figures.write_blocks({"three": "x"}, files)


def test_committed_blocks_are_what_the_committed_json_renders(tmp_path):
    """`scripts/readme_figures.py --render` would change nothing."""
    for p in _docs(REPO):
        dest = tmp_path / p.relative_to(REPO)
        dest.parent.mkdir(exist_ok=True)
        shutil.copy(p, dest)
    readme_figures.write_blocks(readme_figures.render(json.loads(readme_figures.OUT.read_text())), _docs(tmp_path))
    changed = [p.name for p in _docs(tmp_path) if p.read_text() != (REPO / p.relative_to(tmp_path)).read_text()]
    assert changed == []


def test_readme_is_a_first_page():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 250
    for needed in ("figures:sample", "figures:model", "make run", "make test", "GUIDELINES.md", "docs/labelling.md"):
        assert needed in text


def test_relative_links_resolve():
    link = re.compile(r"\]\(([^)#:]+)(?:#[^)]*)?\)")
    missing = [(p.name, target) for p in _docs(REPO) for target in link.findall(p.read_text(encoding="utf-8"))
               if not (p.parent / target).exists()]
    assert missing == []


def test_no_old_module_paths_in_the_prose():
    gone = re.compile(r"pipeline/(train|cli|report|ingest|labels|labeltool|weblabel|distributed|tag_output|corpus|label_stats|"
                      r"paths|queue|tag|trends|embed|finetune|cues|wordvec|artefact|heldout)\.py|\bcli\.py\b")
    hits = [(p.name, m.group(0)) for p in _docs(REPO) for m in gone.finditer(p.read_text(encoding="utf-8"))]
    assert hits == []


def _talks_lines(text: str) -> list[str]:
    """Every ``talks ...`` command in the fenced shell blocks of a Markdown text, without its comment."""
    lines = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        for line in block.splitlines():
            line = line.split("  #")[0].split(" | ")[0].split(" > ")[0].split(" && ")[0].strip()
            if line.startswith("talks "):
                lines.append(line)
    return lines


def test_every_documented_command_parses():
    """A renamed command or option (``evaluate --compare``) or a made-up one fails here, not in a user's shell."""
    import shlex

    from pipeline.cli import build_parser

    docs = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    commands = [(d.name, line) for d in docs for line in _talks_lines(d.read_text(encoding="utf-8"))]
    assert len(commands) >= 10
    parser = build_parser()
    for name, line in commands:
        argv = [a for a in shlex.split(line)[1:] if a not in ("...", "\\")]
        argv = [re.sub(r"<[^>]+>", "x", a) for a in argv]
        try:
            ns = parser.parse_args(argv)
        except SystemExit:
            raise AssertionError(f"{name}: {line!r} does not parse") from None
        assert getattr(ns, "compare", None) is None, f"{name}: {line!r} uses the renamed 'evaluate --compare'"


def test_the_loop_names_no_model_id():
    """The README's loop must work in a user's own project: models by 'current'/'previous', not by a shipped id."""
    loop = _talks_lines(re.search(r"## The retraining loop(.*?)\n## ", (REPO / "README.md").read_text(encoding="utf-8"), re.S)[1])
    assert any(line.startswith("talks compare previous current") for line in loop)
    assert not any(re.search(r"\b(?:tfidf|cues|emb|both|ft)-[0-9a-f]{10}\b", line) for line in loop)

