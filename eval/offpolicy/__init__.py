"""Off-policy evaluation: estimator classes with a common base, weight diagnostics, and grading against the truth.

``estimators``, ``slate`` and ``diagnostics`` are pure (logged arrays in, estimates out); only ``grading`` runs
worlds, to know the truth.
"""
