"""`powawidget demo` — README's first command — copies the notebooks and serves the
quickstart in JupyterLab, as root too."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from powawidget.cli.demo import copy_notebooks


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch_json(request: urllib.request.Request, wait: float = 20.0) -> dict:
    """GET JSON, waiting for the server: Jupyter logs its URL just before it listens."""
    deadline = time.monotonic() + wait
    while True:
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return json.load(answer)
        except urllib.error.URLError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_copy_keeps_notebooks_the_user_edited(tmp_path: Path) -> None:
    copy_notebooks(tmp_path)
    quickstart = tmp_path / "01_quickstart.ipynb"
    assert json.loads(quickstart.read_text())["cells"]
    quickstart.write_text("edited")
    copy_notebooks(tmp_path)
    assert quickstart.read_text() == "edited"


def test_demo_serves_the_quickstart_notebook(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt"),
        "IPYTHONDIR": str(tmp_path / "ipy"),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "powawidget",
            "demo",
            "--no-browser",
            "--ip",
            "127.0.0.1",
            "--port",
            str(port),
            "--dir",
            str(tmp_path / "demo"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        token = None
        deadline = time.monotonic() + 60
        seen = []
        while token is None and time.monotonic() < deadline:
            line = process.stdout.readline()  # type: ignore[union-attr]
            if not line:
                break
            seen.append(line)
            match = re.search(
                rf"open the quickstart: http://127\.0\.0\.1:{port}"
                rf"/lab/tree/01_quickstart\.ipynb\?token=(\w+)",
                line,
            )
            if match:
                token = match.group(1)
        assert token, "".join(seen)[-3000:]
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/contents/01_quickstart.ipynb",
            headers={"Authorization": f"token {token}"},
        )
        notebook = fetch_json(request)
        assert notebook["type"] == "notebook"
        assert any("ChatWidget" in "".join(c["source"]) for c in notebook["content"]["cells"])
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
