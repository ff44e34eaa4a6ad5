"""``basketgym list``: the bundled scenarios and the registered rankers."""

from __future__ import annotations

import argparse

HELP = "bundled scenarios and registered rankers"


def add_to(sub: argparse._SubParsersAction) -> None:
    """Register ``list``."""
    sub.add_parser("list", help=HELP).set_defaults(func=execute)


def execute(args: argparse.Namespace) -> int:
    """Print both lists."""
    from basketgym.rankers import available
    from basketgym.scenarios import bundled

    print("scenarios:", ", ".join(bundled()))
    print("rankers:  ", ", ".join(available()))
    return 0
