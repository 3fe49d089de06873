"""The SSE response of one run: Powabase's framing and headers, keepalives, and wire faults.

Frames come from the run's queue (see runs.py) and go out as `data: {json}` + blank line.
As on the real backend, `: keepalive` comments (after `keepalive` idle seconds) come only
on the tool (ReAct) path and never before the first frame; an agent may set its own
`keepalive` (a fault agent's stall). Fault agents choose CRLF line ends, per-event gzip, a
close-delimited body or a cut connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import zlib
from collections.abc import AsyncIterator

from starlette.types import Receive, Scope, Send

from powawidget.server.runs import END, LiveRun, encode_json

# Private signals to powawidget.server.serving.ServerProtocol (see there).
CLOSE_DELIMITED_HEADER = (b"x-powawidget-body", b"close-delimited")
ABORT_EXTENSION = "powawidget.abort"


class EventStream:
    """The SSE response of one run: frames as they come, keepalives while idle, wire faults."""

    def __init__(self, run: LiveRun, *, keepalive: float) -> None:
        self.run = run
        agent = run.agent
        self.framing: str = getattr(agent, "framing", "lf")
        own = getattr(agent, "keepalive", None)
        if own is None:
            own = keepalive if getattr(agent, "uses_tools", False) else math.inf
        self.keepalive = own
        self.drop_after: int | None = getattr(agent, "drop_after", None)
        self.gzip = zlib.compressobj(wbits=31) if self.framing == "gzip" else None

    def headers(self) -> list[tuple[bytes, bytes]]:
        """The response headers Powabase sends for a stream (plus the fault's framing)."""
        headers = [
            (b"content-type", b"text/event-stream; charset=utf-8"),
            (b"cache-control", b"no-cache"),
            (b"x-accel-buffering", b"no"),
        ]
        if self.framing == "gzip":
            headers.append((b"content-encoding", b"gzip"))
        if self.framing == "close_delimited":
            headers.append(CLOSE_DELIMITED_HEADER)
        return headers

    def encode(self, item: dict | bytes) -> bytes:
        """One frame (or a raw fault payload) as wire bytes in this stream's framing."""
        data = item if isinstance(item, bytes) else f"data: {encode_json(item)}\n\n".encode()
        return self.wire(data)

    def wire(self, data: bytes) -> bytes:
        """Apply CRLF line ends or per-event gzip flushing."""
        if self.framing == "crlf":
            data = data.replace(b"\n", b"\r\n")
        if self.gzip is not None:
            data = self.gzip.compress(data) + self.gzip.flush(zlib.Z_SYNC_FLUSH)
        return data

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send the frames until the run ends or the client leaves (the run goes on)."""
        await send({"type": "http.response.start", "status": 200, "headers": self.headers()})
        disconnected = asyncio.Event()
        watcher = asyncio.create_task(_watch_disconnect(receive, disconnected))
        sent = 0
        try:
            async for item in self._items(disconnected):
                await send({"type": "http.response.body", "body": item, "more_body": True})
                if not item.startswith(b":"):
                    sent += 1
                if self.drop_after is not None and sent >= self.drop_after:
                    await self._drop(scope, disconnected)
                    return
            if disconnected.is_set():
                return
            tail = self.gzip.flush() if self.gzip is not None else b""
            await send({"type": "http.response.body", "body": tail, "more_body": False})
        finally:
            watcher.cancel()

    async def _items(self, disconnected: asyncio.Event) -> AsyncIterator[bytes]:
        """Wire chunks: queued frames, or a keepalive comment after `keepalive` idle seconds."""
        queue = self.run.queue
        idle = None if math.isinf(self.keepalive) else self.keepalive
        timeout = None  # no keepalive before the first frame (retrieval runs first)
        while not disconnected.is_set():
            if not queue.empty():  # the common case while a run streams: no waiting
                item = queue.get_nowait()
                if item is END:
                    return
                timeout = idle
                yield self.encode(item)
                continue
            getter = asyncio.ensure_future(queue.get())
            gone = asyncio.ensure_future(disconnected.wait())
            done, _ = await asyncio.wait(
                {getter, gone}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
            gone.cancel()
            if getter not in done:
                getter.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await getter
                if getter.cancelled():
                    if not disconnected.is_set():
                        yield self.wire(b": keepalive\n\n")
                    continue
            item = getter.result()
            if item is END:
                return
            timeout = idle
            yield self.encode(item)

    async def _drop(self, scope: Scope, disconnected: asyncio.Event) -> None:
        """Cut the TCP connection mid-body (a reset), as a crashed proxy would."""
        abort = scope.get("extensions", {}).get(ABORT_EXTENSION)
        if abort is None:
            raise ConnectionAbortedError("fault_drop: cutting the stream")
        abort()
        await disconnected.wait()


async def _watch_disconnect(receive: Receive, disconnected: asyncio.Event) -> None:
    """Set `disconnected` when the client goes away."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            disconnected.set()
            return
