"""Readers nobody here wrote agree with ours on the local server's streams.

httpx + httpx-sse read each stream live; a tee under httpx keeps the exact bytes (and
chunking) it received, which `powawidget.wire.sse.iter_events` then reads. Both must yield the
same events — for the demo agents and for every framing the fault agents use.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator

import httpx
import pytest
from httpx_sse import connect_sse
from server_http import api, stream_path

from powawidget.wire.sse import iter_events


class TeeStream(httpx.SyncByteStream):
    """Passes the network stream through and keeps every chunk as it came."""

    def __init__(self, inner: httpx.SyncByteStream, chunks: list[bytes]) -> None:
        self.inner = inner
        self.chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.inner:
            self.chunks.append(chunk)
            yield chunk

    def close(self) -> None:
        self.inner.close()


class TeeTransport(httpx.HTTPTransport):
    """An httpx transport that records the raw (still encoded) body of each response."""

    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[bytes] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        assert isinstance(response.stream, httpx.SyncByteStream)
        response.stream = TeeStream(response.stream, self.chunks)
        return response


def decoded(chunks: list[bytes], encoding: str | None) -> list[bytes]:
    """The chunks as our client reads them (gzip undone chunk by chunk)."""
    if encoding != "gzip":
        return chunks
    inflate = zlib.decompressobj(wbits=31)
    return [inflate.decompress(chunk) for chunk in chunks]


CASES = [
    ("agt_demo", "What products do you offer?"),
    ("agt_demo", "What is the refund policy?"),
    ("agt_docs", "What can you help me with?"),
    ("fault_malformed", "hi"),
    ("fault_crlf", "hi"),
    ("fault_gzip", "hi"),
    ("fault_close_delimited", "hi"),
    ("fault_stall", "stall 0.7"),
    ("fault_xss", "hi"),
    ("fault_big_result", "hi"),
    ("fault_many_chunks", "hi"),
    ("fault_drop", "hi"),
]


@pytest.mark.parametrize(("agent_id", "message"), CASES, ids=[f"{a}-{m}" for a, m in CASES])
def test_httpx_sse_reads_the_same_events_as_powawidget(local_server, agent_id, message):
    transport = TeeTransport()
    theirs = []
    cut = None
    with (
        api(local_server, transport=transport) as client,
        connect_sse(client, "POST", stream_path(agent_id), json={"message": message}) as source,
    ):
        source.response.raise_for_status()
        encoding = source.response.headers.get("content-encoding")
        try:
            for event in source.iter_sse():
                theirs.append((event.event, event.data, event.id or None, event.retry))
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:  # the cut connection
            cut = exc
    assert (cut is not None) == (agent_id == "fault_drop"), cut

    ours = [
        (e.event, e.data, e.id, e.retry) for e in iter_events(decoded(transport.chunks, encoding))
    ]
    assert ours == theirs
    assert len(ours) >= 3
    payloads = [data for _, data, _, _ in ours]
    parsed = [json.loads(d) for d in payloads if d.startswith("{") and d.endswith("}")]
    if agent_id != "fault_drop":
        assert parsed[-1]["event"] in ("complete", "error")
