"""The `powawidget` command: `chat` (check credentials from a terminal), `serve` (the local
agent server), `demo` (the zero-config notebook demo), `evaluate` (many prompts) and
`compare` (two saved evaluations)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, one sub-command per job."""
    parser = argparse.ArgumentParser(
        prog="powawidget",
        description="Chat with Powabase agents from Jupyter or a terminal.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    from powawidget.cli import terminal

    chat = commands.add_parser(
        "chat", help="stream one agent run to the terminal (checks URL, key and agent)"
    )
    terminal.add_arguments(chat)
    chat.set_defaults(run=terminal.chat_main)

    from powawidget.server import cli as server_cli

    serve = commands.add_parser("serve", help="run the local Powabase-compatible agent server")
    server_cli.add_arguments(serve)
    serve.set_defaults(run=server_cli.serve_main)

    from powawidget.cli import demo

    demo_parser = commands.add_parser(
        "demo", help="open the quickstart notebook in JupyterLab against the local server"
    )
    demo.add_arguments(demo_parser)
    demo_parser.set_defaults(run=demo.demo_main)

    from powawidget.cli import evaluate

    evaluate_parser = commands.add_parser(
        "evaluate", help="run an agent over a file of prompts (CSV or JSON Lines) into Parquet"
    )
    evaluate.add_arguments(evaluate_parser)
    evaluate_parser.set_defaults(run=evaluate.evaluate_main)

    from powawidget.cli import compare

    compare_parser = commands.add_parser(
        "compare", help="compare two saved evaluations with paired tests on the same prompts"
    )
    compare.add_arguments(compare_parser)
    compare_parser.set_defaults(run=compare.compare_main)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    args = build_parser().parse_args(argv)
    return int(args.run(args) or 0)
