"""Shared fixtures: the local agent server over real HTTP, a client for it, and Chromium."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chromium import CHROMIUM_ARGS, chromium_executable

TESTS = Path(__file__).parent
ARTIFACTS = TESTS / "artifacts"
# Test folders that drive Chromium, run last in this order (the slow e2e files first).
BROWSER_LAYERS = ("e2e", "browser")
# The longest files start first within their layer: README's command runs the files in two
# processes (pytest-xdist, --dist loadscope), handed out in this order, so a long file that
# started last would run on alone while the other process idles.
LONGEST_FIRST = (
    "test_notebooks.py",
    "test_wheel.py",
    "test_saved_notebooks.py",
    "test_shipped_notebooks.py",
    "test_lab.py",
)


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist's loadscope, hand the files out in the order below, not biggest
    first (its default): a Chromium file ahead of a Python one breaks the latter's
    asyncio.run() in that process (see pytest_collection_modifyitems)."""
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False
    # The zero-config local server keeps its chats under XDG_DATA_HOME: tests (and the
    # servers, kernels and notebooks they start, which inherit it) write to a temporary
    # folder, never to the user's ~/.local/share. Tests that check the store set their own.
    # xdist's workers inherit the folder the controller made.
    data = os.environ.get("POWAWIDGET_TEST_DATA") or tempfile.mkdtemp(prefix="pw-data-")
    os.environ["POWAWIDGET_TEST_DATA"] = os.environ["XDG_DATA_HOME"] = data


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the Chromium layers last: Playwright's sync API keeps an asyncio loop running in
    the main thread from its first use to the end of the session, so a test that calls
    asyncio.run() after it would fail. The fast Python layers also report first. Within a
    layer the longest files go first (LONGEST_FIRST)."""

    def order(item: pytest.Item) -> tuple[int, int]:
        parts = Path(str(item.fspath)).relative_to(TESTS).parts
        layer = BROWSER_LAYERS.index(parts[0]) + 1 if parts[0] in BROWSER_LAYERS else 0
        name = parts[-1]
        rank = LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)
        return layer, rank

    items.sort(key=order)  # stable: the order within each file is kept


@pytest.fixture(scope="session")
def local_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A real local agent server on 127.0.0.1 with no token delay and the fault agents on,
    in its own process."""
    from powawidget.server import start_local_server

    db = tmp_path_factory.mktemp("server") / "agents.sqlite3"
    server = start_local_server(delay=0.0, db_path=str(db), faults=True)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def client(local_server: object) -> Iterator[object]:
    """A PowabaseClient pointed at the local server."""
    from powawidget.wire.client import PowabaseClient

    c = PowabaseClient(local_server.base_url, local_server.api_key)  # type: ignore[attr-defined]
    try:
        yield c
    finally:
        c.close()


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's Chromium; the browser tests need it (apt-get install -y chromium)."""
    path = chromium_executable()
    if path is None:
        pytest.fail("Chromium is not installed: run `apt-get install -y chromium` (see README).")
    return path


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Any]:
    """One headless Debian Chromium (Playwright, fresh profile) for both browser layers."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="pw-chromium-") as profile, sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            profile,
            executable_path=chromium_path,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        try:
            yield context
        finally:
            context.close()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where browser tests save screenshots for people to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
