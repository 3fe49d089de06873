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


# JupyterLab's rendered-HTML rules that met the static copy (rendermime's base.css): tables
# centred and right-aligned, striped rows, inline code on --jp-layout-color2; and the dark
# theme's --jp-* colours, whose brand-color3 / error-color3 stay light.
JUPYTERLAB_OUTPUT_CSS = """
.jp-RenderedHTMLCommon { color: var(--jp-content-font-color1); }
.jp-RenderedHTMLCommon table { border-collapse: collapse; margin-left: auto;
  margin-right: auto; table-layout: fixed; }
:not(.jp-RenderedMarkdown).jp-RenderedHTMLCommon td,
:not(.jp-RenderedMarkdown).jp-RenderedHTMLCommon th,
:not(.jp-RenderedMarkdown).jp-RenderedHTMLCommon tr { text-align: right; }
.jp-RenderedHTMLCommon tbody tr:nth-child(odd) { background: var(--jp-layout-color0); }
.jp-RenderedHTMLCommon :not(pre) > code { background-color: var(--jp-layout-color2); }
body.jp-dark { --jp-brand-color3: #bbdefb; --jp-error-color3: #ffcdd2;
  --jp-layout-color2: #424242; --jp-content-font-color1: #fff; }
body.page-dark { background: #0d1117; }
"""
STATIC_THEMES = {  # name: (system colour scheme, body attributes of the host page)
    "light": ("light", {}),
    "dark": ("dark", {"class": "page-dark"}),
    "jupyterlab-dark": ("light", {"class": "jp-dark", "data-jp-theme-light": "false"}),
    "jupyterlab-light-on-a-dark-system": ("dark", {"data-jp-theme-light": "true"}),
}


def static_copy_html() -> str:
    """The static copy of a conversation with every kind of content the copy shows."""
    from powawidget.notebook.static import static_html
    from powawidget.outputs.transcript import Transcript

    meta = {"role": "user", "timestamp": "2026-11-18T10:00:00Z"}
    answer = (
        "Two plans fit:\n\n| Plan | Seats | Price |\n|---|---|---|\n"
        "| Orbit Team | 3–50 | $12 |\n| Orbit Business | 10–500 | $24 |\n\n"
        "Run `orbit seats 12`, or:\n\n```python\nprint(12 * 12)\n```\n\n"
        "[Pricing](https://example.com/pricing)"
    )
    events = [
        client("history", text="What is the refund policy?", arguments=meta),
        client("history", text="30 days.", arguments={**meta, "role": "assistant"}),
        client("new_session"),
        user("How much for 12 people?"),
        *server_run(
            [answer], tools=[("c1", "search_catalogue", {"seats": 12}, '{"items": [1, 2]}')]
        ),
        *denied_run("too much"),
        user("Go on"),
        *normalise([{"event": "start", "run_id": "run_static000002"}]),
        *normalise([{"event": "content_delta", "delta": "Partial"}]),
        client("stopped", run_id="run_static000002"),
        user("hi"),
        client("client_error", error_message="Unknown agent `agt_x`."),
    ]
    return static_html(Transcript(events), "Support chat")


@pytest.fixture
def static_page(browser):
    """A page without the panel's stylesheet (which hides the copy wherever the live panel
    can render), as an export, GitHub or a notebook without the widget shows it."""
    page = browser.new_page()
    page.set_viewport_size({"width": 900, "height": 900})
    page.set_content(
        "<!doctype html><html lang='en'><head><title>copy</title></head><body></body></html>"
    )
    try:
        yield page
    finally:
        page.close()


@pytest.mark.parametrize("theme", list(STATIC_THEMES))
def test_the_static_copy_reads_well_in_every_theme(static_page, artifacts_dir: Path, theme: str):
    scheme, body = STATIC_THEMES[theme]
    page = static_page
    page.emulate_media(color_scheme=scheme)
    page.add_style_tag(content=JUPYTERLAB_OUTPUT_CSS)
    page.evaluate(
        "([html, attrs]) => { for (const [k, v] of Object.entries(attrs)) "
        "document.body.setAttribute(k, v); document.body.innerHTML = "
        "'<div class=\"jp-OutputArea-output jp-RenderedHTMLCommon\">' + html + '</div>'; }",
        [static_copy_html(), body],
    )
    copy = page.locator(".powawidget-transcript")
    expect(copy).to_contain_text("Stopped by the user")
    dark = theme in ("dark", "jupyterlab-dark")
    look = copy.evaluate(
        """(main) => {
          const css = (sel, prop) => getComputedStyle(main.querySelector(sel))[prop];
          const table = main.querySelector('.body table');
          return {background: getComputedStyle(main).backgroundColor,
                  cell: css('.body td', 'textAlign'), header: css('.body th', 'textAlign'),
                  tableLeft: table.getBoundingClientRect().left
                             - table.parentElement.getBoundingClientRect().left,
                  pre: css('.body pre', 'backgroundColor'),
                  preBorder: css('.body pre', 'borderTopWidth')};
        }"""
    )
    assert (luminance(look["background"]) < 0.2) == dark, look
    assert look["cell"] == "left" and look["header"] == "left", look  # not JupyterLab's right
    assert abs(look["tableLeft"]) < 1, look  # not centred
    assert look["pre"] != look["background"] and look["preBorder"] == "1px", look  # a box
    copy.screenshot(path=str(artifacts_dir / f"static_copy_{theme}.png"))
    if not AXE.exists():
        pytest.fail("axe-core is missing: run `npm ci` in js/ (it is a dev dependency).")
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate(
        "async () => (await axe.run(document.querySelector('.powawidget-transcript')))"
        ".violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')"
        ".map((v) => ({id: v.id, nodes: v.nodes.slice(0, 3).map((n) => n.failureSummary)}))"
    )
    assert not violations, violations


def luminance(css_color: str) -> float:
    """Rough 0..1 brightness of an `rgb(...)`/`rgba(...)` colour."""
    parts = css_color[css_color.index("(") + 1 : css_color.index(")")].split(",")
    r, g, b = (float(v) / 255 for v in parts[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b
