"""Screenshots of a rich conversation, light and dark, for people to look at."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect
from slim_streams import client, normalise, paced, server_run, user

pytestmark = pytest.mark.browser

ANSWER = [
    "The **Aurora ANC** is the best fit under 200 EUR:\n\n",
    "| Model | Price | Battery |\n|---|---|---|\n| Aurora ANC | 199 EUR | 30 h |\n"
    "| Breeze Lite | 89 EUR | 20 h |\n\n",
    "To check stock from Python:\n\n```python\nimport requests\n\n"
    "def in_stock(sku: str) -> bool:\n    # ask the catalogue\n"
    '    return requests.get(f"/stock/{sku}").json()["available"] > 0\n```\n\n',
    "See the [warranty policy](https://example.com/warranty) for details.",
]


def conversation() -> list[dict]:
    """Two turns: tools + markdown answer, then an approval and a failed run."""
    tools = [
        (
            "call_1",
            "search_catalogue",
            {"query": "noise cancelling headphones", "max_price": 200},
            '{"items": [{"sku": "AUR-ANC", "name": "Aurora ANC", "price": 199}], "total": 1}',
        ),
        ("call_2", "get_policy", {"topic": "warranty"}, "Two years, parts and labour."),
    ]
    first = server_run(
        ANSWER,
        tools=tools,
        usage={"prompt_tokens": 812, "completion_tokens": 164, "total_tokens": 976},
    )
    second = normalise(
        [
            {"event": "start", "run_id": "run_second00001", "session_id": "sess_0123456789ab"},
            {
                "event": "reasoning",
                "step": 1,
                "content": "The user wants a refund; that needs approval.",
            },
            {
                "event": "approval_requested",
                "tool_name": "issue_refund",
                "tool_input": {"order": "A-1001", "amount": 49.5},
                "message": "Refund 49.50 EUR on order A-1001?",
            },
        ]
    )
    resolved = client(
        "approval_resolved", arguments={"approved": True, "reason": None}, run_id="run_second00001"
    )
    third = normalise(
        [
            {
                "event": "tool_call",
                "tool_name": "issue_refund",
                "call_id": "call_9",
                "arguments": {"order": "A-1001", "amount": 49.5},
            },
            {
                "event": "error",
                "error": "Payment gateway timed out",
                "code": "upstream_timeout",
                "step": 1,
            },
        ]
    )
    return paced(
        [
            user("Which noise-cancelling headphones under 200 EUR would you recommend?"),
            *first,
            user("Please refund order A-1001."),
            *second,
            resolved,
            *third,
        ]
    )


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_screenshot(chat, artifacts_dir: Path, theme: str):
    chat.page.set_viewport_size({"width": 860, "height": 1000})
    if theme == "dark":
        chat.page.evaluate("() => document.body.classList.add('host-dark')")
    chat.mount(
        theme=theme,
        session_id="sess_0123456789ab",
        banner="Not connected to Powabase: this panel talks to the built-in local agent "
        "server. Set POWABASE_BASE_URL and POWABASE_API_KEY to use your project.",
    )
    chat.snapshot(conversation())
    chat.set("status", "error")
    chat.set("error", "Payment gateway timed out")
    chat.page.evaluate(
        "() => document.querySelector('.pw-root').style.setProperty('--pw-max-height', '940px')"
    )
    chat.page.get_by_test_id("tool-card").first.locator("summary").click()
    chat.settle()
    root = chat.page.get_by_test_id("chat")
    expect(root).to_have_attribute("data-theme", theme)
    root.screenshot(path=str(artifacts_dir / f"front_panel_{theme}.png"))
    chat.page.locator(".pw-scroller").evaluate("s => s.scrollTop = s.scrollHeight")
    chat.settle()
    root.screenshot(path=str(artifacts_dir / f"front_panel_{theme}_bottom.png"))


def test_screenshot_while_streaming_in_a_jupyterlab_dark_host(chat, artifacts_dir: Path):
    """Mid-run: a running tool, a pending approval, streaming text, the Stop button."""
    chat.page.set_viewport_size({"width": 860, "height": 760})
    chat.page.evaluate(
        "() => { document.body.classList.add('jp-dark');"
        " document.body.dataset.jpThemeLight = 'false'; }"
    )
    chat.mount(session_id="sess_0123456789ab", status="streaming")
    events = normalise(
        [
            {"event": "start", "run_id": "run_stream000001", "session_id": "sess_0123456789ab"},
            {"event": "step_started", "step": 1},
            {"event": "reasoning_delta", "step": 1, "delta": "Check stock first, then the "},
            {
                "event": "tool_call",
                "tool_name": "search_catalogue",
                "call_id": "c1",
                "arguments": {"query": "usb-c dock"},
            },
            {"event": "content_delta", "delta": "Looking for a **USB-C dock** that "},
        ]
    )
    chat.snapshot([user("Find me a USB-C dock with two HDMI ports."), *events])
    chat.settle()
    root = chat.page.get_by_test_id("chat")
    expect(root).to_have_attribute("data-host", "jp")
    expect(chat.page.get_by_test_id("send")).to_have_text("Stop")
    chat.page.get_by_test_id("input").focus()
    root.screenshot(path=str(artifacts_dir / "front_panel_jp_dark_streaming.png"))


def test_screenshot_empty_panel(chat, artifacts_dir: Path):
    """The first thing a user sees."""
    chat.page.set_viewport_size({"width": 860, "height": 500})
    chat.mount()
    chat.snapshot([])
    chat.settle()
    chat.page.get_by_test_id("chat").screenshot(path=str(artifacts_dir / "front_panel_empty.png"))
