"""marimo end to end: `mo.ui.anywidget(ChatWidget())` in `marimo run`, used in Chromium.

One app (tests/e2e/marimo_chat.py) with three panels serves every case; marimo's CSS reset
(`list-style: none`) must not hide the answer's bullets.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from app_hosts import AppHost, marimo_app, running
from chat_panel import ChatPanel
from host_cases import (
    app_page,
    approve_a_refund,
    chat_with_a_follow_up,
    panels,
    screenshot_narrow,
    stop_a_long_answer,
)
from playwright.sync_api import BrowserContext, Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.jupyter]

APP = Path(__file__).with_name("marimo_chat.py")


@pytest.fixture(scope="module")
def marimo(
    tmp_path_factory: pytest.TempPathFactory, jupyter_env: dict[str, str]
) -> Iterator[AppHost]:
    """`marimo run` serving the three-panel app."""
    with running(marimo_app(APP, tmp_path_factory.mktemp("marimo"), jupyter_env)) as host:
        yield host


@pytest.fixture(scope="module")
def page(marimo: AppHost, browser: BrowserContext) -> Iterator[Page]:
    """One page of the app for the module (each page load is a new marimo session)."""
    with app_page(browser, marimo.url) as page:
        yield page


@pytest.fixture(scope="module")
def chats(page: Page) -> list[ChatPanel]:
    """The app's panels: agt_demo, agt_long, agt_approval."""
    return panels(page, 3)


def test_chat_streams_with_tool_cards_bullets_and_follow_ups(
    chats: list[ChatPanel], page: Page, artifacts_dir: Path
) -> None:
    chat_with_a_follow_up(chats[0])
    # A cell reading `.value` re-ran after each answer and saw both runs.
    expect(page.get_by_test_id("reactive")).to_have_text("settled 2, runs 2")
    chats[0].root.screenshot(path=str(artifacts_dir / "marimo-panel.png"))
    screenshot_narrow(page, chats[0].turn(0), artifacts_dir / "marimo-narrow.png")


def test_stop_ends_a_long_answer(chats: list[ChatPanel], page: Page) -> None:
    stop_a_long_answer(chats[1], page)


def test_approve_lets_the_agent_run_its_tool(chats: list[ChatPanel]) -> None:
    approve_a_refund(chats[2])
