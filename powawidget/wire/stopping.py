"""Stopping a run from any thread before its stream exists: while the request waits for its
response headers, `InflightRequest` and `StoppableAdapter` let a stop shut the in-flight
connection down, and `CancelWatch` turns a stop flag (a `StopFlag`, or any
`threading.Event`) into that action."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import requests.adapters
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

__all__ = ["CancelWatch", "InflightRequest", "StopFlag", "StoppableAdapter", "shutdown_socket"]

log = logging.getLogger(__name__)

CANCEL_POLL = 0.05  # seconds the shared watcher takes to notice a plain Event was set


class StopFlag(threading.Event):
    """A run's stop flag whose `set()` runs its watches' actions at once, in the caller.

    A plain `threading.Event` has no callbacks, so a watch on one can only be polled; with
    a `StopFlag` the stop call itself shuts the run's connection down (a socket shutdown:
    microseconds, no lock the caller could hold), so a stop lands at once and an idle run
    costs no thread at all. Every run powawidget starts uses one.
    """

    def __init__(self) -> None:
        super().__init__()
        self._watch_lock = threading.Lock()
        self._watches: list[CancelWatch] = []

    def set(self) -> None:
        super().set()
        with self._watch_lock:
            watches, self._watches = self._watches, []
        for watch in watches:
            watch._fire()

    def _subscribe(self, watch: CancelWatch) -> None:
        with self._watch_lock:
            self._watches.append(watch)
        if self.is_set():  # set before (or while) subscribing: fire now (fires once)
            self._unsubscribe(watch)
            watch._fire()

    def _unsubscribe(self, watch: CancelWatch) -> None:
        with self._watch_lock, contextlib.suppress(ValueError):
            self._watches.remove(watch)


class CancelWatch:
    """Calls `action` once `cancel` is set, unless closed first (at most once).

    This lets a flag cut a blocked call short (a header wait, a read). On a `StopFlag` the
    action runs at once inside `set()`. A plain `threading.Event` has no callbacks: one
    shared thread (`_Watcher`) checks those watches every `CANCEL_POLL` seconds, and only
    while any is open.
    """

    def __init__(self, cancel: threading.Event, action: Callable[[], None]) -> None:
        self._cancel = cancel
        self._action = action
        self._lock = threading.Lock()
        self._over = False  # closed, or the action ran
        if isinstance(cancel, StopFlag):
            cancel._subscribe(self)
        else:
            _WATCHER.add(self)

    def close(self) -> None:
        """Stop watching (a plain Event's watch leaves the shared thread's list soon)."""
        with self._lock:
            self._over = True
        if isinstance(self._cancel, StopFlag):
            self._cancel._unsubscribe(self)

    def _fire(self) -> None:
        """Run the action, unless closed or already run."""
        with self._lock:
            if self._over:
                return
            self._over = True
        try:
            self._action()
        except Exception:  # a failed stop must not break the caller or the watcher quietly
            log.warning("powawidget: stopping the run failed", exc_info=True)

    def _due(self) -> bool:
        """True once this watch is over: closed, or set (its action then ran)."""
        if self._cancel.is_set():
            self._fire()
        with self._lock:
            return self._over


class _Watcher:
    """The one thread behind every watch on a plain Event: it runs while any is open."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._watches: list[CancelWatch] = []
        self._thread: threading.Thread | None = None

    def add(self, watch: CancelWatch) -> None:
        with self._lock:
            self._watches.append(watch)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="powawidget-stop", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            with self._lock:
                watches = list(self._watches)
            done = {id(w) for w in watches if w._due()}
            with self._lock:
                self._watches = [w for w in self._watches if id(w) not in done]
                if not self._watches:
                    self._thread = None
                    return
            time.sleep(CANCEL_POLL)


_WATCHER = _Watcher()


_inflight = threading.local()


class InflightRequest:
    """The connection a request in this thread is using, so a stop can shut it down.

    Use it as a context manager around one request sent through a `StoppableAdapter`;
    `abort()` (from any thread) shuts the connection's socket down, which wakes a wait for
    response headers at once, and shuts down any connection the request opens later.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connection: HTTPConnection | None = None
        self.aborted = False

    def __enter__(self) -> InflightRequest:
        _inflight.request = self
        return self

    def __exit__(self, *exc: object) -> None:
        _inflight.request = None
        with self._lock:  # the answer arrived (or failed): that connection is no longer ours
            self._connection = None

    def attach(self, connection: HTTPConnection) -> None:
        """Note the connection the request uses (shutting it down at once if aborted)."""
        with self._lock:
            self._connection = connection
            if self.aborted:
                shutdown_socket(connection.sock)

    def abort(self) -> None:
        """Shut the request's connection down now (thread-safe, idempotent)."""
        with self._lock:
            self.aborted = True
            if self._connection is not None:
                shutdown_socket(self._connection.sock)


class _Watched:
    """Connection mixin: tells the thread's `InflightRequest` which connection is in use."""

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        _note_connection(self)

    def request(self, *args: Any, **kwargs: Any) -> None:
        _note_connection(self)
        super().request(*args, **kwargs)  # type: ignore[misc]


def _note_connection(connection: Any) -> None:
    """Attach `connection` to this thread's in-flight request, if there is one."""
    request = getattr(_inflight, "request", None)
    if request is not None:
        request.attach(connection)


class _WatchedHTTPConnection(_Watched, HTTPConnection):
    """An HTTP connection a stop can shut down before the response headers arrive."""


class _WatchedHTTPSConnection(_Watched, HTTPSConnection):
    """An HTTPS connection a stop can shut down before the response headers arrive."""


class _WatchedHTTPPool(HTTPConnectionPool):
    """A pool of `_WatchedHTTPConnection`s."""

    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    """A pool of `_WatchedHTTPSConnection`s."""

    ConnectionCls = _WatchedHTTPSConnection


_WATCHED_POOLS = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class StoppableAdapter(requests.adapters.HTTPAdapter):
    """A requests adapter whose connections report to `InflightRequest`, direct or through
    an HTTP(S) proxy (through a SOCKS proxy a stop lands only once the headers arrive)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_WATCHED_POOLS)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if not proxy.lower().startswith(
            "socks"
        ):  # SOCKS pools have connection classes of their own
            manager.pool_classes_by_scheme = dict(_WATCHED_POOLS)
        return manager


def shutdown_socket(sock: socket.socket | None) -> None:
    """Shut a socket down under a blocked read (wakes it at once); safe from any thread."""
    if sock is None:
        return
    # The plain-socket call, also for TLS: SSLSocket.shutdown would tear down the TLS
    # object while the reading thread may be inside it.
    with contextlib.suppress(OSError, TypeError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
