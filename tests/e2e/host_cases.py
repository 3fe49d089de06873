"""What a user does with the panel in any host — chat with a follow-up, Stop, Approve — as
checks shared by the marimo and Voilà tests (the Jupyter tests have their own, richer ones),
and the page those tests share."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from chat_panel import ChatPanel, by_testid
from playwright.sync_api import BrowserContext, Locator, Page, expect

GROWING_JS = """(el, n) => new Promise((done) => {
  const check = () => el.innerText.length > n ? done() : setTimeout(check, 20); check(); })"""


@contextmanager
def app_page(browser: BrowserContext, url: str, timeout_ms: float | None = None) -> Iterator[Page]:
    """A page opened at `url` (`timeout_ms`: Playwright's default when None), closed after;
    any uncaught page error fails the test once the page is closed."""
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url, timeout=timeout_ms)
    try:
        yield page
    finally:
        page.close()
    assert errors == [], errors


def screenshot_narrow(page: Page, target: Locator, path: Path) -> None:
    """A screenshot of the page 400 px wide with `target` in view; the width is restored."""
    page.set_viewport_size({"width": 400, "height": 900})
    try:
        target.scroll_into_view_if_needed()
        page.screenshot(path=str(path))
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})


def panels(page: Page, count: int) -> list[ChatPanel]:
    """The page's `count` chat panels, each connected and ready for a message."""
    roots = page.locator(by_testid("chat"))
    expect(roots).to_have_count(count, timeout=90_000)
    return [ChatPanel(roots.nth(n)).wait_ready() for n in range(count)]


def chat_with_a_follow_up(panel: ChatPanel) -> None:
    """A question answered with a tool card and a bulleted list, then a follow-up."""
    panel.type_and_enter("What is the refund policy?")
    panel.wait_turn_status(0, "completed")
    expect(panel.answer(0)).to_contain_text("Full refund within 30 days")
    card = panel.turn(0).locator(by_testid("tool-card")).first
    expect(card.locator(by_testid("tool-state"))).to_have_text("done")
    card.locator("summary").click()
    expect(card.locator("summary").first).to_have_attribute("aria-expanded", "true")
    bullet = panel.answer(0).locator("ul > li").first
    marker = bullet.evaluate(
        "(li) => [getComputedStyle(li).display, getComputedStyle(li).listStyleType].join(' ')"
    )
    assert marker == "list-item disc", f"the answer's bullets are hidden: {marker}"

    session = panel.part("session-id").inner_text()
    panel.type_and_enter("Which plan is cheapest?")
    panel.wait_turn_status(1, "completed")
    expect(panel.answer(1)).to_contain_text("The cheapest is Orbit Starter")
    expect(panel.part("session-id")).to_have_text(session)
    panel.wait_idle()


def stop_a_long_answer(panel: ChatPanel, page: Page) -> None:
    """Stop while the text still grows: what arrived stays, nothing arrives after."""
    panel.type_and_enter("Tell me everything about the Orbit platform.")
    expect(panel.answer(0)).not_to_be_empty(timeout=20_000)
    panel.answer(0).evaluate(GROWING_JS, len(panel.answer(0).inner_text()))
    expect(panel.part("send")).to_have_attribute("data-action", "stop")
    panel.part("send").click()
    panel.wait_turn_status(0, "stopped", timeout_ms=10_000)
    kept = panel.answer(0).inner_text()
    assert kept.strip()
    page.wait_for_timeout(1_000)
    assert panel.answer(0).inner_text() == kept, "text kept arriving after Stop"
    expect(panel.part("send")).to_have_attribute("data-action", "send")


def approve_a_refund(panel: ChatPanel) -> None:
    """The approval card waits for a click; Approve lets the tool run."""
    panel.type_and_enter("Refund order 1042, $49, because it arrived damaged")
    card = panel.turn(0).locator(by_testid("approval-card"))
    expect(card.locator(by_testid("approval-message"))).to_contain_text("ORD-1042")
    card.locator(by_testid("approve")).click()
    expect(card.locator(by_testid("approval-outcome"))).to_contain_text("Approved")
    panel.wait_turn_status(0, "completed")
    tool = panel.turn(0).locator(by_testid("tool-card")).first
    expect(tool.locator(by_testid("tool-name"))).to_have_text("issue_refund")
    panel.wait_idle()
