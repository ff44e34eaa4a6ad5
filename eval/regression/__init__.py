"""Regression tests for rankers: a candidate against a baseline in paired twin worlds, with non-inferiority margins."""
