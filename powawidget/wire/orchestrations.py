"""Orchestrations on the wire: which id is one, and what to tell a user who got it wrong.

An orchestration (a supervisor that delegates to agents it holds) runs through
`POST /api/orchestrations/{id}/run/stream` and keeps its sessions and runs under
`/api/orchestrations/…` (docs/protocol.md, Orchestrations). `OrchestrationId` marks an id
as an orchestration's, so every layer that passes "the id to run" along (the session, the
run thread, the evaluation pool) carries it unchanged and the client alone picks the path.
"""

from __future__ import annotations

from typing import Any

from powawidget.wire.config import NOTEBOOK, Audience

__all__ = [
    "ORCHESTRATION_ID_ADVICE",
    "ORCHESTRATION_NOT_FOUND_ADVICE",
    "OrchestrationId",
    "is_orchestration",
    "not_found_frame",
    "orchestration_id_advice",
    "orchestration_not_found_advice",
    "orchestration_run_not_found_advice",
    "orchestration_session_not_found_advice",
]


class OrchestrationId(str):
    """An orchestration's id: a `str` the client sends to `/api/orchestrations/…`."""

    __slots__ = ()  # its repr is the plain string's: error messages quote the id as typed


def is_orchestration(target: Any) -> bool:
    """True when the id to run names an orchestration, not an agent."""
    return isinstance(target, OrchestrationId)


def orchestration_not_found_advice(audience: Audience = NOTEBOOK) -> str:
    """What to do when the server knows no such orchestration, in the reader's terms."""
    lister = f"{audience.orchestrations}, or " if audience.orchestrations else ""
    return (
        f"Check the orchestration id: {lister}copy it from the orchestration's page in "
        "Powabase Studio."
    )


def orchestration_id_advice(audience: Audience = NOTEBOOK) -> str:
    """What an orchestration id looks like, where to put it and where to find one."""
    where = orchestration_not_found_advice(audience).split(": ", 1)[1]
    return (
        "Orchestration ids on Powabase are UUIDs such as 932edd28-2c38-4f30-b1a3-e7140c64b109: "
        f"pass one as {audience.orchestration_id}. {where[:1].upper()}{where[1:]}"
    )


def orchestration_session_not_found_advice(audience: Audience = NOTEBOOK) -> str:
    """What to do when an orchestration has no such session, in the reader's terms."""
    if audience.sessions:
        return f"Check the session id: {audience.sessions} lists this orchestration's."
    return "Check the session id (sess_…): each run of this orchestration names its session."


def orchestration_run_not_found_advice(audience: Audience = NOTEBOOK) -> str:
    """What to do when the server knows no such orchestration run."""
    if audience.runs:
        return f"Check the run id (orch_run_…): {audience.runs} lists the session's."
    return "Check the run id (orch_run_…): each orchestration run names it when it starts."


ORCHESTRATION_NOT_FOUND_ADVICE = orchestration_not_found_advice()
ORCHESTRATION_ID_ADVICE = orchestration_id_advice()
"""The notebook's wording (a `ChatWidget`); a terminal client words it with flags."""


def not_found_frame(message: str | None) -> bool:
    """True for the lone `error` frame of an unknown orchestration ("Orchestration … not
    found": a 200 with no `start`, docs/protocol.md)."""
    return (
        isinstance(message, str)
        and message.startswith("Orchestration ")
        and message.endswith(" not found")
    )
