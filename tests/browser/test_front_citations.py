"""Citations in the panel (docs/protocol.md, "Citations"): numbered chips under a cited
answer, the answer's `[n]` markers as buttons opening the same source, all of it text."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from slim_streams import SESSION_ID, normalise, user
from test_front_xss import PAYLOADS, _assert_inert

pytestmark = pytest.mark.browser

RUN = "run_cite00000001"


def source(key: str, name: str, excerpt: str, **meta: str) -> dict:
    """A citation as the server sends it on `complete`."""
    return {
        "key": key,
        "item_id": f"item-{key}",
        "source_id": f"src-{key}",
        "source_name": name,
        "text_excerpt": excerpt,
        "meta": meta,
    }


def cited_run(answer: str, sources: list[dict]) -> list[dict]:
    """A server-dialect run with candidates on `start` and citations on `complete`."""
    frames = [
        {"event": "start", "run_id": RUN, "session_id": SESSION_ID, "citation_candidates": sources},
        {"event": "step_started", "step": 1, "is_last_step": True},
        {"event": "content_delta", "delta": answer},
        {"event": "chunk", "content": answer},
        {"event": "step_completed", "step": 1, "finish_reason": "stop"},
        {
            "event": "complete",
            "run_id": RUN,
            "session_id": SESSION_ID,
            "content": answer,
            "status": "completed",
            "citations": sources,
        },
    ]
    return [user("What is the refund policy?"), *normalise(frames)]


SOURCES = [
    source(
        "1", "policies/refund.md", "Refunds within 30 days of delivery.", url="https://x.test/r"
    ),
    source("2", "policies/shipping.md", "Free shipping over 50 EUR."),
]
ANSWER = "Refunds take **30 days** [1]. Shipping is free over 50 EUR [2].\n\n`[1]` in code stays."


def test_chips_and_markers_open_the_source(chat):
    chat.mount()
    chat.snapshot([])
    chat.events(cited_run(ANSWER, SOURCES))
    page = chat.page
    chips = page.get_by_test_id("citation-chip")
    expect(chips).to_have_count(2)
    expect(chips.nth(0)).to_have_text("1policies/refund.md")
    expect(chips.nth(1)).to_have_attribute("aria-expanded", "false")
    refs = page.get_by_test_id("assistant-text").get_by_test_id("citation-ref")
    expect(refs).to_have_count(2)  # the [1] inside code stays text
    expect(page.locator(".pw-markdown code")).to_have_text("[1]")
    detail = page.get_by_test_id("citation-detail")
    expect(detail).to_be_hidden()

    refs.nth(1).click()  # the [2] in the text
    expect(detail).to_be_visible()
    expect(detail).to_contain_text("policies/shipping.md")
    expect(page.get_by_test_id("citation-excerpt")).to_have_text("Free shipping over 50 EUR.")
    expect(refs.nth(1)).to_have_attribute("aria-expanded", "true")
    expect(chips.nth(1)).to_have_attribute("aria-expanded", "true")
    expect(detail.locator("a")).to_have_count(0)  # no URL in its meta: no link

    page.keyboard.press("Escape")  # Esc closes, focus back on the marker
    expect(detail).to_be_hidden()
    expect(refs.nth(1)).to_be_focused()
    expect(chips.nth(1)).to_have_attribute("aria-expanded", "false")

    chips.nth(0).focus()  # the keyboard opens a chip; its source links out (http only)
    page.keyboard.press("Enter")
    expect(detail).to_contain_text("Refunds within 30 days of delivery.")
    link = detail.locator("a")
    expect(link).to_have_attribute("href", "https://x.test/r")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    page.keyboard.press("Enter")  # pressing it again closes it
    expect(detail).to_be_hidden()


def test_payloads_in_sources_stay_inert(chat):
    attack = "\n".join(PAYLOADS)
    sources = [
        source("1", PAYLOADS[0], attack, url="javascript:window.__xss=true"),
        source("2", attack, PAYLOADS[1], url=PAYLOADS[3]),
    ]
    chat.mount()
    chat.snapshot([])
    chat.events(cited_run(f"One [1], two [2]. {PAYLOADS[0]} [2]", sources))
    page = chat.page
    expect(page.get_by_test_id("citation-chip")).to_have_count(2)
    page.get_by_test_id("citation-chip").nth(0).click()
    detail = page.get_by_test_id("citation-detail")
    expect(detail).to_contain_text(PAYLOADS[0])  # shown as text
    expect(detail.locator("a")).to_have_count(0)  # a javascript: URL makes no link
    _assert_inert(chat)
    page.get_by_test_id("citation-ref").last.click()
    expect(page.get_by_test_id("citation-excerpt")).to_have_text(PAYLOADS[1])
    _assert_inert(chat)
