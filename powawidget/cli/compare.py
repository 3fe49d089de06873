"""`powawidget compare a.parquet b.parquet`: two saved evaluations, tested on the same prompts."""

from __future__ import annotations

import argparse
import sys

from powawidget.cli.tables import format_table


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `powawidget compare`."""
    parser.add_argument(
        "a", help="the first evaluation (ev.to_parquet / powawidget evaluate --out)"
    )
    parser.add_argument("b", help="the second evaluation, over the same prompts")
    parser.add_argument(
        "--seed", type=int, default=0, help="the paired bootstrap's seed (default 0)"
    )


def compare_main(args: argparse.Namespace) -> int:
    """Print each metric's a, b, difference with its 95 % interval and paired p-value."""
    from powawidget.evaluation.compare import compare
    from powawidget.evaluation.evaluation import Evaluation

    try:
        a, b = Evaluation.load(args.a), Evaluation.load(args.b)
    except (OSError, ValueError, ImportError) as error:
        print(f"powawidget compare: {error}", file=sys.stderr)
        return 2
    comparison = compare(a, b)
    summary = comparison.summary(seed=args.seed)
    first, second = comparison.labels
    print(f"a = {first} ({args.a}), b = {second} ({args.b}); difference = b - a")
    print(format_table(summary, summary.columns))
    flipped = comparison.flipped()
    if len(flipped):
        print(f"\n{len(flipped)} prompt(s) passed on one side and failed on the other:")
        for row in flipped[:10]:
            mark = lambda v: "pass" if v else "fail"  # noqa: E731
            print(f"  {mark(row['passed_a'])} -> {mark(row['passed_b'])}  {row['prompt'][:90]}")
    return 0
