"""`powawidget serve` against hostile and careless clients: it stays up and fair.

Bodies that are not UTF-8, hold a lone surrogate, NaN or Infinity, or nest 100,000 deep are
a 400 with a JSON error (not a 500); a body past the limit is a 413, announced or streamed;
a message the agent reads for a long time does not hold other clients' streams (the agent
works off the server's event loop). Raw sockets send what no well-behaved client would.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from server_http import api, stream_path

from powawidget.server import start_local_server


@pytest.fixture(scope="module")
def small_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A local server whose bodies may have at most 1 MB."""
    db = tmp_path_factory.mktemp("hostile") / "agents.sqlite3"
    server = start_local_server(delay=0.0, db_path=str(db), max_body_mb=1)
    try:
        yield server
    finally:
        server.stop(timeout=1.0)  # the agent is still reading: no need to wait for it


def raw_request(server: Any, body: bytes, *, headers: str = "", length: int | None = None) -> bytes:
    """POST `body` to agt_demo's run over a raw socket (Content-Length `length`, default its
    size, unless `headers` frames it); the whole answer."""
    url = urlsplit(server.base_url)
    key = server.api_key
    framing = headers or f"Content-Length: {len(body) if length is None else length}\r\n"
    head = (
        f"POST {stream_path('agt_demo')} HTTP/1.1\r\nHost: {url.hostname}\r\n"
        f"apikey: {key}\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\n"
        f"{framing}Connection: close\r\n\r\n"
    )
    with socket.create_connection((url.hostname, url.port), timeout=30) as sock:
        received: list[bytes] = []

        def read() -> None:  # meanwhile: the answer may come before the body is all sent
            with contextlib.suppress(OSError):
                while chunk := sock.recv(65536):
                    received.append(chunk)

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        with contextlib.suppress(OSError):  # the server answered and closed before the end
            sock.sendall(head.encode())
            for start in range(0, len(body), 65536):
                sock.sendall(body[start : start + 65536])
        reader.join(30)
    return b"".join(received)


def status_and_error(answer: bytes) -> tuple[int, dict[str, Any]]:
    """The status code and JSON body of a raw answer (Content-Length framed)."""
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    assert b"application/json" in head.lower(), head
    return status, json.loads(body)


def refused(server: Any, body: bytes) -> tuple[int, dict[str, Any]]:
    """POST `body` and return the status and the JSON error."""
    return status_and_error(raw_request(server, body))


@pytest.mark.parametrize(
    ("body", "code", "says"),
    [
        (b'{"message": "caf\xe9"}', "invalid_unicode", "not valid UTF-8 (byte 0xe9"),
        (b'{"message": "x\\ud83dy"}', "invalid_unicode", "lone surrogate (\\ud83d)"),
        (b'{"message": "hi", "x\\udc00": 1}', "invalid_unicode", "lone surrogate (\\udc00)"),
        (b'{"message": "hi", "temperature": NaN}', "invalid_json", "NaN"),
        (b'{"message": "hi", "temperature": -Infinity}', "invalid_json", "-Infinity"),
        (b'{"message": "hi", "context_items": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
         "too_deep", "deeper than 100 levels"),
        (b'{"message": "hi", "x": ' + b'{"a": ' * 150 + b"1" + b"}" * 150 + b"}",
         "too_deep", "deeper than 100 levels"),
    ],
)  # fmt: skip
def test_a_body_that_is_not_clean_json_is_a_400_with_a_json_error(
    local_server: Any, body: bytes, code: str, says: str
) -> None:
    status, answer = refused(local_server, body)
    assert status == 400
    assert answer["code"] == code and says in answer["error"]
    with api(local_server) as client:  # the server is still up, and still answers runs
        frames = client.post(stream_path("agt_demo"), json={"message": "hi"}).text
    assert '"event": "complete"' in frames


def test_a_bad_body_is_refused_on_every_route_that_reads_one(local_server: Any) -> None:
    with api(local_server) as client:
        paths = ["/api/agents/runs/run_0123456789ab/approve", "/api/agents/agt_demo/sessions"]
        for path in paths:
            answer = client.post(
                path, content=b'{"approved": true, "x": NaN}', headers={"content-type": "json"}
            )
            assert answer.status_code == 400 and answer.json()["code"] == "invalid_json"


def test_nesting_under_the_bound_is_accepted(local_server: Any) -> None:
    nested = b'{"message": "hi", "x": ' + b"[" * 90 + b"]" * 90 + b"}"
    answer = raw_request(local_server, nested)
    assert answer.startswith(b"HTTP/1.1 200") and b'"event": "complete"' in answer


def test_a_body_announced_past_the_limit_is_a_413_unread(small_server: Any) -> None:
    answer = raw_request(small_server, b'{"message": "', length=50_000_000)
    status, error = status_and_error(answer)
    assert status == 413 and error["code"] == "body_too_large"
    assert "1 MB" in error["error"] and "--max-body-mb" in error["error"]


def test_a_chunked_body_past_the_limit_is_a_413(small_server: Any) -> None:
    piece = b"x" * 65536
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for _ in range(40))  # 2.6 MB
    body = b'10\r\n{"message": "hi \r\n' + chunks + b"0\r\n\r\n"
    answer = raw_request(small_server, body, headers="Transfer-Encoding: chunked\r\n")
    status, error = status_and_error(answer)
    assert status == 413 and error["code"] == "body_too_large"


def test_a_body_under_the_limit_still_runs(small_server: Any) -> None:
    with api(small_server) as client:
        body = {"message": "hi", "padding": "y" * 900_000}  # not read by the agent: fast
        frames = client.post(stream_path("agt_demo"), json=body).text
    assert '"event": "complete"' in frames


def test_an_agent_busy_in_its_thread_does_not_hold_another_clients_stream(
    local_server: Any,
) -> None:
    # fault_busy blocks its thread for 20 s without awaiting, as an agent reading a huge
    # message does. On the server's event loop no other client would get a byte meanwhile.
    busy_done = threading.Event()

    def busy() -> None:
        with api(local_server, timeout=60.0) as client, contextlib.suppress(httpx.HTTPError):
            client.post(stream_path("fault_busy"), json={"message": "busy 20"})
            busy_done.set()

    threading.Thread(target=busy, daemon=True).start()
    with api(local_server, timeout=httpx.Timeout(10.0)) as client:
        for _ in range(200):  # until the busy run started (its session exists)
            listed = client.get("/api/agents/fault_busy/sessions").json()["sessions"]
            if listed:
                break
            threading.Event().wait(0.05)
        assert listed, "the busy run never started"
        frames = client.post(stream_path("agt_demo"), json={"message": "hi"}).text
    assert '"event": "complete"' in frames
    assert not busy_done.is_set()  # the busy agent is still at work


def test_the_demo_agents_read_a_10_mb_message_quickly(local_server: Any) -> None:
    # They read its first 20,000 characters (their "context window"); usage counts it all.
    with api(local_server, timeout=60.0) as client:
        frames = client.post(
            stream_path("agt_demo"), json={"message": "What is the refund policy? " + "x" * 10**7}
        ).text
    complete = json.loads(frames.strip().split("\n\n")[-1][6:])
    assert complete["status"] == "completed" and "refund" in complete["content"].lower()
    assert complete["usage"]["prompt_tokens"] > 2_000_000
