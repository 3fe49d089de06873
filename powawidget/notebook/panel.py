"""The panel's requests (`notebook.messages.PanelMessage`) turned into the widget's verbs.

Handled in the comm's message handler, so nothing here streams or waits on the server:
a run starts its own thread, an approval posts from its own, and the session picker's
requests (which call the server) run in a thread of their own. A refused request comes
back as the panel's `error`, in the user's words.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from powawidget.notebook.messages import PanelMessage, SessionRow, SessionsMessage, panel_message
from powawidget.wire.errors import PowabaseError

if TYPE_CHECKING:
    from powawidget.notebook.widget import ChatWidget

SESSIONS_SHOWN = 20
"""How many recent sessions the panel's picker lists."""

REFUSALS = (RuntimeError, ValueError, PowabaseError)
"""What a request may be refused with (sending while a run streams, an unknown session)."""


def handle(widget: ChatWidget, content: Any) -> None:
    """Carry out one message from the panel (anything else is ignored); a refusal becomes
    the panel's error."""
    message = panel_message(content)
    if message is None:
        return
    try:
        _dispatch(widget, message)
    except REFUSALS as error:
        widget._chat.report_error(str(error))


def _dispatch(widget: ChatWidget, message: PanelMessage) -> None:
    """The verb for each kind of message."""
    chat = widget._chat
    if message["type"] == "send":
        widget.send(message["text"])
    elif message["type"] == "approve":
        chat.approve_later(message["approved"], message["reason"])
    elif message["type"] == "load_session":
        _in_thread(_load_picked, widget, message["session_id"])
    elif message["type"] == "sessions_request":
        _in_thread(_send_sessions, widget)
    elif message["type"] == "snapshot_request":
        widget._sync.send_snapshot()
    elif message["type"] == "stop":
        widget.stop()
    elif message["type"] == "new_session":
        widget.new_session()
    elif message["type"] == "retry":
        chat.retry()


def _in_thread(job: Callable[..., None], *args: Any) -> None:
    """Run a request that calls the server in its own thread (the kernel must keep
    answering the panel meanwhile)."""
    threading.Thread(target=job, args=args, name="powawidget-panel", daemon=True).start()


def _send_sessions(widget: ChatWidget) -> None:
    """Answer the session picker: the agent's recent sessions, the one the panel shows
    marked `current`, or why there are none."""
    try:
        current = widget.session_id
        rows: list[SessionRow] = [
            {
                "session_id": row.get("session_id"),
                "first_message": row.get("first_message"),
                "last_activity": row.get("last_activity"),
                "runs": row.get("runs"),
                "current": bool(current) and row.get("session_id") == current,
            }
            for row in list(widget.sessions())[:SESSIONS_SHOWN]
        ]
        message: SessionsMessage = {"type": "sessions", "sessions": rows}
    except REFUSALS as error:
        message = {"type": "sessions", "error": str(error)}
    widget._send_panel(json.loads(json.dumps(message, default=str)))


def _load_picked(widget: ChatWidget, session_id: str) -> None:
    """Load the session picked in the panel; a failure shows as the panel's error."""
    try:
        widget.load_session(session_id)
    except REFUSALS as error:
        widget._chat.report_error(str(error))
