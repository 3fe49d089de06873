"""The panel's messages, both ways: the wire between the kernel and the front end, typed.

Kernel → panel (custom messages): a `Snapshot` of every entry, then `Patch`es of what
changed, each numbered so a view that missed one asks for a snapshot again, and the session
picker's `SessionsMessage`. Panel → kernel: the user's verbs (`PanelMessage`), checked at
the comm by `panel_message`. The JavaScript twin of these types is `js/src/model/types.js`;
the meaning of each is in docs/architecture.md ("The panel's messages").
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

from powawidget.model.view import EntryView, ItemView


class EntryOp(TypedDict):
    """A new entry at position `at` (a turn, a divider, a history note)."""

    op: Literal["entry"]
    at: int
    entry: EntryView


class TurnOp(TypedDict):
    """Turn-level fields that changed (status, usage, error, ...)."""

    op: Literal["turn"]
    at: int
    set: dict[str, object]


class ItemOp(TypedDict):
    """A new or changed item of a turn, whole."""

    op: Literal["item"]
    at: int
    index: int
    item: ItemView


class TextOp(TypedDict):
    """Text appended to a text or reasoning item (a batch's deltas, coalesced)."""

    op: Literal["text"]
    at: int
    index: int
    append: str


class RunTextOp(TypedDict):
    """Text appended to a text or reasoning item of a delegation's run (`sub`: its index in
    the run's items): a sub-agent's streamed answer costs its new characters only."""

    op: Literal["run-text"]
    at: int
    index: int
    sub: int
    append: str


class TrimOp(TypedDict):
    """A turn now has fewer items (a step reset dropped some)."""

    op: Literal["trim"]
    at: int
    items: int


Op = EntryOp | TurnOp | ItemOp | TextOp | RunTextOp | TrimOp


class Snapshot(TypedDict):
    """Every entry; `seq` is the number the next patch will carry minus one."""

    type: Literal["snapshot"]
    seq: int
    entries: list[EntryView]


class Patch(TypedDict):
    """What changed since the message numbered `seq - 1`."""

    type: Literal["patch"]
    seq: int
    ops: list[Op]


class SessionRow(TypedDict):
    """One session the picker lists (`session.listing.SESSION_COLUMNS`, plus whether the
    panel shows it now)."""

    session_id: str | None
    first_message: str | None
    last_activity: str | None
    runs: int | None
    current: bool


class _Sessions(TypedDict):
    type: Literal["sessions"]


class SessionsMessage(_Sessions, total=False):
    """The answer to `sessions_request`: the agent's recent sessions, or why there are none."""

    sessions: list[SessionRow]
    error: str


KernelMessage = Snapshot | Patch | SessionsMessage


class SendMessage(TypedDict):
    """Send the text typed in the panel."""

    type: Literal["send"]
    text: str


class ApproveMessage(TypedDict):
    """Approve or deny the tool call waiting for approval."""

    type: Literal["approve"]
    approved: bool
    reason: str | None


class LoadSessionMessage(TypedDict):
    """Show and continue the session picked in the panel's session picker."""

    type: Literal["load_session"]
    session_id: str


class VerbMessage(TypedDict):
    """Stop, retry, a new session, a snapshot for a view that (re)rendered, or the list of
    sessions for the picker."""

    type: Literal["stop", "retry", "new_session", "snapshot_request", "sessions_request"]


PanelMessage = SendMessage | ApproveMessage | LoadSessionMessage | VerbMessage


def panel_message(content: Any) -> PanelMessage | None:
    """`content` from the comm as a typed `PanelMessage`, or None when it is not one (the
    page is ours, but the comm is open to anything in the page)."""
    if not isinstance(content, dict):
        return None
    kind = content.get("type")
    if kind == "send":
        text = content.get("text")
        return {"type": "send", "text": text} if isinstance(text, str) else None
    if kind == "approve":
        approved, reason = content.get("approved"), content.get("reason")
        if not isinstance(approved, bool):
            return None
        return {
            "type": "approve",
            "approved": approved,
            "reason": reason if isinstance(reason, str) else None,
        }
    if kind == "load_session":
        session_id = content.get("session_id")
        if not isinstance(session_id, str):
            return None
        return {"type": "load_session", "session_id": session_id}
    if kind == "stop":
        return {"type": "stop"}
    if kind == "retry":
        return {"type": "retry"}
    if kind == "new_session":
        return {"type": "new_session"}
    if kind == "snapshot_request":
        return {"type": "snapshot_request"}
    if kind == "sessions_request":
        return {"type": "sessions_request"}
    return None
