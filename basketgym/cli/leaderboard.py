"""``basketgym leaderboard``: LEADERBOARD.md, leaderboard.json and a self-contained HTML page from a sweep."""

from __future__ import annotations

import argparse

HELP = "write the leaderboard (Markdown, JSON, HTML) of a sweep directory"


def add_to(sub: argparse._SubParsersAction) -> None:
    """Register ``leaderboard``."""
    p = sub.add_parser("leaderboard", help=HELP, description=HELP + " (cells of the installed code only).")
    p.add_argument("sweep_dir", help="a directory written by basketgym sweep")
    p.add_argument("--out", help="where to write the three files (default: the sweep directory)")
    p.add_argument("--bootstrap", type=int, default=2000, help="stratified bootstrap replicates (default 2000)")
    p.set_defaults(func=execute)


def execute(args: argparse.Namespace) -> int:
    """Build the board, print its Markdown, write the files."""
    from basketgym.eval.leaderboard.board import build_board
    from basketgym.eval.leaderboard.render import markdown, publish

    board = build_board(args.sweep_dir, n_boot=args.bootstrap)
    if not board.scenarios:
        print(f"{args.sweep_dir}: no cells of this code version ({board.code_version}); run the sweep again")
        return 1
    print(markdown(board))
    files = publish(board, args.out or args.sweep_dir)
    print("wrote " + ", ".join(str(f) for f in files))
    return 0
