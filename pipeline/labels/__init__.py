"""Stage 2, the labels: hand labels per annotator (``store``), the held-out set (``heldout``), agreement
(``agreement``) and exchange with other labelling tools (``interop``).
"""
