"""Guarded promotion: whether a newly trained model may replace the current one, and doing it.

The new model is compared with the current one on the held-out set
(``compare.compare_models``) and becomes current only if it is not
significantly worse, i.e. the 95% paired bootstrap interval of its macro-F1
difference does not lie wholly below zero.  A current model whose card does
not record the held-out set may have been trained on it, so its inflated
score cannot veto.  Without a held-out set there is nothing honest to
compare on, and the current model stays unless forced.

``talks train`` calls :func:`promote_if_not_worse`; so can a script or a notebook.
"""
from __future__ import annotations

from dataclasses import dataclass

from pipeline.model.registry import current_id, read_card, set_current
from pipeline.project import Project


@dataclass(frozen=True)
class Promotion:
    """What :func:`promote_if_not_worse` found and did."""

    model_id: str
    """The candidate."""
    previous: str | None
    """The model current before the call (None: there was none)."""
    promoted: bool
    """Whether the candidate is now current because of this call."""
    reason: str
    """Why, in words; also the ``reason`` of the history line when promoted."""
    comparison: dict | None = None
    """The ``compare_models`` result of previous (A) against the candidate (B), when one was made."""
    record: dict | None = None
    """The history line written when promoted."""

    @property
    def already_current(self) -> bool:
        """The candidate was current before the call (a retrain with the same labels and settings)."""
        return self.previous == self.model_id


def promotion_decision(comparison: dict | None, force: bool = False) -> tuple[bool, str]:
    """(promote?, why) from a ``compare_models`` result of current (a) against new (b); None: nothing to compare with."""
    if force:
        return True, "--force"
    if comparison is None:
        return True, "no current model to compare with"
    d = comparison["difference"]
    lo, hi = d["macro_f1_ci"]
    if comparison["models"][0].get("heldout_at_training") is None and "heldout" in comparison:
        return True, (f"the current model predates the held-out set and may have been trained on it, so its held-out "
                      f"score is inflated (macro-F1 {d['macro_f1']:+.3f} [{lo:+.3f}, {hi:+.3f}]) and cannot veto")
    if hi < 0:
        return False, (f"significantly worse on the held-out set: macro-F1 {d['macro_f1']:+.3f} [{lo:+.3f}, {hi:+.3f}]; "
                       "kept the current model (use --force, or 'talks models promote', to override)")
    return True, f"not significantly worse on the held-out set: macro-F1 {d['macro_f1']:+.3f} [{lo:+.3f}, {hi:+.3f}]"


def promote_if_not_worse(
    model: str,
    project: Project = Project(),
    force: bool = False,
    action: str = "train",
) -> Promotion:
    """Make ``model`` (in ``project.models``) current unless it is significantly worse than the current
    model on the project's held-out set.

    ``force`` promotes whatever the comparison says.  Returns a
    :class:`Promotion`: the comparison made (if any), whether the model was
    promoted and why, and the history line written.  Raises ModelError for an
    unknown model and LabelError for unreadable labels.
    """
    from pipeline.evaluation.compare import compare_models

    card = read_card(project.models, model)
    model_id = card.get("model_id") or str(model)
    cur = current_id(project.models)
    if cur == model_id:
        return Promotion(model_id, cur, False, f"{cur} is already current (same labels and settings)")
    comparison = None
    if cur is not None and card.get("heldout"):
        comparison = compare_models(cur, model_id, project)
    ok, why = promotion_decision(comparison, force=force)
    if cur is not None and not card.get("heldout") and not force:
        ok, why = False, "no held-out set to compare on; kept the current model (use --force to promote anyway)"
    if not ok:
        return Promotion(model_id, cur, False, why, comparison)
    return Promotion(model_id, cur, True, why, comparison, set_current(project.models, model_id, action, why))
