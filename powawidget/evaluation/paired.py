"""`compare(a, b).summary()`: each metric of two evaluations, tested on the same prompts.

The unit is the prompt: its repeats are averaged first, then prompts are paired across
the two evaluations (by text; a text asked twice pairs in order). Pass/fail with one run
per prompt on both sides takes the exact McNemar test (its discordant pairs); anything
else (scores, pass rates over repeats, tokens, latency) the paired bootstrap of the
per-prompt differences. Every difference is b - a, with its bootstrap 95 % interval.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from powawidget.evaluation.columns import DONE_STATUSES
from powawidget.evaluation.statistics import mcnemar_exact, paired_bootstrap
from powawidget.outputs.tables import Table

SUMMARY_COLUMNS: tuple[str, ...] = (
    "metric",
    "n",
    "a",
    "b",
    "difference",
    "ci_low",
    "ci_high",
    "p_value",
    "test",
)
MCNEMAR = "exact McNemar"
BOOTSTRAP = "paired bootstrap"

Unit = dict[str, list[Any]]


def paired_summary(a: Any, b: Any, *, seed: int = 0) -> Table:
    """One row per metric: pass_rate, each scorer both sides have, tokens, latency_ms."""
    units_a, units_b = _units(a), _units(b)
    pairs = _pair(units_a, units_b)
    scores_a, scores_b = a.score_columns, b.score_columns
    metrics = ["passed", *[n for n in scores_a if n in scores_b], "tokens", "duration_ms"]
    out = []
    for metric in metrics:
        out.append(_metric_row(metric, pairs, seed))
    return Table(out, list(SUMMARY_COLUMNS))


def _metric_row(metric: str, pairs: list[tuple[Unit, Unit]], seed: int) -> dict[str, Any]:
    label = {"passed": "pass_rate", "duration_ms": "latency_ms"}.get(metric, metric)
    values = [(ua.get(metric) or [], ub.get(metric) or []) for ua, ub in pairs]
    values = [(va, vb) for va, vb in values if va and vb]
    row: dict[str, Any] = dict.fromkeys(SUMMARY_COLUMNS)
    row.update(metric=label, n=len(values))
    if not values:
        return row
    binary = all(
        len(va) == 1 and len(vb) == 1 and isinstance(va[0], bool) and isinstance(vb[0], bool)
        for va, vb in values
    )
    means = [(_mean(va), _mean(vb)) for va, vb in values]
    row["a"] = sum(m for m, _ in means) / len(means)
    row["b"] = sum(m for _, m in means) / len(means)
    difference, low, high, p = paired_bootstrap([mb - ma for ma, mb in means], seed=seed)
    row.update(difference=difference, ci_low=low, ci_high=high, p_value=p, test=BOOTSTRAP)
    if binary:
        a_only = sum(1 for va, vb in values if va[0] and not vb[0])
        b_only = sum(1 for va, vb in values if vb[0] and not va[0])
        row.update(p_value=mcnemar_exact(a_only, b_only), test=MCNEMAR)
    return row


def _mean(values: list[Any]) -> float:
    return sum(float(v) for v in values) / len(values)


def _units(evaluation: Any) -> list[tuple[str, Unit]]:
    """(prompt text, metric -> values over its repeats) per prompt, in order."""
    units: dict[str, tuple[str, Unit]] = {}
    wanted = ["tokens", "duration_ms", *evaluation.score_columns]
    for prompt, row in zip(evaluation._prompts, evaluation.runs, strict=True):
        _, unit = units.setdefault(prompt.unit, (prompt.prompt, defaultdict(list)))
        if row.get("status") not in DONE_STATUSES:
            continue
        passed = row.get("passed", row.get("status") == "completed")
        if passed is not None:
            unit["passed"].append(bool(passed))
        for name in wanted:
            value = row.get(name)
            if value is not None and not isinstance(value, str | list | dict):
                unit[name].append(value)
    return list(units.values())


def _pair(
    units_a: list[tuple[str, Unit]], units_b: list[tuple[str, Unit]]
) -> list[tuple[Unit, Unit]]:
    """Prompts of a and b with the same text (the n-th asking pairs with the n-th)."""
    waiting: dict[str, list[Unit]] = defaultdict(list)
    for text, unit in units_b:
        waiting[text].append(unit)
    pairs = []
    for text, unit in units_a:
        if waiting[text]:
            pairs.append((unit, waiting[text].pop(0)))
    return pairs


__all__ = ["BOOTSTRAP", "MCNEMAR", "SUMMARY_COLUMNS", "paired_summary"]
