"""Evaluation, the only layer that reads the truth: statistics, outcomes, orchestration, off-policy, uplift, reporting.

Subpackages, each importing only those listed before it (tests/eval/test_layout.py):
``stats`` (no world: bootstrap, intervals, A/B tests, probability quality, input checks),
``outcomes`` (what a world's logs are worth), ``orchestration`` (running worlds and their directories),
``offpolicy`` and ``uplift`` (estimators and learners graded against exact counterfactuals),
``reporting`` (text, JSON and figures), ``leaderboard`` (sweeps kept in SQLite, scored across scenarios) and
``regression`` (a candidate against a baseline in twin worlds). ``ranker_wall`` scans rankers/ for bypasses of
the wall.
"""
