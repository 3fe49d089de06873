"""Scorers: callables `row -> bool | float | dict[str, bool | float]` that grade a run.

A row is the run's `ev.runs` row (prompt, answer, status, tokens, `tool_names`, the
prompt's carried columns such as `expected`, `repeat`). A scorer's column is named by its
`name` attribute, else the function's name; a dict gives one column per key
(`name.key`). `bool` columns are pass/fail (they make `passed`); numbers are scores.
The built-in scorers below read `answer` and one column of the row.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

Score = bool | float | int | None
Scorer = Callable[[Mapping[str, Any]], Any]

_NUMBER = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?(?:[eE][-+]?\d+)?")


def scorer_name(scorer: Any) -> str:
    """The column a scorer fills: its `name` attribute, else its function's name."""
    name = getattr(scorer, "name", None) or getattr(scorer, "__name__", None)
    if not isinstance(name, str) or not name or name == "<lambda>":
        raise TypeError(
            f"the scorer {scorer!r} has no name: give it a `name` attribute or use a named "
            "function (def my_scorer(row): ...) so its column can be named."
        )
    return name


class _Named:
    """A built-in scorer: a name (its column), a call, a readable repr."""

    name: str

    def __repr__(self) -> str:
        return f"scorers.{self.name}"


class _Column(_Named):
    """A scorer comparing the answer with one column of the row (`expected` by default)."""

    kind = ""

    def __init__(self, column: str, name: str | None) -> None:
        if not isinstance(column, str) or not column:
            raise TypeError(f"scorers.{self.kind}() takes a column name, not {column!r}")
        self.column = column
        self.name = name or self.kind

    def expected(self, row: Mapping[str, Any]) -> Any:
        if self.column not in row:
            raise KeyError(
                f"the prompts have no {self.column!r} column (they have: "
                f"{', '.join(sorted(map(str, row)))}); pass it with the prompts."
            )
        return row[self.column]


class contains(_Column):
    """Pass when the answer contains `row[column]` (case-insensitive, whitespace collapsed)."""

    kind = "contains"

    def __init__(self, column: str = "expected", *, name: str | None = None) -> None:
        super().__init__(column, name)

    def __call__(self, row: Mapping[str, Any]) -> bool:
        return _loose(self.expected(row)) in _loose(row.get("answer"))


class exact(_Column):
    """Pass when the answer equals `row[column]` after strip and casefold."""

    kind = "exact"

    def __init__(self, column: str = "expected", *, name: str | None = None) -> None:
        super().__init__(column, name)

    def __call__(self, row: Mapping[str, Any]) -> bool:
        return _loose(self.expected(row)) == _loose(row.get("answer"))


class number(_Column):
    """Pass when a number in the answer is within `tol` (relative; absolute when the
    expected value is 0) of the number in `row[column]` ("$1,200", "1200.0" and 1200 all
    read as 1200)."""

    kind = "number"

    def __init__(
        self, column: str = "expected", *, tol: float = 0.0, name: str | None = None
    ) -> None:
        if tol < 0:
            raise ValueError(f"scorers.number(tol=...) must be >= 0, not {tol!r}")
        super().__init__(column, name)
        self.tol = float(tol)

    def __call__(self, row: Mapping[str, Any]) -> bool:
        expected = self.expected(row)
        target = _to_number(expected)
        if target is None:
            written = numbers_in(expected)
            if len(written) != 1:
                raise ValueError(f"{self.column!r} is {expected!r}, not one number")
            target = written[0]
        allowed = max(self.tol * abs(target), self.tol if target == 0 else 0.0, 1e-12)
        return any(abs(found - target) <= allowed for found in numbers_in(row.get("answer")))


class regex(_Named):
    """Pass when the answer matches `pattern` (`re.search`; flags as for `re.compile`)."""

    def __init__(self, pattern: str, *, flags: int = 0, name: str | None = None) -> None:
        self.pattern = re.compile(pattern, flags)
        self.name = name or "regex"

    def __repr__(self) -> str:
        return f"scorers.regex({self.pattern.pattern!r})"

    def __call__(self, row: Mapping[str, Any]) -> bool:
        return self.pattern.search(str(row.get("answer") or "")) is not None


class tool_called(_Named):
    """Pass when the run called the tool `tool_name` (at least `times` times)."""

    def __init__(self, tool_name: str, *, times: int = 1, name: str | None = None) -> None:
        self.tool_name = tool_name
        self.times = int(times)
        self.name = name or "tool_called"

    def __call__(self, row: Mapping[str, Any]) -> bool:
        return list(row.get("tool_names") or ()).count(self.tool_name) >= self.times


def numbers_in(text: Any) -> list[float]:
    """Every number written in `text` (thousands commas allowed)."""
    found = []
    for match in _NUMBER.finditer(str(text or "")):
        value = _to_number(match.group(0))
        if value is not None:
            found.append(value)
    return found


def _to_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    text = str(value or "").strip().replace(",", "")
    if not text or text in "+-.":
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _loose(value: Any) -> str:
    """Text compared loosely: whitespace runs collapsed, ends stripped, casefolded."""
    return " ".join(str(value if value is not None else "").split()).casefold()


def judge(
    agent_id: str,
    rubric: str,
    *,
    expected: str | None = "expected",
    name: str = "judge",
    timeout: float = 120.0,
) -> Any:
    """A Powabase agent grades each answer against `rubric` (see `evaluation.judge`)."""
    from powawidget.evaluation.judge import Judge

    return Judge(agent_id, rubric, expected=expected, name=name, timeout=timeout)


__all__ = [
    "Score",
    "Scorer",
    "contains",
    "exact",
    "judge",
    "number",
    "numbers_in",
    "regex",
    "scorer_name",
    "tool_called",
]
