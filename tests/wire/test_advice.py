"""Errors say what to do next in the words of the person who hit them.

A notebook user passed agent_id= and maybe base_url=/api_key=; they have a widget, not a
client. So advice names the setting they actually used, never `client.*` calls, never
literal backticks; a non-UUID agent id is a permanent error that shows what an id looks
like; a server error code is part of the message.
"""

from __future__ import annotations

import ast
import inspect
import re
import socket
from pathlib import Path
from typing import Any

import pytest
from scripted_peer import Reply, scripted_peer

from powawidget.cli import printers, terminal
from powawidget.session import chat, chat_state, history, usage
from powawidget.wire import advice, config, errors, listings, stream, transport
from powawidget.wire import client as client_module
from powawidget.wire.answers import error_for_status
from powawidget.wire.client import PowabaseClient
from powawidget.wire.errors import InvalidIdError, RunFailedError
from powawidget.wire.events import EventNormaliser
from powawidget.wire.sse import ServerSentEvent

FLASK_500 = (Path(__file__).parents[1] / "fixtures" / "agent_not_uuid_500.html").read_text()
"""The real backend's answer to a non-UUID agent id, byte for byte: no word about the id."""
A_UUID = "3f2b6c1e-8d4a-4b7e-9f00-2c5d8e1a7b3c"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (FLASK_500, "text/html; charset=utf-8"),
        ('{"error": "database error"}', "application/json"),  # whatever the body says
        ("", "text/plain"),
    ],
)
def test_a_non_uuid_agent_id_is_permanent_and_shows_what_an_id_looks_like(
    body: str, content_type: str
) -> None:
    def script(method: str, path: str, _body: Any) -> Reply:
        return Reply(500, body, content_type)

    sleeps: list[float] = []
    with (
        scripted_peer(script) as peer,
        PowabaseClient(peer.url, "key", sleep=sleeps.append, max_retries=4) as c,
    ):
        with pytest.raises(InvalidIdError) as info:
            c.stream_run("agt_demo", "hi")
        with pytest.raises(InvalidIdError):
            c.get_agent("agt_demo")  # a GET is idempotent, and still not retried
        with pytest.raises(InvalidIdError):
            c.list_sessions("agt_demo")  # w.sessions()
    assert peer.paths() == [
        "POST /api/agents/agt_demo/run/stream",
        "GET /api/agents/agt_demo",
        "GET /api/agents/agt_demo/sessions?limit=100&offset=0",
    ]
    assert sleeps == []
    message = str(info.value)
    assert "'agt_demo' is not a UUID" in message
    assert "UUID" in message and "3f2b" in message and "agent_id=" in message
    assert "try again in a moment" not in message and "temporary" not in message
    assert info.value.code == "invalid_id" and info.value.status_code == 500


def test_a_500_for_a_uuid_agent_id_is_still_temporary() -> None:
    def script(method: str, path: str, _body: Any) -> Reply:
        return Reply(500, FLASK_500, "text/html; charset=utf-8")

    sleeps: list[float] = []
    with (
        scripted_peer(script) as peer,
        PowabaseClient(peer.url, "key", sleep=sleeps.append, max_retries=2) as c,
        pytest.raises(errors.ServerError) as info,
    ):
        c.get_agent(A_UUID)
    assert "temporary" in str(info.value) and "500 Internal Server Error" in str(info.value)
    assert len(peer.requests) == 1  # a 500 is not among the statuses retried


def test_a_server_whose_ids_are_not_uuids_keeps_its_500s_temporary() -> None:
    # The built-in local server's demo agents are agt_…: a 500 there is a bug, not the id.
    def script(method: str, path: str, _body: Any) -> Reply:
        return Reply(500, "Internal Server Error", "text/plain")

    with (
        scripted_peer(script) as peer,
        PowabaseClient(peer.url, "key", uuid_agent_ids=False) as c,
        pytest.raises(errors.ServerError),
    ):
        c.stream_run("agt_demo", "hi")


def test_an_ordinary_500_is_still_temporary() -> None:
    error = error_for_status(500, body="<title>Internal Server Error</title>")
    assert isinstance(error, errors.ServerError) and "temporary" in str(error)


def test_a_documented_error_code_is_in_the_message() -> None:
    event = EventNormaliser().normalise(
        ServerSentEvent(
            data='{"event": "error", "message": "Too many requests", "code": "rate_limited"}'
        )
    )
    error = RunFailedError.from_event(event)
    assert str(error).startswith("[rate_limited] ") and "Too many requests" in str(error)
    assert error.code == "rate_limited"


def test_a_failure_without_a_code_has_no_tag() -> None:
    event = EventNormaliser().normalise(
        ServerSentEvent(data='{"event": "error", "error": "boom", "run_id": "run_1"}')
    )
    error = RunFailedError.from_event(event)
    assert str(error) == "The agent run failed (run run_1): boom"
    assert error.code == "run_failed"


def test_advice_names_the_variable_the_key_came_from(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POWABASE_API_KEY", raising=False)
    monkeypatch.setenv("POWABASE_SERVICE_ROLE_KEY", "from-the-alias")
    assert config.api_key_setting(None) == "POWABASE_SERVICE_ROLE_KEY"
    monkeypatch.setenv("POWABASE_API_KEY", "from-the-variable")
    assert config.api_key_setting(None) == "POWABASE_API_KEY"
    assert config.api_key_setting("passed") == "api_key="
    unauthorized = error_for_status(401, key_setting="POWABASE_API_KEY")
    assert "the key in POWABASE_API_KEY" in str(unauthorized)
    forbidden = error_for_status(403, key_setting="api_key=")
    assert "pass it as api_key=" in str(forbidden) and "POWABASE" not in str(forbidden)


def test_a_bad_url_names_where_it_came_from(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWABASE_BASE_URL", "example.com")
    with pytest.raises(errors.ConfigurationError) as from_env:
        config.resolve_base_url(None)
    assert "fix POWABASE_BASE_URL" in str(from_env.value)
    with pytest.raises(errors.ConfigurationError) as passed:
        config.resolve_base_url("example.org")
    assert "fix base_url=" in str(passed.value) and "POWABASE_BASE_URL" not in str(passed.value)


def test_a_url_from_the_environment_is_named_in_connection_advice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def script(method: str, path: str, body: Any) -> Reply:
        return Reply(200, "<html><title>Sign in</title></html>", "text/html")

    with scripted_peer(script) as peer:
        monkeypatch.setenv("POWABASE_BASE_URL", peer.url)
        with PowabaseClient(api_key="key") as c, pytest.raises(errors.StreamError) as info:
            c.stream_run("agt_demo", "hi")
    assert "Check that POWABASE_BASE_URL is the project's API URL" in str(info.value)


def _message_literals(module: Any) -> list[str]:
    """The string literals of a module's code; docstrings (bare string statements, those
    after an assignment included) left out."""
    tree = ast.parse(inspect.getsource(module))
    docstrings = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


@pytest.mark.parametrize(
    "module",
    [
        errors,
        client_module,
        listings,
        advice,
        transport,
        config,
        stream,
        chat,
        chat_state,
        history,
        usage,
        terminal,
        printers,
    ],
)
def test_no_message_names_a_client_call_or_has_backticks(module: Any) -> None:
    for text in _message_literals(module):
        assert "`" not in text, text
        assert not re.search(r"\bclient\.\w+\(", text), text
        assert "list_agents()" not in text, text


def test_a_url_nobody_passed_is_named_by_who_chose_it() -> None:
    with socket.socket() as probe:  # a port nobody listens on: the local server has stopped
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    origin = "the built-in local server"
    with (
        PowabaseClient(f"http://127.0.0.1:{port}", "k", max_retries=0, origin=origin) as c,
        pytest.raises(errors.ConnectionFailedError) as info,
    ):
        c.list_agents()
    assert "Check the built-in local server's address" in str(info.value)
    assert "base_url=" not in str(info.value) and "POWABASE" not in str(info.value)


def test_a_terminal_client_words_orchestration_advice_with_flags() -> None:
    def script(method: str, path: str, _body: Any) -> Reply:
        if path.startswith("/api/orchestrations/orch_x"):
            return Reply(500, FLASK_500, "text/html; charset=utf-8")
        return Reply(404, '{"error": "Orchestration not found"}', "application/json")

    with scripted_peer(script) as peer:
        for audience, said, unsaid in (
            (config.TERMINAL, "powawidget chat --orchestration ID", "ChatWidget"),
            (config.NOTEBOOK, "ChatWidget.orchestrations() lists them", "powawidget"),
        ):
            with PowabaseClient(peer.url, "k", max_retries=0, audience=audience) as c:
                with pytest.raises(InvalidIdError) as bad:
                    c.get_orchestration("orch_x")
                with pytest.raises(errors.NotFoundError) as missing:
                    c.get_orchestration(A_UUID)
            assert said in str(bad.value) and unsaid not in str(bad.value)
            assert unsaid not in str(missing.value)
            assert "Powabase Studio" in str(missing.value)
