"""The session picker in the panel header: it asks Python for the agent's sessions when
opened, lists them by first message and last activity, and loads the one picked."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect


def test_the_picker_lists_sessions_and_loads_the_one_picked(chat, artifacts_dir):
    chat.mount()
    chat.snapshot([])
    chat.page.evaluate("() => pw.clearSent()")
    button = chat.page.get_by_test_id("sessions")
    expect(button).to_be_enabled()
    button.click()
    assert chat.sent() == [{"type": "sessions_request"}]
    listing = chat.page.get_by_test_id("sessions-list")
    expect(listing).to_contain_text("Loading")
    chat.deliver({"type": "sessions", "sessions": [
        {"session_id": "sess_aaaaaaaaaaaa", "first_message": "What is the refund policy?",
         "last_activity": "2026-11-29T10:00:00Z", "runs": 2},
        {"session_id": "sess_bbbbbbbbbbbb", "first_message": "<img src=x onerror=alert(1)>",
         "last_activity": None, "runs": 1},
    ]})  # fmt: skip
    options = listing.get_by_role("option")
    expect(options).to_have_count(2)
    expect(options.first).to_contain_text("What is the refund policy?")
    expect(options.nth(1)).to_contain_text("<img src=x onerror=alert(1)>")  # text, not HTML
    chat.page.screenshot(path=str(artifacts_dir / "session_picker.png"))
    options.first.get_by_role("button").click()
    assert chat.sent()[-1] == {"type": "load_session", "session_id": "sess_aaaaaaaaaaaa"}
    expect(listing).to_be_hidden()
    assert not chat.xss_fired() and chat.dialogs == []


def test_the_picker_says_when_there_are_none_or_listing_failed_and_esc_closes_it(chat):
    chat.mount()
    chat.snapshot([])
    chat.page.get_by_test_id("sessions").click()
    listing = chat.page.get_by_test_id("sessions-list")
    chat.deliver({"type": "sessions", "sessions": []})
    expect(listing).to_have_text("No sessions yet")
    chat.page.keyboard.press("Escape")
    expect(listing).to_be_hidden()
    expect(chat.page.get_by_test_id("sessions")).to_be_focused()
    chat.page.get_by_test_id("sessions").click()
    chat.deliver({"type": "sessions", "error": "Could not list sessions: the server said 500."})
    expect(listing).to_have_text("Could not list sessions: the server said 500.")


def test_a_replay_has_no_picker(chat):
    chat.mount(mode="replay")
    chat.snapshot([])
    expect(chat.page.get_by_test_id("sessions")).to_be_hidden()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_picker_marks_the_current_session_and_picking_it_only_closes(
    chat, artifacts_dir, theme
):
    if theme == "dark":
        chat.page.evaluate("() => document.body.classList.add('host-dark')")
    chat.mount(theme=theme, session_id="sess_bbbbbbbbbbbb")
    chat.snapshot([])
    chat.page.get_by_test_id("sessions").click()
    chat.deliver({"type": "sessions", "sessions": [
        {"session_id": "sess_aaaaaaaaaaaa", "first_message": "What is the refund policy?",
         "last_activity": "2026-11-29T10:00:00Z", "runs": 2, "current": False},
        {"session_id": "sess_bbbbbbbbbbbb", "first_message": "Which plan is cheapest?",
         "last_activity": "2026-11-29T09:00:00Z", "runs": 3, "current": True},
    ]})  # fmt: skip
    listing = chat.page.get_by_test_id("sessions-list")
    options = listing.get_by_role("option")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    expect(options.first).to_have_attribute("aria-selected", "false")
    expect(listing.get_by_test_id("current-session")).to_have_count(1)
    expect(options.nth(1).get_by_test_id("current-session")).to_have_text("Current")
    chat.page.set_viewport_size({"width": 900, "height": 420})
    chat.page.screenshot(path=str(artifacts_dir / f"session_picker_current_{theme}.png"))
    chat.page.evaluate("() => pw.clearSent()")
    options.nth(1).get_by_role("button").click()
    expect(listing).to_be_hidden()
    assert chat.sent() == []  # the panel already shows it: nothing to load
