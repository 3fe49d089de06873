"""Stop while a sub-agent streams, against the local server with a token delay: the turn is
stopped, the open delegation (its child run) is closed as stopped, and every event and word
received before the stop is kept, in the widget's views as in the session's fold."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from powawidget.notebook.widget import ChatWidget
from powawidget.server import start_local_server


@pytest.fixture(scope="module")
def paced_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A local server that streams one frame every 50 ms (time to stop mid-delegation)."""
    db: Path = tmp_path_factory.mktemp("paced") / "agents.sqlite3"
    server = start_local_server(delay=0.05, db_path=str(db))
    try:
        yield server
    finally:
        server.stop()


def until(check: Any, timeout: float = 20.0) -> None:
    ends = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < ends, "timed out"
        time.sleep(0.02)


def test_stop_while_the_sub_agent_streams_closes_its_run_as_stopped(paced_server: Any) -> None:
    w = ChatWidget(
        base_url=paced_server.base_url,
        api_key=paced_server.api_key,
        orchestration_id="orch_demo",
    )
    try:
        session = w._chat
        session.send("Which plan fits 40 people?")

        def sub_agent_streaming() -> bool:
            turns = session.conversation.turns
            if not turns or not turns[-1].delegations:
                return False
            child = turns[-1].delegations[0].run
            return len(child.text) > 20

        until(sub_agent_streaming)
        w.stop()
        assert session.wait(10)
        turn = session.conversation.turns[-1]
        assert turn.status == "stopped"
        (delegation,) = turn.delegations
        assert delegation.status == "stopped" and not delegation.open
        assert delegation.run.status == "stopped"
        assert delegation.ended_at is not None and delegation.duration_ms is not None
        # Nothing received is lost: every delta that arrived is in the child's text, in order.
        events = session.events
        started = next(i for i, e in enumerate(events) if e["event"] == "delegation_started")
        deltas = "".join(
            str(e.get("text") or "") for e in events[started:] if e["event"] == "content_delta"
        )
        assert deltas and delegation.run.text == deltas
        assert not any(e["event"] == "delegation_completed" for e in events)
        assert events[-1]["event"] == "stopped"
        assert turn.text == ""  # the supervisor had not spoken yet
        # The views agree: the delegation row and the child's run row say stopped.
        assert w.delegations.column("status") == ["stopped"]
        children = [r for r in w.runs if r.get("depth") == 1]
        assert [r["status"] for r in children] == ["stopped"]
        # A new message runs normally afterwards.
        session.send("hello")
        assert session.wait(20)
        assert session.conversation.turns[-1].status == "completed"
    finally:
        w.close()
