"""Stage 3, the model: features (``features``, ``cues``, ``wordvec``, ``embed``), selection and training
(``selection``, ``finetune``), the model folder and its card (``folder``, ``artefact``), loading
(``loading``), which model is current (``registry``) and what a model costs (``cost``).
"""
