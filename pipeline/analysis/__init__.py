"""Stage 7, analysis of tagged coverage: trends by outlet and period (``trends``) and the coverage
page (``coverage``).
"""
