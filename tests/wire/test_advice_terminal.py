"""A terminal user is never told to write Python: every error a terminal client's calls can
meet (the local server's answers and fault agents, raw-socket peers for the rest) is worded
with flags and environment variables, never `w.…`, `ChatWidget`, a call or an `argument=`.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from scripted_peer import Reply, read_request, scripted_peer

from powawidget.cli.evaluate import EVALUATE
from powawidget.session.run import start_run
from powawidget.wire.client import PowabaseClient
from powawidget.wire.config import NOTEBOOK, TERMINAL, Audience
from powawidget.wire.errors import PowabaseError, RunFailedError
from powawidget.wire.orchestrations import OrchestrationId

PYTHON = re.compile(r"\bw\.|ChatWidget|(?<![?&\w])[a-z][a-z_]*=(?=[\s,.)]|$)|\w\(\)")
"""Python call syntax: the widget's `w.`, the class, an argument name as advice writes it
(`api_key=` then a space, a comma, a stop, `)`), a call. A server's own `charset=utf-8` or
`?next=1`, quoted in a message, is not advice."""
A_UUID = "3f2b6c1e-8d4a-4b7e-9f00-2c5d8e1a7b3c"
AUDIENCES = pytest.mark.parametrize("audience", [TERMINAL, EVALUATE], ids=["chat", "evaluate"])


def _advice(call: Callable[[], Any]) -> str:
    """The message of the PowabaseError `call` raises (iterating a stream it returns), or ""
    where this server answers without an error (the local server lists an unknown session
    as empty)."""
    try:
        result = call()
        if hasattr(result, "__next__"):
            list(result)
    except PowabaseError as error:
        return error.message
    return ""


def _run_error(client: PowabaseClient, target: Any) -> str:
    """The error a run started through the session layer records."""
    handle = start_run(client, target, "hi", fetch_usage=False)
    assert handle.wait(30)
    assert handle.error is not None, handle.events[-1]
    return handle.error.message


@contextlib.contextmanager
def hanging_up_peer() -> Iterator[str]:
    """A peer that reads each request and closes the connection without a word."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = listener.accept()
                with conn:
                    read_request(conn)

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.close()


def _local_server_advice(server: Any, audience: Audience) -> list[str]:
    quiet: dict[str, Any] = {"sleep": lambda _s: None, "audience": audience}
    out: list[str] = []
    with PowabaseClient(server.base_url, server.api_key, max_retries=0, **quiet) as c:
        out += [
            _advice(lambda: c.stream_run("agt_nope", "hi")),
            _advice(lambda: c.get_agent("agt_nope")),
            _advice(lambda: c.list_sessions("agt_nope")),
            _advice(lambda: c.delete_session("agt_demo", "sess_nope")),
            _advice(lambda: c.session_messages("sess_nope")),
            _advice(lambda: c.get_session_runs("sess_nope")),
            _advice(lambda: c.get_run("run_nope")),
            _advice(lambda: c.approve("run_nope", True)),
            _advice(lambda: c.get_orchestration("orch_nope")),
            _advice(lambda: c.orchestration_sessions("orch_nope")),
            _advice(lambda: c.get_orchestration_run("orch_run_nope")),
            _run_error(c, OrchestrationId("orch_nope")),
        ]
        orchestration = c.list_orchestrations()[0]["id"]
        out.append(_advice(lambda: c.orchestration_session_messages(orchestration, "sess_no")))
        for agent in (
            "fault_unauthorized",
            "fault_credits",
            "fault_not_found",
            "fault_rate_limited",
            "fault_unavailable",
            "fault_not_event_stream",
            "fault_drop",
        ):
            out.append(_advice(lambda agent=agent: c.stream_run(agent, "hi")))
        out += [_run_error(c, "fault_failed_run"), _run_error(c, "fault_error_event")]
    with PowabaseClient(server.base_url, server.api_key, idle_timeout=0.3, **quiet) as c:
        out.append(_advice(lambda: c.stream_run("fault_stall", "stall 3")))
    return out


def _peer_advice(audience: Audience, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    quiet: dict[str, Any] = {"sleep": lambda _s: None, "audience": audience}
    replies = {
        "/403": Reply(403, {"error": "forbidden"}),
        "/500": Reply(500, "<title>Internal Server Error</title>", "text/html"),
        "/302": Reply(302, "", headers={"Location": "https://sso.example/login?next=1"}),
        "/shape": Reply(200, {"items": []}),
        "/wait": Reply(503, "", headers={"Retry-After": "1e9"}),
        "/big": Reply(200, {"agents": [{"id": "x" * 4000}]}),
    }
    out: list[str] = []

    for route in replies:

        def reply(_method: str, _path: str, _body: Any, route: str = route) -> Reply:
            return replies[route]

        with (
            scripted_peer(reply) as peer,
            PowabaseClient(peer.url, "pk_test", max_retries=1, **quiet) as c,
        ):
            out.append(_advice(lambda: c.stream_run("agt_demo", "hi")))
            out.append(_advice(lambda: c.list_agents()))
    monkeypatch.setenv("POWABASE_MAX_ANSWER_MB", "0.001")
    with (
        scripted_peer(lambda *_: replies["/big"]) as peer,
        PowabaseClient(peer.url, "pk_test", **quiet) as c,
    ):
        out.append(_advice(lambda: c.list_agents()))
    monkeypatch.delenv("POWABASE_MAX_ANSWER_MB")
    with hanging_up_peer() as url, PowabaseClient(url, "pk_test", max_retries=0, **quiet) as c:
        out.append(_advice(lambda: c.stream_run(A_UUID, "hi")))
        out.append(_advice(lambda: c.approve("run_x", True)))
        out.append(_advice(lambda: c.list_agents()))
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()  # nothing listens there now
    with PowabaseClient(f"http://127.0.0.1:{port}", "pk_test", max_retries=0, **quiet) as c:
        out.append(_advice(lambda: c.list_agents()))
    return out


@AUDIENCES
def test_no_advice_a_terminal_client_gives_is_python(
    local_server: Any, audience: Audience, monkeypatch: pytest.MonkeyPatch
) -> None:
    messages = _local_server_advice(local_server, audience) + _peer_advice(audience, monkeypatch)
    messages = [m for m in messages if m]
    assert len(messages) >= 30, messages
    python = [m for m in messages if PYTHON.search(m)]
    assert not python, "\n".join(python)


def test_the_notebook_still_gets_its_own_words(local_server: Any) -> None:
    """The same calls name the widget to a notebook user (so the check above can fail)."""
    messages = _local_server_advice(local_server, NOTEBOOK)
    assert any("w.sessions()" in m for m in messages)
    assert any("ChatWidget" in m for m in messages)


def test_an_unknown_orchestrations_error_frame_is_worded_for_the_reader() -> None:
    frame = {"event": "error", "error_message": "Orchestration orch_x not found"}
    assert "ChatWidget" in RunFailedError.from_event(frame).message
    assert not PYTHON.search(RunFailedError.from_event(frame, TERMINAL).message)
