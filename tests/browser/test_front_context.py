"""What a message sent, in the panel: context chips on the user's bubble that open to
exactly what was sent (the text, or the image), the kept-context mark, a record-only chip
for a reloaded transcript, and a structured answer as a collapsible table."""

from __future__ import annotations

import base64
import json
import struct
import zlib

import pytest
from playwright.sync_api import expect
from slim_streams import server_run

from powawidget.session.context import build_context
from powawidget.wire.events import make_event

pytestmark = pytest.mark.browser


def png(width: int, height: int) -> bytes:
    """A real RGB PNG (a red square)."""
    raw = b"".join(b"\x00" + b"\xd0\x30\x30" * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def sent_with(text: str, context, response_format=None):
    """The user_message a session logs, and what its chip shows (never logged)."""
    request = {"context": context.records()} if context is not None else {}
    if response_format is not None:
        request["response_format"] = response_format
    return make_event("user_message", text=text, arguments=request or None)


def test_chips_open_to_exactly_what_was_sent(chat, artifacts_dir):
    import pandas as pd

    frame = pd.DataFrame({"city": ["Tokyo", "Delhi"], "population": [37.4, 28.5]})
    image = png(40, 20)
    context = build_context([frame, image])
    kept = build_context("Kept notes.", kept=True)
    both = kept + context
    chat.mount()
    chat.snapshot([])
    chat.conversation.extend([sent_with("What is in these?", both)])
    chat.conversation.turns[-1].context_shown = both.shown()
    chat.sync.flush()
    page = chat.page
    chips = page.get_by_test_id("context-chip")
    expect(chips).to_have_count(3)
    expect(chips.nth(0)).to_contain_text("text · 11 B")
    expect(chips.nth(0).get_by_test_id("context-kept")).to_have_text("kept")
    expect(chips.nth(1)).to_contain_text("dataframe 1 · 2 × 2")
    expect(chips.nth(2)).to_contain_text("image 2 · 40×20 px")
    expect(chips.nth(1).get_by_test_id("context-kept")).to_have_count(0)
    # Closed by default; opening shows exactly the text that was sent.
    expect(chips.nth(1).get_by_test_id("context-text")).to_be_hidden()
    chips.nth(1).locator("summary").click()
    shown = chips.nth(1).get_by_test_id("context-text").inner_text()
    assert shown == context.parts[0].text
    chips.nth(2).locator("summary").click()
    img = chips.nth(2).get_by_test_id("context-image")
    expect(img).to_be_visible()
    assert img.get_attribute("src") == "data:image/png;base64," + base64.b64encode(image).decode()
    assert page.evaluate("(el) => el.naturalWidth", img.element_handle()) == 40
    page.screenshot(path=str(artifacts_dir / "context-chips.png"))


def test_a_reloaded_transcript_shows_a_record_only_chip(chat):
    context = build_context(png(8, 8))
    events = [sent_with("Look", context)]  # as saved: records only, no content
    chat.mount()
    chat.snapshot(events)
    chip = chat.page.get_by_test_id("context-chip")
    expect(chip).to_have_count(1)
    chip.locator("summary").click()
    expect(chip).to_contain_text("Only a record was kept")
    expect(chip.get_by_test_id("context-image")).to_have_count(0)
    assert "data:image" not in json.dumps(chat.saved(events))


def test_a_structured_answer_is_a_collapsible_table(chat, artifacts_dir):
    answer = json.dumps(
        {"city": "Tokyo", "population": 37400068, "neighbours": [{"name": "Yokohama", "km": 30}]}
    )
    fmt = {"type": "json_schema", "json_schema": {"name": "City", "schema": {"type": "object"}}}
    events = [sent_with("Biggest city as JSON", None, fmt), *server_run([answer])]
    chat.mount()
    chat.snapshot([])
    chat.events(events)
    table = chat.page.get_by_test_id("answer-json")
    expect(table).to_be_visible()
    expect(table.locator("summary")).to_have_text("Structured answer · 3 fields")
    rows = table.locator("tbody > tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_have_text("cityTokyo")
    expect(rows.nth(1)).to_have_text("population37400068")
    chat.page.screenshot(path=str(artifacts_dir / "structured-answer.png"))
    expect(chat.page.get_by_test_id("assistant-text")).to_be_hidden()  # the table says it
    table.locator("summary").click()
    expect(rows.nth(0)).to_be_hidden()
    # Without response_format the same JSON answer is plain text: no table.
    chat.snapshot([make_event("user_message", text="hi"), *server_run([answer])])
    expect(chat.page.get_by_test_id("answer-json")).to_have_count(0)
    expect(chat.page.get_by_test_id("assistant-text")).to_be_visible()


@pytest.mark.parametrize(("theme", "width"), [("dark", 860), ("light", 380)])
def test_chips_and_answer_table_read_in_dark_and_narrow(chat, artifacts_dir, theme, width):
    import pandas as pd

    chat.page.set_viewport_size({"width": width, "height": 900})
    if theme == "dark":
        chat.page.evaluate("() => document.body.classList.add('host-dark')")
    frame = pd.DataFrame({"city": ["Tokyo", "Delhi"], "population": [37.4, 28.5]})
    context = build_context([frame, png(120, 60)]) + build_context("Kept notes.", kept=True)
    fmt = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}
    answer = json.dumps({"city": "Tokyo", "population": 37400068, "note": "a long " * 12})
    chat.mount(theme=theme)
    chat.snapshot([])
    chat.conversation.extend([sent_with("What is in these?", context, fmt)])
    chat.conversation.turns[-1].context_shown = context.shown()
    chat.events(server_run([answer]))
    chips = chat.page.get_by_test_id("context-chip")
    chips.nth(0).locator("summary").click()
    chips.nth(1).locator("summary").click()
    root = chat.page.locator(".pw-root")
    expect(root).to_have_attribute("data-theme", theme)
    # Nothing overflows the panel sideways, however narrow.
    overflow = chat.page.evaluate(
        "() => { const r = document.querySelector('.pw-root');"
        " return r.scrollWidth - r.clientWidth; }"
    )
    assert overflow <= 0
    root.screenshot(path=str(artifacts_dir / f"context-{theme}-{width}.png"))
