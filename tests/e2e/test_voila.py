"""Voilà end to end: a notebook of three panels served as a dashboard, used in Chromium.

Voilà runs the whole notebook when the page opens (tests/e2e/voila_chat.ipynb); then the
panels must chat with a follow-up, stop a long answer and take an approval click.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from app_hosts import AppHost, running, voila_app
from chat_panel import ChatPanel
from host_cases import (
    app_page,
    approve_a_refund,
    chat_with_a_follow_up,
    panels,
    screenshot_narrow,
    stop_a_long_answer,
)
from playwright.sync_api import BrowserContext, Page

pytestmark = [pytest.mark.browser, pytest.mark.jupyter]

NOTEBOOK = Path(__file__).with_name("voila_chat.ipynb")


@pytest.fixture(scope="module")
def voila(
    tmp_path_factory: pytest.TempPathFactory, jupyter_env: dict[str, str]
) -> Iterator[AppHost]:
    """`voila` serving the three-panel notebook."""
    host = voila_app(NOTEBOOK, tmp_path_factory.mktemp("voila"), jupyter_env)
    with running(host, ready_path="/voila/static/") as host:  # not "/": it runs the notebook
        yield host


@pytest.fixture(scope="module")
def page(voila: AppHost, browser: BrowserContext) -> Iterator[Page]:
    """One dashboard page for the module (each page load runs the notebook in a new kernel)."""
    with app_page(browser, voila.url, timeout_ms=90_000) as page:
        yield page


@pytest.fixture(scope="module")
def chats(page: Page) -> list[ChatPanel]:
    """The dashboard's panels: agt_demo, agt_long, agt_approval."""
    return panels(page, 3)


def test_chat_streams_with_tool_cards_and_follow_ups(
    chats: list[ChatPanel], page: Page, artifacts_dir: Path
) -> None:
    chat_with_a_follow_up(chats[0])
    chats[0].root.screenshot(path=str(artifacts_dir / "voila-panel.png"))
    screenshot_narrow(page, chats[0].root, artifacts_dir / "voila-narrow.png")


def test_stop_ends_a_long_answer(chats: list[ChatPanel], page: Page) -> None:
    stop_a_long_answer(chats[1], page)


def test_approve_lets_the_agent_run_its_tool(chats: list[ChatPanel]) -> None:
    approve_a_refund(chats[2])
