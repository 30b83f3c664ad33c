"""talks: tag news coverage of the Syria peace talks sentence by sentence.

Flow: ``ingest`` (files -> articles) -> ``split`` (articles -> sentences) ->
``labels`` (hand labels) -> ``train`` (model folder) -> ``tag`` (new coverage)
-> ``evaluate`` (metrics and report).  ``cli`` is the only module that prints.
"""
from pipeline.errors import CorpusError, LabelError, ModelError, PipelineError
from pipeline.records import LABELS, Article, Sentence

__version__ = "0.1.0"

__all__ = ["LABELS", "Article", "Sentence", "PipelineError", "CorpusError", "LabelError", "ModelError", "__version__"]
