"""What the front end does with a patch, in Python (js/src/model/entries.js): tests hold the
views built from patches to the full projection, and the two languages to the same result."""

from __future__ import annotations

from typing import Any

from powawidget.notebook.messages import Op


def apply_ops(entries: list[Any], ops: list[Op]) -> None:
    """Apply ops to a list of entry views, in place."""
    for op in ops:
        at = op["at"]
        kind = op["op"]
        if kind == "entry":
            if at == len(entries):
                entries.append(op["entry"])  # type: ignore[typeddict-item]
            else:
                entries[at] = op["entry"]  # type: ignore[typeddict-item]
            continue
        turn = entries[at]
        if kind == "turn":
            turn.update(op["set"])  # type: ignore[typeddict-item]
        elif kind == "trim":
            del turn["items"][op["items"] :]  # type: ignore[typeddict-item]
        elif kind == "item":
            items = turn["items"]
            index = op["index"]  # type: ignore[typeddict-item]
            if index == len(items):
                items.append(op["item"])  # type: ignore[typeddict-item]
            else:
                items[index] = op["item"]  # type: ignore[typeddict-item]
        elif kind == "text":
            item = turn["items"][op["index"]]  # type: ignore[typeddict-item]
            item["text"] += op["append"]  # type: ignore[typeddict-item]
        elif kind == "run-text":  # a sub-agent streaming inside a delegation card
            item = turn["items"][op["index"]]  # type: ignore[typeddict-item]
            item["run"]["items"][op["sub"]]["text"] += op["append"]  # type: ignore[typeddict-item]
