"""Markdown and HTML handouts: readable, self-contained, and safe with hostile content."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from typing import Any

from powawidget.outputs.export import to_html, to_markdown
from powawidget.outputs.transcript import Transcript
from powawidget.wire.events import make_event, normalise_stream
from powawidget.wire.sse import iter_events

XSS = [
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "[click me](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[c](&#106;avascript:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    "<svg onload=alert(1)><circle/></svg>",
    '"><iframe src=//evil.example>',
    "![img](https://evil.example/x.png)",
]
PAYLOAD = " ".join(XSS)
ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "main", "h1", "h2", "h3", "h4", "h5",
    "h6", "p", "br", "hr", "section", "div", "span", "strong", "em", "del", "code", "pre",
    "details", "summary", "ul", "ol", "li", "blockquote", "table", "thead", "tbody", "tr",
    "th", "td", "a",
}  # fmt: skip


class TagAudit(HTMLParser):
    """Every tag and attribute a browser would build from the page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def audit(page: str) -> list[tuple[str, dict[str, str | None]]]:
    """Parse a page like a browser's tokenizer and return its tags."""
    parser = TagAudit()
    parser.feed(page)
    parser.close()
    return parser.tags


def hostile_run() -> list[dict]:
    """A run whose every model- and tool-controlled field carries the payloads."""
    frames = [
        {"event": "start", "run_id": "run_0123456789ab", "session_id": "sess_0123456789ab"},
        {"event": "tool_call", "tool_name": PAYLOAD, "call_id": "c1", "arguments": {"q": PAYLOAD}},
        {"event": "tool_result", "tool_name": PAYLOAD, "call_id": "c1", "result_preview": PAYLOAD},
        {"event": "reasoning_delta", "delta": PAYLOAD},
        {"event": "content_delta", "delta": "# Title\n\n" + "\n\n".join(XSS) + "\n\n- " + PAYLOAD},
        {"event": "error", "error": PAYLOAD},
    ]
    body = b"".join(b"data: " + json.dumps(f).encode() + b"\n\n" for f in frames)
    return [make_event("user_message", text=PAYLOAD), *normalise_stream(iter_events([body]))]


def good_run() -> Transcript:
    """A normal run with a tool call and usage."""
    frames = [
        {"event": "start", "run_id": "run_0123456789ab", "session_id": "sess_0123456789ab"},
        {"event": "tool_call", "tool_name": "get_policy", "call_id": "c1",
         "arguments": {"topic": "refunds"}},
        {"event": "tool_result", "tool_name": "get_policy", "call_id": "c1",
         "result_preview": "{\"days\": 30}", "duration_ms": 12},
        {"event": "content_delta", "delta": "Refunds take **30 days**.\n\n```python\nx = 1\n```"},
        {"event": "complete", "status": "completed",
         "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}},
    ]  # fmt: skip
    body = b"".join(b"data: " + json.dumps(f).encode() + b"\n\n" for f in frames)
    events = [make_event("user_message", text="How long do refunds take?")]
    return Transcript([*events, *normalise_stream(iter_events([body]))])


def test_html_page_is_self_contained_and_builds_no_active_content() -> None:
    page = to_html(hostile_run())
    tags = audit(page)
    assert {tag for tag, _ in tags} <= ALLOWED_TAGS
    for tag, attrs in tags:
        assert not [name for name in attrs if name.startswith("on")], (tag, attrs)
        for name in ("src", "srcset", "action", "formaction", "background"):
            assert name not in attrs
        if tag == "a" and "href" in attrs:  # an unsafe link keeps its text, not its target
            assert (attrs["href"] or "").startswith(("https://", "http://", "mailto:"))
    assert "script-src" not in page and "default-src 'none'" in page
    assert "<script" not in page.lower()


def test_html_shows_hostile_text_as_text() -> None:
    page = to_html(hostile_run())
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.count("<details") == 2  # the tool card and the reasoning


def test_html_renders_the_conversation_with_tool_cards() -> None:
    page = good_run().to_html(title="Refunds <demo>")
    assert "<title>Refunds &lt;demo&gt;</title>" in page
    assert "How long do refunds take?" in page
    assert "Refunds take <strong>30 days</strong>." in page
    assert '<pre><code class="language-python">x = 1\n</code></pre>' in page
    assert '<details class="tool state-done"><summary>Tool <code>get_policy</code>' in page
    assert "done · 12 ms" in page
    assert '"topic": "refunds"' in page  # arguments pretty-printed, quotes as they are
    assert "10 prompt · 5 completion · 15 total tokens" in page


def test_html_fragment_for_notebook_outputs_is_the_styled_main_element() -> None:
    fragment = to_html(good_run(), full_page=False)
    assert fragment.startswith('<main class="powawidget-transcript"><style>')
    assert fragment.endswith("</main>")
    assert "<body" not in fragment and "<head" not in fragment and ":root" not in fragment
    assert fragment in to_html(good_run())


def test_markdown_handout_reads_as_a_conversation() -> None:
    text = good_run().to_markdown()
    assert text.startswith("# Conversation\n")
    assert "> How long do refunds take?" in text
    assert "- Tool call `get_policy` — done · 12 ms" in text
    assert '    ```json\n    {\n      "topic": "refunds"\n    }\n    ```' in text
    assert "**Assistant:**\n\nRefunds take **30 days**.\n\n```python\nx = 1\n```" in text
    assert to_markdown(good_run().events) == text


def test_markdown_neutralises_raw_html_but_keeps_code() -> None:
    text = to_markdown(hostile_run())
    outside_code = re.sub(r"(?s)(`{3,}).*?\1|`+[^`]*`+", "", text)
    assert "<img" not in outside_code and "<script" not in outside_code
    assert "<svg" not in outside_code and "<a " not in outside_code
    assert "&lt;img src=x onerror=alert(1)>" in text
    assert "> **Failed**" in text


def test_markdown_fences_survive_backticks_in_results() -> None:
    events = [
        make_event("tool_call", tool_name="t", call_id="c", arguments={"a": 1}),
        make_event("tool_result", tool_name="t", call_id="c", result="```\nnot the end\n```"),
    ]
    text = to_markdown(events)
    assert "    ````\n    ```\n    not the end\n    ```\n    ````" in text


def test_long_results_are_cut_in_handouts_only() -> None:
    events = [
        make_event("tool_call", tool_name="big", call_id="c", arguments={}),
        make_event("tool_result", tool_name="big", call_id="c", result="y" * 50_000),
    ]
    t = Transcript(events)
    assert "(30,000 more characters)" in t.to_html() and "(49,900 more characters)" in to_markdown(
        t, max_result_chars=100
    )
    assert len(t.tool_calls[0]["result"]) == 50_000


def test_sessions_history_and_stops_are_marked() -> None:
    meta = {"role": "user", "timestamp": "2026-11-18T10:00:00Z"}
    t = Transcript(
        [
            make_event("history", text="old Q", arguments=meta),
            make_event("history", text="old A", arguments={**meta, "role": "assistant"}),
            make_event("new_session"),
            make_event("user_message", text="new Q"),
            make_event("stopped"),
        ]
    )
    page, text = t.to_html(), t.to_markdown()
    assert "New session" in page and "_New session_" in text
    assert "Loaded from session history" in page and "Loaded from session history" in text
    assert "Stopped by the user" in page and "Stopped by the user" in text


def test_the_local_servers_xss_run_exports_without_active_content(client: Any) -> None:
    events = [make_event("user_message", text="<script>alert('user')</script>")]
    events.extend(client.stream_run("fault_xss", "attack"))
    page = Transcript(events).to_html()
    for tag, attrs in audit(page):
        assert tag in ALLOWED_TAGS
        assert not [name for name in attrs if name.startswith("on") or name == "src"]
        if tag == "a" and "href" in attrs:  # an unsafe link keeps its text, not its target
            assert (attrs["href"] or "").startswith(("https://", "http://", "mailto:"))
    assert "&lt;img src=x onerror=alert(&#x27;tool&#x27;)&gt;" in page  # the tool name, as text
    assert "&lt;img src=x onerror=alert(&#x27;error&#x27;)&gt;" in page  # the error, as text
    markdown = Transcript(events).to_markdown()
    outside_code = re.sub(r"(?s)(`{3,}).*?\1|`+[^`]*`+", "", markdown)
    assert "<img" not in outside_code and "<script" not in outside_code


def test_an_empty_conversation_exports_cleanly() -> None:
    assert to_markdown([]) == "# Conversation\n\n_0 turns_\n"
    page = to_html([])
    assert "0 turns" in page and page.rstrip().endswith("</html>")


def test_approvals_appear_with_their_question_and_verdict() -> None:
    events = [
        make_event("user_message", text="delete record 1"),
        make_event("approval_requested", tool_name="delete", arguments={"id": 1}, text="Delete 1?"),
        make_event("approval_resolved", arguments={"approved": False, "reason": "no"}),
    ]
    assert "- Approval for `delete` “Delete 1?”: **denied** (no)" in to_markdown(events)
    assert "Approval for delete: Delete 1? — denied (no)" in to_html(events)


def test_a_history_note_says_only_what_is_true_of_the_turns_it_introduces(client: Any) -> None:
    from powawidget.notebook.static import static_html
    from powawidget.session.history import load_history

    events = list(client.stream_run("agt_demo", "How much for 12 people for 6 months?"))
    session_id = next(e["session_id"] for e in events if e.get("session_id"))
    loaded = Transcript(load_history(client, session_id))  # tool calls come back from /runs
    assert loaded.tool_calls, "the stored run lost its tool calls"
    for page in (static_html(loaded, "Chat"), loaded.to_html(), loaded.to_markdown()):
        assert "Loaded from session history." in page and "not stored" not in page
        assert page.count("Loaded from session history") == 1
    # Messages alone (an older server keeps no run events): the note says so, once.
    meta = {"role": "user", "timestamp": "2026-11-18T10:00:00Z"}
    plain = Transcript(
        [
            make_event("history", text="Q1", arguments=meta),
            make_event("history", text="A1", arguments={**meta, "role": "assistant"}),
            make_event("history", text="Q2", arguments=meta),
            make_event("history", text="A2", arguments={**meta, "role": "assistant"}),
        ]
    )
    for page in (static_html(plain, "Chat"), plain.to_markdown()):
        assert page.count("Loaded from session history (tool calls are not stored there).") == 1


def test_each_approval_follows_the_call_it_gated_with_its_wait_apart() -> None:
    from pathlib import Path

    from powawidget.wire.events import EventNormaliser
    from powawidget.wire.sse import ServerSentEvent

    path = Path(__file__).resolve().parents[1] / "fixtures" / "approval_streams.json"
    stream = next(s for s in json.loads(path.read_text("utf-8")) if s["kind"].startswith("two"))
    normaliser = EventNormaliser()
    events = [make_event("user_message", text="refund twice")] + [
        normaliser.normalise(ServerSentEvent(data=json.dumps(f))) for f in stream["events"]
    ]
    markdown = to_markdown(events)
    order = [
        "- Tool call `issue_refund` — done · 40 ms · waited 12.00 s for approval",
        "- Approval for `issue_refund` “Refund $49 on ORD-1042?”: **approved**",
        "- Tool call `issue_refund` — not run · waited 3.00 s for approval",
        "- Approval for `issue_refund` “Refund $49 on ORD-1042?”: **denied** (already refunded)",
    ]
    at = [markdown.index(line) for line in order]
    assert at == sorted(at)
    page = to_html(events)
    assert page.index("approved") < page.index("not run") < page.index("— denied")
