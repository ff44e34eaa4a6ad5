"""Learned rankers: training data from logs; models come next (issue 6)."""
