"""Stage 2, the labels: the store files per annotator (``store``), the labelling tools' write-ahead log
(``journal``), the checked and resolved view that training reads (``gold``), the held-out set (``heldout``),
agreement (``agreement``), exchange with other labelling tools (``interop``), and carrying the labels across a
cleaning change that moves sentence ids (``migrate``).
"""
