"""The platform side: rankers that see only public attributes and logged history."""

from basketgym.rankers import baselines as _baselines  # noqa: F401  (registers the baseline rankers)
from basketgym.rankers import objective as _objective  # noqa: F401  (registers the objective ranker)
from basketgym.rankers.registry import available, make_ranker, register

__all__ = ["available", "make_ranker", "register"]
