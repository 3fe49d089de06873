"""`powawidget evaluate AGENT prompts.csv`: run an agent over a prompt file from a terminal."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from powawidget.wire.errors import PowabaseError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `powawidget evaluate`."""
    parser.add_argument("agent", help="the agent id, e.g. agt_demo")
    parser.add_argument(
        "prompts", help="a CSV file with a 'prompt' column (or one column), or JSON Lines"
    )
    parser.add_argument("--concurrency", type=int, default=8, help="runs at once (default 8)")
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
    parser.add_argument("--max-runs", type=int, default=None, help="send at most this many")
    parser.add_argument("--max-tokens", type=int, default=None, help="stop past this many tokens")
    parser.add_argument(
        "--base-url", default=None, help="project URL (default $POWABASE_BASE_URL, else local)"
    )


def evaluate_main(args: argparse.Namespace) -> int:
    """Run the evaluation with a progress line; Ctrl-C stops it and keeps what finished."""
    from powawidget.evaluation.api import evaluate
    from powawidget.evaluation.prompts import read_prompts_file

    try:
        rows = read_prompts_file(args.prompts)
        ev = evaluate(
            args.agent,
            rows,
            concurrency=args.concurrency,
            base_url=args.base_url,
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
    return 0 if ev.state == "done" else 1
