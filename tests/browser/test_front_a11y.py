"""Accessibility (axe-core in Chromium) and the one dark palette, as a user meets them."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect
from slim_streams import client, normalise, server_run, user
from test_front_rough_edges import LONG_BANNER, denied_run

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "js" / "node_modules" / "axe-core" / "axe.min.js"
PALETTE = [
    "--pw-bg",
    "--pw-fg",
    "--pw-muted",
    "--pw-border",
    "--pw-accent",
    "--pw-accent-fg",
    "--pw-danger",
    "--pw-success",
    "--pw-warn",
    "--pw-hl-keyword",
    "--pw-hl-string",
]


def jupyterlab_dark(chat) -> None:
    """Make the harness page look like JupyterLab's dark theme to the panel."""
    chat.page.evaluate(
        "() => { document.body.classList.add('jp-dark');"
        " document.body.dataset.jpThemeLight = 'false'; }"
    )


def palette(chat) -> dict[str, str]:
    """The panel's colour variables as the browser resolves them."""
    return chat.page.locator(".pw-root").evaluate(
        "(e, names) => Object.fromEntries(names.map((n) => [n,"
        " getComputedStyle(e).getPropertyValue(n).trim()]))",
        PALETTE,
    )


def test_theme_dark_and_jupyterlab_dark_are_one_palette(chat):
    chat.mount(theme="dark")
    chat.snapshot([])
    ours = palette(chat)
    chat.page.evaluate("() => pw.unmount()")
    jupyterlab_dark(chat)
    chat.mount(theme="auto")
    chat.snapshot([])
    expect(chat.page.locator(".pw-root")).to_have_attribute("data-host", "jp")
    expect(chat.page.locator(".pw-root")).to_have_attribute("data-theme", "dark")
    assert palette(chat) == ours


def run_axe(chat) -> list[dict]:
    """Serious and critical axe-core violations inside the panel."""
    if not AXE.exists():
        pytest.fail("axe-core is missing: run `npm ci` in js/ (it is a dev dependency).")
    chat.page.add_script_tag(path=str(AXE))
    chat.settle()
    result = chat.page.evaluate(
        "async () => { const r = await axe.run(document.querySelector('.pw-root'));"
        " return r.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ') + ': ' + n.failureSummary)})); }"
    )
    return [v for v in result if v["impact"] in ("serious", "critical")]


def scene(chat, name: str) -> None:
    """Put the panel in one of the states a user meets."""
    if name == "tool card open":
        chat.snapshot(
            [
                user("Find a dock"),
                *server_run(
                    ["The **Dock 2×HDMI** fits:\n\n```python\nprint('ok')\n```\n"],
                    tools=[("c1", "search", {"tags": ["dock", "usb-c"]}, '{"items": [1, 2]}')],
                ),
            ]
        )
        chat.page.get_by_test_id("tool-card").first.locator("summary").click()
    elif name == "approval waiting":
        chat.set("status", "waiting_approval")
        chat.snapshot(
            [
                user("Refund A-1001"),
                *normalise(
                    [
                        {"event": "start", "run_id": "run_a11y00000001"},
                        {
                            "event": "approval_requested",
                            "tool_name": "issue_refund",
                            "tool_input": {"order_id": "A-1001", "amount": 49.5},
                            "message": "Approve a refund of 49.50 EUR?",
                        },
                    ]
                ),
            ]
        )
    elif name == "error":
        chat.snapshot([user("hi"), client("client_error", error_message="Unknown agent `agt_x`.")])
        chat.set("status", "error")
        chat.set("error", "Unknown agent `agt_x`.")
    elif name == "denied and stopped":
        chat.snapshot(
            [
                *denied_run("too much"),
                user("Go on"),
                *normalise(
                    [
                        {"event": "start", "run_id": "run_a11y00000002"},
                        {"event": "content_delta", "delta": "Partial"},
                    ]
                ),
                client("stopped", run_id="run_a11y00000002"),
            ]
        )
    else:
        chat.snapshot([])


@pytest.mark.parametrize("theme", ["light", "dark", "jupyterlab-dark"])
@pytest.mark.parametrize(
    "name", ["empty", "tool card open", "approval waiting", "error", "denied and stopped"]
)
def test_no_serious_accessibility_violations(chat, theme: str, name: str):
    if theme == "jupyterlab-dark":
        jupyterlab_dark(chat)
    elif theme == "dark":
        chat.page.evaluate("() => document.body.classList.add('host-dark')")
    chat.mount(theme="auto" if theme == "jupyterlab-dark" else theme, banner=LONG_BANNER)
    scene(chat, name)
    violations = run_axe(chat)
    assert not violations, violations
