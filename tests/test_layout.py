"""The package is a picture of the pipeline: a package per stage, every import pointing down the stage
order (so no import circle between stages), and no module grown past what one reader holds in mind."""
from __future__ import annotations

import ast
from pathlib import Path

PIPELINE = Path(__file__).parent.parent / "pipeline"
# The stages in the order data flows; "ground" is the modules directly in pipeline/ (errors, records, store, ...).
ORDER = ["ground", "corpus", "labels", "model", "labelling", "tagging", "evaluation", "analysis", "cli"]
MAX_LINES = 600


def _stage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and (PIPELINE / parts[1]).is_dir() else "ground"


def _imports(path: Path) -> list[str]:
    """The pipeline modules a file imports, lazy (inside functions) imports included."""
    return [n.module for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(n, ast.ImportFrom) and n.module and n.module.startswith("pipeline.")]


def test_every_stage_is_a_package_listed_in_order():
    packages = {p.name for p in PIPELINE.iterdir() if (p / "__init__.py").is_file()}
    assert packages == set(ORDER) - {"ground"}


def test_imports_point_down_the_stage_order():
    upward = []
    for path in sorted(PIPELINE.rglob("*.py")):
        if path.name == "__main__.py":  # the entry point runs the command line by definition
            continue
        me = _stage("pipeline." + ".".join(path.relative_to(PIPELINE).with_suffix("").parts))
        upward += [f"{path.relative_to(PIPELINE)} ({me}) imports {m}" for m in _imports(path)
                   if ORDER.index(_stage(m)) > ORDER.index(me)]
    assert not upward, "\n".join(upward)


def test_no_module_past_the_size_one_reader_holds():
    big = {str(p.relative_to(PIPELINE)): n for p in PIPELINE.rglob("*.py")
           if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not big, big


def test_no_module_imports_another_modules_private_names():
    private = []
    for path in sorted(PIPELINE.rglob("*.py")):
        for n in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(n, ast.ImportFrom) and n.module and n.module.startswith("pipeline."):
                private += [f"{path.relative_to(PIPELINE)}: {a.name} from {n.module}" for a in n.names
                            if a.name.startswith("_") and not a.name.startswith("__")]
    assert not private, "\n".join(private)


def test_no_import_circle_between_modules():
    """Inside a stage too (model/folder.py and model/loading.py once imported each other)."""
    def name(p: Path) -> str:
        parts = p.relative_to(PIPELINE.parent).with_suffix("").parts
        return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)

    files = {name(p): p for p in PIPELINE.rglob("*.py")}
    graph = {m: {i for i in _imports(p) if i in files and i != m and not files[i].name == "__init__.py"} for m, p in files.items()}
    state: dict[str, int] = {}

    def visit(m: str, path: list[str]) -> list[str] | None:
        state[m] = 1
        for d in sorted(graph[m]):
            if state.get(d) == 1:
                return path + [m, d]
            if d not in state and (found := visit(d, path + [m])):
                return found
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state:
            assert (circle := visit(m, [])) is None, " -> ".join(circle)


def test_the_build_ships_every_stage_package():
    """A wheel (a non-editable install) gets every stage package, not only pipeline/: the packages the
    build finds from pyproject's [tool.setuptools.packages.find] are every folder of the package."""
    import re

    from setuptools import find_packages

    pyproject = (PIPELINE.parent / "pyproject.toml").read_text(encoding="utf-8")
    section = re.search(r"^\[tool\.setuptools\.packages\.find\]\n(.*?)(?=^\[)", pyproject, re.M | re.S)
    assert section, "pyproject.toml lists packages by hand; a new stage package would be left out of the wheel"
    include = re.findall(r'"([^"]+)"', re.search(r"^include\s*=\s*\[(.*?)\]", section[1], re.M | re.S)[1])
    found = set(find_packages(where=str(PIPELINE.parent), include=include))
    folders = {".".join(p.parent.relative_to(PIPELINE.parent).parts) for p in PIPELINE.rglob("__init__.py")}
    assert folders <= found and "pipeline.cli" in found
