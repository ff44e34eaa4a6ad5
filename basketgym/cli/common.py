"""What the commands share: the one-line argument parser, the common arguments and their checks, the progress display.

Each command module holds only its arguments and its printing; the work is done by library
functions. Heavy imports (pandas, the simulator, torch) happen inside the commands, so that
``basketgym --help`` and ``import basketgym.cli`` stay cheap.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, NoReturn

from basketgym.contract.errors import BasketgymError

if TYPE_CHECKING:
    from basketgym.cli.progress import RunProgress
    from basketgym.sim.config import ScenarioConfig

EXIT_USAGE, EXIT_INTERRUPTED = 2, 130
POSITIVE = ("seeds", "jobs", "days", "epochs", "rounds", "max_rows", "experts", "expert_dim", "test_days", "bootstrap")


class OneLineParser(argparse.ArgumentParser):
    """argparse whose usage errors are one line like every other error (argparse prints the usage too)."""

    def error(self, message: str) -> NoReturn:
        """Print ``basketgym: error: [<command>: ]<message>`` and exit with status 2."""
        command = self.prog.removeprefix("basketgym").strip()
        where = f"{command}: " if command else ""
        self.exit(EXIT_USAGE, f"basketgym: error: {where}{message} (see '{self.prog} --help')\n")


def add_scenario(p: argparse.ArgumentParser) -> None:
    """The positional scenario: a TOML path or a bundled name."""
    p.add_argument("scenario", help="scenario TOML path or bundled name (default, smoke, ads_heavy)")


def add_days(p: argparse.ArgumentParser, text: str = "override the scenario's horizon") -> None:
    """``--days``: the scenario's horizon, overridden (``text``: its help)."""
    p.add_argument("--days", type=int, help=text)


def add_seed(p: argparse.ArgumentParser, text: str = "the world's seed (default: the scenario's seed)") -> None:
    """``--seed``: a world seed, the first of several where a command runs several (``text``: its help)."""
    p.add_argument("--seed", type=int, help=text)


def add_jobs(p: argparse.ArgumentParser) -> None:
    """``--jobs``: worlds simulated at the same time, each in its own process."""
    p.add_argument("--jobs", type=int, default=1, help="worlds simulated in parallel processes")


def add_logging_policy(p: argparse.ArgumentParser, explore: float, default: str | None = None) -> None:
    """``--logging`` (the ranker the logging policy explores around), ``--explore`` and ``--temperature``.

    One name for the logging policy in every command that logs (``logs``, ``ope``, ``train``): the
    off-policy vocabulary's logging policy, next to ``ope``'s ``--target``.
    """
    p.add_argument("--logging", required=default is None, default=default,
                   help="deterministic ranker the logging policy explores around"
                   + ("" if default is None else f" (default: {default})"))  # fmt: skip
    p.add_argument("--explore", type=float, default=explore, help="epsilon: probability a slate is explored")
    p.add_argument("--temperature", type=float, help="log Plackett-Luce over the ranker's scores instead")


def comma_list(text: str | None) -> list[str] | None:
    """``a, b,c`` as ``["a", "b", "c"]`` (None stays None: the scenario's own list)."""
    return None if text is None else [x.strip() for x in text.split(",") if x.strip()]


def argument_problem(args: argparse.Namespace) -> str | None:
    """The first numeric argument out of its range, as an error line; None when every one is in range."""
    for name in POSITIVE:
        value = getattr(args, name, None)
        if value is not None and value < 1:
            return f"--{name.replace('_', '-')} = {value}: must be >= 1"
    seed = getattr(args, "seed", None)
    if seed is not None:  # the range of a scenario's seed key (its spec), which a world seed shares
        import dataclasses

        from basketgym.sim.config import ScenarioConfig

        meta = {f.name: f.metadata for f in dataclasses.fields(ScenarioConfig)}["seed"]
        if not meta["lo"] <= seed <= meta["hi"]:
            return f"--seed = {seed}: must be between {meta['lo']} and {meta['hi']}"
    return None


def check_logging_policy(args: argparse.Namespace) -> None:
    """The logging policy's ranker exists (one line if not), ``--explore`` is a probability, ``--temperature`` > 0."""
    from basketgym.rankers import make_ranker

    make_ranker(args.logging)
    if not 0.0 <= args.explore <= 1.0:
        raise BasketgymError(f"--explore = {args.explore}: must be in [0, 1]")
    if args.temperature is not None and not args.temperature > 0:
        raise BasketgymError(f"--temperature = {args.temperature}: must be > 0")


def world_seed(args: argparse.Namespace, cfg: ScenarioConfig) -> int:
    """``--seed``, or the scenario's seed."""
    return args.seed if args.seed is not None else cfg.seed


def progress(total: int, jobs: int = 1) -> RunProgress:
    """The progress display of ``total`` worlds on stderr (tqdm is imported only when a command runs worlds)."""
    from basketgym.cli.progress import RunProgress

    return RunProgress(total, jobs)
