"""Stage 2, the labels: the store files per annotator (``store``), the labelling tools' write-ahead log
(``journal``), the checked and resolved view that training reads (``gold``), the held-out set (``heldout``),
agreement (``agreement``) and exchange with other labelling tools (``interop``).
"""
