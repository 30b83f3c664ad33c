"""Stage 3, the model: features (``features``, ``cues``, ``wordvec``, ``embed``), selection and training
(``selection``, ``finetune``), the model folder and its card (``folder``, ``artefact``, and the values a
model file may hold: ``allowed``), loading (``loading``), which model is current (``registry``) and what a
model costs (``cost``).
"""
