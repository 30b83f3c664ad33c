"""Stage 7, analysis of tagged coverage: trends by outlet and period (``trends``), the shares against hand labels and the
held-out error rates in the trends' intervals (``share_error``), and the coverage
page (``coverage``).
"""
