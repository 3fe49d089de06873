"""Stopping a run from any thread before its stream exists: while the request waits for its
response headers, `InflightRequest` and `StoppableAdapter` let a stop shut the in-flight
connection down, and `CancelWatch` turns a `threading.Event` into that action."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Callable
from typing import Any

import requests.adapters
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

__all__ = ["CancelWatch", "InflightRequest", "StoppableAdapter", "shutdown_socket"]

log = logging.getLogger(__name__)

CANCEL_POLL = 0.05  # seconds a cancel watcher takes to notice it was closed


class CancelWatch:
    """Calls `action` from a helper thread once `cancel` is set, unless closed first.

    A `threading.Event` has no callbacks; this lets a plain flag cut a blocked call short
    (a header wait, a read). The thread wakes the moment the event is set; it rechecks
    `close()` every `CANCEL_POLL` seconds, so it ends soon after.
    """

    def __init__(self, cancel: threading.Event, action: Callable[[], None]) -> None:
        self._cancel = cancel
        self._action = action
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="powawidget-stop", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop watching (the thread ends within `CANCEL_POLL` seconds)."""
        self._closed.set()

    def _watch(self) -> None:
        while not self._closed.is_set():
            if self._cancel.wait(CANCEL_POLL):
                if not self._closed.is_set():
                    try:
                        self._action()
                    except Exception:  # a failed stop must not kill the process quietly
                        log.warning("powawidget: stopping the run failed", exc_info=True)
                return


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
