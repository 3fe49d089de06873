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

import pytest

from powawidget.cli.demo import copy_notebooks, demo_folder
from powawidget.cli.main import main


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


def test_default_folder_is_in_the_home_folder_not_the_current_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkout = tmp_path / "checkout"
    (checkout / ".git").mkdir(parents=True)
    monkeypatch.chdir(checkout)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    folder = copy_notebooks(demo_folder(None))
    assert folder == tmp_path / "home" / "powawidget-demo"
    assert (folder / "01_quickstart.ipynb").is_file()
    assert sorted(p.name for p in checkout.iterdir()) == [".git"]


def test_demo_never_writes_into_a_git_work_tree_unasked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "dotfiles"
    (home / ".git").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    code = main(["demo", "--no-browser"])
    assert code == 2
    error = capsys.readouterr().err
    assert f"{home / 'powawidget-demo'} is inside the git work tree {home}" in error
    assert "--dir" in error
    assert sorted(p.name for p in home.iterdir()) == [".git"]
    # Asked for explicitly, a folder in a work tree is fine.
    assert demo_folder(str(home / "demo")) == home / "demo"
