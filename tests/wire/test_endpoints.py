"""The JSON endpoints of protocol v2: approvals, sessions, a session's runs, paging.

Scripted peers give the answers the local server does not (an approval answered 404 by the
wrong worker first, a listing longer than one page); the session life cycle runs against
the local server when it has those endpoints.
"""

from __future__ import annotations

from typing import Any

import pytest
from scripted_peer import Reply, scripted_peer

from powawidget.wire import errors
from powawidget.wire.client import PAGE_SIZE, PowabaseClient

APPROVE = "POST /api/agents/runs/run_0123456789ab/approve"


def wrong_worker_first(misses: int) -> Any:
    """A peer whose approve answers 404 `misses` times, then resumes the run."""
    count = {"n": 0}

    def script(method: str, path: str, body: Any) -> Reply:
        count["n"] += 1
        if count["n"] <= misses:
            return Reply(404, {"error": "Run not found or not waiting for approval"})
        return Reply(200, {"status": "resumed"})

    return script


def test_an_approval_answered_404_by_the_wrong_worker_is_asked_again() -> None:
    sleeps: list[float] = []
    with (
        scripted_peer(wrong_worker_first(2)) as peer,
        PowabaseClient(peer.url, "key", sleep=sleeps.append) as c,
    ):
        assert c.approve("run_0123456789ab", False, "not today") == {"status": "resumed"}
    assert peer.paths() == [APPROVE] * 3
    assert all(body == {"approved": False, "reason": "not today"} for *_, body in peer.requests)
    assert sleeps == [0.25, 0.5]  # short: the user is waiting on the panel


def test_an_approval_still_404_after_the_retries_says_the_run_is_not_waiting() -> None:
    sleeps: list[float] = []
    with (
        scripted_peer(wrong_worker_first(99)) as peer,
        PowabaseClient(peer.url, "key", sleep=sleeps.append) as c,
        pytest.raises(errors.NotFoundError, match="not waiting for approval") as info,
    ):
        c.approve("run_0123456789ab", True)
    assert peer.paths() == [APPROVE] * 4 and len(sleeps) == 3
    assert "client." not in str(info.value)


def test_approved_must_be_a_bool_before_anything_is_sent() -> None:
    with scripted_peer(wrong_worker_first(0)) as peer, PowabaseClient(peer.url, "key") as c:
        with pytest.raises(TypeError, match=r"approved must be True .* or False"):
            c.approve("run_0123456789ab", "no")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="reason must be text"):
            c.approve("run_0123456789ab", False, 42)  # type: ignore[arg-type]
    assert peer.requests == []


def test_a_400_from_approve_says_what_the_server_wants() -> None:
    def script(method: str, path: str, body: Any) -> Reply:
        return Reply(400, {"error": 'Body must be a JSON object with a boolean "approved"'})

    with (
        scripted_peer(script) as peer,
        PowabaseClient(peer.url, "key") as c,
        pytest.raises(errors.PowabaseError) as info,
    ):
        c.approve("run_0123456789ab", True)
    assert info.value.status_code == 400 and info.value.code == "bad_request"
    assert "approved as true or false" in str(info.value)
    assert peer.paths() == [APPROVE]  # a 400 is never retried


def test_listings_are_read_page_by_page() -> None:
    runs = [{"run_id": f"run_{i:012x}"} for i in range(PAGE_SIZE + 7)]

    def script(method: str, path: str, body: Any) -> Reply:
        query = dict(p.split("=") for p in path.partition("?")[2].split("&"))
        start, size = int(query["offset"]), int(query["limit"])
        return Reply(200, {"session_id": "sess_x", "runs": runs[start : start + size]})

    with scripted_peer(script) as peer, PowabaseClient(peer.url, "key") as c:
        assert c.get_session_runs("sess_x") == runs
    assert peer.paths() == [
        f"GET /api/sessions/sess_x/runs?limit={PAGE_SIZE}&offset=0",
        f"GET /api/sessions/sess_x/runs?limit={PAGE_SIZE}&offset={PAGE_SIZE}",
    ]


def test_a_server_that_ignores_paging_is_read_once() -> None:
    sessions = [{"session_id": f"sess_{i:012x}"} for i in range(PAGE_SIZE + 1)]

    def script(method: str, path: str, body: Any) -> Reply:
        return Reply(200, {"sessions": sessions})

    with scripted_peer(script) as peer, PowabaseClient(peer.url, "key") as c:
        assert c.list_sessions("agt_demo") == sessions
    assert len(peer.requests) == 1


def test_create_and_delete_a_session_send_the_documented_requests() -> None:
    def script(method: str, path: str, body: Any) -> Reply:
        if method == "POST":
            return Reply(201, {"session_id": "sess_00000000000a", "agent_id": "agt_demo"})
        return Reply(200, {"success": True})

    seed = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    with scripted_peer(script) as peer, PowabaseClient(peer.url, "key") as c:
        created = c.create_session("agt_demo", initial_messages=seed)
        assert created["session_id"] == "sess_00000000000a"
        c.delete_session("agt_demo", created["session_id"])
    assert peer.requests == [
        ("POST", "/api/agents/agt_demo/sessions", {"initial_messages": seed}),
        ("DELETE", "/api/agents/agt_demo/sessions/sess_00000000000a", None),
    ]


def test_a_server_that_caps_the_page_size_is_still_read_to_the_end() -> None:
    sessions = [{"session_id": f"sess_{i:012x}"} for i in range(120)]

    def script(method: str, path: str, body: Any) -> Reply:
        query = dict(p.split("=") for p in path.partition("?")[2].split("&"))
        start = int(query["offset"])
        return Reply(200, {"sessions": sessions[start : start + 50], "limit": 50})

    with scripted_peer(script) as peer, PowabaseClient(peer.url, "key") as c:
        assert c.list_sessions("agt_demo") == sessions
    assert len(peer.requests) == 3  # 50 + 50 + 20


def test_a_server_that_ignores_the_offset_is_read_once() -> None:
    page = [{"session_id": f"sess_{i:012x}"} for i in range(PAGE_SIZE)]

    def script(method: str, path: str, body: Any) -> Reply:
        return Reply(200, {"sessions": page})

    with scripted_peer(script) as peer, PowabaseClient(peer.url, "key") as c:
        assert c.list_sessions("agt_demo") == page
    assert len(peer.requests) == 2  # the second answer repeats the first: stop
