"""`powawidget evaluate AGENT prompts.csv`: run an agent over a prompt file from a terminal."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

from powawidget.cli.tables import format_table
from powawidget.wire.config import TERMINAL
from powawidget.wire.errors import PowabaseError

EVALUATE = dataclasses.replace(
    TERMINAL,
    agent_id="the AGENT of powawidget evaluate",
    local="leave out --base-url and --api-key and unset the POWABASE_* variables",
)
"""How the client's advice reads to `powawidget evaluate`'s user: its own flags."""

SCORER_HELP = "contains, exact, number[:TOL], regex:PATTERN or tool:NAME"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `powawidget evaluate`."""
    parser.add_argument("agent", help="the agent id, e.g. agt_demo")
    parser.add_argument(
        "prompts", help="a CSV file with a 'prompt' column (or one column), or JSON Lines"
    )
    parser.add_argument(
        "--concurrency", type=_at_least(1), default=8, help="runs at once (default 8)"
    )
    parser.add_argument(
        "--out", metavar="PATH", default=None, help="write the runs to this Parquet file"
    )
    parser.add_argument(
        "--checkpoint", metavar="PATH", default=None, help="resumable JSON Lines checkpoint"
    )
    parser.add_argument(
        "--retry-unfinished",
        action="store_true",
        help="send again prompts whose run started but never finished",
    )
    parser.add_argument(
        "--retry-failed", action="store_true", help="send again prompts whose run failed"
    )
    parser.add_argument(
        "--expected-column",
        metavar="NAME",
        default=None,
        help="the column holding the expected answer (scored with 'contains' unless --scorer)",
    )
    parser.add_argument(
        "--scorer",
        action="append",
        default=[],
        metavar="SCORER",
        help="contains | exact | number[:TOL] | regex:PATTERN | tool:NAME (repeatable); "
        "contains, exact and number compare with --expected-column",
    )
    parser.add_argument(
        "--repeat",
        type=_at_least(1),
        default=1,
        help="run every prompt this many times (default 1)",
    )
    parser.add_argument(
        "--by", metavar="COLUMN", default=None, help="summarise per value of this column"
    )
    parser.add_argument(
        "--max-runs", type=_at_least(0), default=None, help="send at most this many"
    )
    parser.add_argument(
        "--max-tokens", type=_at_least(0), default=None, help="stop past this many tokens"
    )
    parser.add_argument(
        "--base-url", default=None, help="project URL (default $POWABASE_BASE_URL, else local)"
    )
    parser.add_argument("--api-key", metavar="KEY", help="project key (default $POWABASE_API_KEY)")
    parser.add_argument(
        "--idle-timeout",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="give a run up after this long without any data (default 300)",
    )


def _at_least(low: int) -> Any:
    """An argparse type: a whole number no smaller than `low` (argparse names the flag)."""

    def whole(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, not {value}")
        return value

    return whole


def evaluate_main(args: argparse.Namespace) -> int:
    """Run the evaluation with a progress line; Ctrl-C stops it and keeps what finished."""
    from powawidget.api import evaluate
    from powawidget.evaluation.prompts import read_prompts_file

    try:
        rows = read_prompts_file(args.prompts)
        chosen = parse_scorers(args.scorer, args.expected_column)
        ev = evaluate(
            args.agent,
            rows,
            scorers=chosen,
            repeat=args.repeat,
            retry_failed=args.retry_failed,
            concurrency=args.concurrency,
            base_url=args.base_url,
            api_key=args.api_key,
            idle_timeout=args.idle_timeout,
            audience=EVALUATE,  # advice names this command's flags, not Python arguments
            checkpoint=args.checkpoint,
            retry_unfinished=args.retry_unfinished,
            max_runs=args.max_runs,
            max_tokens=args.max_tokens,
        )
    except (OSError, ValueError, TypeError, PowabaseError) as error:
        print(f"powawidget evaluate: {error}", file=sys.stderr)
        return 2
    try:
        ev.wait()
    except KeyboardInterrupt:
        print("\nStopping: runs in flight are stopped, finished ones kept.", file=sys.stderr)
        ev.stop()
        ev.wait()
    stats = ev.progress
    if args.out:
        try:
            path = ev.to_parquet(Path(args.out))
        except (OSError, ImportError) as error:
            print(f"powawidget evaluate: cannot write {args.out}: {error}", file=sys.stderr)
            return 1
        print(f"Wrote {len(ev.runs)} rows to {path}")
    print(
        f"{stats['completed']} completed, {stats['failed']} failed, {stats['stopped']} stopped, "
        f"{stats['unfinished']} unfinished, {stats['pending']} not sent."
    )
    try:
        summary = ev.summary(by=args.by)
    except KeyError as error:
        print(f"powawidget evaluate: --by: {error.args[0]}", file=sys.stderr)
        return 2
    print()
    print(format_table(summary, summary.columns))
    return 0 if ev.state == "done" else 1


def parse_scorers(specs: list[str], expected: str | None) -> list[Any]:
    """`--scorer` values as scorers; with only --expected-column, `contains` on it."""
    from powawidget.evaluation import scorers

    if not specs and expected:
        specs = ["contains"]
    chosen: list[Any] = []
    for spec in specs:
        kind, _, argument = spec.partition(":")
        if kind in ("contains", "exact", "number"):
            if not expected:
                raise ValueError(
                    f"--scorer {kind} compares with the expected answer: name its column "
                    "with --expected-column NAME"
                )
            if kind == "number":
                tol = float(argument) if argument else 0.0
                chosen.append(scorers.number(expected, tol=tol))
            else:
                chosen.append(getattr(scorers, kind)(expected))
        elif kind == "regex" and argument:
            count = sum(1 for s in specs if s.startswith("regex:"))
            number = sum(1 for c in chosen if getattr(c, "name", "").startswith("regex")) + 1
            chosen.append(
                scorers.regex(argument, name="regex" if count == 1 else f"regex_{number}")
            )
        elif kind == "tool" and argument:
            chosen.append(scorers.tool_called(argument, name=f"called_{argument}"))
        else:
            raise ValueError(f"--scorer {spec!r}: use {SCORER_HELP}")
    return chosen
