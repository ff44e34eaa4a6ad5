"""The ``basketgym`` command: one module per command (arguments and printing only), dispatched from here.

A thin layer over library functions. User errors (bad scenario, unknown ranker, existing output,
unreadable or corrupt files, unwritable output, bad arguments) print one line ``basketgym: error:
...`` and exit with status 2; an interrupt exits with 130 and leaves earlier results intact.
Anything else is a bug and shows its traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from basketgym.cli import check, leaderboard, logs, ope, regress, report, run, sweep, train, uplift, validate
from basketgym.cli import list as list_command
from basketgym.cli.common import EXIT_INTERRUPTED, EXIT_USAGE, OneLineParser, argument_problem
from basketgym.contract.errors import BasketgymError
from basketgym.contract.files import one_line, os_error_line

COMMANDS = (
    run,
    check,
    report,
    sweep,
    leaderboard,
    regress,
    logs,
    ope,
    train,
    uplift,
    validate,
    list_command,
)  # in --help's order


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command (exposed for docs and tests)."""
    p = OneLineParser(prog="basketgym", description="Grocery-marketplace ranking testbed.")
    sub = p.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_to(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``basketgym`` console script and ``python -m basketgym``."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as e:  # --help (0), or a usage error already printed on one line by OneLineParser.error
        return e.code if isinstance(e.code, int) else EXIT_USAGE
    problem = argument_problem(args)
    if problem is not None:
        print(f"basketgym: error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    try:
        return args.func(args)
    except BasketgymError as e:
        print(f"basketgym: error: {one_line(e)}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # output piped into a reader that stopped early (e.g. `| head`): not an error
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as e:  # last resort: a file no boundary check caught (full disk, read-only output): still one line
        print(f"basketgym: error: {os_error_line(e)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(
            "\nbasketgym: interrupted; earlier results are intact"
            " (this run's finished worlds are in its .partial directory)",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
