"""Usage for agents without tools: their `complete` has none, the stored run has it.

A scripted peer streams the standard (tool-less) path and serves the stored run; the run
ends with a `usage` event the fold applies, and a lookup that fails or is slow changes
nothing else.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from scripted_peer import Reply, scripted_peer

from powawidget.session import usage as usage_module
from powawidget.session.chat import ChatSession
from powawidget.wire.client import PowabaseClient

RUN = "run_00000000000a"
USAGE = {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}


def sse(*frames: dict) -> Reply:
    """An event stream of `frames`, Python's json.dumps separators as the server sends them."""
    body = "".join(f"data: {json.dumps(f)}\n\n" for f in frames)
    return Reply(200, body, "text/event-stream; charset=utf-8")


def tool_less(with_usage: bool = False) -> Reply:
    """The standard-streaming path: start, deltas, chunk, complete (no usage on it)."""
    complete = {
        "event": "complete",
        "run_id": RUN,
        "session_id": "sess_x",
        "content": "Hello!",
        "status": "completed",
        "error": None,
    }
    if with_usage:
        complete["usage"] = USAGE
    return sse(
        {"event": "start", "run_id": RUN, "session_id": "sess_x", "reasoning_requested": False},
        {"event": "content_delta", "type": "content_delta", "delta": "Hello!"},
        {"event": "chunk", "content": "Hello!"},
        complete,
    )


def peer_script(stream: Reply, stored: Reply, pause: float = 0.0) -> Any:
    def script(method: str, path: str, body: Any) -> Reply:
        if path.endswith("/run/stream"):
            return stream
        if path == f"/api/agents/runs/{RUN}":
            time.sleep(pause)
            return stored
        return Reply(200, {"id": "agt_plain", "name": "Plain"})

    return script


def run_once(peer_url: str, **options: Any) -> ChatSession:
    client = PowabaseClient(peer_url, "key", max_retries=0)
    chat = ChatSession(client, "agt_plain", owns_client=True, **options)
    handle = chat.send("hi")
    assert handle.wait(10)
    chat.close()
    return chat


def test_a_tool_less_run_ends_with_its_stored_usage() -> None:
    stored = Reply(200, {"run_id": RUN, "status": "completed", "usage": USAGE, "events": None})
    with scripted_peer(peer_script(tool_less(), stored)) as peer:
        chat = run_once(peer.url)
    names = [e["event"] for e in chat.events]
    assert names[-2:] == ["complete", "usage"]
    event = chat.events[-1]
    assert (event["run_id"], event["session_id"], event["usage"]) == (RUN, "sess_x", USAGE)
    assert chat.last_run.status == "completed" and chat.status == "idle"
    assert chat.conversation.last_turn.usage == USAGE
    assert f"GET /api/agents/runs/{RUN}" in peer.paths()


def test_no_lookup_when_the_stream_had_usage_or_when_turned_off() -> None:
    stored = Reply(200, {"usage": {"total_tokens": 999}})
    with scripted_peer(peer_script(tool_less(with_usage=True), stored)) as peer:
        chat = run_once(peer.url)
        off = run_once(peer.url.replace("127.0.0.1", "localhost"), fetch_usage=False)
    assert "usage" not in [e["event"] for e in chat.events + off.events]
    assert not any("/api/agents/runs/" in p for p in peer.paths())


@pytest.mark.parametrize(
    "stored",
    [Reply(500, "<title>Internal Server Error</title>", "text/html"), Reply(200, {"usage": None})],
)
def test_a_failed_lookup_changes_nothing(stored: Reply) -> None:
    with scripted_peer(peer_script(tool_less(), stored)) as peer:
        chat = run_once(peer.url)
    assert [e["event"] for e in chat.events][-1] == "complete"
    assert chat.last_run.error is None and chat.error == "" and chat.status == "idle"


def test_a_slow_lookup_gives_up_after_the_short_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(usage_module, "USAGE_TIMEOUT", 0.2)
    stored = Reply(200, {"usage": USAGE})
    with scripted_peer(peer_script(tool_less(), stored, pause=1.5)) as peer:
        chat = run_once(peer.url)
    assert [e["event"] for e in chat.events][-1] == "complete"
    assert chat.last_run.status == "completed" and chat.error == ""


def test_a_message_sent_during_the_lookup_waits_for_it(monkeypatch: pytest.MonkeyPatch) -> None:
    stored = Reply(200, {"usage": USAGE})
    with scripted_peer(peer_script(tool_less(), stored, pause=0.5)) as peer:
        client = PowabaseClient(peer.url, "key", max_retries=0)
        chat = ChatSession(client, "agt_plain", owns_client=True)
        first = chat.send("hi")
        while not first._ended:  # the stream is over; the usage lookup is under way
            time.sleep(0.01)
        second = chat.send("again")  # no RunInProgressError: the lookup ends first
        assert second.wait(10)
        chat.close()
    names = [e["event"] for e in chat.events]
    assert names.count("usage") == 2 and names.index("usage") < names.index("user_message", 1)
