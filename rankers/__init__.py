"""The platform side: rankers that see only public attributes and logged history (every name: ``registry``).

``make_ranker``, ``available`` and ``register_ranker`` load the registry on first use (PEP 562), so that
importing one ranker module never imports the table of every ranker, which imports that module back.
"""

from typing import Any

__all__ = ["available", "make_ranker", "register_ranker"]


def __getattr__(name: str) -> Any:
    if name not in __all__:  # first: ``from basketgym.rankers import registry`` asks for ``registry`` here
        raise AttributeError(f"module 'basketgym.rankers' has no attribute {name!r}")
    from basketgym.rankers import registry

    public = {
        "available": registry.available,
        "make_ranker": registry.make_ranker,
        "register_ranker": registry.register_ranker,
    }  # fmt: skip  (no computed getattr in rankers/)
    return public[name]
