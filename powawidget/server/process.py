"""The local server as a background process, for notebooks and tests.

`start_local_server()` runs the server in a child process (not a thread: a server in the
kernel would compete with the stream reader for the GIL), on a free port that the child
reports back on its stdout. The child exits when its stdin closes, so it dies with its
parent whatever way the parent ends. This module imports only the standard library, so
the notebook kernel does not pay for uvicorn and Starlette.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from powawidget.server.settings import (
    DEFAULT_APPROVAL_TIMEOUT,
    DEFAULT_DELAY,
    DEFAULT_KEEPALIVE,
    DEFAULT_MAX_BODY_MB,
    ServerSettings,
    default_db_path,
    local_store_path,
)

START_TIMEOUT = 60.0
LOG_PREFIX = "powawidget-server-"
STALE_LOG_SECONDS = 3600.0  # an empty log this old belongs to a server that was killed


@dataclass
class LocalServer:
    """A local agent server running in a child process."""

    base_url: str
    api_key: str
    process: subprocess.Popen
    settings: ServerSettings
    start_seconds: float
    log_path: str | None = None  # the child's stderr (warnings, agent tracebacks)

    def running(self) -> bool:
        """Whether the child process is still alive."""
        return self.process.poll() is None

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the server: close its stdin (it exits), then terminate/kill if it lingers."""
        if _servers.get(_key(self.settings)) is self:
            del _servers[_key(self.settings)]
        atexit.unregister(self.stop)
        if self.process.poll() is None:
            if self.process.stdin is not None:
                with contextlib.suppress(OSError):
                    self.process.stdin.close()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.terminate()
                try:
                    self.process.wait(2.0)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        if self.process.stdin is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
        if self.log_path is not None:
            Path(self.log_path).unlink(missing_ok=True)

    def __repr__(self) -> str:
        state = "running" if self.running() else "stopped"
        return f"LocalServer({self.base_url!r}, pid={self.process.pid}, {state})"


_servers: dict[tuple, LocalServer] = {}
_lock = threading.Lock()


def _key(settings: ServerSettings) -> tuple:
    """What makes two requested servers the same one (the key only when chosen)."""
    return (
        settings.host,
        settings.db_path,
        settings.delay,
        settings.keepalive,
        settings.faults,
        settings.approval_timeout,
        settings.approve_misses,
        settings.strict_ids,
        settings.max_body_mb,
    )


def start_local_server(
    *,
    delay: float | None = None,
    db_path: str | None = None,
    api_key: str | None = None,
    keepalive: float | None = None,
    faults: bool = False,
    approval_timeout: float | None = None,
    approve_misses: int = 0,
    strict_ids: bool = False,
    store: str | None = None,
    max_body_mb: float | None = None,
) -> LocalServer:
    """Start (or reuse) a local agent server in a child process; returns URL, key, process.

    `delay` is the pause between streamed tokens (0.0 for tests); `db_path` the SQLite
    file (default: the working directory's file of `store`, "chats" or "evaluations",
    under the per-user data folder — `settings.local_store_path` — or without a store one
    per-user data file). For tests: `faults` serves the fault agents
    (`fault_…`), `approval_timeout` shortens the 300 s an approval may take,
    `approve_misses` makes each run answer its first N approve POSTs with 404 (as a
    multi-worker deployment may), `strict_ids` answers a non-UUID agent id with the real
    backend's 500 HTML page, `max_body_mb` answers a larger request body with a 413. A
    second call with the same settings returns the running
    server. The server stops at interpreter exit and when this process dies.
    """
    settings = ServerSettings(
        db_path=str(Path(db_path).expanduser().resolve()) if db_path else str(_db_for(store)),
        delay=DEFAULT_DELAY if delay is None else float(delay),
        keepalive=DEFAULT_KEEPALIVE if keepalive is None else float(keepalive),
        faults=bool(faults),
        approval_timeout=(
            DEFAULT_APPROVAL_TIMEOUT if approval_timeout is None else float(approval_timeout)
        ),
        approve_misses=int(approve_misses),
        strict_ids=bool(strict_ids),
        max_body_mb=DEFAULT_MAX_BODY_MB if max_body_mb is None else float(max_body_mb),
    )
    if api_key:
        settings.api_key = api_key
    with _lock:
        existing = _servers.get(_key(settings))
        if existing is not None and existing.running():
            if api_key is None or existing.api_key == api_key:
                return existing
            existing.stop()
        server = _spawn(settings)
        _servers[_key(settings)] = server
        return server


def _db_for(store: str | None) -> Path:
    """The SQLite file when no path is given: `store`'s file for this folder, else the
    per-user one."""
    return local_store_path(store) if store is not None else default_db_path()


def _spawn(settings: ServerSettings) -> LocalServer:
    """Run `python -m powawidget.server.process` and wait for its ready line and an answer."""
    started = time.perf_counter()
    _remove_stale_logs()
    fd, log_path = tempfile.mkstemp(prefix=LOG_PREFIX, suffix=".log")
    command = [
        sys.executable,
        "-m",
        "powawidget.server.process",
        "--host", settings.host,
        "--db", settings.db_path,
        "--delay", repr(settings.delay),
        "--keepalive", repr(settings.keepalive),
        "--approval-timeout", repr(settings.approval_timeout),
        "--approve-misses", str(settings.approve_misses),
        "--log-file", log_path,
        *(["--faults"] if settings.faults else []),
        *(["--strict-ids"] if settings.strict_ids else []),
        "--max-body-mb", repr(settings.max_body_mb),
    ]  # fmt: skip
    env = {**os.environ, "POWAWIDGET_SERVER_KEY": settings.api_key, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=fd,
        env=env,
        start_new_session=True,  # a kernel interrupt (SIGINT to the group) must not stop it
    )
    os.close(fd)  # the child holds its own copy
    ready = _read_ready_line(process, START_TIMEOUT)
    if ready is None:
        process.kill()
        process.wait()
        detail = Path(log_path).read_text(errors="replace")[-3000:]
        Path(log_path).unlink(missing_ok=True)
        raise RuntimeError(f"The local agent server did not start:\n{detail}")
    server = LocalServer(
        base_url=ready["base_url"],
        api_key=settings.api_key,
        process=process,
        settings=settings,
        start_seconds=0.0,
        log_path=log_path,
    )
    atexit.register(server.stop)
    _wait_until_answering(server)
    server.start_seconds = time.perf_counter() - started
    return server


def _remove_stale_logs(folder: str | None = None) -> int:
    """Delete empty server logs left by servers killed without a chance to clean up
    (SIGKILL); a log with content is kept for whoever wants to read it. Returns how many."""
    removed = 0
    cutoff = time.time() - STALE_LOG_SECONDS
    for path in Path(folder or tempfile.gettempdir()).glob(f"{LOG_PREFIX}*.log"):
        with contextlib.suppress(OSError):
            info = path.stat()
            if info.st_size == 0 and info.st_mtime < cutoff:
                path.unlink()
                removed += 1
    return removed


def _read_ready_line(process: subprocess.Popen, timeout: float) -> dict | None:
    """The child's JSON ready line, or None if it exits or stays silent too long."""
    result: list[dict] = []

    def read() -> None:
        assert process.stdout is not None
        for line in iter(process.stdout.readline, b""):  # skip anything printed before it
            with contextlib.suppress(ValueError, TypeError, KeyError):
                result.append({"base_url": json.loads(line)["base_url"]})
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    return result[0] if result else None


def _wait_until_answering(server: LocalServer, timeout: float = 10.0) -> None:
    """Poll GET /api/agents until the server answers 200 (it normally does at once)."""
    request = urllib.request.Request(
        server.base_url + "/api/agents?limit=1",
        headers={"apikey": server.api_key, "Authorization": f"Bearer {server.api_key}"},
    )
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                response.read()
                return
        except urllib.error.HTTPError as exc:
            server.stop()
            body = exc.read().decode(errors="replace")[:500]
            raise RuntimeError(f"The local agent server answered {exc.code}: {body}") from exc
        except OSError:
            if time.monotonic() > deadline or not server.running():
                server.stop()
                raise
            time.sleep(0.02)


def _child_main(argv: list[str] | None = None) -> int:
    """Entry point of the child process: serve, print the ready line, exit on stdin EOF."""
    parser = argparse.ArgumentParser(prog="python -m powawidget.server.process")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--db", required=True)
    parser.add_argument("--delay", type=float, default=DEFAULT_DELAY)
    parser.add_argument("--keepalive", type=float, default=DEFAULT_KEEPALIVE)
    parser.add_argument("--approval-timeout", type=float, default=DEFAULT_APPROVAL_TIMEOUT)
    parser.add_argument("--approve-misses", type=int, default=0)
    parser.add_argument("--faults", action="store_true")
    parser.add_argument("--strict-ids", action="store_true")
    parser.add_argument("--max-body-mb", type=float, default=DEFAULT_MAX_BODY_MB)
    parser.add_argument("--log-file", help="stderr file, deleted when the server stops")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    settings = ServerSettings(
        host=args.host,
        db_path=args.db,
        api_key=os.environ.pop("POWAWIDGET_SERVER_KEY"),
        delay=args.delay,
        keepalive=args.keepalive,
        faults=args.faults,
        approval_timeout=args.approval_timeout,
        approve_misses=args.approve_misses,
        strict_ids=args.strict_ids,
        max_body_mb=args.max_body_mb,
    )

    def ready(base_url: str) -> None:
        sys.stdout.write(json.dumps({"base_url": base_url, "pid": os.getpid()}) + "\n")
        sys.stdout.flush()
        # Nobody reads the pipe any more: later prints (an agent's debug output) go to the
        # log instead of filling the pipe and blocking the server.
        os.dup2(sys.stderr.fileno(), sys.stdout.fileno())

    from powawidget.server.serving import serve

    def forget_log() -> None:
        """The log lives as long as the server, however the server ends."""
        if args.log_file:
            Path(args.log_file).unlink(missing_ok=True)

    atexit.register(forget_log)
    serve(settings, on_ready=ready, stop_when_stdin_closes=True, before_forced_exit=forget_log)
    forget_log()
    return 0


if __name__ == "__main__":
    sys.exit(_child_main())
