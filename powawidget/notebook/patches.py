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
        nested = _appended_in_run(before, item)
        if appended is not None:
            ops.append({"op": "text", "at": at, "index": index, "append": appended})
        elif nested is not None:
            sub, more = nested
            ops.append({"op": "run-text", "at": at, "index": index, "sub": sub, "append": more})
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


def _appended_in_run(before: Any, item: Any) -> tuple[int, str] | None:
    """(index, new text) when a delegation changed only by one of its run's text or
    reasoning items growing (a sub-agent streaming), else None."""
    if before is None or item["kind"] != "delegation" or before["kind"] != "delegation":
        return None
    if any(before.get(k) != v for k, v in item.items() if k != "run"):
        return None
    old_run, new_run = before["run"], item["run"]
    if any(old_run.get(k) != v for k, v in new_run.items() if k != "items"):
        return None
    old_items, new_items = old_run["items"], new_run["items"]
    if len(old_items) != len(new_items):
        return None
    changed = [n for n, (a, b) in enumerate(zip(old_items, new_items, strict=True)) if a != b]
    if len(changed) != 1:
        return None
    appended = _appended(old_items[changed[0]], new_items[changed[0]])
    return None if appended is None else (changed[0], appended)
