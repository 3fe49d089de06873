"""Scorers for `evaluate(..., scorers=[...])`: `from powawidget import scorers`.

The implementations live in `powawidget.evaluation.scorers` (the evaluation layer); this
module is the short public name the notebooks and the README use.
"""

from powawidget.evaluation.scorers import (
    contains,
    exact,
    judge,
    number,
    numbers_in,
    regex,
    scorer_name,
    tool_called,
)

__all__ = [
    "contains",
    "exact",
    "judge",
    "number",
    "numbers_in",
    "regex",
    "scorer_name",
    "tool_called",
]
