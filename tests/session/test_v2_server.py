"""The client side of protocol v2 against the real local server, over HTTP.

A server as strict as the real backend (UUID agent ids only, each run's first approve POSTs
answered 404 as a misrouted multi-worker deployment would) and the shared one: approvals
get through, a non-UUID id is a permanent error, old sessions come back with their tool
calls, tool-less agents get their usage, unknown sessions are refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from powawidget.server import start_local_server
from powawidget.session.chat import ChatSession
from powawidget.session.history import UnknownSessionError
from powawidget.wire.client import PowabaseClient
from powawidget.wire.errors import InvalidIdError


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """UUID agent ids only; each run answers its first 2 approve POSTs with 404."""
    db = tmp_path_factory.mktemp("strict") / "agents.sqlite3"
    server = start_local_server(delay=0.0, db_path=str(db), strict_ids=True, approve_misses=2)
    try:
        yield server
    finally:
        server.stop()


def test_an_approval_gets_through_a_misrouted_approve_endpoint(strict_server: Any) -> None:
    sleeps: list[float] = []
    with PowabaseClient(strict_server.base_url, strict_server.api_key, sleep=sleeps.append) as c:
        agent = next(a["id"] for a in c.list_agents() if a.get("slug") == "agt_approval")
        names = []
        for event in c.stream_run(agent, "please do the thing that needs approval"):
            names.append(event["event"])
            if event["event"] == "approval_requested":
                assert c.approve(event["run_id"], True)["status"] == "resumed"
    assert sleeps == [0.25, 0.5]  # two 404s, then the right worker
    assert "hook_result" in names and names[-1] == "complete"


def test_a_non_uuid_agent_id_fails_once_with_what_an_id_looks_like(strict_server: Any) -> None:
    sleeps: list[float] = []
    with (
        PowabaseClient(strict_server.base_url, strict_server.api_key, sleep=sleeps.append) as c,
        pytest.raises(InvalidIdError) as info,
    ):
        c.stream_run("agt_demo", "hi")
    assert sleeps == [] and info.value.status_code == 500
    assert "UUID" in str(info.value) and "temporary" not in str(info.value)


def test_an_old_session_comes_back_with_its_tool_calls(client: Any) -> None:
    first = ChatSession(client, "agt_demo")
    assert first.send("How much is the cheapest kettle?").wait(30)
    assert first.send("and the most expensive one?").wait(30)
    live_calls = [e["tool_name"] for e in first.events if e["event"] == "tool_call"]

    again = ChatSession(client, "agt_demo")
    again.load_session(first.session_id)
    names = [e["event"] for e in again.events]
    assert names.count("history") == 2 and names.count("complete") == 2
    assert names[-1] == "session_loaded" and again.session_id == first.session_id
    loaded_calls = [e["tool_name"] for e in again.events if e["event"] == "tool_call"]
    assert loaded_calls == live_calls and loaded_calls
    users = [e["text"] for e in again.events if e["event"] == "history"]
    assert users == ["How much is the cheapest kettle?", "and the most expensive one?"]
    assert first.session_id in [row["session_id"] for row in again.sessions()]


def test_an_unknown_session_is_refused(client: Any) -> None:
    with pytest.raises(UnknownSessionError, match="No such session: sess_ffffffffffff"):
        ChatSession(client, "agt_demo").load_session("sess_ffffffffffff")


def test_a_tool_less_agent_gets_its_usage_after_the_run(client: Any) -> None:
    chat = ChatSession(client, "agt_plain")
    assert chat.send("hello").wait(30)
    completes = [e for e in chat.events if e["event"] == "complete"]
    assert completes and completes[-1]["usage"] is None  # the standard path sends none
    usage = chat.events[-1]
    assert usage["event"] == "usage" and usage["run_id"] == completes[-1]["run_id"]
    assert usage["usage"]["total_tokens"] > 0
    assert chat.conversation.last_turn.usage == usage["usage"]
