"""Running worlds for a purpose: the run grid, plan and directories, bandit logs, training and realism worlds.

Orchestration only: what a world's results mean is computed in ``outcomes`` and ``stats``; no text is formatted here.
"""
