"""The Powabase client as a user relies on it, over real HTTP to the local agent server.

Covers configuration, both auth headers, typed errors, retries only before the first byte,
events delivered as soon as they arrive (chunked, close-delimited, gzip, CRLF), the idle
timeout, `stop()` from another thread, and the JSON endpoints.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from scripted_peer import read_request
from tls_peer import tls_context

from powawidget.session.history import UnknownSessionError, load_history
from powawidget.wire import answers, errors
from powawidget.wire.client import PowabaseClient, RunStream
from powawidget.wire.events import EVENT_KEYS

MakeClient = Callable[..., PowabaseClient]


class Sleeps(list):
    """Records the back-off delays a client asks for, without sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    """The delays the client would have slept."""
    return Sleeps()


@pytest.fixture
def make_client(local_server: Any, sleeps: Sleeps) -> Iterator[MakeClient]:
    """Clients pointed at the local server that record their back-off instead of sleeping."""
    made: list[PowabaseClient] = []

    def make(**kwargs: Any) -> PowabaseClient:
        kwargs.setdefault("sleep", sleeps)
        kwargs.setdefault("jitter", lambda: 0.5)
        c = PowabaseClient(local_server.base_url, local_server.api_key, **kwargs)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


def unique(text: str = "hello") -> str:
    """A message no earlier test sent (fail-once fault agents key on the message)."""
    return f"{text} {uuid.uuid4().hex[:8]}"


def timed(stream: RunStream) -> list[tuple[float, dict]]:
    """Every event with the monotonic time it reached the caller."""
    return [(time.monotonic(), event) for event in stream]


def text_of(events: list[dict]) -> str:
    """The answer text streamed as deltas."""
    return "".join(e["text"] for e in events if e["event"] == "content_delta")


def idle_ports(client: PowabaseClient) -> list[int]:
    """The local ports of the open connections waiting in the client's pool for reuse."""
    pools = client._session.get_adapter(client.base_url).poolmanager.pools
    ports = []
    for key in pools.keys():  # noqa: SIM118 (the container refuses plain iteration)
        for conn in list(pools[key].pool.queue):
            if conn is not None and conn.sock is not None:
                ports.append(conn.sock.getsockname()[1])
    return ports


# -- configuration -------------------------------------------------------------------------


def test_missing_base_url_names_the_variable_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POWABASE_BASE_URL", raising=False)
    with pytest.raises(errors.ConfigurationError, match="POWABASE_BASE_URL") as info:
        PowabaseClient(api_key="k")
    assert info.value.code == "configuration"


def test_missing_key_names_the_variable_and_its_alias(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POWABASE_API_KEY", raising=False)
    monkeypatch.delenv("POWABASE_SERVICE_ROLE_KEY", raising=False)
    with pytest.raises(errors.ConfigurationError) as info:
        PowabaseClient("http://127.0.0.1:1")
    assert "POWABASE_API_KEY" in str(info.value)
    assert "POWABASE_SERVICE_ROLE_KEY" in str(info.value)


def test_url_without_scheme_is_a_configuration_error() -> None:
    with pytest.raises(errors.ConfigurationError, match="https://"):
        PowabaseClient("myproject.p.powabase.ai", "k")


def test_key_with_a_line_break_is_rejected_without_echoing_it() -> None:
    with pytest.raises(errors.ConfigurationError) as info:
        PowabaseClient("http://127.0.0.1:1", "secret-part\nmore")
    assert "secret-part" not in str(info.value)


def test_environment_and_service_role_alias_are_read(
    local_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POWABASE_BASE_URL", local_server.base_url + "/")
    monkeypatch.delenv("POWABASE_API_KEY", raising=False)
    monkeypatch.setenv("POWABASE_SERVICE_ROLE_KEY", local_server.api_key)
    with PowabaseClient() as c:
        assert c.base_url == local_server.base_url.rstrip("/")
        assert c.list_agents()[0]["id"] == "agt_demo"


def test_repr_and_logs_never_show_the_key(
    local_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    key = local_server.api_key
    caplog.set_level(logging.DEBUG)
    with PowabaseClient(local_server.base_url, key) as c:
        events = list(c.stream_run("agt_demo", "hello"))
        assert key not in repr(c)
        assert key not in repr(c.stream_run("fault_stall", "stall 0"))
    assert events[-1]["event"] == "complete"
    assert key not in caplog.text


def test_both_auth_headers_are_sent(local_server: Any, client: PowabaseClient) -> None:
    # The local server, like Powabase, wants the key in both headers: one alone is a 401.
    url = local_server.base_url + "/api/agents"
    only_apikey = requests.get(url, headers={"apikey": local_server.api_key}, timeout=10)
    assert only_apikey.status_code == 401
    assert client.list_agents()


def test_a_netrc_entry_for_the_host_does_not_replace_the_key(
    client: PowabaseClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password other-secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    assert client.list_agents()


def test_a_wrong_key_is_an_authentication_error_with_advice(
    local_server: Any, sleeps: Sleeps
) -> None:
    secret = "wrong-key-" + uuid.uuid4().hex
    c = PowabaseClient(local_server.base_url, secret, sleep=sleeps)
    with c, pytest.raises(errors.AuthenticationError) as info:
        c.list_agents()
    error = info.value
    assert (error.status_code, error.code) == (401, "unauthorized")
    assert "apikey" in str(error) and "Authorization" in str(error)
    assert "the api_key= you passed" in str(error)  # where this key came from, not the env
    assert "POWABASE_API_KEY" not in str(error)
    assert secret not in str(error) + repr(error) + (error.body or "")
    assert sleeps == []


# -- typed errors before the stream ----------------------------------------------------------


def test_401_from_an_agent_run(make_client: MakeClient) -> None:
    with pytest.raises(errors.AuthenticationError) as info:
        make_client().stream_run("fault_unauthorized", "hi")
    assert info.value.status_code == 401
    assert "Invalid API key" in str(info.value)


def test_402_is_never_retried(make_client: MakeClient, sleeps: Sleeps) -> None:
    with pytest.raises(errors.InsufficientCreditsError) as info:
        make_client().stream_run("fault_credits", unique())
    assert info.value.code == "insufficient_credits"
    assert "no credits left" in str(info.value)
    assert "credits" in str(info.value).lower() and "billing" in str(info.value)
    assert sleeps == []


@pytest.mark.parametrize("agent_id", ["fault_not_found", "agt_does_not_exist"])
def test_404_names_the_agent_and_how_to_find_one(make_client: MakeClient, agent_id: str) -> None:
    with pytest.raises(errors.NotFoundError) as info:
        make_client().stream_run(agent_id, "hi")
    assert agent_id in str(info.value)
    assert "Powabase Studio" in str(info.value) and "list_agents()" not in str(info.value)
    assert info.value.body is not None and "Agent not found" in info.value.body


def test_a_200_that_is_not_an_event_stream_quotes_the_body(make_client: MakeClient) -> None:
    with pytest.raises(errors.StreamError) as info:
        make_client().stream_run("fault_not_event_stream", "hi")
    error = info.value
    assert error.code == "not_event_stream"
    assert "text/html" in str(error)
    assert "Sign in" in str(error) and "<h1>" not in str(error)  # quoted as text, no tags
    assert error.body is not None and error.body.lower().startswith("<!doctype html>")
    assert "the base_url= you passed" in str(error) and "POWABASE_BASE_URL" not in str(error)


def test_403_asks_for_the_service_role_key() -> None:
    error = answers.error_for_status(403, body='{"error": "forbidden"}')
    assert isinstance(error, errors.AuthenticationError) and error.code == "forbidden"
    assert "service role key" in str(error)


def test_html_error_pages_become_a_short_message() -> None:
    page = (
        "<html><head><title>502 Bad Gateway</title><style>body{}</style></head>"
        "<body><center><h1>502 Bad Gateway</h1></center><hr>nginx</body></html>"
    )
    error = answers.error_for_status(502, body=page, content_type="text/html")
    assert isinstance(error, errors.ServerError)
    assert "502 Bad Gateway" in str(error)
    assert "<" not in str(error)
    untitled = answers.error_for_status(
        400, body="<p>Bad <b>message</b></p>", content_type="text/html"
    )
    assert "Bad message" in str(untitled) and untitled.code == "bad_request"


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert answers.parse_retry_after("3") == 3.0
    assert answers.parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert answers.parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412490.0) == 0.0
    assert answers.parse_retry_after("soon") is None
    assert answers.parse_retry_after(None) is None


# -- retries before the first byte -----------------------------------------------------------


def test_429_is_retried_after_retry_after(make_client: MakeClient, sleeps: Sleeps) -> None:
    events = list(make_client().stream_run("fault_rate_limited", unique()))
    assert sleeps == [1.0]
    assert events[-1]["event"] == "complete" and events[-1]["status"] == "completed"


def test_a_retry_after_past_the_cap_fails_at_once(make_client: MakeClient, sleeps: Sleeps) -> None:
    with pytest.raises(errors.RateLimitedError) as info:
        make_client(max_retry_after=0.5).stream_run("fault_rate_limited", unique())
    assert sleeps == []
    assert "asked to wait 1 s" in str(info.value) and "max_retry_after=" in str(info.value)


def test_429_without_retries_left_carries_retry_after(make_client: MakeClient) -> None:
    with pytest.raises(errors.RateLimitedError) as info:
        make_client(max_retries=0).stream_run("fault_rate_limited", unique())
    assert info.value.retry_after == 1.0
    assert "wait 1 s" in str(info.value).lower()


def test_503_is_retried_with_jittered_backoff(make_client: MakeClient, sleeps: Sleeps) -> None:
    events = list(make_client(backoff=0.5).stream_run("fault_unavailable", unique()))
    assert sleeps == [0.25]  # jitter 0.5 × backoff 0.5 × 2**0
    assert events[-1]["status"] == "completed"


def test_503_without_retries_left_is_a_server_error(make_client: MakeClient) -> None:
    with pytest.raises(errors.ServerError) as info:
        make_client(max_retries=0).stream_run("fault_unavailable", unique())
    assert info.value.status_code == 503
    assert "billing service unreachable" in str(info.value)


def test_connection_errors_back_off_exponentially_then_give_up(sleeps: Sleeps) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    c = PowabaseClient(
        f"http://127.0.0.1:{port}",
        "key",
        backoff=0.1,
        max_backoff=0.3,
        max_retries=4,
        sleep=sleeps,
        jitter=lambda: 1.0,
    )
    with c, pytest.raises(errors.ConnectionFailedError) as info:
        c.stream_run("agt_demo", "hi")
    assert sleeps == pytest.approx([0.1, 0.2, 0.3, 0.3])
    assert "5 attempt" in str(info.value) and "the base_url= you passed" in str(info.value)
    assert isinstance(info.value, errors.PowabaseError) and info.value.code == "connection_failed"


def test_a_tls_failure_is_reported_at_once(local_server: Any, sleeps: Sleeps) -> None:
    https_url = local_server.base_url.replace("http://", "https://")
    with (
        PowabaseClient(https_url, "key", sleep=sleeps) as c,
        pytest.raises(errors.ConnectionFailedError, match="TLS handshake"),
    ):
        c.list_agents()
    assert sleeps == []


def test_a_dropped_stream_is_never_retried(make_client: MakeClient, sleeps: Sleeps) -> None:
    stream = make_client().stream_run("fault_drop", unique())
    received = []
    with pytest.raises(errors.StreamError) as info:
        for event in stream:
            received.append(event)
    assert info.value.code == "stream_lost"
    assert [e["event"] for e in received] == ["start", "content_delta", "content_delta"]
    assert stream.events == received
    assert "reload session" in str(info.value) and "client." not in str(info.value)
    assert sleeps == []


# -- requests that reached the server are not sent again -----------------------------------


@pytest.fixture
def hang_up_server() -> Iterator[dict]:
    """A raw HTTP peer that reads each whole request, notes its request line, then hangs up."""
    listener = socket.create_server(("127.0.0.1", 0))
    state: dict = {"url": f"http://127.0.0.1:{listener.getsockname()[1]}", "requests": []}

    def serve() -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = listener.accept()
                with conn:
                    request = read_request(conn)  # the whole request, body included
                    if request:
                        state["requests"].append(f"{request[0]} {request[1]} HTTP/1.1")

    threading.Thread(target=serve, daemon=True).start()
    yield state
    listener.close()


def test_a_run_the_server_received_but_never_answered_is_sent_once(
    hang_up_server: dict, sleeps: Sleeps
) -> None:
    with (
        PowabaseClient(hang_up_server["url"], "key", sleep=sleeps, max_retries=4) as c,
        pytest.raises(errors.StreamError) as info,
    ):
        c.stream_run("agt_demo", "hello")
    assert hang_up_server["requests"] == ["POST /api/agents/agt_demo/run/stream HTTP/1.1"]
    assert sleeps == []
    message = str(info.value)
    assert "closed the connection before answering" in message
    assert "may have started" in message and "w.sessions()" in message
    assert "client." not in message
    assert "Could not reach" not in message
    assert info.value.code == "stream_lost"


def test_an_approval_the_server_received_but_never_answered_is_sent_once(
    hang_up_server: dict, sleeps: Sleeps
) -> None:
    with (
        PowabaseClient(hang_up_server["url"], "key", sleep=sleeps) as c,
        pytest.raises(errors.StreamError, match="closed the connection before answering"),
    ):
        c.approve("run_0123456789ab", True)
    assert hang_up_server["requests"] == ["POST /api/agents/runs/run_0123456789ab/approve HTTP/1.1"]
    assert sleeps == []


def test_a_read_the_server_hung_up_on_is_retried_and_said_plainly(
    hang_up_server: dict, sleeps: Sleeps
) -> None:
    with (
        PowabaseClient(hang_up_server["url"], "key", sleep=sleeps, max_retries=2) as c,
        pytest.raises(errors.StreamError) as info,
    ):
        c.list_agents()
    assert hang_up_server["requests"] == ["GET /api/agents HTTP/1.1"] * 3
    assert len(sleeps) == 2
    assert "closed the connection before answering" in str(info.value)
    assert "3 attempt" in str(info.value) and "Could not reach" not in str(info.value)


@pytest.mark.parametrize("send", ["run", "approve"])
def test_a_refused_connection_is_still_retried_for_runs_and_approvals(
    send: str, sleeps: Sleeps
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with (
        PowabaseClient(f"http://127.0.0.1:{port}", "key", sleep=sleeps, max_retries=2) as c,
        pytest.raises(errors.ConnectionFailedError, match=r"Could not reach .* after 3 attempt"),
    ):
        if send == "run":
            c.stream_run("agt_demo", "hi")
        else:
            c.approve("run_0123456789ab", False)
    assert len(sleeps) == 2


# -- streaming -------------------------------------------------------------------------------


def test_a_run_streams_canonical_events_in_order(client: PowabaseClient) -> None:
    stream = client.stream_run("agt_demo", "hello")
    events = list(stream)
    assert events == stream.events
    assert all(tuple(e) == EVENT_KEYS for e in events)
    assert [e["seq"] for e in events] == list(range(len(events)))
    assert events[0]["event"] == "start" and events[-1]["event"] == "complete"
    assert stream.run_id and stream.run_id.startswith("run_")
    assert stream.session_id and stream.session_id.startswith("sess_")
    assert stream.finished and not stream.stopped


@pytest.mark.parametrize("agent_id", ["fault_close_delimited", "fault_gzip", "fault_crlf"])
def test_each_event_arrives_before_the_stall_ends(make_client: MakeClient, agent_id: str) -> None:
    # The server sends start + one delta, then stays silent 1.5 s. A reader that waits for
    # more bytes (or for EOF) would hand both events over only after the stall.
    stream = make_client().stream_run(agent_id, "hi")
    arrivals = timed(stream)
    names = [e["event"] for _, e in arrivals]
    assert names == ["start", *["content_delta"] * 4, "chunk", "complete"]
    assert text_of([e for _, e in arrivals]) == "First then the rest."
    first_delta_at, after_stall_at = arrivals[1][0], arrivals[2][0]
    assert after_stall_at - first_delta_at > 0.5  # ≈ 1.5 s; ≈ 0 for a reader that buffers


def test_the_gzip_fault_is_really_compressed(make_client: MakeClient) -> None:
    stream = make_client().stream_run("fault_gzip", "hi")
    assert stream._response.headers["Content-Encoding"] == "gzip"
    stream.close()


def test_a_frame_that_is_not_json_does_not_end_the_stream(client: PowabaseClient) -> None:
    events = list(client.stream_run("fault_malformed", "hi"))
    names = [e["event"] for e in events]
    assert "malformed" in names and names[-1] == "complete"
    assert text_of(events) == "Before after."


def test_run_failures_arrive_as_events_not_exceptions(client: PowabaseClient) -> None:
    error_run = list(client.stream_run("fault_error_event", "hi"))
    assert error_run[-1]["event"] == "error"
    assert error_run[-1]["error_message"] == "The model provider returned an error"
    failed = list(client.stream_run("fault_failed_run", "hi"))
    assert failed[-1]["status"] == "failed"
    assert "Step limit" in failed[-1]["error_message"]


def test_a_failed_run_event_becomes_a_run_failed_error(client: PowabaseClient) -> None:
    stream = client.stream_run("fault_failed_run", "hi")
    error = errors.RunFailedError.from_event(list(stream)[-1])
    assert error.code == "run_failed" and stream.run_id in str(error)
    assert "Step limit reached" in str(error)


def test_ten_thousand_chunks_arrive_complete_and_in_order(client: PowabaseClient) -> None:
    events = list(client.stream_run("fault_many_chunks", "hi"))
    deltas = [e for e in events if e["event"] == "content_delta"]
    assert len(deltas) == 10_000
    assert deltas[0]["text"] == "w0 " and deltas[-1]["text"] == "w9999 "
    assert [e["seq"] for e in events] == list(range(len(events)))


def test_a_one_megabyte_tool_result_arrives_whole(client: PowabaseClient) -> None:
    events = list(client.stream_run("fault_big_result", "hi"))
    # The stream's tool_result has a 200-character preview; the full result is in complete.
    preview = next(e for e in events if e["event"] == "tool_result")["raw"]["result_preview"]
    result = events[-1]["raw"]["tool_calls"][0]["result"]
    assert len(result) > 1_000_000 and result.startswith(preview)


def test_connections_are_reused_across_requests_and_runs(make_client: MakeClient) -> None:
    c = make_client()
    c.list_agents()
    [port] = idle_ports(c)
    list(c.stream_run("agt_demo", "hello"))
    c.get_agent("agt_demo")
    assert idle_ports(c) == [port]


# -- idle timeout ------------------------------------------------------------------------------


def test_keepalives_keep_an_idle_timeout_alive(make_client: MakeClient) -> None:
    events = list(make_client(idle_timeout=1.2).stream_run("fault_stall", "stall 2"))
    assert events[-1]["event"] == "complete"
    assert text_of(events) == "Waking up."


def test_silence_longer_than_the_idle_timeout_ends_the_stream(make_client: MakeClient) -> None:
    stream = make_client(idle_timeout=1.0).stream_run("fault_crlf", "hi")
    received = []
    with pytest.raises(errors.StreamError) as info:
        for event in stream:
            received.append(event)
    assert info.value.code == "idle_timeout"
    assert [e["event"] for e in received] == ["start", "content_delta"]
    assert stream.events == received and stream.finished


# -- stop ----------------------------------------------------------------------------------------


def stop_later(stream: RunStream, after: float) -> dict:
    """Call stream.stop() from another thread after `after` seconds; records when."""
    when: dict = {}

    def stop() -> None:
        time.sleep(after)
        when["stop_called"] = time.monotonic()
        stream.stop()

    threading.Thread(target=stop, daemon=True).start()
    return when


@pytest.mark.parametrize(
    ("agent_id", "message"),
    [("agt_long", "tell me a long story"), ("fault_stall", "stall 5"), ("fault_crlf", "hi")],
)
def test_stop_from_another_thread_ends_a_blocked_read_promptly(
    make_client: MakeClient, agent_id: str, message: str
) -> None:
    c = make_client()
    stream = c.stream_run(agent_id, message)
    first = next(stream)
    when = stop_later(stream, 0.4)
    rest = list(stream)  # ends without raising
    ended = time.monotonic()
    assert ended - when["stop_called"] < 1.0  # ~ms in practice; bound generous for CI load
    assert stream.stopped and stream.finished
    assert stream.events == [first, *rest]
    assert stream._socket is not None and stream._socket.fileno() == -1  # connection closed
    assert c.list_agents()  # the client still works (on a new connection)


@pytest.fixture
def tls_proxy(local_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An HTTPS front for the local server (a self-signed certificate the client trusts)."""
    context = tls_context(tmp_path, monkeypatch)
    upstream = urlsplit(local_server.base_url)
    listener = socket.create_server(("127.0.0.1", 0))
    sockets: list[socket.socket] = [listener]

    def pump(source: socket.socket, target: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                target.sendall(data)
        for sock in (source, target):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def serve() -> None:
        with contextlib.suppress(OSError):
            while True:
                raw, _ = listener.accept()
                try:
                    front = context.wrap_socket(raw, server_side=True)
                except (OSError, ssl.SSLError):
                    raw.close()
                    continue
                back = socket.create_connection((upstream.hostname, upstream.port))
                sockets.extend((front, back))
                threading.Thread(target=pump, args=(front, back), daemon=True).start()
                threading.Thread(target=pump, args=(back, front), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    yield f"https://127.0.0.1:{listener.getsockname()[1]}"
    for sock in sockets:
        sock.close()


def test_stop_ends_a_blocked_read_over_tls_too(local_server: Any, tls_proxy: str) -> None:
    with PowabaseClient(tls_proxy, local_server.api_key) as c:
        stream = c.stream_run("fault_stall", "stall 5")
        assert isinstance(stream._socket, ssl.SSLSocket)
        first = next(stream)
        when = stop_later(stream, 0.3)
        rest = list(stream)
        assert time.monotonic() - when["stop_called"] < 1.0
        assert stream.stopped and stream.events == [first, *rest]
        assert [e["event"] for e in c.stream_run("agt_demo", "hello")][-1] == "complete"


def test_stop_before_reading_yields_nothing(client: PowabaseClient) -> None:
    stream = client.stream_run("agt_demo", "hello")
    stream.stop()
    assert list(stream) == [] and stream.stopped
    stream.stop()  # idempotent


def test_a_context_manager_closes_an_unfinished_stream(client: PowabaseClient) -> None:
    with client.stream_run("agt_long", "story") as stream:
        next(stream)
    assert stream.finished or stream.stopped
    assert stream._socket is not None and stream._socket.fileno() == -1


# -- other endpoints -------------------------------------------------------------------------


def test_agents_sessions_messages_and_runs(client: PowabaseClient) -> None:
    agents = client.list_agents()
    ids = [a["id"] for a in agents]
    assert ids[0] == "agt_demo" and "fault_drop" in ids
    assert client.get_agent("agt_demo")["name"]

    first = client.stream_run("agt_demo", unique("first question"))
    list(first)
    second = client.stream_run("agt_demo", "and a follow-up", session_id=first.session_id)
    list(second)
    assert second.session_id == first.session_id

    sessions = client.agent_sessions("agt_demo")
    assert first.session_id in [s["session_id"] for s in sessions]
    messages = client.session_messages(first.session_id)
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"]
    run = client.get_run(second.run_id)
    assert run["status"] == "completed"


def test_unknown_session_and_run_are_not_found(client: PowabaseClient) -> None:
    assert client.session_messages("sess_000000000000") == []  # Powabase: 200 with []
    with pytest.raises(UnknownSessionError, match="sess_000000000000"):
        load_history(client, "sess_000000000000")  # 200 with nothing from /runs and /messages
    with pytest.raises(errors.NotFoundError, match="run_000000000000"):
        client.get_run("run_000000000000")


def test_approving_a_run_that_is_not_waiting_says_so(client: PowabaseClient) -> None:
    stream = client.stream_run("agt_demo", "hello")
    list(stream)
    with pytest.raises(errors.NotFoundError, match="not waiting for approval"):
        client.approve(stream.run_id, True)


def test_an_approval_request_is_answered_while_the_run_waits(client: PowabaseClient) -> None:
    stream = client.stream_run("agt_approval", "please do the thing that needs approval")
    names = []
    for event in stream:
        names.append(event["event"])
        if event["event"] == "approval_requested":
            assert client.approve(event["run_id"], True)["status"] == "resumed"
    assert "approval_requested" in names and names[-1] == "complete"
