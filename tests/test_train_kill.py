"""A `talks train` killed (SIGKILL) at any step of saving leaves the models folder usable.

The child process trains with every ``os.replace``/``os.rename`` held until
the test says go, so it can be killed right before each step that changes
the disk: writing the model file, the card and its Markdown into the staging
folder, putting the folder in place, appending the history, replacing
``models/current``.  After each kill the current model still loads and
every model folder that can be seen is complete; the next run cleans up.
"""
from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from pipeline.model.registry import current_id, list_models
from pipeline.model.loading import load_model
from pipeline.model.selection import train

from conftest import REPO, kill_before_step

_STEPPED_TRAIN = """
os.replace = stepped("replace", os.replace)
os.rename = stepped("rename", os.rename)
from pathlib import Path
from pipeline.model.selection import train
from pipeline.project import Project
train(Project(labels=Path(sys.argv[1]), corpus=Path(sys.argv[2]), models=Path(sys.argv[3])), grid=[{"features": "word", "C": 1.0}])
print("done", flush=True)
"""

# Before each of these steps the child is killed once (the names: the basename of the rename's target).
STEPS = ["replace model.skops", "replace card.json", "replace card.md", "rename tfidf-", "replace current"]


def _state(models):
    """What a user sees: the current model (loaded) and every listed model folder (each loaded)."""
    rows = list_models(models)
    assert not [r for r in rows if r.get("problem")], rows
    for r in rows:
        load_model(r["model_id"], models)
    return current_id(models), sorted(r["model_id"] for r in rows)


@pytest.mark.slow
def test_a_kill_at_any_step_of_saving_leaves_the_old_model_or_the_new(labelled_project, tmp_path):
    p = labelled_project
    old = train(p["project"], grid=[{"features": "word", "C": 4.0}])["model_id"]
    before = _state(p["models"])
    assert before == (old, [old])
    pristine = tmp_path / "pristine"
    shutil.copytree(p["models"], pristine)
    new = None
    for kill_at, expected in enumerate(STEPS):
        models = tmp_path / f"models{kill_at}"
        shutil.copytree(pristine, models)
        step = kill_before_step(_STEPPED_TRAIN, [p["labels"], p["corpus"], models], kill_at)
        assert step.startswith(expected), (kill_at, step)
        cur, listed = _state(models)
        if expected == "replace current":  # the new folder is in place, not yet current
            new = next(m for m in listed if m != old)
            assert (cur, listed) == (old, sorted([old, new]))
        else:
            assert (cur, listed) == before, step
    # the next run finishes the job and leaves nothing of the killed ones behind
    models = tmp_path / f"models{len(STEPS) - 2}"  # killed just before its folder went in place
    leftovers = [e.name for e in models.iterdir() if e.name.startswith(".")]
    assert leftovers  # the staging folder of the killed run
    # a new process, as a user's next run is: what dead writers left before it started is theirs to clean
    subprocess.run([sys.executable, "-c", "import sys; from pathlib import Path; from pipeline.model.selection import train; "
                    "from pipeline.project import Project; "
                    "train(Project(labels=Path(sys.argv[1]), corpus=Path(sys.argv[2]), models=Path(sys.argv[3])), "
                    "grid=[{'features': 'word', 'C': 1.0}])",
                    str(p["labels"]), str(p["corpus"]), str(models)], cwd=REPO, check=True, capture_output=True)
    assert _state(models) == (new, sorted([old, new]))
    assert [e.name for e in models.iterdir() if e.name.startswith(".")] == []
