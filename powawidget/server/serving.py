"""Serving the app: uvicorn on a bound socket, with an h11 protocol that can misbehave on cue.

The fault agents need two things uvicorn will not do for an HTTP/1.1 client: a body that
is neither chunked nor sized (ended by closing the connection), and a connection cut in
the middle of a body. `ServerProtocol` adds both, and nothing else.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from powawidget.server.app import create_app
from powawidget.server.settings import ServerSettings
from powawidget.server.stream import ABORT_EXTENSION, CLOSE_DELIMITED_HEADER


class _FramingConnection(h11.Connection):
    """h11 connection that can send one response close-delimited, as an HTTP/1.0 server would.

    h11 frames every body for an HTTP/1.1 client with chunked encoding; a response carrying
    the app's private `x-powawidget-body: close-delimited` header is sent instead with no
    Content-Length and no Transfer-Encoding, ended by closing the connection.
    """

    def send_with_data_passthrough(self, event: h11.Event) -> list[bytes] | None:
        """Send an h11 event, honouring the close-delimited marker on a Response (`send`,
        which uvicorn calls, goes through here)."""
        if isinstance(event, h11.Response):
            headers = [(name, value) for name, value in event.headers.raw_items()]
            if CLOSE_DELIMITED_HEADER in [(n.lower(), v) for n, v in headers]:
                headers = [(n, v) for n, v in headers if n.lower() != CLOSE_DELIMITED_HEADER[0]]
                event = h11.Response(
                    status_code=event.status_code, headers=headers, reason=event.reason
                )
                self.their_http_version = b"1.0"  # h11 then closes-delimits the body
        return super().send_with_data_passthrough(event)


class ServerProtocol(H11Protocol):
    """uvicorn's h11 protocol plus two fault powers: close-delimited bodies and a hard cut."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.conn = _FramingConnection(h11.SERVER, self.conn._max_incomplete_event_size)
        inner = self.app

        async def app(scope: Any, receive: Any, send: Any) -> None:
            extensions = dict(scope.get("extensions") or {})
            extensions[ABORT_EXTENSION] = self._abort
            await inner({**scope, "extensions": extensions}, receive, send)

        self.app = app

    def _abort(self) -> None:
        """Reset the connection now (no orderly end of the body)."""
        if self.transport is not None:
            self.transport.abort()


def serve(
    settings: ServerSettings,
    *,
    on_ready: Callable[[str], None],
    stop_when_stdin_closes: bool = False,
    before_forced_exit: Callable[[], None] | None = None,
) -> None:
    """Serve until interrupted; `on_ready(base_url)` runs once the socket accepts requests.
    `before_forced_exit` runs if a graceful stop after stdin's EOF takes too long."""
    sock = socket.socket(socket.AF_INET6 if ":" in settings.host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((settings.host, settings.port))
    host, port = sock.getsockname()[:2]
    shown_host = f"[{host}]" if ":" in host else host
    base_url = f"http://{shown_host}:{port}"
    app = create_app(
        api_key=settings.api_key,
        db_path=settings.db_path,
        delay=settings.delay,
        keepalive=settings.keepalive,
        faults=settings.faults,
        approval_timeout=settings.approval_timeout,
        approve_misses=settings.approve_misses,
        strict_ids=settings.strict_ids,
        max_body=int(settings.max_body_mb * 1_000_000),
    )
    config = uvicorn.Config(
        app,
        http=ServerProtocol,
        ws="none",
        lifespan="on",
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)

    async def main() -> None:
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started and not serving.done():
            await asyncio.sleep(0.005)
        if server.started:
            on_ready(base_url)
            if stop_when_stdin_closes:
                _watch_stdin(lambda: setattr(server, "should_exit", True), before_forced_exit)
        await serving

    asyncio.run(main())


def _watch_stdin(stop: Callable[[], None], before_exit: Callable[[], None] | None = None) -> None:
    """Call `stop` when stdin reaches EOF (the parent closed it or died); if the process is
    still there 5 s later, call `before_exit` and exit at once."""

    def wait() -> None:
        try:
            while sys.stdin.buffer.read(1 << 16):
                pass
        except (OSError, ValueError):
            pass
        stop()
        time.sleep(5.0)  # a graceful stop normally ends the process well before this
        if before_exit is not None:
            before_exit()
        os._exit(0)

    threading.Thread(target=wait, name="parent-watch", daemon=True).start()
