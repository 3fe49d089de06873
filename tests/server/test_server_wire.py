"""The local server's bytes on the wire: framing, headers, keepalives and each fault agent.

Read from a plain socket, so what is checked is exactly what a client receives.
"""

from __future__ import annotations

import json
import re
import socket
import time
import zlib
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from server_http import api, stream_path
from server_shapes import assert_framing


@dataclass
class RawResponse:
    """A response as bytes: status line, headers, body as sent, and when each piece came."""

    status: int
    headers: dict[str, str]
    body: bytes
    arrivals: list[tuple[float, bytes]] = field(default_factory=list)
    closed_by_server: bool = False

    def body_before(self, seconds: float) -> bytes:
        """The body bytes that had arrived `seconds` after the request was sent."""
        raw = b"".join(piece for when, piece in self.arrivals if when < seconds)
        return raw.partition(b"\r\n\r\n")[2]

    def dechunked(self) -> bytes:
        """The body without chunked framing (raises if the final chunk never came)."""
        return dechunk(self.body, require_end=True)


def raw_post(
    server: object, path: str, payload: object, *, close: bool = True, timeout: float = 30.0
) -> RawResponse:
    """POST JSON over a bare socket and read until the server closes the connection."""
    base = urlsplit(server.base_url)  # type: ignore[attr-defined]
    key = server.api_key  # type: ignore[attr-defined]
    body = json.dumps(payload).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {base.netloc}\r\napikey: {key}\r\n"
        f"Authorization: Bearer {key}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n" + ("Connection: close\r\n" if close else "") + "\r\n"
    )
    started = time.monotonic()
    arrivals: list[tuple[float, bytes]] = []
    with socket.create_connection((base.hostname, base.port), timeout=timeout) as sock:
        sock.sendall(head.encode() + body)
        while True:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:  # a cut connection may end with a reset
                break
            if not data:
                break
            arrivals.append((time.monotonic() - started, data))
    raw = b"".join(piece for _, piece in arrivals)
    head_bytes, _, rest = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head_bytes.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return RawResponse(int(status_line.split()[1]), headers, rest, arrivals, True)


def dechunk(body: bytes, *, require_end: bool) -> bytes:
    """Undo chunked transfer coding."""
    out, pos = bytearray(), 0
    while True:
        end = body.find(b"\r\n", pos)
        if end < 0:
            if require_end:
                raise AssertionError("chunked body ended without its last chunk")
            return bytes(out)
        size = int(body[pos:end].split(b";")[0], 16)
        if size == 0:
            return bytes(out)
        if end + 2 + size > len(body):
            if require_end:
                raise AssertionError("chunked body cut inside a chunk")
            return bytes(out + body[end + 2 :])
        out += body[end + 2 : end + 2 + size]
        pos = end + 2 + size + 2


def frames(text: bytes) -> list[dict]:
    """The JSON objects of `data:` frames in an LF-framed stream (comments skipped)."""
    found = []
    for block in text.split(b"\n\n"):
        if block.startswith(b"data: "):
            found.append(json.loads(block[6:]))
    return found


def test_frames_are_json_dumps_data_lines_framed_as_the_backend_frames_them(local_server):
    response = raw_post(local_server, stream_path("fault_failed_run"), {"message": "go"})
    assert response.status == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"
    assert response.headers["transfer-encoding"] == "chunked"
    body = response.dechunked()
    blocks = body.split(b"\n\n")
    assert blocks[-1] == b"", "the stream ends with a blank line"
    events = []
    for block in blocks[:-1]:
        assert block.startswith(b"data: ") and b"\n" not in block
        event = json.loads(block[6:])
        assert block[6:] == json.dumps(event).encode(), "json.dumps defaults: ', ' and ': '"
        events.append(event)
    assert body.isascii() and b"\\u2026" in body, "non-ASCII (…) escaped as \\uXXXX"
    assert [e["event"] for e in events] == [
        "start", "step_started", "content_delta", "chunk", "complete",
    ]  # fmt: skip
    assert_framing(events)
    start, complete = events[0], events[-1]
    assert re.fullmatch(r"run_[0-9a-f]{12}", start["run_id"])
    assert re.fullmatch(r"sess_[0-9a-f]{12}", start["session_id"])
    assert complete["run_id"] == start["run_id"]
    assert complete["status"] == "failed" and complete["error"]


def test_each_frame_is_one_http_chunk(local_server):
    response = raw_post(local_server, stream_path("fault_crlf"), {"message": "go"})
    body = response.body
    sizes, pos = [], 0
    while True:
        end = body.find(b"\r\n", pos)
        size = int(body[pos:end], 16)
        if size == 0:
            break
        piece = body[end + 2 : end + 2 + size]
        sizes.append(piece)
        pos = end + 2 + size + 2
    assert all(p.endswith(b"\r\n\r\n") and p.count(b"data: ") == 1 for p in sizes)


def test_keepalive_comments_fill_an_idle_stream(local_server):
    response = raw_post(local_server, stream_path("fault_stall"), {"message": "stall 1.3"})
    body = response.dechunked()
    assert body.count(b": keepalive\n\n") >= 1
    blocks = [b for b in body.split(b"\n\n") if b]
    assert all(b.startswith(b"data: ") or b == b": keepalive" for b in blocks)
    names = [e["event"] for e in frames(body)]
    assert names == ["start", "content_delta", "content_delta", "chunk", "complete"]
    # The keepalives come during the stall, between the two deltas.
    first_delta = body.index(b'"delta": "Waking "')
    assert body.index(b": keepalive") > first_delta


def test_close_delimited_body_has_no_length_and_no_chunks(local_server):
    response = raw_post(
        local_server, stream_path("fault_close_delimited"), {"message": "go"}, close=False
    )
    assert response.status == 200
    assert "content-length" not in response.headers
    assert "transfer-encoding" not in response.headers
    assert response.headers["connection"].lower() == "close"
    assert response.closed_by_server
    events = frames(response.body)
    assert [e["event"] for e in events] == ["start"] + ["content_delta"] * 4 + ["chunk", "complete"]
    assert events[-1]["content"] == "First then the rest."
    # The first delta reached the socket well before the 1.5 s pause ended.
    early = response.body_before(response.arrivals[-1][0] - 0.75)
    assert b'"delta": "First "' in early and b'"complete"' not in early


def test_crlf_framing_ends_every_line_with_crlf(local_server):
    response = raw_post(local_server, stream_path("fault_crlf"), {"message": "go"})
    body = response.dechunked()
    assert body.endswith(b"\r\n\r\n")
    assert b"\n" not in body.replace(b"\r\n", b"")
    events = frames(body.replace(b"\r\n", b"\n"))
    assert events[-1]["event"] == "complete"
    assert events[-1]["content"] == "First then the rest."


def test_gzip_stream_is_flushed_per_event(local_server):
    response = raw_post(local_server, stream_path("fault_gzip"), {"message": "go"})
    assert response.headers["content-encoding"] == "gzip"
    inflate = zlib.decompressobj(wbits=31)
    text = inflate.decompress(response.dechunked()) + inflate.flush()
    assert inflate.eof, "a complete gzip member"
    events = frames(text)
    assert [e["event"] for e in events] == ["start"] + ["content_delta"] * 4 + ["chunk", "complete"]
    # Each event is decompressible on its own as soon as its bytes arrive: the first
    # delta is readable from the bytes received before the pause.
    early = dechunk(response.body_before(response.arrivals[-1][0] - 0.75), require_end=False)
    assert b'"delta": "First "' in zlib.decompressobj(wbits=31).decompress(early)


def test_drop_cuts_the_connection_mid_body_and_the_run_is_still_stored(local_server):
    response = raw_post(local_server, stream_path("fault_drop"), {"message": "go"})
    assert response.status == 200
    with pytest.raises(AssertionError, match=r"ended without its last chunk|cut inside"):
        response.dechunked()
    received = frames(dechunk(response.body, require_end=False))
    assert [e["event"] for e in received] == ["start", "content_delta", "content_delta"]
    run_id = received[0]["run_id"]
    with api(local_server) as client:
        deadline = time.monotonic() + 20
        while True:
            run = client.get(f"/api/agents/runs/{run_id}").json()
            if run["status"] != "running" or time.monotonic() > deadline:
                break
            time.sleep(0.05)
    assert run["status"] == "completed"
    assert run["content"] == "The connection drops here and you miss this."


def test_malformed_frame_sits_between_valid_frames(local_server):
    body = raw_post(local_server, stream_path("fault_malformed"), {"message": "go"}).dechunked()
    blocks = [b for b in body.split(b"\n\n") if b]
    assert blocks[2] == b"data: {this is not json"
    assert json.loads(blocks[3][6:])["delta"] == "after."
    assert json.loads(blocks[-1][6:])["content"] == "Before after."


@pytest.mark.parametrize(
    ("agent_id", "status", "error"),
    [
        ("fault_unauthorized", 401, "Invalid API key"),
        ("fault_credits", 402, "insufficient_credits"),
        ("fault_not_found", 404, "Agent not found"),
    ],
)
def test_http_errors_before_the_stream(local_server, agent_id, status, error):
    with api(local_server) as client:
        response = client.post(stream_path(agent_id), json={"message": "hello"})
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"] == error


@pytest.mark.parametrize(
    ("agent_id", "status"), [("fault_rate_limited", 429), ("fault_unavailable", 503)]
)
def test_fail_once_then_succeed_for_the_same_message(local_server, agent_id, status):
    message = f"retry me {time.time_ns()}"
    with api(local_server) as client:
        first = client.post(stream_path(agent_id), json={"message": message})
        second = client.post(stream_path(agent_id), json={"message": message})
    assert first.status_code == status
    assert "error" in first.json()
    if status == 429:
        assert first.headers["retry-after"] == "1"
    assert second.status_code == 200
    assert frames(second.content)[-1]["status"] == "completed"


def test_not_event_stream_is_a_200_html_page(local_server):
    with api(local_server) as client:
        response = client.post(stream_path("fault_not_event_stream"), json={"message": "hi"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.text.startswith("<!doctype html>")


def test_big_result_carries_one_megabyte_intact(local_server):
    with api(local_server) as client:
        response = client.post(stream_path("fault_big_result"), json={"message": "hi"})
    events = frames(response.content)
    result = next(e for e in events if e["event"] == "tool_result")
    full = events[-1]["tool_calls"][0]["result"]
    assert len(full) == 1024 * 1024, "the full result only in complete.tool_calls"
    assert "result" not in result and result["result_preview"] == full[:200]


def test_many_chunks_sends_ten_thousand_deltas_in_order(local_server):
    with api(local_server) as client:
        response = client.post(stream_path("fault_many_chunks"), json={"message": "hi"})
    events = frames(response.content)
    deltas = [e["delta"] for e in events if e["event"] == "content_delta"]
    assert len(deltas) == 10_000
    assert [e["event"] for e in events[-2:]] == ["chunk", "complete"]
    assert events[-2]["content"] == events[-1]["content"] == "".join(deltas)


def test_error_event_ends_the_run_and_the_run_is_stored_failed(local_server):
    with api(local_server) as client:
        events = frames(
            client.post(stream_path("fault_error_event"), json={"message": "hi"}).content
        )
        assert events[-1]["event"] == "error" and events[-1]["error"]
        run = client.get(f"/api/agents/runs/{events[0]['run_id']}").json()
    assert run["status"] == "failed"
    assert run["error"] == events[-1]["error"]


def test_xss_payloads_are_sent_verbatim_in_every_field(local_server):
    with api(local_server) as client:
        events = frames(client.post(stream_path("fault_xss"), json={"message": "hi"}).content)
    by_name = {e["event"]: e for e in events}
    assert "<script>" in by_name["content_delta"]["delta"]
    assert "onerror" in by_name["tool_call"]["tool_name"]
    assert "<script>" in by_name["tool_call"]["arguments"]["q"]
    assert "<iframe" in by_name["tool_result"]["result_preview"]
    assert "onerror" in by_name["complete"]["error"]
