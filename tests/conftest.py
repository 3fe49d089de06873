"""Shared fixtures: the local agent server over real HTTP, a client for it, and Chromium."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).parent / "artifacts"


@pytest.fixture(scope="session")
def local_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A real local agent server on 127.0.0.1 with no token delay, in its own process."""
    from powawidget.server import start_local_server

    db = tmp_path_factory.mktemp("server") / "agents.sqlite3"
    server = start_local_server(delay=0.0, db_path=str(db))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def client(local_server: object) -> Iterator[object]:
    """A PowabaseClient pointed at the local server."""
    from powawidget.client import PowabaseClient

    c = PowabaseClient(local_server.base_url, local_server.api_key)  # type: ignore[attr-defined]
    try:
        yield c
    finally:
        c.close()


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's Chromium; the browser tests need it (apt-get install -y chromium)."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("Chromium is not installed: run `apt-get install -y chromium` (see README).")
    return path


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where browser tests save screenshots for people to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
