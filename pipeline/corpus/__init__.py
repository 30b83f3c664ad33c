"""Stage 1, the corpus: article files -> ``Article`` records (``ingest``, which runs ``discover`` (inputs ->
files), ``readers`` (one file's format -> an article), ``metadata`` (front matter, dates, outlet),
``extract`` (the main text of HTML) and ``boilerplate`` (the paragraph rules)) -> ``Sentence`` records (``split``), kept as one generation under
``corpus/`` (``store``).
"""
