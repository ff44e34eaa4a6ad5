"""Uplift modelling graded against truth: twin-world exposure tests, uplift metrics, and the learners' comparison."""
