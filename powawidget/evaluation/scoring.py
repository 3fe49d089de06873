"""Scoring one run: every scorer over its row, then `passed`, `score` and `errors`.

A scorer that raises (or returns something that is not a bool, a number or a dict of
them) gives None for its column and an `errors` entry: a scorer's bug never fails the
evaluation nor loses a run.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from typing import Any

from powawidget.evaluation.columns import COMPLETED, RESERVED
from powawidget.evaluation.scorers import scorer_name

SCORE_TAIL: tuple[str, ...] = ("passed", "score", "errors")
"""The columns after the scorers' own: every pass/fail passed, the mean score, the errors."""


class Scoring:
    """The scorers of an evaluation, named; `score(row)` gives a run's score columns."""

    def __init__(self, scorers: Iterable[Any] = ()) -> None:
        if callable(scorers) or isinstance(scorers, str):
            scorers = [scorers]
        self.scorers: list[tuple[str, Any]] = []
        for scorer in scorers:
            if not callable(scorer):
                raise TypeError(
                    f"a scorer must be callable (row -> bool | float | dict), not "
                    f"{type(scorer).__name__}; e.g. scorers.contains('expected')"
                )
            name = scorer_name(scorer)
            if name in RESERVED or name in SCORE_TAIL:
                raise ValueError(
                    f"a scorer is named {name!r}, like a result column; give it another "
                    "name (name=... or a differently named function)."
                )
            if any(name == seen for seen, _ in self.scorers):
                raise ValueError(
                    f"two scorers are named {name!r}; pass name=... to tell them apart, "
                    f"e.g. scorers.contains('expected', name='{name}_2')."
                )
            self.scorers.append((name, scorer))

    def __bool__(self) -> bool:
        return bool(self.scorers)

    @property
    def names(self) -> list[str]:
        """The scorers' names, in the order given."""
        return [name for name, _ in self.scorers]

    def bind(self, client: Any, gate: Any = None) -> None:
        """Hand the evaluation's client to scorers that send runs (`scorers.judge`)."""
        for _, scorer in self.scorers:
            bind = getattr(scorer, "bind", None)
            if callable(bind):
                bind(client, gate)

    def score(self, row: Mapping[str, Any], only: Iterable[str] | None = None) -> dict[str, Any]:
        """The score columns of one finished run (`only`: just these scorers' columns)."""
        wanted = None if only is None else set(only)
        values: dict[str, Any] = {}
        errors: list[str] = []
        for name, scorer in self.scorers:
            if wanted is not None and name not in wanted:
                continue
            try:
                values.update(_columns(name, scorer(row)))
            except Exception as error:  # a scorer's bug is the row's error, not the run's
                values[name] = None
                errors.append(f"{name}: {type(error).__name__}: {error}")
        return {**values, "errors": errors}


def finish(values: dict[str, Any], status: Any) -> dict[str, Any]:
    """Add `passed` and `score` to a run's score columns.

    `passed`: the run completed and every pass/fail column is True (None when a scorer
    failed and none said False); `score`: the mean of every score (True = 1), None if none.
    """
    scores = {k: v for k, v in values.items() if k not in SCORE_TAIL}
    verdicts = [v for v in scores.values() if isinstance(v, bool)]
    passed: bool | None
    if status != COMPLETED or False in verdicts:
        passed = False
    elif values.get("errors"):
        passed = None
    else:
        passed = True
    numbers_ = [float(v) for v in scores.values() if v is not None]
    score = sum(numbers_) / len(numbers_) if numbers_ else None
    return {**scores, "passed": passed, "score": score, "errors": list(values.get("errors") or [])}


def _columns(name: str, result: Any) -> dict[str, Any]:
    """A scorer's result as columns: one value, or `name.key` per key of a dict."""
    if isinstance(result, Mapping):
        return {f"{name}.{key}": _value(f"{name}.{key}", v) for key, v in result.items()}
    return {name: _value(name, result)}


def _value(column: str, value: Any) -> bool | float | None:
    """A bool, a finite number or None; anything else is the scorer's error."""
    if value is None or isinstance(value, bool):
        return value
    if type(value).__name__ == "bool_":  # numpy's bool
        return bool(value)
    if isinstance(value, numbers.Real) and math.isfinite(float(value)):
        return float(value)
    raise TypeError(
        f"{column} returned {value!r}; a scorer returns a bool, a number or a dict of them"
    )


__all__ = ["SCORE_TAIL", "Scoring", "finish"]
