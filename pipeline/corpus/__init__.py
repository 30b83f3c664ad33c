"""Stage 1, the corpus: article files -> ``Article`` records (``ingest``) -> ``Sentence`` records
(``split``), kept as one generation under ``corpus/`` (``store``).
"""
