"""`Evaluation.summary(by=...)`: pass rates and scores per group, with 95 % intervals.

Counted runs are those with an outcome (completed or failed; a run stopped by the user
or never sent is left out). Pass/fail columns get a Wilson interval, numeric ones the
mean's normal interval (`evaluation.statistics`). With repeats every run counts once,
so the intervals treat repeats as independent draws.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from powawidget.evaluation.columns import DONE_STATUSES
from powawidget.evaluation.statistics import mean_ci, wilson
from powawidget.evaluation.stats import percentile
from powawidget.outputs.tables import Table


def summarise(rows: Sequence[dict[str, Any]], scores: Sequence[str], by: Any = None) -> Table:
    """One row per group: `by` values, n, passed, pass_rate, ci_low, ci_high, then per
    scorer `<name>_mean`, `<name>_ci_low`, `<name>_ci_high`, then tokens_mean,
    tokens_total, latency_p50_ms, latency_p95_ms and scorer_errors."""
    keys = _group_columns(by, rows)
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in rows:
        if row.get("status") in DONE_STATUSES:
            groups.setdefault(tuple(_hashable(row.get(k)) for k in keys), []).append(row)
    out = []
    for group, members in groups.items():
        line: dict[str, Any] = dict(zip(keys, group, strict=True))
        line.update(_pass_figures(members))
        for name in scores:
            line.update(_score_figures(name, members))
        tokens = [float(r["tokens"]) for r in members if r.get("tokens") is not None]
        latency = [float(r["duration_ms"]) for r in members if r.get("duration_ms") is not None]
        line["tokens_mean"] = sum(tokens) / len(tokens) if tokens else None
        line["tokens_total"] = int(sum(tokens)) if tokens else None
        line["latency_p50_ms"] = percentile(latency, 50)
        line["latency_p95_ms"] = percentile(latency, 95)
        line["scorer_errors"] = sum(len(r.get("errors") or ()) for r in members)
        out.append(line)
    columns = [*keys, "n", "passed", "pass_rate", "ci_low", "ci_high"]
    for name in scores:
        columns += [f"{name}_mean", f"{name}_ci_low", f"{name}_ci_high"]
    columns += ["tokens_mean", "tokens_total", "latency_p50_ms", "latency_p95_ms", "scorer_errors"]
    return Table(out, columns)


def _group_columns(by: Any, rows: Sequence[dict[str, Any]]) -> list[str]:
    if by is None:
        return []
    keys = [by] if isinstance(by, str) else list(by)
    known = set(rows[0]) if rows else set()
    missing = [k for k in keys if rows and k not in known]
    if missing:
        raise KeyError(
            f"summary(by=...) names {', '.join(map(repr, missing))}, not a column of ev.runs "
            f"(columns: {', '.join(sorted(known))})"
        )
    return keys


def _pass_figures(members: list[dict[str, Any]]) -> dict[str, Any]:
    verdicts = [bool(r["passed"]) for r in members if r.get("passed") is not None]
    if not any("passed" in r for r in members):  # no scorers: passing is completing
        verdicts = [r.get("status") == "completed" for r in members]
    low, high = wilson(sum(verdicts), len(verdicts))
    rate = sum(verdicts) / len(verdicts) if verdicts else None
    return {
        "n": len(members),
        "passed": sum(verdicts),
        "pass_rate": rate,
        "ci_low": low,
        "ci_high": high,
    }


def _score_figures(name: str, members: list[dict[str, Any]]) -> dict[str, Any]:
    values: list[Any] = [r[name] for r in members if r.get(name) is not None]
    mean: float | None
    if values and all(isinstance(v, bool) for v in values):
        mean = sum(values) / len(values)
        low, high = wilson(sum(values), len(values))
    else:
        mean, low, high = mean_ci([float(v) for v in values])
    return {f"{name}_mean": mean, f"{name}_ci_low": low, f"{name}_ci_high": high}


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value
