"""talks: tag news coverage of the Syria peace talks sentence by sentence.

A package per stage, data flowing one way: ``corpus`` (files -> articles ->
sentences) -> ``labels`` (hand labels, the held-out set) -> ``model`` (features,
training, the model folder) -> ``labelling`` (what to label next, the labelling
tools) -> ``tagging`` (new coverage) -> ``evaluation`` (metrics, comparison,
report, promotion) -> ``analysis`` (trends) -> ``cli`` (the ``talks`` command).
The library returns results; only ``cli`` and the interactive labelling tools
write to the terminal.
"""
from pipeline.errors import CorpusError, LabelError, ModelError, PipelineError
from pipeline.records import LABELS, Article, Sentence

__version__ = "0.1.0"

__all__ = ["LABELS", "Article", "Sentence", "PipelineError", "CorpusError", "LabelError", "ModelError", "__version__"]
