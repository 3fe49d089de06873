"""The panel's rough edges (issue 12) as a user meets them: scrolling on send, streaming
Markdown, tool results, denials, errors, the banner, Esc and Retry/Continue after Stop."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect
from slim_streams import client, normalise, paced, server_run, user

pytestmark = pytest.mark.browser

RUN = "run_rough0000001"
LONG_BANNER = (
    "Not connected to Powabase: chatting with the built-in local demo agents at "
    "http://127.0.0.1:8765. To use your project, set POWABASE_BASE_URL and POWABASE_API_KEY "
    "(or pass base_url= and api_key=) and create the widget again."
)


def distance_from_bottom(chat) -> float:
    """Pixels between the conversation's viewport bottom and its content bottom."""
    return chat.page.locator(".pw-scroller").evaluate(
        "s => s.scrollHeight - s.scrollTop - s.clientHeight"
    )


def long_history(n: int = 8) -> list[dict]:
    """`n` finished turns, enough to scroll."""
    events: list[dict] = []
    for i in range(n):
        events += [user(f"Question {i}"), *server_run([f"Answer {i}.\n\n" + "Line.\n\n" * 6])]
    return events


def test_the_users_own_send_follows_to_the_bottom_after_scrolling_up(chat):
    chat.mount()
    chat.snapshot(long_history())
    chat.settle()
    scroller = chat.page.locator(".pw-scroller")
    scroller.hover()
    chat.page.mouse.wheel(0, -3000)
    chat.page.wait_for_function("() => document.querySelector('.pw-scroller').scrollTop < 200")
    expect(chat.page.get_by_test_id("jump-to-latest")).to_be_visible()
    box = chat.page.get_by_test_id("input")
    box.fill("And the newest question?")
    box.press("Enter")
    assert chat.sent()[-1] == {"type": "send", "text": "And the newest question?"}
    chat.events([user("And the newest question?")])
    chat.events(server_run(["The newest answer.\n\n" + "More.\n\n" * 8], run_id="run_new000000001"))
    chat.settle()
    expect(chat.page.get_by_test_id("jump-to-latest")).to_be_hidden()
    assert distance_from_bottom(chat) < 48
    expect(chat.page.locator(".pw-list").get_by_text("The newest answer.")).to_be_in_viewport()


def test_new_session_follows_to_the_bottom(chat):
    chat.mount()
    chat.snapshot(long_history())
    chat.settle()
    chat.page.locator(".pw-scroller").hover()
    chat.page.mouse.wheel(0, -3000)
    expect(chat.page.get_by_test_id("jump-to-latest")).to_be_visible()
    chat.page.get_by_test_id("new-session").click()
    assert chat.sent()[-1] == {"type": "new_session"}
    chat.events([client("new_session"), user("Fresh start")])
    chat.settle()
    expect(chat.page.get_by_test_id("new-session-divider")).to_be_in_viewport()
    expect(chat.page.get_by_test_id("jump-to-latest")).to_be_hidden()


def stream(chat, *parts: str) -> None:
    """Deliver answer deltas of a streaming run, then wait for the frame."""
    chat.events(normalise([{"event": "content_delta", "delta": p, "run_id": RUN} for p in parts]))
    chat.settle()


def test_streaming_markdown_hides_unfinished_syntax_and_does_not_jump(chat, artifacts_dir: Path):
    chat.page.set_viewport_size({"width": 400, "height": 760})
    chat.mount(status="streaming")
    chat.snapshot([user("Which plan for 40 people?")])
    chat.events(normalise([{"event": "start", "run_id": RUN}]))
    text = chat.page.get_by_test_id("assistant-text")

    stream(chat, "Orbit Team has **12 seats of")
    expect(text.locator("strong")).to_have_text("12 seats of")
    expect(text).not_to_contain_text("**")
    y_before = text.locator("strong").bounding_box()["y"]

    stream(chat, " headroom**, so:\n\n- Orbit Team\n- ")
    expect(text.locator("li")).to_have_count(1)  # the lone bullet waits for its text
    assert text.locator("strong").bounding_box()["y"] == y_before  # settled text stays put

    stream(chat, "Nova\n\n| Plan | Seats |")
    expect(text.locator("li")).to_have_count(2)
    expect(text).not_to_contain_text("|")  # a header row alone is not shown as pipes
    stream(chat, "\n|---|---|\n| Orbit | 3–50 |\n| Nova | 5")
    expect(text.locator("tbody tr")).to_have_count(1)  # the half row waits for its line
    expect(text).not_to_contain_text("|")
    chat.page.get_by_test_id("chat").screenshot(path=str(artifacts_dir / "streaming_md_narrow.png"))

    stream(chat, "0–200 |\n\nSee [the plans](https://example.com/pla")
    expect(text.locator("tbody tr")).to_have_count(2)
    expect(text).to_contain_text("See the plans")
    expect(text).not_to_contain_text("](")
    chat.events(normalise([{"event": "content_delta", "delta": "ns).", "run_id": RUN}]))
    chat.events(normalise([{"event": "complete", "run_id": RUN, "status": "completed"}]))
    chat.set("status", "idle")
    chat.settle()
    expect(text.locator("a")).to_have_attribute("href", "https://example.com/plans")
    assert text.locator("strong").bounding_box()["y"] == y_before


def tool_run(result: str, arguments: dict) -> list[dict]:
    return normalise(
        [
            {"event": "start", "run_id": RUN},
            {"event": "tool_call", "tool_name": "search", "call_id": "c1", "arguments": arguments},
            {"event": "tool_result", "tool_name": "search", "call_id": "c1", "result": result},
            {"event": "complete", "run_id": RUN, "status": "completed", "content": "Done."},
        ]
    )


def test_tool_results_show_in_full_pretty_and_small_arguments_inline(chat):
    items = [{"sku": f"SKU-{i:03d}", "name": f"Product number {i}", "price": i} for i in range(60)]
    result = json.dumps({"items": items, "total": 60})
    chat.mount()
    chat.snapshot([user("search"), *tool_run(result, {"tags": ["dock", "usb-c"], "limit": 5})])
    card = chat.page.get_by_test_id("tool-card")
    card.locator("summary").click()
    # A two-item list of short strings reads inline, not folded behind a toggle.
    expect(card.locator(".pw-json-inline").first).to_have_text('["dock", "usb-c"]')
    section = card.get_by_test_id("tool-result")
    # Long JSON: pretty-printed, collapsed behind "Show all", with every item once opened.
    expect(section).to_contain_text('"sku": "SKU-000"')
    expect(section).not_to_contain_text("SKU-059")
    section.get_by_test_id("show-all").click()
    expect(section).to_contain_text('"sku": "SKU-059"')
    expect(section.get_by_test_id("result-cut")).to_have_count(0)


def denied_run(reason: str) -> list[dict]:
    args = {"order_id": "A-1001", "amount": 49.5}
    return [
        user("Refund order A-1001"),
        *normalise(
            [
                {"event": "start", "run_id": RUN},
                {
                    "event": "tool_call",
                    "tool_name": "issue_refund",
                    "call_id": "c9",
                    "arguments": args,
                },
                {
                    "event": "approval_requested",
                    "tool_name": "issue_refund",
                    "tool_input": args,
                    "message": "Approve a refund of 49.50 EUR for order A-1001?",
                },
            ]
        ),
        client("approval_resolved", arguments={"approved": False, "reason": reason}, run_id=RUN),
        *normalise(
            [
                {
                    "event": "tool_result",
                    "tool_name": "issue_refund",
                    "call_id": "c9",
                    "status": "error",
                    "error": f"Error: Blocked by hook — Denied by user: {reason}",
                },
                {
                    "event": "complete",
                    "run_id": RUN,
                    "status": "completed",
                    "content": "Not refunded.",
                },
            ]
        ),
    ]


def test_a_denial_is_one_amber_card_in_the_users_words(chat):
    chat.mount()
    chat.snapshot(denied_run("amount too high"))
    card = chat.page.locator("[data-testid=tool-card]:visible")
    expect(card).to_have_count(1)
    # The question and its answer stay in the call's own card, where Approve/Deny were.
    approval = card.get_by_test_id("approval-card")
    expect(approval).to_be_visible()
    expect(approval.get_by_test_id("approval-message")).to_have_text(
        "Approve a refund of 49.50 EUR for order A-1001?"
    )
    expect(approval.get_by_test_id("approval-outcome")).to_contain_text(
        "Denied by you: amount too high"
    )
    expect(approval.get_by_test_id("approve")).to_be_hidden()
    expect(card.get_by_test_id("tool-state")).to_have_text("denied")
    card.locator("summary").click()
    shown = chat.page.locator(".pw-list").inner_text()
    assert "Blocked by hook" not in shown
    assert "error" not in shown.lower()
    colour = card.get_by_test_id("tool-state").evaluate("e => getComputedStyle(e).color")
    warn = chat.page.locator(".pw-root").evaluate(
        "e => { const p = document.createElement('span'); p.style.color = 'var(--pw-warn)';"
        " e.append(p); const c = getComputedStyle(p).color; p.remove(); return c; }"
    )
    assert colour == warn


def test_a_timed_out_approval_says_so(chat):
    args = {"order_id": "A-1001"}
    frames = [
        {"event": "start", "run_id": RUN},
        {"event": "tool_call", "tool_name": "issue_refund", "call_id": "c9", "arguments": args},
        {"event": "approval_requested", "tool_name": "issue_refund", "tool_input": args},
        {
            "event": "hook_result",
            "blocked": True,
            "latency_ms": 300000,
            "message": "Approval timed out",
        },
        {
            "event": "tool_result",
            "tool_name": "issue_refund",
            "call_id": "c9",
            "result_preview": "Error: Blocked by hook — Approval timed out",
            "duration_ms": 300001,
        },
    ]
    chat.mount()
    chat.snapshot([user("Refund order A-1001"), *normalise(frames)])
    outcome = chat.page.locator("[data-testid=approval-outcome]:visible")
    expect(outcome).to_have_text("Approval timed out: the tool did not run · waited 5 min 0 s")
    card = chat.page.get_by_test_id("tool-card")
    expect(card.get_by_test_id("tool-state")).to_have_text("timed out")
    expect(card.get_by_test_id("tool-duration")).to_have_text("")  # it never ran


def test_errors_render_code_and_the_status_line_stays_short(chat):
    chat.mount()
    message = "Unknown agent `agt_missing`: pass `agent_id=` with one of your agents."
    chat.snapshot([user("hi"), client("client_error", error_message=message)])
    chat.set("status", "error")
    chat.set("error", message)
    card = chat.page.get_by_test_id("error-message")
    expect(card.locator("code")).to_have_count(2)
    expect(card).to_have_text("Unknown agent agt_missing: pass agent_id= with one of your agents.")
    expect(chat.page.get_by_test_id("status-text")).to_have_text("Failed — see below")


@pytest.mark.parametrize(("width", "theme"), [(1400, "light"), (1400, "dark"), (388, "light")])
def test_the_banner_wraps_to_show_the_whole_notice_and_is_dismissable(
    chat, artifacts_dir: Path, width: int, theme: str
):
    chat.page.set_viewport_size({"width": width, "height": 500})  # 388: a 340 px panel
    if theme == "dark":
        chat.page.evaluate("() => document.body.classList.add('host-dark')")
    chat.page.evaluate("() => document.getElementById('host').style.maxWidth = 'none'")
    chat.mount(theme=theme, banner=LONG_BANNER)
    chat.snapshot([])
    note = chat.page.get_by_test_id("banner")
    expect(note).to_be_visible()
    line = chat.page.get_by_test_id("banner-text")
    expect(line).to_have_text(LONG_BANNER)
    cut = line.evaluate(
        "e => e.scrollWidth > e.clientWidth || e.scrollHeight > e.clientHeight"
        " || getComputedStyle(e).textOverflow === 'ellipsis'"
    )
    assert not cut, "the notice is cut"
    box, panel = line.bounding_box(), chat.page.get_by_test_id("chat").bounding_box()
    assert box and panel and box["x"] + box["width"] <= panel["x"] + panel["width"]
    lines = line.evaluate(
        "e => Math.round(e.getBoundingClientRect().height"
        " / parseFloat(getComputedStyle(e).lineHeight))"
    )
    assert lines >= (3 if width < 400 else 1)
    note.screenshot(path=str(artifacts_dir / f"banner_{width}_{theme}.png"))
    chat.page.get_by_role("button", name="Dismiss this notice").click()
    expect(note).to_be_hidden()
    chat.set("banner", "Another notice")
    expect(note).to_be_visible()


def test_escape_stops_a_streaming_run_and_a_stopped_answer_offers_retry_and_continue(chat):
    chat.mount(status="streaming")
    chat.snapshot([user("Tell me everything"), *normalise([{"event": "start", "run_id": RUN}])])
    stream(chat, "Here is a long answer that")
    chat.page.get_by_test_id("input").focus()
    chat.page.keyboard.press("Escape")
    assert chat.sent()[-1] == {"type": "stop"}
    chat.events([client("stopped", run_id=RUN)])
    chat.set("status", "stopped")
    retry = chat.page.get_by_test_id("stopped-retry")
    resume = chat.page.get_by_test_id("stopped-continue")
    expect(retry).to_be_visible()
    resume.click()
    assert chat.sent()[-1] == {"type": "send", "text": "Continue"}
    expect(retry).to_be_disabled()  # one answer per stop
    chat.set("status", "connecting")  # that run was refused; the stopped turn is offered again
    chat.set("status", "idle")
    retry.click()
    assert chat.sent()[-1] == {"type": "retry"}


def test_escape_does_nothing_when_idle(chat):
    chat.mount()
    chat.snapshot([])
    chat.page.get_by_test_id("input").focus()
    chat.page.keyboard.press("Escape")
    assert {"type": "stop"} not in chat.sent()


def rough_edges_scene() -> list[dict]:
    """One conversation with each fixed edge: denial, a cut result, an error with code,
    a stopped answer."""
    cut = normalise(
        [
            {"event": "start", "run_id": "run_cut000000001"},
            {
                "event": "tool_call",
                "tool_name": "search_catalogue",
                "call_id": "c1",
                "arguments": {"tags": ["dock", "usb-c"], "max_price": 200},
            },
            {
                "event": "tool_result",
                "tool_name": "search_catalogue",
                "call_id": "c1",
                "result": '{"items": [{"sku": "DCK-2H", "name": "Dock 2×HDMI", "price": 129}]}',
            },
            {
                "event": "complete",
                "run_id": "run_cut000000001",
                "status": "completed",
                "content": "The **Dock 2×HDMI** fits: 129 EUR.",
            },
        ]
    )
    stopped = [
        user("Compare every plan in detail"),
        *normalise(
            [
                {"event": "start", "run_id": "run_stop00000001"},
                {"event": "content_delta", "delta": "Here is the comparison, plan by plan:"},
            ]
        ),
        client("stopped", run_id="run_stop00000001"),
    ]
    error = [
        user("Use the agent agt_missing"),
        client(
            "client_error",
            error_message="Unknown agent `agt_missing`: pass `agent_id=` with one of your agents.",
        ),
    ]
    return paced(
        [user("Find a USB-C dock"), *cut, *denied_run("amount too high"), *error, *stopped]
    )


@pytest.mark.parametrize(
    ("name", "width", "theme"),
    [("light", 860, "light"), ("dark", 860, "dark"), ("narrow", 400, "light")],
)
def test_screenshot_rough_edges(chat, artifacts_dir: Path, name: str, width: int, theme: str):
    chat.page.set_viewport_size({"width": width, "height": 1100})
    if theme == "dark":
        chat.page.evaluate("() => document.body.classList.add('host-dark')")
    chat.mount(theme=theme, banner=LONG_BANNER, session_id="sess_0123456789ab")
    chat.snapshot(rough_edges_scene())
    chat.set("status", "stopped")
    chat.page.evaluate(
        "() => document.querySelector('.pw-root').style.setProperty('--pw-max-height', '1040px')"
    )
    for card in chat.page.locator("[data-testid=tool-card]:visible").all():
        card.locator("summary").click()
    chat.settle()
    chat.page.locator(".pw-scroller").evaluate("s => s.scrollTop = 0")
    chat.page.get_by_test_id("chat").screenshot(path=str(artifacts_dir / f"rough_edges_{name}.png"))
    chat.page.locator(".pw-scroller").evaluate("s => s.scrollTop = s.scrollHeight")
    chat.settle()
    chat.page.get_by_test_id("chat").screenshot(
        path=str(artifacts_dir / f"rough_edges_{name}_bottom.png")
    )
