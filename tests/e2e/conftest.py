"""Fixtures for end-to-end tests: real JupyterLab and Notebook 7 servers and a real Chromium.

The Jupyter servers get POWABASE_BASE_URL / POWABASE_API_KEY of the session's local agent
server, so every widget in every test notebook talks to it (zero token delay).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from jupyter_host import JupyterServer, widget_state_setting
from notebook_page import NotebookPage
from playwright.sync_api import BrowserContext


@pytest.fixture(scope="session")
def jupyter_env(local_server: object) -> dict[str, str]:
    """Environment for the Jupyter servers' kernels: the local agent server's URL and key."""
    return {
        "POWABASE_BASE_URL": local_server.base_url,  # type: ignore[attr-defined]
        "POWABASE_API_KEY": local_server.api_key,  # type: ignore[attr-defined]
    }


def _serve(
    kind: str,
    tmp: pytest.TempPathFactory,
    env: dict[str, str],
    settings: dict[str, dict] | None = None,
) -> Iterator[JupyterServer]:
    """Start a server of `kind`, yield it, then shut its kernels and process group down."""
    server = JupyterServer(kind, tmp.mktemp(f"jupyter-{kind}"), env, settings).start()
    try:
        yield server
    finally:
        with contextlib.suppress(Exception):  # the server may be gone; stopping it matters
            server.shutdown_kernels()
        server.stop()


@pytest.fixture(scope="session")
def lab_server(
    tmp_path_factory: pytest.TempPathFactory, jupyter_env: dict[str, str]
) -> Iterator[JupyterServer]:
    """A JupyterLab server for the whole session."""
    yield from _serve("lab", tmp_path_factory, jupyter_env)


@pytest.fixture(params=[True, False], ids=["saveState", "noSaveState"])
def saving_lab_server(
    request: pytest.FixtureRequest, lab_server: JupyterServer
) -> Iterator[JupyterServer]:
    """The session's JupyterLab with its `saveState` widget setting at `request.param` for
    one case (one server for every case: a start costs 5–20 s on a loaded machine)."""
    lab_server.use_settings(widget_state_setting(request.param))
    try:
        yield lab_server
    finally:
        lab_server.use_settings(widget_state_setting(False))  # JupyterLab's default


@pytest.fixture(scope="session")
def notebook_server(
    tmp_path_factory: pytest.TempPathFactory, jupyter_env: dict[str, str]
) -> Iterator[JupyterServer]:
    """A Notebook 7 server for the whole session."""
    yield from _serve("notebook", tmp_path_factory, jupyter_env)


def _page(
    server: JupyterServer, browser: BrowserContext, artifacts: Path
) -> Iterator[NotebookPage]:
    """A fresh page for one case; afterwards close it and shut the server's kernels down."""
    page = browser.new_page()
    page.set_default_timeout(30_000)
    try:
        yield NotebookPage(page, server, artifacts)
    finally:
        page.close()
        server.shutdown_kernels()


@pytest.fixture
def lab(
    lab_server: JupyterServer, browser: BrowserContext, artifacts_dir: Path
) -> Iterator[NotebookPage]:
    """A new JupyterLab page."""
    yield from _page(lab_server, browser, artifacts_dir)


@pytest.fixture
def nb7(
    notebook_server: JupyterServer, browser: BrowserContext, artifacts_dir: Path
) -> Iterator[NotebookPage]:
    """A new Notebook 7 page."""
    yield from _page(notebook_server, browser, artifacts_dir)


@pytest.fixture
def saving_lab(
    saving_lab_server: JupyterServer, browser: BrowserContext, artifacts_dir: Path
) -> Iterator[NotebookPage]:
    """A new JupyterLab page on a server that saves widget state, or one that does not."""
    yield from _page(saving_lab_server, browser, artifacts_dir)
