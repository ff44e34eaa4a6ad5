"""The platform side: rankers that see only public attributes and logged history (every name: ``registry``)."""

from basketgym.rankers.registry import available, make_ranker, register_ranker

__all__ = ["available", "make_ranker", "register_ranker"]
