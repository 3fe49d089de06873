"""Stopping a run at any moment with one flag: before the request, during a retry backoff,
while waiting for the response headers, and while the stream is being read.

Real HTTP throughout: the local agent server, and for the header wait a real socket server
on 127.0.0.1 that reads the request and never answers.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tls_peer import tls_context

from powawidget.wire.client import PowabaseClient, RunStream
from powawidget.wire.errors import ServerError, StreamError

GENEROUS = 5.0  # seconds: far below the waits being cut short (30 s, 60 s), safe under load


def unique(text: str) -> str:
    """A message no earlier test sent (the fail-once fault agents key on the message)."""
    return f"{text} {uuid.uuid4().hex[:8]}"


def set_later(cancel: threading.Event, after: float) -> None:
    """Set `cancel` from another thread after `after` seconds, as a Stop button would."""
    timer = threading.Timer(after, cancel.set)
    timer.daemon = True
    timer.start()


def stop_threads_alive() -> list[threading.Thread]:
    """The client's cancel-watching threads still running."""
    return [t for t in threading.enumerate() if t.name == "powawidget-stop"]


def wait_for(predicate: Any, timeout: float = GENEROUS) -> bool:
    """Poll `predicate` until true or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return bool(predicate())


@pytest.fixture
def make_client(local_server: Any) -> Iterator[Any]:
    """Clients for the local server that really wait out their backoff (no injected sleep)."""
    made: list[PowabaseClient] = []

    def make(base_url: str | None = None, **kwargs: Any) -> PowabaseClient:
        c = PowabaseClient(base_url or local_server.base_url, local_server.api_key, **kwargs)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


def test_the_stream_is_still_importable_from_the_client_module() -> None:
    import powawidget
    import powawidget.wire.stream

    assert RunStream is powawidget.wire.stream.RunStream is powawidget.RunStream


def test_a_stop_during_a_long_backoff_ends_it_at_once(make_client: Any) -> None:
    c = make_client(backoff=30.0, max_backoff=30.0, jitter=lambda: 1.0)  # a 30 s backoff
    message = unique("stopped while backing off")
    cancel = threading.Event()
    set_later(cancel, 0.3)
    started = time.monotonic()
    stream = c.stream_run("fault_unavailable", message, cancel=cancel)  # 503, then backoff
    assert time.monotonic() - started < GENEROUS
    assert stream.stopped and stream.finished
    assert list(stream) == [] and stream.events == [] and stream.run_id is None
    assert "stopped" in repr(stream)
    # The retry was never sent: no session on the server starts with this message.
    sessions = c.agent_sessions("fault_unavailable")
    assert message not in [s.get("first_message") for s in sessions]


def test_a_stop_before_the_request_sends_nothing(make_client: Any) -> None:
    message = unique("never sent")
    cancel = threading.Event()
    cancel.set()
    stream = make_client().stream_run("fault_unavailable", message, cancel=cancel)
    assert stream.stopped and list(stream) == []
    # The server never saw the message: its first request still gets the one-time 503.
    with pytest.raises(ServerError):
        make_client(max_retries=0).stream_run("fault_unavailable", message)


def test_an_unset_cancel_event_changes_nothing(make_client: Any) -> None:
    cancel = threading.Event()
    c = make_client(backoff=0.05, jitter=lambda: 1.0)
    stream = c.stream_run("fault_rate_limited", unique("retried"), cancel=cancel)  # 1 s wait
    events = list(stream)
    assert events[-1]["event"] == "complete" and not stream.stopped
    assert not cancel.is_set()
    assert wait_for(lambda: not stop_threads_alive())  # no watcher thread outlives the run


@pytest.fixture(params=["http", "https", "http-proxy"])
def silent_server(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict]:
    """A real HTTP(S) peer that reads a request and never answers; notes when the client leaves."""
    context = tls_context(tmp_path, monkeypatch) if request.param == "https" else None
    listener = socket.create_server(("127.0.0.1", 0))
    address = f"127.0.0.1:{listener.getsockname()[1]}"
    state: dict = {"url": f"{request.param}://{address}"}
    if request.param == "http-proxy":  # the silent peer is the proxy in front of the project
        state["url"] = "http://powabase.invalid"
        for name in ("HTTP_PROXY", "http_proxy"):
            monkeypatch.setenv(name, f"http://{address}")
        for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
            monkeypatch.delenv(name, raising=False)
    state["request_read"] = threading.Event()
    state["hung_up"] = threading.Event()
    conns: list[socket.socket] = []

    def serve() -> None:
        with contextlib.suppress(OSError):
            conn, _ = listener.accept()
            conns.append(conn)
            if context is not None:
                conn = context.wrap_socket(conn, server_side=True)
                conns.append(conn)
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            state["request_read"].set()
            with contextlib.suppress(ssl.SSLError):  # a TLS peer may vanish without close_notify
                while conn.recv(65536):  # the body, then b"" once the client closes
                    pass
            state["hung_up"].set()

    threading.Thread(target=serve, daemon=True).start()
    yield state
    for sock in (listener, *conns):
        sock.close()


def test_a_stop_while_waiting_for_the_headers_closes_the_connection(
    make_client: Any, silent_server: dict
) -> None:
    c = make_client(silent_server["url"], idle_timeout=60.0)
    cancel = threading.Event()
    result: dict = {}

    def run() -> None:
        result["stream"] = c.stream_run("agt_demo", "hello", cancel=cancel)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert silent_server["request_read"].wait(GENEROUS)  # the request is out, no answer yet
    time.sleep(0.2)
    assert thread.is_alive()  # stream_run is blocked on the headers
    stopped_at = time.monotonic()
    cancel.set()
    thread.join(GENEROUS)
    assert not thread.is_alive()
    assert time.monotonic() - stopped_at < GENEROUS  # not the 60 s idle timeout
    assert silent_server["hung_up"].wait(GENEROUS)  # the server saw the connection close
    stream = result["stream"]
    assert stream.stopped and list(stream) == []


def test_setting_the_flag_mid_stream_ends_a_blocked_read(make_client: Any) -> None:
    cancel = threading.Event()
    stream = make_client().stream_run("fault_stall", "stall 5", cancel=cancel)
    first = next(stream)
    set_later(cancel, 0.3)
    started = time.monotonic()
    rest = list(stream)  # blocked in the 5 s stall until the flag is set; ends without raising
    assert time.monotonic() - started < 2.5
    assert stream.stopped and stream.finished and stream.events == [first, *rest]
    assert stream._socket is not None and stream._socket.fileno() == -1
    assert wait_for(lambda: not stop_threads_alive())


def test_stop_sets_the_flag_so_one_flag_tells_everyone(make_client: Any) -> None:
    cancel = threading.Event()
    stream = make_client().stream_run("agt_long", "story", cancel=cancel)
    next(stream)
    stream.stop()
    assert cancel.is_set() and stream.stopped
    assert list(stream) == []


def test_a_lost_stream_says_so_in_plain_words_and_names_the_run(make_client: Any) -> None:
    stream = make_client().stream_run("fault_drop", unique("drop"))
    with pytest.raises(StreamError) as info:
        for _ in stream:
            pass
    run_id = stream.events[0]["run_id"]
    assert stream.events[0]["event"] == "start" and run_id.startswith("run_")
    message = str(info.value)
    assert "the connection closed mid-response" in message
    assert run_id in message and f"reload session {stream.session_id}" in message
    assert "client." not in message  # a notebook user has a widget, not a client
    for internal in ("invalid literal", "base 16", "b''", "IncompleteRead", "ProtocolError"):
        assert internal not in message
    assert info.value.code == "stream_lost"
