"""A real Jupyter server (JupyterLab or Notebook 7) for end-to-end tests, isolated in a temp dir.

Each server runs in its own process group with its own config, runtime, settings, workspace
and IPython folders, so a test run never reads or writes the user's Jupyter state.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

VENV_BIN = Path(sys.executable).parent
START_TIMEOUT = 60.0

# User settings that keep toasts and network checks out of the tests and screenshots.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


def widget_state_setting(save: bool) -> dict[str, dict]:
    """The lab setting that makes JupyterLab save widget state in the notebook (or not)."""
    return {"@jupyter-widgets/jupyterlab-manager/plugin.jupyterlab-settings": {"saveState": save}}


class JupyterServer:
    """One `jupyter lab` or `jupyter notebook` process serving `root` on 127.0.0.1."""

    def __init__(
        self,
        kind: str,
        home: Path,
        env: dict[str, str] | None = None,
        settings: dict[str, dict] | None = None,
    ) -> None:
        """Prepare (not start) a server of `kind` ("lab" or "notebook") living under `home`;
        `settings` adds lab user settings (file name under the settings dir → values)."""
        if kind not in ("lab", "notebook"):
            raise ValueError(f"kind must be 'lab' or 'notebook', not {kind!r}")
        self.kind = kind
        self.home = home
        self.root = home / "notebooks"
        self.extra_env = dict(env or {})
        self.settings = {**LAB_SETTINGS, **(settings or {})}
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.log_path = home / "server.log"

    @property
    def saves_widget_state(self) -> bool:
        """Whether JupyterLab saves widget state in notebooks (`saveState`, off by default)."""
        values = self.settings.get(next(iter(widget_state_setting(True))), {})
        return bool(values.get("saveState", False))

    def _environment(self) -> dict[str, str]:
        """The server's environment: isolated Jupyter folders plus the caller's extras."""
        env = dict(os.environ)
        folders = {
            "JUPYTER_CONFIG_DIR": "config",
            "JUPYTER_RUNTIME_DIR": "runtime",
            "JUPYTERLAB_SETTINGS_DIR": "settings",
            "JUPYTERLAB_WORKSPACES_DIR": "workspaces",
            "IPYTHONDIR": "ipython",
        }
        for name, sub in folders.items():
            path = self.home / sub
            path.mkdir(parents=True, exist_ok=True)
            env[name] = str(path)
        env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
        env["PYTHONUNBUFFERED"] = "1"
        env.update(self.extra_env)
        return env

    def _write_settings(self) -> None:
        """Write the lab user settings (no news, no update checks, the caller's extras)."""
        for rel, values in self.settings.items():
            path = self.home / "settings" / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))

    def use_settings(self, settings: dict[str, dict]) -> None:
        """Change lab user settings on the running server: JupyterLab reads them from disk
        for each page it serves, so one server serves cases that need different settings
        (a new page sees them; an open one keeps what it loaded)."""
        self.settings.update(settings)
        self._write_settings()

    def command(self) -> list[str]:
        """The command line, as TESTING.md describes it; port 0 lets the OS pick a free port."""
        cmd = [
            str(VENV_BIN / "jupyter"),
            self.kind,
            "--no-browser",
            "--ip=127.0.0.1",
            "--port=0",
            "--port-retries=0",
            f"--ServerApp.root_dir={self.root}",
            "--IdentityProvider.token=",
            "--ServerApp.password=",
            "--ServerApp.disable_check_xsrf=True",
            "--expose-app-in-browser",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")
        return cmd

    def start(self) -> JupyterServer:
        """Start the server and wait until its API answers; raise with its log if it does not."""
        self.root.mkdir(parents=True, exist_ok=True)
        env = self._environment()
        self._write_settings()
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            self.command(),
            env=env,
            cwd=self.root,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.url = self._wait_for_url(Path(env["JUPYTER_RUNTIME_DIR"]))
        return self

    def _wait_for_url(self, runtime: Path) -> str:
        """Read the bound URL from the server's runtime info file, then wait for /api."""
        assert self.process is not None
        info = runtime / f"jpserver-{self.process.pid}.json"
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter {self.kind} exited early:\n{self.log()}")
            if info.exists():
                try:
                    url = json.loads(info.read_text())["url"].rstrip("/")
                    if requests.get(f"{url}/api", timeout=2).ok:
                        return url
                except (ValueError, KeyError, requests.RequestException):
                    pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"jupyter {self.kind} did not start in {START_TIMEOUT} s:\n{self.log()}")

    def log(self) -> str:
        """The server's log so far (last 4,000 characters), for failure messages."""
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def kernels(self) -> list[dict]:
        """The running kernels, from /api/kernels."""
        return requests.get(f"{self.url}/api/kernels", timeout=5).json()

    def shutdown_kernels(self) -> None:
        """Shut every kernel down through the REST API, so cases start clean."""
        for session in requests.get(f"{self.url}/api/sessions", timeout=5).json():
            requests.delete(f"{self.url}/api/sessions/{session['id']}", timeout=10)
        for kernel in self.kernels():
            requests.delete(f"{self.url}/api/kernels/{kernel['id']}", timeout=10)

    def stop(self) -> None:
        """Stop the server's whole process group (server and kernels); kill after 10 s."""
        stop_group(self.process)


def stop_group(proc: subprocess.Popen | None) -> None:
    """Stop a server's whole process group (kernels and local agent servers it started):
    SIGTERM, then SIGKILL after 10 s."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)
    except ProcessLookupError:
        pass
