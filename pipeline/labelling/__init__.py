"""Stage 4, labelling with a model's help: which sentences to label next (``queue``), the terminal and
web labelling tools (``terminal``, ``web``), and whether the queue beats random picks (``simulate``).
"""
