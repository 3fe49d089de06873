"""A stop lands at once in every stalled state: setting a run's stop flag (what
`RunHandle.stop()` does) shuts the connection down inside the call, not on a watcher's poll.

Raw-socket peers stall a run before its response headers and after them; each case is
timed over several tries and judged by the median (the machine is shared and loaded).
"""

from __future__ import annotations

import contextlib
import socket
import statistics
import threading
import time
from collections.abc import Iterator

import pytest
from scripted_peer import read_request

from powawidget.session.run import start_run
from powawidget.wire.client import PowabaseClient
from powawidget.wire.stopping import CancelWatch, StopFlag

AGENT = "0b7d7f3e-8f4e-4c0a-9a55-2d1e5c9b7a10"
TRIES = 7
STALL = 0.125  # seconds before the stop: half a period off the old 50 ms poll, not on a tick
HEADERS = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n\r\n"


@contextlib.contextmanager
def stalling_peer(send_headers: bool) -> Iterator[str]:
    """A peer that reads each request, sends the event-stream headers (or nothing), then
    nothing more, holding every connection open until the test ends."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def serve() -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = listener.accept()
                held.append(conn)
                if read_request(conn) is not None and send_headers:
                    conn.sendall(HEADERS)

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.close()
        for conn in held:
            conn.close()


def _stream_stop_delay(url: str) -> float:
    """Seconds from setting the run's StopFlag to the stalled read ending."""
    flag = StopFlag()
    ended = threading.Event()
    with PowabaseClient(url, "pk_test") as client:
        done_at: list[float] = []

        def read() -> None:
            for _ in client.stream_run(AGENT, "hi", cancel=flag):
                pass
            done_at.append(time.monotonic())
            ended.set()

        threading.Thread(target=read, daemon=True).start()
        time.sleep(STALL)  # the request is out; the read is stalled
        assert not ended.is_set()
        stop_at = time.monotonic()
        flag.set()
        assert ended.wait(5), "the stalled read never ended"
        return done_at[0] - stop_at


@pytest.mark.parametrize("send_headers", [False, True], ids=["before-headers", "after-headers"])
def test_setting_the_stop_flag_ends_a_stalled_read_at_once(send_headers: bool) -> None:
    with stalling_peer(send_headers) as url:
        delays = [_stream_stop_delay(url) for _ in range(TRIES)]
    # The old shared watcher polled every 50 ms (median ~25 ms); a stop inside set() is ~1 ms.
    assert statistics.median(delays) < 0.015, delays


@pytest.mark.parametrize("send_headers", [False, True], ids=["before-headers", "after-headers"])
def test_a_run_handles_stop_ends_a_stalled_run_at_once(send_headers: bool) -> None:
    delays = []
    with stalling_peer(send_headers) as url, PowabaseClient(url, "pk_test") as client:
        for _ in range(TRIES):
            handle = start_run(client, AGENT, "hi", fetch_usage=False)
            time.sleep(STALL)
            assert not handle.done
            stop_at = time.monotonic()
            handle.stop()
            assert handle.wait(5), "the stalled run never ended"
            delays.append(time.monotonic() - stop_at)
            assert handle.stopped and handle.events[-1]["event"] == "stopped"
    assert statistics.median(delays) < 0.015, delays


def test_a_watch_on_a_stop_flag_fires_once_and_not_after_close() -> None:
    calls: list[str] = []
    flag = StopFlag()
    closed = CancelWatch(flag, lambda: calls.append("closed"))
    CancelWatch(flag, lambda: calls.append("open"))
    closed.close()
    flag.set()
    flag.set()
    CancelWatch(flag, lambda: calls.append("late"))  # set already: fires at once
    assert calls == ["open", "late"]


def test_a_plain_event_is_still_honoured_by_the_shared_watcher() -> None:
    fired = threading.Event()
    cancel = threading.Event()
    watch = CancelWatch(cancel, fired.set)
    cancel.set()
    assert fired.wait(2)
    watch.close()
