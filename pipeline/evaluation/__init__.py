"""Stage 6, evaluation: held-out and cross-validated figures with article-bootstrap intervals
(``evaluate``; the nested cross-validation in ``crossval``, the dict both modes fill in ``result``),
two models side by side (``compare``), errors and features (``diagnostics``), and the report
(``report`` writes the files: ``report_html`` the page, ``report_text`` Markdown and console text,
``plots`` the figures, ``wording`` the phrases they share), why a sentence is tagged (``explain``), and whether a newly
trained model may replace the current one (``promotion``).
"""
