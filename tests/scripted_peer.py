"""A raw HTTP/1.1 test peer that answers each request with the next scripted reply.

For answers the local server does not give (the real backend's 500 page for a non-UUID id,
an approval 404 from the wrong worker, an older server without an endpoint). Each request
is recorded as (method, path, JSON body or None); each reply closes its connection.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

REASONS = {
    200: "OK",
    201: "Created",
    302: "Found",
    400: "Bad Request",
    404: "Not Found",
    405: "Not Allowed",
    429: "Too Many Requests",
    503: "Service Unavailable",
}


@dataclass
class Reply:
    """One scripted answer: status, body (JSON for dicts and lists, bytes as they are),
    content type, and any other headers."""

    status: int = 200
    body: Any = None
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> bytes:
        """The whole HTTP response, Connection: close."""
        if isinstance(self.body, (dict, list)):
            data = json.dumps(self.body).encode()
        elif isinstance(self.body, bytes):
            data = self.body
        else:
            data = (self.body or "").encode()
        extra = "".join(f"{name}: {value}\r\n" for name, value in self.headers.items())
        head = (
            f"HTTP/1.1 {self.status} {REASONS.get(self.status, 'Error')}\r\n"
            f"Content-Type: {self.content_type}\r\nContent-Length: {len(data)}\r\n"
            f"{extra}Connection: close\r\n\r\n"
        )
        return head.encode() + data


Script = Callable[[str, str, Any], Reply]
"""Picks the reply for (method, path, body)."""


@dataclass
class ScriptedPeer:
    """The peer's URL and the requests it received, in order."""

    url: str
    requests: list[tuple[str, str, Any]] = field(default_factory=list)

    def paths(self) -> list[str]:
        """'METHOD /path' of every request received."""
        return [f"{method} {path}" for method, path, _ in self.requests]


def read_request(conn: socket.socket) -> tuple[str, str, Any] | None:
    """(method, path, decoded JSON body or None) of one request, or None on EOF."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    method, path, _ = lines[0].split(" ", 2)
    try:
        decoded = json.loads(body) if body else None
    except ValueError:
        decoded = None
    return method, path, decoded


@contextlib.contextmanager
def scripted_peer(script: Script) -> Iterator[ScriptedPeer]:
    """Serve `script` on 127.0.0.1 until the block ends."""
    listener = socket.create_server(("127.0.0.1", 0))
    peer = ScriptedPeer(f"http://127.0.0.1:{listener.getsockname()[1]}")

    def serve() -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = listener.accept()
                with conn:
                    request = read_request(conn)
                    if request is None:
                        continue
                    peer.requests.append(request)
                    conn.sendall(script(*request).encode())

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield peer
    finally:
        listener.close()
