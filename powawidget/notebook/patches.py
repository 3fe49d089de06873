"""The smallest patch from one view of an entry to the next (pure, no I/O).

A streamed answer grows by appends, so a text item whose new text extends the old one
becomes a `text` op carrying only the new characters: a batch of deltas costs its text
plus a few bytes, and ids are never repeated (they sit in the turn, sent once).
"""

from __future__ import annotations

from typing import Any

from powawidget.model.view import EntryView
from powawidget.notebook.messages import Op

_GROWING = ("text", "reasoning")


def entry_ops(at: int, old: EntryView | None, new: EntryView) -> list[Op]:
    """Ops that turn `old` (None: not sent yet) into `new` at position `at`."""
    if old is None or old["kind"] != new["kind"] or new["kind"] != "turn":
        return [] if old == new else [{"op": "entry", "at": at, "entry": new}]
    ops: list[Op] = []
    fields = {k: v for k, v in new.items() if k != "items" and old.get(k, None) != v}
    old_items: list[Any] = old["items"]  # type: ignore[typeddict-item]
    new_items: list[Any] = new["items"]
    if len(new_items) < len(old_items):
        ops.append({"op": "trim", "at": at, "items": len(new_items)})
        old_items = old_items[: len(new_items)]
    for index, item in enumerate(new_items):
        before = old_items[index] if index < len(old_items) else None
        if before == item:
            continue
        appended = _appended(before, item)
        if appended is not None:
            ops.append({"op": "text", "at": at, "index": index, "append": appended})
        else:
            ops.append({"op": "item", "at": at, "index": index, "item": item})
    if fields:
        ops.append({"op": "turn", "at": at, "set": fields})
    return ops


def _appended(before: Any, item: Any) -> str | None:
    """The text added to a growing item when nothing else about it changed, else None."""
    if before is None or item["kind"] not in _GROWING or before["kind"] != item["kind"]:
        return None
    old_text, new_text = before["text"], item["text"]
    if len(new_text) <= len(old_text) or not new_text.startswith(old_text):
        return None
    if any(before[k] != v for k, v in item.items() if k != "text"):
        return None
    return new_text[len(old_text) :]


def apply_ops(entries: list[Any], ops: list[Op]) -> None:
    """Apply ops to a list of entry views, in place: what the front end does, in Python
    (tests hold the two to the same result; see js/src/model/entries.js)."""
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
