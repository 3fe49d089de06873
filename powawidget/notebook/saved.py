"""What a saved notebook keeps of the conversation: one small widget model per entry.

A notebook saves the state of every widget model, and a trait is sent whole whenever it is
assigned, so one `history` trait holding every entry costs the whole conversation after
every run (O(N²) bytes over a session, paid by every headless runner). Instead each entry
(a turn, a divider, a history note) is its own `SavedEntry` model, opened once when the
entry is first kept and updated only if that entry changes later (only the last one can).
Each model references the one before it and the panel's `history` trait references the
last, so a new entry costs the same at turn 60 as at turn 1 (a list of references would
grow by one per turn). The kernel is the one writer, with one cut (`SAVED_RESULT_CHARS`);
the page only reads it, walking back from `history` (js/src/host/sync.js).
"""

from __future__ import annotations

from typing import Any

import ipywidgets
import traitlets as t

from powawidget.model.view import EntryView

SAVED_RESULT_CHARS = 4_000
"""Longest tool result kept in a saved notebook; the live panel gets results up to
`model.view.MAX_RESULT_CHARS`."""


SAVED_IMAGE_CHARS = 150_000
"""Longest context image (its data URL) a saved notebook keeps in a chip; a larger one is
saved as its record alone (kind, size, hash), like a reloaded transcript."""


def _saved_context(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A turn's context chips for the notebook file: long text cut, large images left out."""
    out = []
    for item in items:
        text, image = item.get("text"), item.get("image")
        if isinstance(text, str) and len(text) > SAVED_RESULT_CHARS:
            note = f"cut to {SAVED_RESULT_CHARS:,} characters in the saved notebook"
            item = {**item, "text": text[:SAVED_RESULT_CHARS], "note": note}
        elif isinstance(image, str) and len(image) > SAVED_IMAGE_CHARS:
            item = {k: v for k, v in item.items() if k != "image"}
        out.append(item)
    return out


class SavedEntry(ipywidgets.Widget):
    """One entry of the conversation as the notebook saves it (a data model, no view)."""

    entry: t.Dict[str, Any] = t.Dict().tag(sync=True)
    previous: t.This[SavedEntry | None] = t.This(allow_none=True).tag(
        sync=True, **ipywidgets.widget_serialization
    )


def saved_entry(entry: EntryView) -> dict[str, Any]:
    """`entry` for the notebook file: long tool results and context text cut to
    `SAVED_RESULT_CHARS`, context images over `SAVED_IMAGE_CHARS` left out."""
    if entry["kind"] != "turn":
        return dict(entry)
    items: list[dict[str, Any]] = []
    for item in entry["items"]:
        result = item.get("result") if item["kind"] == "tool" else None
        if isinstance(result, str) and len(result) > SAVED_RESULT_CHARS:
            items.append({**item, "result": result[:SAVED_RESULT_CHARS], "resultTruncated": True})
        else:
            items.append(dict(item))
    context = entry.get("context")
    if context:
        return {**entry, "items": items, "context": _saved_context(context)}
    return {**entry, "items": items}


class SavedHistory:
    """The `SavedEntry` models of one conversation, kept in step with its entries."""

    def __init__(self) -> None:
        self.models: list[SavedEntry] = []
        self._kept: list[dict[str, Any]] = []

    @property
    def tail_start(self) -> int:
        """The first entry that may have changed since the last `keep`: the last one kept."""
        return max(len(self._kept) - 1, 0)

    def keep(self, tail: list[EntryView], total: int) -> bool:
        """Take the entries from `tail_start` on (`total` in all); True if the last model
        changed (the `history` trait must point at it), False if at most one model updated."""
        start = self.tail_start
        grew = False
        for offset, view in enumerate(tail):
            at, entry = start + offset, saved_entry(view)
            if at < len(self.models):
                if entry != self._kept[at]:
                    self._kept[at] = entry
                    self.models[at].entry = entry
            else:
                previous = self.models[-1] if self.models else None
                self._kept.append(entry)
                self.models.append(SavedEntry(entry=entry, previous=previous))
                grew = True
        if total < len(self.models):  # never happens today: entries only grow
            for model in self.models[total:]:
                model.close()
            del self.models[total:], self._kept[total:]
            grew = True
        return grew

    @property
    def last(self) -> SavedEntry | None:
        """The model of the last entry (what the panel's `history` references)."""
        return self.models[-1] if self.models else None

    def close(self) -> None:
        """Close every model (the panel closed)."""
        for model in self.models:
            model.close()
        self.models.clear()
        self._kept.clear()
