"""Refusals a user meets in every front door, over real HTTP to the local server.

- An agent id that is not a UUID, on a server whose ids are UUIDs (the local server's
  strict mode answers it with the real backend's generic Flask 500 page): the widget,
  `sessions()`, `evaluate()` and `powawidget chat` all say it is the id, never "try again".
- A closed chat refuses every verb that would talk to the server: nothing is sent.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from scripted_peer import Reply, scripted_peer

from powawidget.evaluation.api import evaluate
from powawidget.notebook.widget import ChatWidget
from powawidget.server import start_local_server
from powawidget.session.chat import ChatSession
from powawidget.wire.client import PowabaseClient
from powawidget.wire.errors import ChatClosedError, InvalidIdError

FLASK_500 = (Path(__file__).parents[1] / "fixtures" / "agent_not_uuid_500.html").read_bytes()


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A local server whose agent ids are UUIDs, as on the real backend."""
    db = tmp_path_factory.mktemp("strict-ids") / "agents.sqlite3"
    server = start_local_server(delay=0.0, db_path=str(db), strict_ids=True)
    try:
        yield server
    finally:
        server.stop()


def assert_says_the_id_is_wrong(message: str) -> None:
    """The invalid-id advice: what an id looks like, and no "try again"."""
    assert "'agt_demo' is not a UUID" in message
    assert "3f2b6c1e-8d4a-4b7e-9f00-2c5d8e1a7b3c" in message
    assert "temporary" not in message and "try again in a moment" not in message


# -- a non-UUID agent id -----------------------------------------------------------------------


def test_the_strict_server_answers_a_non_uuid_id_with_the_real_page(strict_server: Any) -> None:
    key = strict_server.api_key
    headers = {"apikey": key, "Authorization": f"Bearer {key}"}
    url = f"{strict_server.base_url}/api/agents/agt_demo/run/stream"
    answer = httpx.post(url, json={"message": "hi"}, headers=headers, timeout=30)
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    assert answer.content == FLASK_500  # byte for byte: no word about the id
    agents = httpx.get(f"{strict_server.base_url}/api/agents", headers=headers, timeout=30)
    demo = next(a for a in agents.json()["agents"] if a["slug"] == "agt_demo")
    assert demo["id"] == demo["uuid"]  # in this mode the ids are UUIDs, and they work
    ok = httpx.post(
        f"{strict_server.base_url}/api/agents/{demo['id']}/run/stream",
        json={"message": "hi"},
        headers=headers,
        timeout=30,
    )
    assert ok.status_code == 200 and '"complete"' in ok.text


def test_the_widget_says_the_agent_id_is_wrong(strict_server: Any) -> None:
    widget = ChatWidget("agt_demo", strict_server.base_url, strict_server.api_key)
    try:
        handle = widget.send("hi")
        assert handle.wait(30)
        assert isinstance(handle.error, InvalidIdError)
        assert_says_the_id_is_wrong(widget.error)
        with pytest.raises(InvalidIdError) as listing:
            widget.sessions()
        assert_says_the_id_is_wrong(str(listing.value))
    finally:
        widget.close()


def test_an_evaluation_says_the_agent_id_is_wrong_before_any_prompt(strict_server: Any) -> None:
    with pytest.raises(InvalidIdError) as info:
        evaluate(
            "agt_demo",
            ["one", "two"],
            base_url=strict_server.base_url,
            api_key=strict_server.api_key,
            concurrency=1,
            display=False,
        )
    assert_says_the_id_is_wrong(str(info.value))


def test_powawidget_chat_says_the_agent_id_is_wrong(strict_server: Any, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POWABASE_")}
    env.update(
        NO_COLOR="1",
        XDG_DATA_HOME=str(tmp_path),
        POWABASE_BASE_URL=strict_server.base_url,
        POWABASE_API_KEY=strict_server.api_key,
    )
    done = subprocess.run(
        [sys.executable, "-m", "powawidget", "chat", "agt_demo", "hi"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert_says_the_id_is_wrong(done.stderr)
    assert "AGENT_ID of powawidget chat" in done.stderr


def test_the_demo_ids_still_work_on_the_ordinary_local_server(client: Any) -> None:
    handle = ChatSession(client, "agt_demo").send("hi")
    assert handle.wait(30) and handle.error is None


# -- a closed chat -----------------------------------------------------------------------------


def test_a_closed_widget_refuses_every_verb_and_sends_nothing() -> None:
    def script(method: str, path: str, _body: Any) -> Reply:
        return Reply(200, {"id": "agt_demo", "name": "Demo"})

    with scripted_peer(script) as peer:
        client = PowabaseClient(peer.url, "key", uuid_agent_ids=False)
        widget = ChatWidget("agt_demo", client=client)
        for _ in range(500):  # the panel looks the agent's name up in the background
            if "GET /api/agents/agt_demo" in peer.paths():
                break
            time.sleep(0.01)
        widget.close()
        before = list(peer.paths())
        verbs = {
            "send a message": lambda: widget.send("hi"),
            "send a message ": lambda: widget.ask("hi", timeout=5),
            "send a message  ": lambda: asyncio.run(widget.ask_async("hi", timeout=5)),
            "answer an approval": lambda: widget.approve(True),
            "retry the last message": lambda: widget._chat.retry(),  # the panel's Retry
            "load a session": lambda: widget.load_session("sess_0123456789ab"),
            "start a new session": widget.new_session,
            "list the agent's sessions": widget.sessions,
        }
        for action, verb in verbs.items():
            with pytest.raises(ChatClosedError) as info:
                verb()
            message = str(info.value)
            assert f"This chat was closed: it cannot {action.strip()}." in message
            assert "new ChatWidget" in message
        assert [p for p in peer.paths() if p not in before] == []  # nothing reached the server
        assert "/run/stream" not in " ".join(peer.paths())
        assert widget.transcript is not None  # what it holds stays readable


# -- the key in a redirect ---------------------------------------------------------------------


def test_a_redirect_carrying_the_key_leaves_no_trace_in_the_widget() -> None:
    key = "sk-live-Secret+Key/0123456789"
    location = f"https://sso.example.com/login?apikey={key}"

    def script(method: str, path: str, _body: Any) -> Reply:
        return Reply(302, "", "text/html", headers={"Location": location})

    with scripted_peer(script) as peer:
        widget = ChatWidget("agt_demo", client=PowabaseClient(peer.url, key))
        try:
            handle = widget.send("hi")
            assert handle.wait(30)
            widget.wait(5)
            state = json.dumps(widget.get_state(), default=str)  # every synced trait
            saved = json.dumps(widget.events, default=str) + widget._static_html()
        finally:
            widget.close()
    assert "sso.example.com" in widget.error and "HTTP 302" in widget.error
    for text in (widget.error, state, saved, repr(handle.error)):
        assert "Secret" not in text
