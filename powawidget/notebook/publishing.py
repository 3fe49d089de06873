"""The session at rest, published: the panel catches up, the traits show the final state,
and the saved copies (`notebook.saved`, `notebook.static`) are refreshed."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from powawidget.notebook.widget import ChatWidget


def settle(widget: ChatWidget, changes: dict[str, Any]) -> None:
    """The saved entries are kept here while a view is live or when a cell settled it (a
    session loaded); a run's thread with no view leaves them to the cell that waits for it
    (`ChatWidget._republish`)."""
    widget._sync.flush()
    widget._show(**changes)
    if widget._sync.views_seen or threading.current_thread() is threading.main_thread():
        keep_history(widget)
    widget._static.refresh()


def keep_history(widget: ChatWidget) -> None:
    """Bring the saved entries up to date: a new entry opens a model, a changed last entry
    updates its own; `history` then references the last model."""
    with widget._chat.lock:
        tail, total = widget._sync.tail(widget._saved.tail_start)
        if widget._saved.keep(tail, total):
            widget.history = widget._saved.last
