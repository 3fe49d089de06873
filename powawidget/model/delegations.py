"""Orchestrations: a sub-agent's events fold into a child run of the orchestrator's turn.

The server sends a sub-agent's frames between `delegation_started` and
`delegation_completed` with nothing marking them (their `seq` and `step` restart at 1), so
the envelope alone says whose they are (docs/protocol.md, Orchestrations). `route` picks
the run an event belongs to: the deepest delegation still open, except for the events that
only the orchestration as a whole sends. The server also glues every sub-agent's text
before the orchestrator's in `chunk` and `complete.content` (a server bug): `own_text`
takes it apart again. Pure, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterator

from powawidget.model import tools
from powawidget.model.turns import Delegation, TextSegment, ToolCall, Turn, _at, _int, _str
from powawidget.wire.canonical import CanonicalEvent
from powawidget.wire.events import raw_field

DELEGATE_PREFIX = "delegate_to_"
"""The orchestrator's tool that hands a task to an agent is `delegate_to_<agent name>`."""

TOP_LEVEL = frozenset(
    {
        "start",
        "orchestration_started",
        "orchestration_completed",
        "chunk",
        "complete",
        "client_error",
        "stopped",
        "usage",
        "user_message",
        "history",
    }
)
"""Events only the orchestration as a whole sends: never a sub-agent's."""


def open_chain(turn: Turn) -> list[Turn]:
    """The turn, then each run delegated to and still open, outermost first."""
    chain = [turn]
    while True:
        run = chain[-1]
        inner = next((d for d in reversed(run.delegations) if d.open), None)
        if inner is None:
            return chain
        chain.append(inner.run)


def route(turn: Turn, event: CanonicalEvent) -> Turn:
    """The run an event of `turn` folds into (`turn` itself unless a delegation is open)."""
    if not turn.delegations:
        return turn
    name = event.get("event")
    if name in TOP_LEVEL:
        return turn
    chain = open_chain(turn)
    if name == "delegation_completed":
        child = _str(raw_field(event, "child_execution_id"))
        for run in reversed(chain[:-1]):
            if any(d.open and d.child_run_id == child for d in run.delegations):
                return run
        return chain[-2] if len(chain) > 1 else turn
    return chain[-1]


def on_orchestration_started(turn: Turn, event: CanonicalEvent) -> None:
    """The orchestration names itself and its strategy (shown above its answer)."""
    turn.orchestration = {
        "name": _str(raw_field(event, "name")),
        "strategy": _str(raw_field(event, "strategy")),
    }
    turn.agent = turn.agent or turn.orchestration["name"]


def _delegate_call(run: Turn, agent: str | None) -> ToolCall | None:
    """The open `delegate_to_<agent>` call a delegation answers (else any open delegate call)."""
    linked = {id(d.call) for d in run.delegations}
    open_calls = [c for c in run.tool_calls if not c._has_result and id(c) not in linked]
    named = [c for c in open_calls if c.tool_name == f"{DELEGATE_PREFIX}{agent}"]
    if named:
        return named[-1]
    anyone = [c for c in open_calls if (c.tool_name or "").startswith(DELEGATE_PREFIX)]
    return anyone[-1] if anyone else None


def on_delegation_started(run: Turn, event: CanonicalEvent) -> None:
    """A child run opens; its card takes the place of the delegate tool call's card."""
    agent = _str(raw_field(event, "agent"))
    task = _str(raw_field(event, "task"))
    child = Turn(
        index=run.index,
        run_id=_str(raw_field(event, "child_execution_id")),
        user_text=task,
        session_index=run.session_index,
        started_at=_at(event),
        agent=agent,
        parent_run_id=run.run_id,
        depth=run.depth + 1,
    )
    delegation = Delegation(
        agent=agent, task=task, child_run_id=child.run_id, run=child, started_at=_at(event)
    )
    delegation.call = _delegate_call(run, agent)
    delegation.server_times[0] = _str(raw_field(event, "ts"))
    run.delegations.append(delegation)
    position = next((n for n, i in enumerate(run.items) if i is delegation.call), None)
    if position is None:
        run.items.append(delegation)
    else:
        run.items[position] = delegation


def on_delegation_completed(run: Turn, event: CanonicalEvent) -> None:
    """A child run ends with the status, steps and usage the server counted for it."""
    child_id = _str(raw_field(event, "child_execution_id"))
    delegation = next((d for d in run.delegations if d.open and d.child_run_id == child_id), None)
    if delegation is None:
        delegation = next((d for d in reversed(run.delegations) if d.open), None)
    if delegation is None:  # a partial recording: the delegation is known by its end alone
        on_delegation_started(run, event)
        delegation = run.delegations[-1]
    child = delegation.run
    status = _str(raw_field(event, "status"))
    steps = _int(raw_field(event, "steps"))
    if steps is not None:
        child.steps_reported = steps
    usage = event["usage"]  # cleaned by the normaliser: measures in range (docs/protocol.md)
    if usage is not None:
        child.usage = usage
    delegation.ended_at = child.ended_at = _at(event)
    delegation.server_times[1] = _str(raw_field(event, "ts"))
    close(delegation, "failed" if status == "failed" else "completed")


def close(delegation: Delegation, outcome: str) -> None:
    """End a child run (and any run it delegated to that is still open)."""
    child = delegation.run
    for inner in child.delegations:
        if inner.open:
            close(inner, "completed" if outcome == "completed" else outcome)
    if child.outcome is None:
        child.outcome = outcome  # type: ignore[assignment]
    if outcome == "failed" and child.error_message is None:
        child.error_message = _answer_of_call(delegation) or _default_error(delegation)
    delegation.ended_at = delegation.ended_at or child.ended_at
    tools.close_open_calls(child, child.outcome or outcome)
    tools.end_thinking(child, child.ended_at)


def _answer_of_call(delegation: Delegation) -> str | None:
    """What the orchestrator received from the sub-agent: its answer or its error text."""
    call = delegation.call
    return call.result if call is not None and call._has_result else None


ENDINGS = frozenset({"complete", "error", "client_error", "stopped"})
"""Events after which an orchestration that has ended closes what it left open."""


def after_event(run: Turn, turn: Turn, name: str) -> None:
    """Keep delegations in step with the runs around them after any event of `turn`.

    A failed child's error text reaches the orchestrator only as the delegate call's
    result; a child whose answer was never streamed (a stored run) shows that result; an
    orchestration that ended closes whatever it delegated to and left open."""
    for delegation in run.delegations:
        answer = _answer_of_call(delegation)
        if answer is None or delegation.open:
            continue
        child = delegation.run
        if child.outcome == "failed" and child.error_message in (None, _default_error(delegation)):
            child.error_message = answer
        elif child.outcome == "completed" and not child.text:
            child.text = answer
            child.items.append(_segment(answer))
    if turn.finished and name in ENDINGS:  # a stored turn is "completed" from its start
        for delegation in turn.delegations:
            if delegation.open:
                delegation.run.ended_at = turn.ended_at
                close(delegation, turn.outcome or "completed")


def _default_error(delegation: Delegation) -> str:
    return f"{delegation.agent or 'The agent'} failed"


def _segment(text: str) -> TextSegment:
    segment = TextSegment()
    segment.text = text
    return segment


def runs_of(turn: Turn) -> Iterator[Turn]:
    """The turn's run, then every run it delegated to, depth first (who did what)."""
    yield turn
    for delegation in turn.delegations:
        yield from runs_of(delegation.run)


def all_delegations(turn: Turn) -> Iterator[Delegation]:
    """Every delegation of a turn, nested ones after their parent's."""
    for delegation in turn.delegations:
        yield delegation
        yield from all_delegations(delegation.run)


def streamed(run: Turn) -> str:
    """Every answer text the server buffered for a run, in arrival order: its own segments
    and, where it delegated, what its sub-agents said (the server's glued text)."""
    parts: list[str] = []
    for item in run.items:
        if isinstance(item, TextSegment):
            parts.append(item.text)
        elif isinstance(item, Delegation):
            parts.append(streamed(item.run))
    return "".join(parts)


def own_text(turn: Turn, text: str) -> str:
    """The orchestrator's own answer inside the server's `chunk`/`complete.content`.

    The server buffers every `content_delta`, the sub-agents' included, so its text is
    theirs glued before (or around) the orchestrator's. When it is exactly what was
    streamed, the orchestrator's own segments are its answer; a stored run (no deltas)
    starts with its sub-agents' answers, which are cut off. Anything else is the server's
    text as it is (a fixed server sends the orchestrator's own text)."""
    if not turn.delegations or not text:
        return text
    if text == streamed(turn):
        return "".join(i.text for i in turn.items if isinstance(i, TextSegment))
    children = "".join(streamed(d.run) for d in turn.delegations)
    if children and text.startswith(children):
        return text[len(children) :]
    return text
