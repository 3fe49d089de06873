"""`compare(a, b)`: two evaluations side by side, joined on the prompt, differences flagged."""

from __future__ import annotations

import html
from collections import defaultdict
from typing import Any

from powawidget.evaluation.columns import RUN_COLUMNS
from powawidget.evaluation.evaluation import Evaluation
from powawidget.outputs.tables import Table

COMPARED: tuple[str, ...] = (
    "answer",
    "status",
    "tokens",
    "duration_ms",
    "time_to_first_token_ms",
    "tool_calls",
    "passed",
)
FLAGS: tuple[str, ...] = (
    "same_answer",
    "same_status",
    "same_tool_calls",
    "same_passed",
    "differences",
)


class Comparison(Table):
    """A `Table` of two evaluations per prompt; in Jupyter, the answers side by side."""

    labels: tuple[str, str] = ("a", "b")
    sources: tuple[Evaluation, Evaluation] | None = None

    def differing(self) -> Comparison:
        """Only the prompts whose answer, status, tool call count or pass/fail differ."""
        rows = [row for row in self if row["differences"]]
        out = Comparison(rows, self.columns)
        out.labels = self.labels
        out.sources = self.sources
        return out

    def flipped(self) -> Comparison:
        """Only the prompts that passed on one side and failed on the other."""
        rows = [row for row in self if not row["same_passed"]]
        out = Comparison(rows, self.columns)
        out.labels = self.labels
        out.sources = self.sources
        return out

    def summary(self, *, seed: int = 0) -> Table:
        """Per metric (pass_rate, each scorer, tokens, latency_ms): a, b, difference (b - a)
        with its 95 % interval, and the p-value of a paired test on the same prompts, named
        in `test` (see `evaluation.paired`); `seed` fixes the bootstrap."""
        if self.sources is None:
            raise ValueError("this comparison holds no evaluations; make it with compare(a, b)")
        from powawidget.evaluation.paired import paired_summary

        return paired_summary(*self.sources, seed=seed)

    def _repr_html_(self) -> str:
        """Side by side: the prompt, then each evaluation's answer (differences marked)."""
        a, b = (html.escape(label) for label in self.labels)
        body = []
        for row in list.__iter__(self):
            mark = ' style="background:rgba(255,200,0,.18)"' if row["differences"] else ""
            cells = [html.escape(str(row["prompt"]))]
            for side in ("a", "b"):
                answer = html.escape(str(row[f"answer_{side}"] or ""))
                meta = html.escape(
                    f"{row[f'status_{side}']} · {row[f'tokens_{side}']} tokens · "
                    f"{row[f'tool_calls_{side}']} tool calls"
                )
                cells.append(f"{answer}<br><small>{meta}</small>")
            tds = "".join(f'<td style="vertical-align:top;text-align:left">{c}</td>' for c in cells)
            body.append(f"<tr{mark}>{tds}</tr>")
        same = sum(1 for row in list.__iter__(self) if not row["differences"])
        return (
            f'<div class="powawidget-compare"><p>{len(self)} prompts: {same} alike, '
            f"{len(self) - same} differ (highlighted).</p><table><thead><tr><th>prompt</th>"
            f"<th>{a}</th><th>{b}</th></tr></thead><tbody>{''.join(body)}</tbody></table></div>"
        )


def compare(a: Evaluation, b: Evaluation, *, labels: tuple[str, str] | None = None) -> Comparison:
    """Join two evaluations on the prompt (repeated prompts pair up in order).

    Columns: `prompt`, the first evaluation's carried columns, then for each of
    answer, status, tokens, duration_ms, time_to_first_token_ms and tool_calls an `_a` and a
    `_b` column, then the flags `same_answer`, `same_status`, `same_tool_calls` and
    `differences` (the names of what differs; "missing" when a prompt is on one side only).
    """
    for side in (a, b):
        if not isinstance(side, Evaluation):
            raise TypeError(
                f"compare() takes two evaluations (from evaluate() or Evaluation.load), "
                f"not {type(side).__name__}"
            )
    rows_a, rows_b = list(a.runs), list(b.runs)
    carried = [c for c in a.runs.columns[len(RUN_COLUMNS) :] if c in _carried(a)]
    waiting: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows_b:
        waiting[row["prompt"]].append(row)
    out = [_pair(row, waiting[row["prompt"]].pop(0) if waiting[row["prompt"]] else None, carried)
           for row in rows_a]  # fmt: skip
    out.extend(_pair(None, row, carried) for rows in waiting.values() for row in rows)
    columns = ["prompt", *carried]
    columns += [f"{name}_{side}" for name in COMPARED for side in ("a", "b")]
    table = Comparison(out, [*columns, *FLAGS])
    table.sources = (a, b)
    table.labels = labels or (a.agent_id or "a", b.agent_id or "b")
    if table.labels[0] == table.labels[1]:
        table.labels = (f"{table.labels[0]} (a)", f"{table.labels[1]} (b)")
    return table


def _pair(ra: dict | None, rb: dict | None, carried: list[str]) -> dict[str, Any]:
    """One joined row with its flags."""
    first = ra if ra is not None else rb
    assert first is not None
    row: dict[str, Any] = {"prompt": first["prompt"]}
    row.update({c: (ra or {}).get(c) for c in carried})
    for name in COMPARED:
        row[f"{name}_a"] = ra.get(name) if ra else None
        row[f"{name}_b"] = rb.get(name) if rb else None
    row["same_answer"] = _norm(row["answer_a"]) == _norm(row["answer_b"])
    row["same_status"] = row["status_a"] == row["status_b"]
    row["same_tool_calls"] = row["tool_calls_a"] == row["tool_calls_b"]
    verdicts = (row["passed_a"], row["passed_b"])  # a flip needs a verdict on both sides
    row["same_passed"] = None in verdicts or verdicts[0] == verdicts[1]
    if ra is None or rb is None:
        row["differences"] = "missing"
    else:
        names = [n for n in ("answer", "status", "tool_calls", "passed") if not row[f"same_{n}"]]
        row["differences"] = ", ".join(names)
    return row


def _carried(evaluation: Evaluation) -> set[str]:
    """The columns the prompts brought (not the scorers')."""
    return {k for p in evaluation._prompts for k in p.carried}


def _norm(text: Any) -> str:
    """An answer compared loosely: whitespace runs collapsed, ends stripped."""
    return " ".join(str(text or "").split())
