"""The evaluation panel in a real Chromium with a fake model: counts, rows, Stop, a run."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

STATS = {
    "total": 4, "done": 2, "running": 1, "pending": 1, "completed": 1, "failed": 1,
    "stopped": 0, "unfinished": 0, "elapsed_s": 2.0, "throughput": 1.0,
    "ttft_p50_ms": 120.0, "ttft_p95_ms": 1500.0, "eta_s": 2.0,
    "passed": 1, "scored": 2, "pass_rate": 0.5,
}  # fmt: skip


def row(status: str, prompt: str, answer: str = "", error: str = "", passed=None) -> dict:
    return {"prompt": prompt, "answer": answer, "status": status, "ttft": 120, "duration": 800,
            "tokens": 42, "tools": 1, "error": error, "passed": passed}  # fmt: skip


def test_counts_progress_rows_stop_and_a_clicked_run(chat):
    chat.mount(_view="evaluation", agent_id="agt_demo", stats=STATS, state="running",
               stop_reason="", banner="")  # fmt: skip
    assert chat.sent() == [{"type": "ready"}]
    page = chat.page
    expect(page.locator(".pw-eval-title")).to_have_text("Evaluating agt_demo")
    expect(page.locator(".pw-eval-counts")).to_contain_text(
        "2/4 done · 1 running · 1 failed · pass 50% (1/2)"  # the pass rate so far
    )
    expect(page.locator(".pw-eval-counts")).to_contain_text("TTFT p50 120 ms · p95 1.5 s")
    expect(page.locator(".pw-eval-bar")).to_have_attribute("aria-valuenow", "2")
    expect(page.locator(".pw-eval-eta")).to_have_text("50% · ETA 2 s")
    chat.deliver({"type": "rows", "rows": [
        [2, row("running", "third")],
        [0, row("completed", "first", "**4**", passed=True)],
        [1, row("failed", "second", error="boom", passed=False)],
    ]})  # fmt: skip
    chat.settle()
    cells = page.locator(".pw-eval-table tbody tr td:nth-child(4)")
    expect(cells).to_have_text(["first", "second", "third"])  # in prompt order
    marks = page.locator(".pw-eval-table tbody tr td:nth-child(3)")
    expect(marks).to_have_text(["✓", "✗", "–"])  # passed, failed, not scored yet
    expect(page.locator("tr[data-index='1'] td").nth(4)).to_have_text("boom")
    chat.deliver({"type": "rows", "rows": [[2, row("completed", "third", "6")]]})
    chat.settle()
    expect(page.locator("tr[data-index='2']")).to_have_attribute("data-status", "completed")

    page.locator("tr[data-index='0']").click()
    assert chat.sent()[-1] == {"type": "open", "index": 0}
    payload = "<img src=x onerror=window.__xss=1>"
    turn = {"kind": "turn", "userText": payload, "answer": None, "status": "completed",
            "error": None, "items": [
                {"kind": "step", "step": 1, "done": True},
                {"kind": "tool", "toolName": "calculator", "arguments": {"expression": "2 + 2"},
                 "result": "4", "resultTruncated": False, "state": "done", "durationMs": 12,
                 "note": None},
                {"kind": "text", "text": "It is 4"}]}  # fmt: skip
    chat.deliver({"type": "run", "index": 0, "prompt": payload, "status": "completed",
                  "error": "", "turn": turn})  # fmt: skip
    detail = page.locator(".pw-eval-detail")
    expect(detail).to_be_visible()
    # The chat panel's own renderer draws it: the user's bubble, a tool card, Markdown.
    expect(detail.get_by_test_id("user-message")).to_have_text(payload)
    card = detail.get_by_test_id("tool-card")
    expect(card.get_by_test_id("tool-name")).to_have_text("calculator")
    card.locator("summary").first.click()
    expect(card).to_contain_text("2 + 2")
    expect(detail.get_by_test_id("assistant-text")).to_have_text("It is 4")
    assert not chat.xss_fired()
    detail.get_by_role("button", name="Close").click()
    expect(detail).to_be_hidden()

    page.get_by_role("button", name="Stop").click()
    assert chat.sent()[-1] == {"type": "stop"}
    chat.set("state", "stopped")
    chat.set("stop_reason", "stopped by the user")
    chat.settle()
    expect(page.get_by_role("button", name="Stop")).to_be_disabled()
    expect(page.locator(".pw-eval-reason")).to_have_text("Stopped: stopped by the user")
    assert page.evaluate("() => pw.unmount()") == 0  # no listener left behind
    assert chat.errors == []


def test_the_chat_panel_still_mounts_by_default(chat):
    chat.mount()
    assert chat.sent() == [{"type": "snapshot_request"}]
    assert chat.page.locator(".pw-eval").count() == 0
