"""Learned rankers: serving-time training data, networks, LightGBM, calibration, saved models, value and uplift."""
