"""Stage 6, evaluation: held-out and cross-validated figures with article-bootstrap intervals
(``evaluate``), two models side by side (``compare``), errors and features (``diagnostics``), and the
report (``report``).
"""
