"""A run's status, decided in one place: every other holder reads these functions.

`turn_status` says where a turn's run stands from what was folded into it;
`run_status` adds what only the client knows (is the thread done, was it stopped, did the
transport fail); `session_status` is what a chat panel shows between runs. The rules are
written down in docs/architecture.md ("Who owns what").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from powawidget.model.turns import Turn, TurnStatus

RunStatus = Literal["connecting", "streaming", "waiting_approval", "completed", "failed", "stopped"]
SessionStatus = Literal["idle", "connecting", "streaming", "waiting_approval", "error", "stopped"]

END_STATUS: dict[str, SessionStatus] = {
    "completed": "idle",
    "failed": "error",
    "stopped": "stopped",
}
"""The session's status once its latest run ended, by the run's outcome."""


def turn_status(turn: Turn) -> TurnStatus:
    """The turn's outcome once its run ended; else waiting_approval while any approval is
    undecided with its call still pending (parallel calls included), else streaming."""
    if turn.outcome is not None:
        return turn.outcome
    if any(approval.waiting for approval in turn.approvals):
        return "waiting_approval"
    return "streaming"


def run_status(
    turn: Turn | None, *, done: bool, stopped: bool, failed: bool, heard: bool
) -> RunStatus:
    """A run's status for its handle.

    Args:
        turn: the run's turn in the conversation (None before its first event).
        done: the run's thread has finished.
        stopped: the user stopped it before it ended by itself.
        failed: it ended with an error (from the server or the transport).
        heard: an event from the server arrived (before that the run is connecting).
    """
    if done:
        if failed:
            return "failed"
        if stopped:
            return "stopped"
        if turn is None:
            return "completed"
        status = turn_status(turn)
        # A stream that ended cleanly without `complete` (or an approval left open) is over.
        return "completed" if status in ("streaming", "waiting_approval") else status
    if turn is None or not heard:
        return "connecting"
    return turn_status(turn)


def session_status(run: RunStatus | None, *, replaying: bool = False) -> SessionStatus:
    """What the panel shows: streaming while a replay plays, else the latest run's live
    status, or how it ended (idle after a completed run, error after a failure, stopped)."""
    if replaying:
        return "streaming"
    if run is None:
        return "idle"
    if run in END_STATUS:
        return END_STATUS[run]
    return run  # type: ignore[return-value]
