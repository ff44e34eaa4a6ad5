"""A team's own ranker by import path (``"my_pkg.module:MyRanker"``), wherever a scenario names a ranker.

``rankers/`` may not import modules by name (its isolation scan forbids ``importlib``), so an
import path is turned into its class here and the class is what ``rankers.make_ranker`` gets.
Every process resolves the path itself: a run's worker processes need nothing registered first.
"""

from __future__ import annotations

import importlib
import re

from basketgym.contract.errors import RankerError

IMPORT_PATH = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")


def is_import_path(name: str) -> bool:
    """True when ``name`` is spelled ``package.module:Class`` (a ranker class's import path)."""
    return IMPORT_PATH.fullmatch(name) is not None


def ranker_class(path: str) -> type:
    """The class an import path ``package.module:Class`` (``Class`` may be ``Outer.Inner``) names.

    RankerError, in one line, when the module cannot be imported or holds no such class.
    """
    if not is_import_path(path):
        raise RankerError(f"ranker '{path}': an import path is spelled package.module:Class")
    module_name, qualname = path.split(":")
    try:
        found: object = importlib.import_module(module_name)
    except ImportError as e:
        raise RankerError(f"ranker '{path}': cannot import {module_name}: {e}") from None
    for part in qualname.split("."):
        if not hasattr(found, part):
            raise RankerError(f"ranker '{path}': module '{module_name}' has no '{qualname}'")
        found = getattr(found, part)
    if not isinstance(found, type):
        raise RankerError(f"ranker '{path}': '{qualname}' is a {type(found).__name__}, not a class")
    return found


def resolve_ranker(name: str) -> str | type:
    """What ``rankers.make_ranker`` takes for a ranker ``name``: the class an import path names, else the name."""
    return ranker_class(name) if is_import_path(name) else name
