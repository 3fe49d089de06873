"""Hosts beyond Jupyter for end-to-end tests: a marimo app and a Voilà dashboard, each one
process group serving on 127.0.0.1, with its own config folders, stopped as a whole."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests
from jupyter_host import stop_group

VENV_BIN = Path(sys.executable).parent
START_TIMEOUT = 60.0


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class AppHost:
    """One server process (marimo or Voilà) for the files in `home`, reachable at `url`."""

    def __init__(self, command: list[str], home: Path, port: int, env: dict[str, str]) -> None:
        """Prepare (not start) `command`, run in `home`, listening on `port`."""
        self.command = command
        self.home = home
        self.url = f"http://127.0.0.1:{port}"
        self.extra_env = env
        self.log_path = home / "host.log"
        self.process: subprocess.Popen[bytes] | None = None

    def _environment(self) -> dict[str, str]:
        """The caller's environment with Jupyter, IPython and XDG folders under `home`."""
        env = dict(os.environ)
        for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR",
                     "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):  # fmt: skip
            folder = self.home / name.lower()
            folder.mkdir(parents=True, exist_ok=True)
            env[name] = str(folder)
        env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
        env["PYTHONUNBUFFERED"] = "1"
        env.update(self.extra_env)
        return env

    def start(self, ready_path: str = "/") -> AppHost:
        """Start the server and wait until `ready_path` answers HTTP (any status below 500);
        raise with its log if it does not."""
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=self.home,
                env=self._environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.command[0]} exited early:\n{self.log()}")
            try:
                if requests.get(self.url + ready_path, timeout=2).status_code < 500:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.command} did not start in {START_TIMEOUT} s:\n{self.log()}")

    def log(self) -> str:
        """The server's log so far (last 4,000 characters), for failure messages."""
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self) -> None:
        """Stop the whole process group (server, kernels, local agent servers it started)."""
        stop_group(self.process)


@contextmanager
def running(host: AppHost, ready_path: str = "/") -> Iterator[AppHost]:
    """`host` started (ready once `ready_path` answers) and stopped after, however it ends."""
    host.start(ready_path=ready_path)
    try:
        yield host
    finally:
        host.stop()


def marimo_app(app: Path, home: Path, env: dict[str, str]) -> AppHost:
    """`marimo run APP --headless --no-token` (app mode: every cell runs on page load)."""
    port = free_port()
    command = [str(VENV_BIN / "marimo"), "run", str(app), "--headless", "--no-token",
               "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    return AppHost(command, home, port, env)


def voila_app(notebook: Path, home: Path, env: dict[str, str]) -> AppHost:
    """`voila NOTEBOOK --no-browser --port P` (it runs the notebook when a page opens)."""
    port = free_port()
    command = [str(VENV_BIN / "voila"), str(notebook), "--no-browser", f"--port={port}",
               "--Voila.ip=127.0.0.1", "--show_tracebacks=True"]  # fmt: skip
    return AppHost(command, home, port, env)
