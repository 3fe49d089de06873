"""The chat panel in a real Chromium with a fake model: what a user sees and does."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from slim_streams import client, documented_run, normalise, server_run, user

pytestmark = pytest.mark.browser

TOOL = (
    "call_1",
    "search_catalogue",
    {"query": "headphones", "limit": 3},
    '{"items": [{"name": "Aurora ANC", "price": 199}]}',
)


def test_asks_for_a_snapshot_on_render_and_enables_input_once_the_kernel_answers(chat):
    chat.mount()
    assert chat.sent() == [{"type": "snapshot_request"}]
    box = chat.page.get_by_test_id("input")
    expect(box).to_be_disabled()
    chat.snapshot([])
    expect(box).to_be_enabled()
    expect(box).to_have_attribute("placeholder", "Ask about products, policies…")


def test_streamed_deltas_render_as_markdown_with_highlighted_code(chat):
    chat.mount()
    chat.snapshot([])
    chat.events([user("Show me code")])
    parts = [
        "Here is **bold** and a list:\n\n",
        "- one\n- two\n\n",
        "```python\n",
        "def f(x):\n    return x + 1\n",
        "```\n",
    ]
    events = server_run(
        parts, usage={"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30}
    )
    chat.events(events[:4])  # start, step, first two deltas: still streaming
    answer = chat.page.get_by_test_id("assistant-text")
    expect(answer.locator("strong")).to_have_text("bold")
    expect(answer.locator("li")).to_have_count(2)
    chat.events(events[4:])
    expect(answer.locator("pre code.language-python .hljs-keyword").first).to_have_text("def")
    expect(chat.page.locator("[data-role=user] .pw-bubble")).to_have_text("Show me code")
    expect(chat.page.get_by_test_id("turn")).to_have_attribute("data-status", "completed")
    expect(chat.page.get_by_test_id("turn-usage")).to_contain_text("30 tokens")
    expect(chat.page.get_by_test_id("session-usage")).to_have_text("Session: 30 tokens")
    # Each code block and the message have a copy button.
    expect(answer.locator("pre .pw-code-copy")).to_have_count(1)


def test_final_chunk_and_complete_replace_the_streamed_text(chat):
    chat.mount()
    chat.snapshot([])
    events = normalise(
        [
            {"event": "start", "run_id": "run_aaaaaaaaaaaa", "session_id": "sess_aaaaaaaaaaaa"},
            {"event": "content_delta", "delta": "Draft answr"},
            {"event": "chunk", "content": "Edited by a hook."},
            {"event": "complete", "content": "Final answer.", "status": "completed"},
        ]
    )
    chat.events([user("q"), *events[:2]])
    expect(chat.page.get_by_test_id("assistant-text")).to_have_text("Draft answr")
    chat.events(events[2:3])
    expect(chat.page.get_by_test_id("assistant-text")).to_have_text("Edited by a hook.")
    chat.events(events[3:])
    expect(chat.page.get_by_test_id("assistant-text")).to_have_text("Final answer.")


def test_documented_dialect_chunks_append_and_tool_result_pairs_first_in_first_out(chat):
    chat.mount()
    chat.snapshot([])
    events = documented_run(
        ["The refund ", "window is ", "30 days."],
        tool=("get_policy", {"topic": "refunds"}, "30 days"),
    )
    chat.events([user("refunds?"), *events])
    expect(chat.page.get_by_test_id("assistant-text")).to_have_text("The refund window is 30 days.")
    card = chat.page.get_by_test_id("tool-card")
    expect(card).to_have_attribute("data-state", "done")
    expect(card.get_by_test_id("tool-state")).to_have_text("done")
    expect(chat.page.get_by_test_id("turn-usage")).to_contain_text("168 tokens (120 in · 48 out)")


def test_tool_cards_show_state_in_text_and_open_and_close_from_the_keyboard(chat):
    chat.mount()
    chat.snapshot([])
    events = server_run(
        ["Found it."],
        tools=[TOOL, ("call_2", "get_policy", {"topic": "returns"}, "Returns within 30 days.")],
    )
    chat.events([user("headphones?"), *events[:4]])  # start, step, two tool calls
    cards = chat.page.get_by_test_id("tool-card")
    expect(cards).to_have_count(2)
    expect(cards.nth(0).get_by_test_id("tool-state")).to_have_text("running")
    expect(cards.nth(0).get_by_test_id("tool-name")).to_have_text("search_catalogue")
    chat.events(events[4:5])  # call_2's result first: paired by call_id, not by order
    expect(cards.nth(1).get_by_test_id("tool-state")).to_have_text("done")
    expect(cards.nth(0).get_by_test_id("tool-state")).to_have_text("running")
    chat.events(events[5:])
    expect(cards.nth(0).get_by_test_id("tool-state")).to_have_text("done")
    expect(cards.nth(0).get_by_test_id("tool-duration")).to_have_text("312 ms")
    # Two steps → step markers are shown.
    expect(chat.page.get_by_test_id("step-marker").first).to_be_visible()

    summary = cards.nth(0).locator("summary").first
    summary.focus()
    chat.page.keyboard.press("Enter")
    expect(summary).to_have_attribute("aria-expanded", "true")
    result = cards.nth(0).get_by_test_id("tool-result")
    expect(result).to_contain_text("Aurora ANC")
    expect(cards.nth(0)).to_contain_text('"headphones"')
    chat.page.keyboard.press("Space")
    expect(summary).to_have_attribute("aria-expanded", "false")
    expect(result).to_be_hidden()


def test_long_tool_results_are_truncated_with_show_all(chat):
    chat.mount()
    chat.snapshot([])
    long = "line of output\n" * 400
    events = normalise(
        [
            {"event": "start", "run_id": "run_bbbbbbbbbbbb"},
            {"event": "tool_call", "tool_name": "fetch_logs", "arguments": {}, "call_id": "c1"},
            {"event": "tool_result", "tool_name": "fetch_logs", "call_id": "c1", "result": long},
            {"event": "complete", "content": "Done.", "status": "completed"},
        ]
    )
    chat.events([user("logs"), *events])
    card = chat.page.get_by_test_id("tool-card")
    card.locator("summary").first.click()
    pre = card.get_by_test_id("tool-result").locator("pre")
    assert len(pre.text_content()) == 2000
    card.get_by_test_id("show-all").click()
    assert pre.text_content() == long


def test_enter_sends_shift_enter_adds_a_line_and_send_becomes_stop(chat):
    chat.mount()
    chat.snapshot([])
    box = chat.page.get_by_test_id("input")
    box.click()
    box.type("first line")
    box.press("Shift+Enter")
    box.type("second line")
    expect(box).to_have_value("first line\nsecond line")
    box.press("Enter")
    assert chat.sent()[-1] == {"type": "send", "text": "first line\nsecond line"}
    expect(box).to_have_value("")
    chat.set("status", "streaming")
    button = chat.page.get_by_test_id("send")
    expect(button).to_have_text("Stop")
    box.type("next")
    box.press("Enter")  # ignored while a run streams
    assert chat.sent()[-1]["type"] == "send"
    button.click()
    assert chat.sent()[-1] == {"type": "stop"}
    chat.set("status", "idle")
    expect(button).to_have_text("Send")


def test_new_session_button_sends_and_a_divider_appears(chat):
    chat.mount()
    chat.snapshot([])
    chat.page.get_by_test_id("new-session").click()
    assert chat.sent()[-1] == {"type": "new_session"}
    chat.events([client("new_session")])
    expect(chat.page.get_by_test_id("new-session-divider")).to_be_visible()


def test_approval_card_buttons_send_the_decision(chat):
    chat.mount()
    chat.snapshot([])
    events = normalise(
        [
            {"event": "start", "run_id": "run_cccccccccccc", "session_id": "sess_cccccccccccc"},
            {
                "event": "approval_requested",
                "tool_name": "issue_refund",
                "tool_input": {"order": "A-1001", "amount": 49.5},
                "message": "Refund 49.50 EUR on order A-1001?",
            },
        ]
    )
    chat.events([user("refund my order"), *events])
    chat.set("status", "waiting_approval")
    tool = chat.page.get_by_test_id("tool-card")
    card = tool.get_by_test_id("approval-card")  # in the call's own card
    expect(card.get_by_test_id("approval-message")).to_have_text(
        "Refund 49.50 EUR on order A-1001?"
    )
    expect(tool.get_by_test_id("tool-state")).to_have_text("waiting for approval")
    card.get_by_test_id("approve").focus()  # keyboard reachable
    expect(card.get_by_test_id("approve")).to_be_focused()
    card.get_by_test_id("approve").click()
    assert chat.sent()[-1] == {"type": "approve", "approved": True}
    expect(card.get_by_test_id("approve")).to_be_disabled()
    chat.events(
        [
            client(
                "approval_resolved",
                arguments={"approved": True, "reason": None},
                run_id="run_cccccccccccc",
            )
        ]
    )
    expect(card).to_have_attribute("data-state", "approved")
    expect(card.get_by_test_id("approval-outcome")).to_contain_text("Approved")
    expect(card.get_by_test_id("approve")).to_be_hidden()
    expect(tool.get_by_test_id("tool-state")).to_have_text("running")


def test_deny_sends_approved_false(chat):
    chat.mount()
    chat.snapshot([])
    chat.events(
        [
            user("x"),
            *normalise(
                [
                    {"event": "start", "run_id": "run_dddddddddddd"},
                    {"event": "approval_requested", "tool_name": "delete_all", "tool_input": {}},
                ]
            ),
        ]
    )
    chat.page.get_by_test_id("deny").click()
    assert chat.sent()[-1] == {"type": "approve", "approved": False}


def test_failed_complete_shows_an_error_card_with_code_step_and_retry(chat):
    chat.mount()
    chat.snapshot([])
    events = normalise(
        [
            {"event": "start", "run_id": "run_eeeeeeeeeeee"},
            {"event": "step_started", "step": 2},
            {"event": "complete", "status": "failed", "error": "Model quota exhausted", "step": 2},
        ]
    )
    chat.events([user("x"), *events])
    chat.set("status", "error")
    chat.set("error", "Model quota exhausted")
    card = chat.page.get_by_test_id("error-card")
    expect(card.get_by_test_id("error-message")).to_have_text("Model quota exhausted")
    expect(card.get_by_test_id("error-meta")).to_have_text("code run_failed · step 2")
    # The card tells the story; the status line only points at it.
    expect(chat.page.get_by_test_id("status-text")).to_have_text("Failed — see below")
    card.get_by_test_id("retry").click()
    assert chat.sent()[-1] == {"type": "retry"}


def test_client_error_and_stop_render_in_the_turn(chat):
    chat.mount()
    chat.snapshot([])
    chat.events(
        [
            user("a"),
            client("client_error", error_message="Invalid API key", error_code="unauthorized"),
        ]
    )
    expect(chat.page.get_by_test_id("error-meta")).to_have_text("code unauthorized")
    chat.events(
        [
            user("b"),
            *normalise(
                [
                    {"event": "start", "run_id": "run_ffffffffffff"},
                    {"event": "content_delta", "delta": "Partial"},
                ]
            ),
            client("stopped", run_id="run_ffffffffffff"),
        ]
    )
    turn = chat.page.get_by_test_id("turn").nth(1)
    expect(turn).to_have_attribute("data-status", "stopped")
    expect(turn.get_by_test_id("stopped-note")).to_be_visible()
    expect(turn.get_by_test_id("assistant-text")).to_have_text("Partial")


def test_reasoning_shows_as_a_thinking_block(chat):
    chat.mount()
    chat.snapshot([])
    chat.events(
        [
            user("think"),
            *normalise(
                [
                    {"event": "start", "run_id": "run_gggggggggggg"},
                    {"event": "reasoning_delta", "step": 1, "delta": "Compare the "},
                    {"event": "reasoning_delta", "step": 1, "delta": "two plans."},
                ]
            ),
        ]
    )
    block = chat.page.get_by_test_id("thinking")
    expect(block).to_have_attribute("data-state", "streaming")
    expect(block.locator(".pw-thinking-text")).to_have_text("Compare the two plans.")
    chat.events(normalise([{"event": "complete", "content": "Plan B.", "status": "completed"}]))
    expect(block).to_have_attribute("data-state", "done")


def test_a_gap_asks_for_a_snapshot_and_the_snapshot_rebuilds_the_view(chat):
    chat.mount()
    chat.snapshot([])
    run = [user("hello"), *server_run(["Hi ", "there."])]
    chat.events(run[:3])
    chat.page.evaluate("() => pw.clearSent()")
    chat.conversation.extend(run[3:5])
    lost: list = []
    deliver, chat.sync._send = chat.sync._send, lost.append
    chat.sync.flush()  # a patch the page never gets
    chat.sync._send = deliver
    assert lost
    chat.events(run[5:])  # the next patch: one is missing before it
    chat.settle()
    assert chat.sent() == [{"type": "snapshot_request"}]
    expect(chat.page.get_by_test_id("assistant-text")).to_have_count(0)
    chat.snapshot(run)
    expect(chat.page.get_by_test_id("assistant-text")).to_have_text("Hi there.")
    expect(chat.page.get_by_test_id("turn")).to_have_count(1)
    # A patch the snapshot already holds is skipped, not applied twice.
    chat.deliver({"type": "patch", "seq": 0, "ops": [
        {"op": "text", "at": 0, "index": 1, "append": "there."}]})  # fmt: skip
    chat.settle()
    expect(chat.page.get_by_test_id("assistant-text")).to_have_text("Hi there.")


def test_history_trait_renders_when_no_kernel_answers(chat):
    history = [
        client(
            "history",
            text="What is the warranty?",
            arguments={"role": "user", "timestamp": "2026-11-20T10:00:00Z"},
        ),
        client(
            "history",
            text="Two years, **parts and labour**.",
            arguments={"role": "assistant", "timestamp": "2026-11-20T10:00:02Z"},
        ),
    ]
    chat.mount(**chat.saved(history), session_id="sess_0123456789ab")
    expect(chat.page.get_by_test_id("history-note")).to_have_text(
        "Loaded from session history (tool calls are not stored there)."
    )
    expect(chat.page.locator("[data-role=assistant] strong")).to_have_text("parts and labour")
    expect(chat.page.get_by_test_id("status-text")).to_contain_text("no kernel")
    expect(chat.page.get_by_test_id("input")).to_be_disabled()
    # A live kernel's snapshot replaces the saved view.
    chat.snapshot([user("new question")])
    expect(chat.page.get_by_test_id("history-note")).to_have_count(0)
    expect(chat.page.get_by_test_id("user-message")).to_have_text("new question")


def test_banner_replay_badge_and_agent_name(chat):
    chat.mount(
        banner="Not connected to Powabase: using the built-in local agent server.", mode="replay"
    )
    expect(chat.page.get_by_test_id("banner")).to_contain_text("Not connected to Powabase")
    expect(chat.page.get_by_test_id("replay-badge")).to_be_visible()
    expect(chat.page.get_by_test_id("agent-name")).to_have_text("Catalogue assistant")
    expect(chat.page.get_by_test_id("input")).to_be_hidden()
    chat.set("banner", "")
    expect(chat.page.get_by_test_id("banner")).to_be_hidden()


def test_auto_scroll_sticks_to_the_bottom_until_the_user_scrolls_up(chat):
    chat.mount()
    chat.snapshot([])
    scroller = chat.page.locator(".pw-scroller")
    chat.events([user("long"), *normalise([{"event": "start", "run_id": "run_hhhhhhhhhhhh"}])])

    def distance() -> float:
        return scroller.evaluate("s => s.scrollHeight - s.scrollTop - s.clientHeight")

    for i in range(40):
        chat.events(normalise([{"event": "content_delta", "delta": f"Paragraph {i}.\n\n"}]))
    chat.settle()
    assert distance() < 5
    jump = chat.page.get_by_test_id("jump-to-latest")
    expect(jump).to_be_hidden()
    scroller.hover()
    chat.page.mouse.wheel(0, -600)
    chat.page.wait_for_function(
        "() => document.querySelector('.pw-scroller').scrollTop > 0 && "
        "document.querySelector('.pw-scroller').scrollHeight - "
        "document.querySelector('.pw-scroller').scrollTop - "
        "document.querySelector('.pw-scroller').clientHeight > 200"
    )
    top = scroller.evaluate("s => s.scrollTop")
    for i in range(10):
        chat.events(normalise([{"event": "content_delta", "delta": f"More {i}.\n\n"}]))
    chat.settle()
    assert scroller.evaluate("s => s.scrollTop") == top  # not dragged down
    expect(jump).to_be_visible()
    jump.click()
    chat.page.wait_for_function(
        "() => { const s = document.querySelector('.pw-scroller');"
        " return s.scrollHeight - s.scrollTop - s.clientHeight < 5; }"
    )
    expect(jump).to_be_hidden()


def test_cleanup_removes_every_listener_and_the_dom(chat):
    chat.mount()
    chat.snapshot([])
    left = chat.page.evaluate("() => pw.unmount()")
    assert left == 0
    assert chat.page.evaluate("() => document.getElementById('host').children.length") == 0


def test_theme_trait_and_jupyterlab_dark_variables(chat, artifacts_dir):
    chat.mount()
    root = chat.page.get_by_test_id("chat")
    expect(root).to_have_attribute("data-theme", "light")
    chat.set("theme", "dark")
    expect(root).to_have_attribute("data-theme", "dark")
    ours = root.evaluate("el => getComputedStyle(el).backgroundColor")
    chat.set("theme", "auto")
    chat.page.evaluate(
        "() => { document.body.classList.add('jp-dark');"
        " document.body.dataset.jpThemeLight = 'false'; }"
    )
    expect(root).to_have_attribute("data-theme", "dark")
    expect(root).to_have_attribute("data-host", "jp")
    bg = root.evaluate("el => getComputedStyle(el).backgroundColor")
    assert bg == ours  # one dark palette, whether asked for or taken from JupyterLab


def test_same_name_tools_without_call_ids_pair_first_in_first_out(chat):
    chat.mount()
    chat.snapshot([])
    frames = [
        {"event": "start", "run_id": "run_fifo00000001"},
        {"event": "tool_call", "tool_name": "calculator", "arguments": {"expr": "1+1"}},
        {"event": "tool_call", "tool_name": "calculator", "arguments": {"expr": "2*3"}},
        {"event": "tool_result", "tool_name": "calculator", "result": "2"},
    ]
    chat.events([user("math"), *normalise(frames)])
    cards = chat.page.get_by_test_id("tool-card")
    expect(cards.nth(0).get_by_test_id("tool-state")).to_have_text("done")
    expect(cards.nth(1).get_by_test_id("tool-state")).to_have_text("running")
    chat.events(normalise([{"event": "tool_result", "tool_name": "calculator", "result": "6"}]))
    expect(cards.nth(1).get_by_test_id("tool-state")).to_have_text("done")
    cards.nth(1).locator("summary").first.click()
    expect(cards.nth(1).get_by_test_id("tool-result")).to_contain_text("6")


def test_a_kernel_cut_result_says_so(chat, monkeypatch):
    monkeypatch.setattr("powawidget.model.view.MAX_RESULT_CHARS", 50)
    chat.mount()
    chat.snapshot([])
    events = normalise(
        [
            {"event": "start", "run_id": "run_cut000000001"},
            {"event": "tool_call", "tool_name": "dump", "call_id": "c1", "arguments": {}},
            {"event": "tool_result", "tool_name": "dump", "call_id": "c1", "result": "x" * 80},
        ]
    )
    chat.events([user("dump"), *events])
    card = chat.page.get_by_test_id("tool-card")
    card.locator("summary").first.click()
    expect(card.get_by_test_id("result-cut")).to_have_text(
        "Cut at 50 characters for display; the full result is in the transcript."
    )


def test_retry_is_offered_only_on_the_last_failed_turn(chat):
    chat.mount()
    chat.snapshot([])
    chat.events([user("a"), client("client_error", error_message="Network down")])
    expect(chat.page.get_by_test_id("retry")).to_be_visible()
    chat.set("status", "streaming")
    expect(chat.page.get_by_test_id("retry")).to_be_hidden()  # not while a run is in flight
    chat.set("status", "idle")
    chat.events([user("a"), *server_run(["Back online."])])
    expect(chat.page.get_by_test_id("error-card")).to_be_visible()
    expect(chat.page.get_by_test_id("retry")).to_be_hidden()


def test_finished_answers_are_announced_to_screen_readers(chat):
    chat.mount()
    chat.snapshot([])
    live = chat.page.get_by_test_id("live-region")
    expect(live).to_have_attribute("aria-live", "polite")
    events = server_run(["All ", "done."])
    chat.events([user("go"), *events[:-1]])
    chat.settle()
    expect(live).to_have_text("")
    chat.events(events[-1:])
    expect(live).to_have_text("Assistant: All done.")


def test_copy_buttons_put_the_answer_and_the_code_on_the_clipboard(chat, browser):
    browser.grant_permissions(["clipboard-read", "clipboard-write"])
    chat.mount()
    chat.snapshot([])
    answer = "Run this:\n\n```bash\npip install powawidget\n```\n"
    chat.events([user("install?"), *server_run([answer])])
    chat.page.locator(".pw-code-copy").click()
    assert chat.page.evaluate("() => navigator.clipboard.readText()") == "pip install powawidget"
    footer_copy = chat.page.locator(".pw-turn-footer [data-testid=copy]")
    footer_copy.click()
    expect(footer_copy).to_have_text("Copied")
    assert chat.page.evaluate("() => navigator.clipboard.readText()") == answer


def test_the_panel_is_usable_from_the_keyboard_alone(chat):
    chat.mount()
    chat.snapshot([])
    chat.events([user("hi"), *server_run(["Sure."], tools=[TOOL])])
    page = chat.page
    page.get_by_test_id("new-session").focus()
    seen = []
    for _ in range(12):
        page.keyboard.press("Tab")
        seen.append(
            page.evaluate(
                "() => document.activeElement.dataset.testid || "
                "document.activeElement.tagName.toLowerCase()"
            )
        )
    assert "summary" in seen  # the tool card
    assert "input" in seen
    page.get_by_test_id("input").focus()
    page.keyboard.type("via keyboard")
    page.keyboard.press("Enter")
    assert chat.sent()[-1] == {"type": "send", "text": "via keyboard"}
    # Focus rings are visible (an outline on :focus-visible).
    page.get_by_test_id("new-session").focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Shift+Tab")
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"


def test_a_sent_message_shows_sending_until_the_kernel_echoes_it(chat):
    chat.mount()
    chat.snapshot([])
    box = chat.page.get_by_test_id("input")
    box.fill("hello")
    box.press("Enter")
    status = chat.page.get_by_test_id("status-text")
    expect(status).to_have_text("Sending…")
    expect(chat.page.get_by_test_id("send")).to_be_disabled()
    expect(box).to_be_focused()  # the user can type the next message at once
    box.type("second")
    box.press("Enter")  # not sent twice while the first is on its way
    assert [m for m in chat.sent() if m["type"] == "send"] == [{"type": "send", "text": "hello"}]
    chat.events([user("hello")])
    expect(status).to_have_text("Ready")
    expect(chat.page.get_by_test_id("send")).to_be_enabled()


def test_a_snapshot_mid_answer_then_patches_render_the_whole_answer(chat):
    parts = ["Hi ", "there, ", "my ", "good ", "friend."]
    run = [user("hello"), *server_run(parts)]
    cut = [i for i, e in enumerate(run) if e["event"] == "content_delta"][2]  # mid-answer
    head, tail = run[:cut], run[cut:]
    chat.mount()
    chat.page.evaluate("() => pw.clearSent()")
    chat.snapshot(head)
    expect(chat.page.get_by_test_id("assistant-text")).to_have_text("Hi there,")
    chat.events(tail)
    expect(chat.page.get_by_test_id("assistant-text")).to_have_text("Hi there, my good friend.")
    expect(chat.page.get_by_test_id("turn")).to_have_count(1)
    chat.settle()
    assert chat.sent() == []  # no gap seen: no second snapshot asked for
