"""What a hostile or broken server cannot do to the client: grow its memory without bound,
hold it waiting for ever, or make it leak the key. Each case is a raw-socket peer.

- caps: one event, one JSON answer, the bytes a compressed answer expands to — each a
  `TooLargeError` naming the cap and how to raise it; the run keeps what arrived;
- Retry-After: honoured up to the cap (seconds or an HTTP date), past it a failure at once
  that names the wait; garbage means the client's own backoff;
- redirects: the key in `Location` never reaches an error, an event or the widget.
"""

from __future__ import annotations

import contextlib
import email.utils
import gzip
import json
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from scripted_peer import Reply, read_request, scripted_peer

from powawidget.session.chat import ChatSession
from powawidget.wire import answers, errors
from powawidget.wire.client import PowabaseClient
from powawidget.wire.config import Limits
from powawidget.wire.errors import ConfigurationError, TooLargeError

KEY = "sk-live-Secret+Key/With=Signs-0123456789"
MB = 1_000_000
STREAM_HEAD = (
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\nConnection: close\r\n"
)


def frame(payload: dict[str, Any]) -> bytes:
    """One SSE frame as Powabase writes it."""
    return f"data: {json.dumps(payload)}\n\n".encode()


FIRST_EVENTS = (
    frame({"event": "start", "run_id": "run_0123456789ab", "session_id": "sess_0123456789ab"})
    + frame({"event": "content_delta", "delta": "Hello, "})
    + frame({"event": "content_delta", "delta": "world."})
)


@dataclass
class RawPeer:
    """A raw HTTP peer's URL, what it received, and how many body bytes it got out."""

    url: str
    requests: list[str] = field(default_factory=list)
    sent: list[int] = field(default_factory=list)


Writer = Callable[[socket.socket], None]


@contextlib.contextmanager
def raw_peer(write: Writer) -> Iterator[RawPeer]:
    """A peer that reads each request, then hands the socket to `write` (which counts on
    `peer.sent` through `send`); the client closing the connection ends `write`."""
    listener = socket.create_server(("127.0.0.1", 0))
    peer = RawPeer(f"http://127.0.0.1:{listener.getsockname()[1]}")

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                request = read_request(conn)
                if request is None:
                    continue
                peer.requests.append(f"{request[0]} {request[1]}")
                peer.sent.append(0)
                with contextlib.suppress(OSError):
                    write(conn)

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield peer
    finally:
        listener.close()


def sender(peer_box: list[RawPeer]) -> Callable[[socket.socket, bytes], None]:
    """`send(conn, data)` that counts the bytes on the (only) peer in `peer_box`."""

    def send(conn: socket.socket, data: bytes) -> None:
        conn.sendall(data)
        peer_box[0].sent[-1] += len(data)

    return send


def endless_line(head: bytes) -> Writer:
    """A stream that sends `head`, then one `data:` line that never ends (up to 200 MB)."""
    box: list[RawPeer] = []

    def write(conn: socket.socket) -> None:
        send = sender(box)
        conn.sendall(STREAM_HEAD.encode() + b"\r\n")
        send(conn, head + b'data: {"event": "content_delta", "delta": "')
        block = b"x" * 65536
        for _ in range(200 * MB // len(block)):
            send(conn, block)

    write.box = box  # type: ignore[attr-defined]
    return write


@contextlib.contextmanager
def endless_peer(head: bytes) -> Iterator[RawPeer]:
    """`raw_peer(endless_line(head))` with its byte counter wired up."""
    write = endless_line(head)
    with raw_peer(write) as peer:
        write.box.append(peer)  # type: ignore[attr-defined]
        yield peer


def gzip_bomb(prefix: bytes, filler: bytes, size: int) -> bytes:
    """`prefix` and `filler` repeated to `size` bytes, gzip-compressed (streamed, cheap)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    out = [packer.compress(prefix)]
    block = filler * ((1 << 20) // len(filler))
    for _ in range(size // len(block)):
        out.append(packer.compress(block))
    out.append(packer.flush())
    return b"".join(out)


def gzip_reply(data: bytes, content_type: str = "application/json") -> Writer:
    """A gzip-encoded answer with a Content-Length (the compressed size)."""

    def write(conn: socket.socket) -> None:
        head = (
            f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Encoding: gzip\r\n"
            f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n"
        )
        conn.sendall(head.encode() + data)

    return write


def no_sleep() -> tuple[list[float], Callable[[float], None]]:
    """A list of requested pauses and the `sleep` that records into it."""
    pauses: list[float] = []
    return pauses, pauses.append


# -- one event ---------------------------------------------------------------------------------


def test_an_event_line_that_never_ends_is_cut_at_the_cap() -> None:
    with (
        endless_peer(FIRST_EVENTS) as peer,
        PowabaseClient(peer.url, KEY, max_event_mb=1) as client,
    ):
        stream = client.stream_run("agt_demo", "hi")
        received = []
        with pytest.raises(TooLargeError) as info:
            for event in stream:
                received.append(event)
    assert [e["event"] for e in received] == ["start", "content_delta", "content_delta"]
    assert stream.events == received and stream.finished
    error = info.value
    assert error.code == "event_too_large" and error.limit == MB
    assert error.setting == "max_event_mb="
    message = str(error)
    assert "larger than 1 MB" in message and "one event" in message
    assert "max_event_mb=" in message and "3 event(s) before it are kept" in message
    assert "sess_0123456789ab" in message  # where the run the server finishes is found
    time.sleep(0.2)  # the peer notices the closed connection
    assert peer.sent[0] < 20 * MB  # reading stopped near the cap, not at 200 MB


def test_the_event_cap_comes_from_the_environment_and_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("POWABASE_MAX_EVENT_MB", "0.5")
    with (
        endless_peer(b"") as peer,
        PowabaseClient(peer.url, KEY) as client,
        pytest.raises(TooLargeError) as info,
    ):
        list(client.stream_run("agt_demo", "hi"))
    assert info.value.limit == 500_000 and info.value.setting == "POWABASE_MAX_EVENT_MB"
    message = str(info.value)
    assert "set the environment variable POWABASE_MAX_EVENT_MB (now 0.5 MB" in message
    assert "max_event_mb=" not in message


def test_a_whole_event_past_the_cap_is_refused_after_the_ones_before_it() -> None:
    big = frame({"event": "chunk", "content": "y" * 300_000})
    body = FIRST_EVENTS + big + frame({"event": "complete", "status": "completed"})

    def script(method: str, path: str, _body: Any) -> Reply:
        return Reply(200, body, "text/event-stream")

    with scripted_peer(script) as peer, PowabaseClient(peer.url, KEY, max_event_mb=0.2) as c:
        stream = c.stream_run("agt_demo", "hi")
        with pytest.raises(TooLargeError):
            list(stream)
    assert [e["event"] for e in stream.events] == ["start", "content_delta", "content_delta"]


def test_events_under_the_cap_pass_whole() -> None:
    body = FIRST_EVENTS + frame({"event": "chunk", "content": "y" * 150_000})
    body += frame({"event": "complete", "status": "completed", "content": "done"})

    def script(method: str, path: str, _body: Any) -> Reply:
        return Reply(200, body, "text/event-stream")

    with scripted_peer(script) as peer, PowabaseClient(peer.url, KEY, max_event_mb=0.2) as c:
        events = list(c.stream_run("agt_demo", "hi"))
    assert [e["event"] for e in events][-2:] == ["chunk", "complete"]
    assert len(events[-2]["text"]) == 150_000


def test_a_run_cut_at_the_cap_keeps_its_text_and_shows_the_error() -> None:
    with (
        endless_peer(FIRST_EVENTS) as peer,
        PowabaseClient(peer.url, KEY, max_event_mb=1) as client,
    ):
        chat = ChatSession(client, "agt_demo")
        handle = chat.send("hi")
        assert handle.wait(30)
    assert isinstance(handle.error, TooLargeError)
    assert handle.text == "Hello, world."
    last = handle.events[-1]
    assert last["event"] == "client_error" and last["error_code"] == "event_too_large"
    assert chat.error == handle.error.message and "max_event_mb=" in chat.error
    assert chat.status == "error"


# -- one JSON answer, decompressed bytes -------------------------------------------------------


def test_a_gzip_bomb_as_a_json_answer_is_cut_at_the_answer_cap() -> None:
    bomb = gzip_bomb(b'{"agents": [', b" ", 40 * MB)
    with (
        raw_peer(gzip_reply(bomb)) as peer,
        PowabaseClient(peer.url, KEY, max_answer_mb=2) as c,
        pytest.raises(TooLargeError) as info,
    ):
        c.list_agents()
    error = info.value
    assert error.code == "answer_too_large" and error.limit == 2 * MB
    assert "GET /api/agents" in str(error) and "larger than 2 MB" in str(error)
    assert "max_answer_mb=" in str(error)


def test_the_decompressed_cap_cuts_a_bomb_first_when_it_is_lower() -> None:
    bomb = gzip_bomb(b'{"agents": [', b" ", 40 * MB)
    with (
        raw_peer(gzip_reply(bomb)) as peer,
        PowabaseClient(peer.url, KEY, max_decompressed_mb=1) as c,
        pytest.raises(TooLargeError) as info,
    ):
        c.list_agents()
    assert info.value.code == "decompressed_too_large" and info.value.limit == MB
    assert "expanded past 1 MB" in str(info.value) and "max_decompressed_mb=" in str(info.value)


def test_a_gzip_bomb_of_small_events_is_cut_at_the_decompressed_cap() -> None:
    body = gzip_bomb(FIRST_EVENTS, frame({"event": "model_fallback", "to": "x"}), 40 * MB)
    with (
        raw_peer(gzip_reply(body, "text/event-stream")) as peer,
        PowabaseClient(peer.url, KEY, max_decompressed_mb=1) as c,
    ):
        stream = c.stream_run("agt_demo", "hi")
        with pytest.raises(TooLargeError) as info:
            list(stream)
    assert info.value.code == "decompressed_too_large"
    assert [e["event"] for e in stream.events[:3]] == ["start", "content_delta", "content_delta"]
    assert 1000 < len(stream.events) < 40_000  # everything up to ~1 MB, nothing past it


def test_a_json_answer_announcing_too_many_bytes_is_refused_unread() -> None:
    def write(conn: socket.socket) -> None:
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b"Content-Length: 900000000\r\nConnection: close\r\n\r\n{"
        )
        time.sleep(5)  # a client that waited for the body would hang here

    started = time.monotonic()
    with (
        raw_peer(write) as peer,
        PowabaseClient(peer.url, KEY) as c,
        pytest.raises(TooLargeError, match="larger than 128 MB"),
    ):
        c.list_agents()
    assert time.monotonic() - started < 4


def test_a_gzip_json_answer_under_the_caps_is_read() -> None:
    data = gzip.compress(json.dumps({"agents": [{"id": "a", "name": "A"}]}).encode())
    with raw_peer(gzip_reply(data)) as peer, PowabaseClient(peer.url, KEY) as c:
        assert c.list_agents() == [{"id": "a", "name": "A"}]


@pytest.mark.parametrize(
    ("variable", "value"),
    [("POWABASE_MAX_EVENT_MB", "lots"), ("POWABASE_MAX_ANSWER_MB", "0"),
     ("POWABASE_MAX_DECOMPRESSED_MB", "-1"), ("POWABASE_MAX_RETRY_AFTER", "nan")],
)  # fmt: skip
def test_a_bad_cap_setting_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError, match=variable):
        Limits.resolve()


# -- Retry-After -------------------------------------------------------------------------------


def refusing(status: int, retry_after: str, then_ok: bool = True) -> Callable[..., Reply]:
    """A script answering `status` with `Retry-After: retry_after` once, then 200."""
    answered: list[int] = []

    def script(method: str, path: str, _body: Any) -> Reply:
        if answered and then_ok:
            return Reply(200, {"agents": [{"id": "a"}]})
        answered.append(status)
        body = {"error": "slow down"} if status == 429 else {"error": "billing unreachable"}
        return Reply(status, body, headers={"Retry-After": retry_after})

    return script


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_in_seconds_is_waited_out(status: int) -> None:
    pauses, sleep = no_sleep()
    with (
        scripted_peer(refusing(status, "7")) as peer,
        PowabaseClient(peer.url, KEY, sleep=sleep) as c,
    ):
        assert c.list_agents() == [{"id": "a"}]
    assert pauses == [7.0] and len(peer.requests) == 2


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_as_an_http_date_is_waited_out(status: int) -> None:
    pauses, sleep = no_sleep()
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    with (
        scripted_peer(refusing(status, when)) as peer,
        PowabaseClient(peer.url, KEY, sleep=sleep) as c,
    ):
        c.list_agents()
    assert len(pauses) == 1 and 25 <= pauses[0] <= 31


@pytest.mark.parametrize(
    ("status", "value", "said"),
    [(503, "1e9", "31.7 years"), (429, "3600", "60 min"), (503, "61", "61 s")],
)
def test_a_retry_after_past_the_cap_fails_at_once_naming_the_wait(
    status: int, value: str, said: str
) -> None:
    pauses, sleep = no_sleep()
    with (
        scripted_peer(refusing(status, value)) as peer,
        PowabaseClient(peer.url, KEY, sleep=sleep) as c,
        pytest.raises(errors.PowabaseError) as info,
    ):
        c.stream_run("agt_demo", "hi")
    assert pauses == [] and len(peer.requests) == 1  # today: 4 attempts in 2 s
    message = str(info.value)
    assert f"asked to wait {said}" in message and "(60 s)" in message
    assert "POWABASE_MAX_RETRY_AFTER" in message
    assert info.value.status_code == status and info.value.retry_after == float(value)
    expected = errors.RateLimitedError if status == 429 else errors.ServerError
    assert isinstance(info.value, expected)


def test_the_retry_after_cap_can_be_raised() -> None:
    pauses, sleep = no_sleep()
    with (
        scripted_peer(refusing(503, "90")) as peer,
        PowabaseClient(peer.url, KEY, sleep=sleep, max_retry_after=120) as c,
    ):
        c.list_agents()
    assert pauses == [90.0]


@pytest.mark.parametrize("value", ["soon", "-5", "nan", "inf", "1e999", "Mon, 99 Foo 2026", ""])
def test_a_garbage_retry_after_falls_back_to_the_backoff(value: str) -> None:
    pauses, sleep = no_sleep()
    with (
        scripted_peer(refusing(503, value)) as peer,
        PowabaseClient(peer.url, KEY, sleep=sleep, backoff=0.5, jitter=lambda: 1.0) as c,
    ):
        c.list_agents()
    assert pauses == [0.5]


def test_retry_after_parsing() -> None:
    parse = answers.parse_retry_after
    assert parse("120") == 120.0 and parse("1.5") == 1.5 and parse("1e9") == 1e9
    assert parse("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert parse("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412490.0) == 0.0  # in the past
    for garbage in ("-1", "nan", "inf", "1e999", "12abc", "0x10", "Mon, 99 Foo 2026", " "):
        assert parse(garbage) is None, garbage


# -- the key never leaves through a URL ----------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_carrying_the_key_never_shows_it(status: int) -> None:
    encoded = KEY.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")
    location = f"https://sso.example.com/login?next=%2Fapi&apikey={KEY}&k2={encoded}#{KEY}"

    def script(method: str, path: str, _body: Any) -> Reply:
        return Reply(status, "", "text/html", headers={"Location": location})

    with scripted_peer(script) as peer, PowabaseClient(peer.url, KEY) as client:
        with pytest.raises(errors.PowabaseError) as info:
            client.list_agents()
        chat = ChatSession(client, "agt_demo")
        handle = chat.send("hi")
        assert handle.wait(30)
    for error in (info.value, handle.error):
        assert error is not None and error.code == "redirected"
        text = str(error) + repr(error) + (error.body or "") + error.message
        assert "sso.example.com" in text  # where it was sent stays useful
        assert KEY not in text and encoded not in text and "Secret" not in text
    event = handle.events[-1]
    assert event["event"] == "client_error" and "Secret" not in json.dumps(event)
    assert "Secret" not in chat.error and "sso.example.com" in chat.error


def test_the_key_is_masked_in_every_form_an_error_may_quote() -> None:
    quoted = errors.scrub(
        f"raw {KEY} url %s plus %s ?token=abc&apikey=zzz;key=q",
        KEY,
    )
    assert KEY not in quoted and "abc" not in quoted and "zzz" not in quoted
    url_forms = errors.scrub(
        "a sk-live-Secret%2BKey%2FWith%3DSigns-0123456789 b sk-live-Secret%2BKey%2FWith%3DSigns"
        "-0123456789",
        KEY,
    )
    assert "Secret" not in url_forms


def test_a_body_or_content_type_echoing_the_key_is_masked() -> None:
    def script(method: str, path: str, _body: Any) -> Reply:
        return Reply(200, f"<title>Portal {KEY}</title>", f"text/html; x={KEY}")

    with (
        scripted_peer(script) as peer,
        PowabaseClient(peer.url, KEY) as client,
        pytest.raises(errors.StreamError) as info,
    ):
        client.stream_run("agt_demo", "hi")
    assert "Secret" not in str(info.value) + (info.value.body or "")


def test_a_run_error_quoting_the_key_leaves_it_out_of_the_panel_state() -> None:
    body = FIRST_EVENTS + frame(
        {"event": "error", "error": f"upstream said: see https://x.example/?apikey={KEY}"}
    )

    def script(method: str, path: str, _body: Any) -> Reply:
        return Reply(200, body, "text/event-stream")

    with scripted_peer(script) as peer, PowabaseClient(peer.url, KEY) as client:
        chat = ChatSession(client, "agt_demo")
        handle = chat.send("hi")
        assert handle.wait(30)
    assert handle.error is not None and "x.example" in handle.error.message
    assert "Secret" not in handle.error.message and "Secret" not in chat.error
