"""Learned rankers: training data logged at serving time, multi-task networks (torch); more in issue 6."""
