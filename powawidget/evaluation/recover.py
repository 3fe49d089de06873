"""Resume loses nothing: a run that started before the process died is read back, not re-sent.

The checkpoint holds the run id of every run whose `start` event arrived. On resume each
such run is asked for with `GET /api/agents/runs/{id}` (the server finishes a run whose
client went away): its answer, status, usage, tool calls and stored events become the
row, exactly as if the stream had been read to the end (the same normaliser and fold as
a loaded session, `session.history.run_events`). A run still going on the server is
asked again until it ends; one the server does not know (404) stays "unfinished".
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from powawidget.evaluation.columns import COMPLETED, FAILED, STOPPED, UNFINISHED
from powawidget.evaluation.prompts import Prompt
from powawidget.evaluation.results import pending_row, run_row
from powawidget.model.conversation import Conversation
from powawidget.model.turns import parse_time
from powawidget.session.history import CANCELLED, ENDED, run_events
from powawidget.wire.errors import NotFoundError, PowabaseError

if TYPE_CHECKING:
    from powawidget.evaluation.evaluation import Evaluation
    from powawidget.evaluation.gate import Gate

logger = logging.getLogger(__name__)

POLL = 0.5
"""Seconds between two asks for a run still going on the server."""
PATIENCE = 600.0
"""Seconds a resumed evaluation waits for runs still going on the server."""


def recovered(
    prompt: Prompt, run: dict[str, Any], record: dict[str, Any]
) -> tuple[str, dict[str, Any], list[Any]]:
    """(status, row, events) of a stored run that ended."""
    run_id, session_id = record.get("run_id"), record.get("session_id")
    events = run_events({**run, "run_id": run_id}, session_id or run.get("session_id") or "")
    conversation = Conversation(events)
    turn = conversation.last_turn
    stored = run.get("status")
    status = COMPLETED if stored == "completed" else STOPPED if stored in CANCELLED else FAILED
    error = run.get("error")
    message = error.get("message") if isinstance(error, dict) else error
    row = run_row(prompt, turn, status, str(message) if status == FAILED and message else None)
    row.update(run_id=run_id, session_id=row.get("session_id") or session_id)
    return status, row, events


def ask(evaluation: Evaluation, client: Any, prompt: Prompt, record: dict[str, Any]) -> str:
    """Ask the server for one run: "ended" (reported), "running", "lost" (404) or "error"."""
    run_id = record["run_id"]
    try:
        run = client.get_run(run_id)
    except NotFoundError:
        return "lost"
    except PowabaseError as error:
        evaluation._unrecovered(
            prompt, record, f"could not read run {run_id} back: {error.message}"
        )
        return "error"
    if run.get("status") in ENDED or run.get("status") in CANCELLED:
        status, row, events = recovered(prompt, run, record)
        evaluation._finished(prompt, status, row, events)
        return "ended"
    return "running"


def first_pass(evaluation: Evaluation, client: Any, retry_unfinished: bool) -> list[Prompt]:
    """Ask once for every run being recovered (before anything is sent); returns the lost
    ones to send again (only with `retry_unfinished`); runs still going stay recovering."""
    resend: list[Prompt] = []
    still = []
    for prompt, record in evaluation._recovering:
        outcome = ask(evaluation, client, prompt, record)
        if outcome == "running":
            still.append((prompt, record))
        elif outcome == "lost":
            if retry_unfinished:
                resend.append(prompt)
            else:
                evaluation._unrecovered(
                    prompt,
                    record,
                    f"the server has no run {record['run_id']} (it started before the "
                    "checkpoint's process ended); pass retry_unfinished=True to send it again",
                )
    evaluation._recovering = still
    return resend


def recover(
    evaluation: Evaluation,
    client: Any,
    gate: Gate,
    *,
    poll: float = POLL,
    patience: float = PATIENCE,
) -> None:
    """Ask again for the runs still going on the server until each ended (or we stop)."""
    waiting = list(evaluation._recovering)
    deadline = time.monotonic() + patience
    while waiting:
        if gate.sleep(poll) or time.monotonic() >= deadline:
            for prompt, record in waiting:
                evaluation._unrecovered(
                    prompt,
                    record,
                    f"run {record['run_id']} was still going on the server; evaluate again "
                    "with the same checkpoint to pick up its result",
                )
            return
        waiting = [
            (prompt, record)
            for prompt, record in waiting
            if ask(evaluation, client, prompt, record) == "running"
        ]


CLOCK_SLACK = 120.0
"""Seconds a session may seem to start before its request was sent (the two clocks differ)."""


def claim_sent(
    evaluation: Evaluation, client: Any, agent_id: str, retry_unfinished: bool
) -> list[Prompt]:
    """Find the runs of prompts sent with no run id back before the process died.

    The agent's sessions list names each session's first message and start time: a session
    started (since the prompt was sent) with exactly the prompt's text, that no other row of
    this evaluation holds, is its run, recovered like the others. A prompt with no such
    session never reached the server: it is sent again only with `retry_unfinished`
    (returned), else reported unfinished.
    """
    waiting = sorted(evaluation._unclaimed, key=lambda item: item[1]["sent_at"])
    evaluation._unclaimed = []
    if not waiting:
        return []
    try:
        sessions = client.list_sessions(agent_id)
    except PowabaseError as error:
        sessions = []
        logger.warning("powawidget: could not list the agent's sessions: %s", error.message)
    held = {row.get("session_id") for row in evaluation._rows.values()}
    since = waiting[0][1]["sent_at"] - CLOCK_SLACK
    free: dict[str, list[tuple[float, str]]] = {}
    for session in sessions:
        started = parse_time(session.get("created_at"))
        sid, text = session.get("session_id"), session.get("first_message")
        if started is None or not isinstance(sid, str) or sid in held or not isinstance(text, str):
            continue
        if started.timestamp() >= since:
            free.setdefault(text, []).append((started.timestamp(), sid))
    resend: list[Prompt] = []
    for prompt, record in waiting:
        found = sorted(free.get(prompt.prompt, []))
        run = _first_run(client, found[0][1]) if found else None
        if found:
            free[prompt.prompt].remove(found[0])
        if run is not None:
            evaluation._recovering.append((prompt, run))
        elif retry_unfinished:
            resend.append(prompt)
        else:
            evaluation._unrecovered(
                prompt,
                record,
                "sent before the checkpoint's process ended, but the server has no session "
                "started with it since; not sent again (pass retry_unfinished=True to send it "
                "again)",
            )
    return resend


def _first_run(client: Any, session_id: str) -> dict[str, Any] | None:
    """{run_id, session_id} of a session's first run (None if it has none)."""
    try:
        runs = client.get_session_runs(session_id)
    except PowabaseError:
        return None
    for run in runs:
        if isinstance(run, dict) and isinstance(run.get("run_id"), str):
            return {"run_id": run["run_id"], "session_id": session_id}
    return None


def start_recovery(evaluation: Evaluation, client: Any, gate: Gate) -> threading.Thread | None:
    """Recover in a thread beside the pool (None when there is nothing to recover)."""
    if not evaluation._recovering:
        return None

    def main() -> None:
        try:
            recover(evaluation, client, gate)
        except Exception:
            logger.exception("powawidget: reading back the unfinished runs failed")
            for prompt, record in evaluation._recovering:
                if evaluation._rows[prompt.key]["status"] not in (COMPLETED, FAILED, STOPPED):
                    evaluation._unrecovered(prompt, record, "reading it back failed")

    thread = threading.Thread(target=main, name="powawidget-evaluate-recover", daemon=True)
    thread.start()
    return thread


def unrecovered_row(prompt: Prompt, record: dict[str, Any], why: str) -> dict[str, Any]:
    """The row of a run that could not be read back."""
    return pending_row(
        prompt,
        UNFINISHED,
        run_id=record.get("run_id"),
        session_id=record.get("session_id"),
        error=why,
    )
