"""Stage 5, tagging: new coverage -> one row per sentence with probabilities and tags (``tag``), the
output schema and per-article summary (``output``), the on-topic flag (``relevance``), and the same
job on a Dask cluster (``cluster``).
"""
