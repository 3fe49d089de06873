"""The panel's fine print: status-line clock, turn footers, the static copy, and layouts
that must hold at narrow widths with long words, URLs, tool names and arguments."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from slim_streams import client, normalise, paced, server_run, user

pytestmark = pytest.mark.browser

LONG_URL = "https://example.com/" + "very-long-path-segment/" * 12 + "?q=" + "x" * 60
LONG_WORD = "Supercalifragilistic" * 8
LONG_TOOL = "search_the_entire_product_catalogue_including_archived_and_discontinued_items"
LONG_ARGS = {"query": "noise cancelling over-ear headphones " * 6, "max_price": 200}


def at(events: list[dict], stamp: str) -> list[dict]:
    """The events with `received_at` set to one ISO time (to control a turn's duration)."""
    return [{**e, "received_at": stamp} for e in events]


def stress_conversation() -> list[dict]:
    """A turn with everything that tends to overflow: long words, URLs, names, arguments."""
    tools = [("call_1", LONG_TOOL, LONG_ARGS, '{"items": [], "total": 0}')]
    answer = [
        f"Nothing matched. The raw page was {LONG_URL} and the word was {LONG_WORD}.\n\n",
        f"Inline code stays readable: `{LONG_WORD}`.\n\n",
        "| Column with a long header | Another long header | Third |\n|---|---|---|\n"
        "| a | b | Highlights |\n",
    ]
    run = server_run(
        answer,
        tools=tools,
        usage={"prompt_tokens": 1812, "completion_tokens": 264, "total_tokens": 2076},
    )
    return paced([user(f"Can you open {LONG_URL} and look for {LONG_WORD}?"), *run])


def overflowing(chat, selector: str) -> list[str]:
    """Elements matching `selector` whose content is wider than their box (by > 1 px)."""
    return chat.page.evaluate(
        """(sel) => [...document.querySelectorAll(sel)]
             .filter((el) => el.scrollWidth > el.clientWidth + 1)
             .map((el) => `${el.className}: ${el.scrollWidth} > ${el.clientWidth}`)""",
        selector,
    )


def test_the_run_clock_never_reads_zero_and_approval_waits_show_no_clock(chat):
    chat.mount()
    chat.snapshot([])
    status = chat.page.get_by_test_id("status-text")
    chat.set("status", "connecting")
    expect(status).to_have_text("Connecting…")  # not "Connecting… · 0 s"
    chat.set("status", "streaming")
    expect(status).to_have_text("Answering")
    expect(status).to_have_text(re.compile(r"^Answering · [1-9]\d* s$"), timeout=5000)
    chat.set("status", "waiting_approval")
    expect(status).to_have_text("Waiting for your approval")
    chat.page.wait_for_timeout(1300)  # the clock ticks once a second: it must stay away
    expect(status).to_have_text("Waiting for your approval")
    chat.set("status", "streaming")  # approved: the run's clock carries on
    expect(status).to_have_text(re.compile(r"^Answering · [1-9]\d* s$"))
    chat.set("status", "idle")
    expect(status).to_have_text("Ready")


def test_a_panel_opened_while_waiting_for_approval_shows_no_clock(chat):
    chat.mount(status="waiting_approval")
    chat.snapshot([])
    status = chat.page.get_by_test_id("status-text")
    chat.page.wait_for_timeout(1300)
    expect(status).to_have_text("Waiting for your approval")


def test_a_long_error_in_the_status_line_is_cut_with_the_whole_text_on_hover(chat):
    chat.page.set_viewport_size({"width": 440, "height": 700})
    message = "The agent server answered 503: " + "billing service unreachable, " * 8
    chat.mount(status="error", error=message)
    chat.snapshot([])
    status = chat.page.get_by_test_id("status-text")
    expect(status).to_have_attribute("title", f"Failed: {message}")
    box = status.bounding_box()
    panel = chat.page.get_by_test_id("chat").bounding_box()
    assert box is not None and panel is not None
    assert box["x"] + box["width"] <= panel["x"] + panel["width"]


def test_every_finished_turn_shows_its_duration_however_fast_the_run(chat):
    """A run started from Python ends within milliseconds on a fast server; its footer
    still shows the time, like a slower run typed in the panel."""
    chat.mount()
    chat.snapshot([])
    usage = {"prompt_tokens": 700, "completion_tokens": 180, "total_tokens": 880}
    fast = at([user("From a cell: w.ask(...)")], "2026-11-24T08:00:00.000Z") + at(
        server_run(["Quick answer."], usage=usage), "2026-11-24T08:00:00.047Z"
    )
    slow = at([user("Typed in the panel")], "2026-11-24T08:01:00.000Z") + at(
        server_run(["Slower answer."], run_id="run_bbbbbbbbbbbb", usage=usage),
        "2026-11-24T08:01:02.400Z",
    )
    chat.events(fast + slow)
    footers = chat.page.locator(".pw-turn-footer")
    expect(footers).to_have_count(2)
    expect(footers.nth(0).locator(".pw-turn-time")).to_have_text("47 ms")
    expect(footers.nth(1).locator(".pw-turn-time")).to_have_text("2.4 s")
    for i in range(2):
        expect(footers.nth(i).get_by_test_id("turn-usage")).to_contain_text("880 tokens")


def test_a_stopped_turn_shows_its_duration_too(chat):
    chat.mount()
    chat.snapshot([])
    run = normalise(
        [
            {"event": "start", "run_id": "run_cccccccccccc", "session_id": "sess_c"},
            {"event": "content_delta", "delta": "Once upon a time"},
        ]
    )
    events = [
        *at([user("Tell me a long story")], "2026-11-24T08:00:00.000Z"),
        *at([*run, client("stopped", run_id="run_cccccccccccc")], "2026-11-24T08:00:03.200Z"),
    ]
    chat.events(events)
    footer = chat.page.locator(".pw-turn-footer")
    expect(footer.get_by_test_id("stopped-note")).to_be_visible()
    expect(footer.locator(".pw-turn-time")).to_have_text("3.2 s")


def test_the_footer_draws_the_run_time_python_measured(chat):
    """The panel computes no run time: it draws the turn view's `runMs` (model/view.py),
    here with no timestamps at all to compute one from."""
    from powawidget.model.conversation import Conversation
    from powawidget.model.view import turn_view

    events = at([user("Hello")], "2026-11-24T08:00:00.000Z") + at(
        server_run(["Hi."]), "2026-11-24T08:00:01.000Z"
    )
    entry = turn_view(Conversation(events).turns[0])
    assert entry["runMs"] == 1000
    chat.mount()
    chat.deliver(
        {"type": "snapshot", "seq": 0, "entries": [
            {**entry, "startedAt": None, "endedAt": None, "runMs": 61_500},
        ]}
    )  # fmt: skip
    expect(chat.page.locator(".pw-turn-time")).to_have_text("1 min 2 s")


def test_the_static_html_copy_is_hidden_wherever_the_panel_css_is_loaded(chat):
    chat.mount()
    chat.page.evaluate(
        """() => { const d = document.createElement('div'); d.className = 'powawidget-static';
                   d.id = 'copy'; d.textContent = 'Static copy'; document.body.append(d); }"""
    )
    expect(chat.page.locator("#copy")).to_be_hidden()


@pytest.mark.parametrize("width", [400, 860])
def test_long_words_urls_tool_names_and_arguments_stay_inside_the_panel(
    chat, artifacts_dir: Path, width: int
):
    chat.page.set_viewport_size({"width": width + 48, "height": 900})
    chat.mount(session_id="sess_0123456789ab", theme="dark" if width == 400 else "light")
    chat.page.evaluate(
        "() => document.querySelector('.pw-root').style.setProperty('--pw-max-height', '850px')"
    )
    chat.snapshot(stress_conversation())
    chat.page.get_by_test_id("tool-card").locator("summary").click()
    chat.settle()
    for selector in (
        ".pw-scroller",
        ".pw-list",
        ".pw-turn",
        ".pw-bubble",
        ".pw-tool",
        ".pw-tool-summary",
        ".pw-markdown p",
        ".pw-turn-footer",
        ".pw-header",
        ".pw-status",
        ".pw-composer",
    ):
        assert overflowing(chat, selector) == [], selector
    # Table cells break between words, never inside one ("Thir|d"): the table scrolls instead.
    broken = chat.page.evaluate(
        """() => [...document.querySelectorAll('.pw-markdown th, .pw-markdown td')]
             .filter((c) => !c.textContent.includes(' ')).filter((c) => {
               const r = document.createRange(); r.selectNodeContents(c);
               return new Set([...r.getClientRects()].map((x) => x.top)).size > 1; })
             .map((c) => c.textContent)"""
    )
    assert broken == []
    # The tool name is cut with an ellipsis, its state and duration stay visible.
    card = chat.page.get_by_test_id("tool-card").bounding_box()
    state = chat.page.get_by_test_id("tool-state").bounding_box()
    assert card is not None and state is not None
    assert state["x"] + state["width"] <= card["x"] + card["width"]
    expect(chat.page.get_by_test_id("tool-name")).to_have_attribute("title", LONG_TOOL)
    root = chat.page.get_by_test_id("chat")
    for where, top in (("top", "0"), ("bottom", "s.scrollHeight")):
        chat.page.locator(".pw-scroller").evaluate(f"s => s.scrollTop = {top}")
        chat.settle()
        root.screenshot(path=str(artifacts_dir / f"front_panel_narrow_{width}_{where}.png"))


def test_the_empty_panel_at_a_narrow_width(chat, artifacts_dir: Path):
    chat.page.set_viewport_size({"width": 448, "height": 520})
    name = "Refund desk for the EMEA region (needs approval, replies in English)"
    chat.mount(agent_name=name, session_id="sess_0123456789ab")
    chat.snapshot([])
    chat.settle()
    selectors = ".pw-root, .pw-empty, .pw-composer, .pw-header, .pw-heading, .pw-title-row"
    assert overflowing(chat, selectors) == []
    button = chat.page.get_by_test_id("new-session")
    expect(button).to_be_in_viewport(ratio=1)
    lines = button.evaluate(
        "b => { const r = document.createRange(); r.selectNodeContents(b);"
        " return new Set([...r.getClientRects()].map((c) => c.top)).size; }"
    )
    assert lines == 1, "the New session button wrapped"
    expect(chat.page.get_by_test_id("agent-name")).to_have_attribute("title", name)
    chat.page.get_by_test_id("chat").screenshot(
        path=str(artifacts_dir / "front_panel_empty_narrow.png")
    )


def test_the_tool_summary_previews_arguments_as_one_readable_line(chat):
    chat.mount()
    chat.snapshot([])
    big = {"names": ["Orbit Starter", "Orbit Solo"], "filter": {"max": 39, "tags": []}}
    tools = [("call_1", "search_catalogue", {"query": "", **big, "blob": "z" * 5000}, "[]")]
    chat.events([user("q"), *server_run(["ok"], tools=tools)])
    preview = chat.page.locator(".pw-tool-args-preview")
    expect(preview).to_have_text(
        re.compile(
            r'^query: "", names: \["Orbit Starter", "Orbit Solo"\], '
            r'filter: \{max: 39, tags: \[\]\}, blob: "z+…$'
        )
    )
    assert len(preview.text_content() or "") == 120


def test_approval_and_error_cards_fit_a_narrow_panel(chat, artifacts_dir: Path):
    from test_front_screenshots import conversation

    chat.page.set_viewport_size({"width": 448, "height": 900})
    chat.mount(session_id="sess_0123456789ab", status="error", error="Payment gateway timed out")
    chat.page.evaluate(
        "() => document.querySelector('.pw-root').style.setProperty('--pw-max-height', '850px')"
    )
    chat.snapshot(conversation())
    chat.page.locator(".pw-scroller").evaluate("s => s.scrollTop = s.scrollHeight")
    chat.settle()
    # Short tool names are never cut, even when the arguments preview must give way.
    for selector in (
        ".pw-scroller",
        ".pw-approval",
        ".pw-error",
        ".pw-status",
        ".pw-tool",
        ".pw-tool-name",
    ):
        assert overflowing(chat, selector) == [], selector
    expect(chat.page.get_by_test_id("retry")).to_be_in_viewport()
    chat.page.get_by_test_id("chat").screenshot(
        path=str(artifacts_dir / "front_panel_narrow_400_cards.png")
    )


def test_the_status_line_names_the_tool_being_run(chat):
    chat.mount(status="streaming")
    chat.snapshot([])
    tools = [("call_1", "search_catalogue", {"query": "dock"}, "[]")]
    run = server_run(["Found one."], tools=tools)
    status = chat.page.get_by_test_id("status-text")
    chat.events([user("Find a dock"), *run[:3]])  # start, step 1, tool_call
    expect(status).to_have_text(re.compile(r"^Running search_catalogue( · \d+ s)?$"))
    chat.events(run[3:6])  # the result, step 1 done, step 2 starts
    expect(status).to_have_text(re.compile(r"^Answering · step 2( · \d+ s)?$"))


def test_the_user_message_copy_button_sits_beside_the_bubble_not_over_what_follows(chat):
    chat.page.set_viewport_size({"width": 448, "height": 600})
    chat.mount()
    chat.snapshot([user("Which noise-cancelling headphones under 200 EUR?"), *server_run(["Ok."])])
    message = chat.page.locator("[data-role=user]")
    message.hover()
    copy = message.locator(".pw-copy")
    expect(copy).to_be_visible()
    bubble, button = message.locator(".pw-bubble").bounding_box(), copy.bounding_box()
    assert bubble is not None and button is not None
    assert button["x"] + button["width"] <= bubble["x"]
    assert button["y"] + button["height"] <= bubble["y"] + bubble["height"] + 0.5
