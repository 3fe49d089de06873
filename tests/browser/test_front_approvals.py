"""Approvals read in time order (issue 20): the call's own card asks (Approve / Deny), then
says how it ended in the same place — approved → running → done, or denied with the
reason — with the tool's own time apart from the wait. Light and dark screenshots of the
three states go to tests/artifacts/ (approval_*.png)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from slim_streams import normalise, user

pytestmark = pytest.mark.browser

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "approval_streams.json"
QUESTION = "Refund order ORD-1042, $49: it arrived damaged."


def frames(kind: str) -> list[dict[str, Any]]:
    """A built approval sequence (the conformance fixtures), in the server's shapes."""
    return next(s for s in json.loads(FIXTURES.read_text("utf-8")) if s["kind"] == kind)["events"]


def waiting(count: int) -> list[dict[str, Any]]:
    """The two-refunds run up to its `count`-th approval request."""
    out, asked = [], 0
    for frame in frames("two-approvals-one-tool"):
        out.append(frame)
        asked += frame["event"] == "approval_requested"
        if asked == count:
            return out
    raise AssertionError("not enough approval requests")


def box(locator: Any) -> dict[str, float]:
    found = locator.bounding_box()
    assert found is not None
    return found


def shoot(chat: Any, artifacts_dir: Path, name: str, theme: str) -> None:
    chat.settle()
    root = chat.page.get_by_test_id("chat")
    expect(root).to_have_attribute("data-theme", theme)
    root.screenshot(path=str(artifacts_dir / f"approval_{name}_{theme}.png"))


@pytest.fixture(params=["light", "dark"])
def themed(chat: Any, request: Any) -> tuple[Any, str]:
    theme = request.param
    chat.page.set_viewport_size({"width": 720, "height": 640})
    if theme == "dark":
        chat.page.evaluate("() => document.body.classList.add('host-dark')")
    chat.mount(theme=theme, session_id="sess_0123456789ab")
    return chat, theme


def test_a_waiting_call_asks_in_its_own_card_and_keeps_the_buttons_in_view(
    themed: tuple[Any, str], artifacts_dir: Path
) -> None:
    chat, theme = themed
    chat.snapshot([user(QUESTION), *normalise(waiting(1))])
    chat.set("status", "waiting_approval")
    card = chat.page.get_by_test_id("tool-card")
    expect(card).to_have_count(1)
    expect(card.get_by_test_id("tool-state")).to_have_text("waiting for approval")
    approval = card.get_by_test_id("approval-card")
    expect(approval).to_have_attribute("role", "group")
    expect(approval).to_have_attribute("aria-label", "Approval for issue_refund")
    expect(approval.get_by_test_id("approval-message")).to_have_text("Refund $49 on ORD-1042?")
    # Opened at once so the arguments show, under the question and its buttons.
    summary = card.locator("summary")
    expect(summary).to_have_attribute("aria-expanded", "true")
    body = card.locator(".pw-tool-body")
    expect(body).to_contain_text("ORD-1042")
    approve = approval.get_by_test_id("approve")
    assert box(summary)["y"] < box(approve)["y"] < box(body)["y"]
    expect(approve).to_be_in_viewport()
    # Shut and opened again from the keyboard: Approve and Deny stay where they were.
    before = box(approve)["y"] - box(card)["y"]
    summary.focus()
    chat.page.keyboard.press("Enter")
    expect(summary).to_have_attribute("aria-expanded", "false")
    chat.page.keyboard.press("Enter")
    expect(summary).to_have_attribute("aria-expanded", "true")
    assert box(approve)["y"] - box(card)["y"] == before
    expect(approve).to_be_in_viewport()
    chat.page.keyboard.press("Tab")
    expect(approve).to_be_focused()
    shoot(chat, artifacts_dir, "waiting", theme)
    chat.page.keyboard.press("Enter")
    assert chat.sent()[-1] == {"type": "approve", "approved": True}
    expect(approval.get_by_test_id("approval-outcome")).to_have_text("Approving…")


def test_an_approved_call_reads_asked_approved_then_done_with_its_own_time(
    themed: tuple[Any, str], artifacts_dir: Path
) -> None:
    chat, theme = themed
    events = normalise(frames("approved-after-a-wait"))
    at = next(i for i, e in enumerate(events) if e["event"] == "hook_result")
    chat.snapshot([user("How many orders are there?"), *events[: at + 1]])
    card = chat.page.get_by_test_id("tool-card")
    approval = card.get_by_test_id("approval-card")
    # Approved and running: the outcome replaces the buttons, in the same place.
    expect(card.get_by_test_id("tool-state")).to_have_text("running")
    expect(approval.get_by_test_id("approval-outcome")).to_have_text("Approved · waited 36 s")
    expect(approval.get_by_test_id("approve")).to_be_hidden()
    chat.events(events[at + 1 :])
    expect(card.get_by_test_id("tool-state")).to_have_text("done")
    # A 2 ms query approved after 36 s: the card says 2 ms, and the wait apart.
    expect(card.get_by_test_id("tool-duration")).to_have_text("2 ms")
    expect(approval.get_by_test_id("approval-outcome")).to_have_text("Approved · waited 36 s")
    card.locator("summary").click()
    expect(card.get_by_test_id("tool-result")).to_contain_text("1312")
    assert box(card.locator("summary"))["y"] < box(approval)["y"]
    chat.page.locator(".pw-scroller").evaluate("s => s.scrollTop = 0")
    shoot(chat, artifacts_dir, "approved_done", theme)


def test_two_approvals_of_one_tool_keep_their_own_outcomes(
    themed: tuple[Any, str], artifacts_dir: Path
) -> None:
    chat, theme = themed
    chat.snapshot([user(QUESTION), *normalise(frames("two-approvals-one-tool"))])
    cards = chat.page.get_by_test_id("tool-card")
    expect(cards).to_have_count(2)
    first, second = cards.nth(0), cards.nth(1)
    # The first refund was approved and ran: its result shows, it is not "denied".
    expect(first.get_by_test_id("tool-state")).to_have_text("done")
    expect(first.get_by_test_id("tool-duration")).to_have_text("40 ms")
    expect(first.get_by_test_id("approval-outcome")).to_have_text("Approved · waited 12 s")
    # The second was denied, with the user's reason, where its buttons were.
    expect(second.get_by_test_id("tool-state")).to_have_text("denied")
    expect(second.get_by_test_id("tool-duration")).to_have_text("")
    expect(second.get_by_test_id("approval-outcome")).to_have_text(
        "Denied by you: already refunded · waited 3.0 s"
    )
    shoot(chat, artifacts_dir, "denied_reason", theme)
    first.locator("summary").click()
    expect(first.get_by_test_id("tool-result")).to_contain_text('"refunded": 49')
    second.locator("summary").click()
    expect(second.get_by_test_id("tool-result")).to_have_count(0)
    assert "Blocked by hook" not in second.inner_text()


def test_a_waiting_call_fits_a_narrow_panel(chat: Any, artifacts_dir: Path) -> None:
    chat.page.set_viewport_size({"width": 380, "height": 640})
    chat.mount(session_id="sess_0123456789ab")
    chat.snapshot([user(QUESTION), *normalise(waiting(1))])
    chat.set("status", "waiting_approval")
    card = chat.page.get_by_test_id("tool-card")
    approve, deny = card.get_by_test_id("approve"), card.get_by_test_id("deny")
    expect(deny).to_be_in_viewport()
    right = box(card)["x"] + box(card)["width"]
    assert box(deny)["x"] + box(deny)["width"] <= right  # nothing spills out of the card
    assert box(approve)["y"] == box(deny)["y"]
    chat.settle()
    chat.page.get_by_test_id("chat").screenshot(path=str(artifacts_dir / "approval_narrow.png"))
