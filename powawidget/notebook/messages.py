"""The panel's messages, both ways: the wire between the kernel and the front end, typed.

Kernel → panel (custom messages): a `Snapshot` of every entry, then `Patch`es of what
changed, each numbered so a view that missed one asks for a snapshot again. Panel → kernel:
the user's verbs. The JavaScript twin of these types is `js/src/model/types.js`; the
meaning of each is in docs/architecture.md ("The panel's messages").
"""

from __future__ import annotations

from typing import Literal, TypedDict

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


KernelMessage = Snapshot | Patch


class SendMessage(TypedDict):
    type: Literal["send"]
    text: str


class ApproveMessage(TypedDict):
    type: Literal["approve"]
    approved: bool
    reason: str | None


class VerbMessage(TypedDict):
    """Stop, retry, continue, a new session, or a snapshot for a view that (re)rendered."""

    type: Literal["stop", "retry", "new_session", "snapshot_request"]


PanelMessage = SendMessage | ApproveMessage | VerbMessage
