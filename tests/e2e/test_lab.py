"""JupyterLab end to end: a real Lab, a real kernel, the local agent server, real Chromium.

Each case writes a notebook, opens it, runs all cells and uses the panel as a user would.
"""

from __future__ import annotations

import sys

import pytest
from chat_panel import KERNEL_CHECK, ChatPanel, by_testid, open_panel, page_errors
from notebook_page import NotebookPage, write_notebook
from playwright.sync_api import expect

pytestmark = pytest.mark.jupyter


def test_typed_question_streams_an_answer_with_tool_cards_and_continues_the_session(
    lab: NotebookPage,
) -> None:
    panel = open_panel(lab, "chat.ipynb", "agt_demo")
    assert f"kernel prefix: {sys.prefix}" in lab.output_text(0), "kernel is not the test venv"

    panel.type_and_enter("Which plan is cheapest?")
    expect(panel.turn(0).locator(by_testid("user-message"))).to_have_text("Which plan is cheapest?")
    expect(panel.input).to_have_value("")
    panel.wait_turn_status(0, "completed")
    expect(panel.answer(0)).to_contain_text("The cheapest is Orbit Starter")

    card = panel.turn(0).locator(by_testid("tool-card")).first
    expect(card.locator(by_testid("tool-name"))).to_have_text("search_catalogue")
    expect(card.locator(by_testid("tool-state"))).to_have_text("done")
    expect(card.locator(by_testid("tool-result"))).to_have_count(0)
    card.locator("summary").focus()
    lab.page.keyboard.press("Enter")
    expect(card.locator("summary").first).to_have_attribute("aria-expanded", "true")
    expect(card.locator(by_testid("tool-result"))).to_contain_text("Orbit Solo")

    session = panel.part("session-id").inner_text()
    assert "sess_" in session
    panel.type_and_enter("And which of those is the most expensive?")
    panel.wait_turn_status(1, "completed")
    expect(panel.answer(1)).to_contain_text("Of those, the most expensive is Orbit Enterprise")
    expect(panel.part("session-id")).to_have_text(session)
    panel.wait_idle()
    lab.screenshot("panel-lab-session", panel.root)
    lab.screenshot("lab-notebook")
    assert page_errors(lab) == []


def test_stop_button_ends_a_long_run_and_keeps_what_arrived(lab: NotebookPage) -> None:
    panel = open_panel(lab, "stop.ipynb", "agt_long")
    panel.type_and_enter("Tell me everything about the Orbit platform.")
    expect(panel.answer(0)).not_to_be_empty(timeout=20_000)
    first = len(panel.answer(0).inner_text())
    panel.answer(0).evaluate(  # the text grows while the run streams
        "(el, n) => new Promise((done) => { const check = () => el.innerText.length > n ?"
        " done() : setTimeout(check, 20); check(); })",
        first,
    )
    stop = panel.part("send")
    expect(stop).to_have_attribute("data-action", "stop")
    expect(stop).to_have_text("Stop")
    stop.click()

    panel.wait_turn_status(0, "stopped", timeout_ms=10_000)
    expect(panel.turn(0).locator(by_testid("stopped-note"))).to_be_visible()
    expect(panel.part("status")).to_have_attribute("data-status", "stopped")
    kept = panel.answer(0).inner_text()
    assert kept.strip()
    lab.page.wait_for_timeout(1_000)
    assert panel.answer(0).inner_text() == kept, "text kept arriving after Stop"
    expect(panel.part("send")).to_have_attribute("data-action", "send")
    status = lab.execute("print(chat.last_run.status, chat.status)")
    assert status.split() == ["stopped", "stopped"]
    lab.screenshot("panel-lab-stopped", panel.root)
    assert page_errors(lab) == []


def test_approve_button_lets_the_agent_run_its_tool(lab: NotebookPage) -> None:
    panel = open_panel(lab, "approve.ipynb", "agt_approval")
    panel.type_and_enter("Refund order 1042, $49, because it arrived damaged")
    card = panel.turn(0).locator(by_testid("approval-card"))
    expect(card).to_be_visible()
    expect(card.locator(by_testid("approval-message"))).to_contain_text("ORD-1042")
    expect(panel.part("status")).to_have_attribute("data-status", "waiting_approval")
    lab.screenshot("panel-lab-approval", panel.root)

    card.locator(by_testid("approve")).click()
    expect(card.locator(by_testid("approval-outcome"))).to_contain_text("Approved")
    panel.wait_turn_status(0, "completed")
    tool = panel.turn(0).locator(by_testid("tool-card")).first
    expect(tool.locator(by_testid("tool-name"))).to_have_text("issue_refund")
    expect(tool.locator(by_testid("tool-state"))).to_have_text("done")
    expect(panel.answer(0)).not_to_be_empty()
    panel.wait_idle()
    assert page_errors(lab) == []


def test_panel_follows_the_jupyterlab_dark_theme(lab: NotebookPage) -> None:
    panel = open_panel(lab, "dark.ipynb", "agt_demo")
    expect(panel.root).to_have_attribute("data-theme", "light")
    panel.type_and_enter("How much for 12 people for 6 months?")
    panel.wait_turn_status(0, "completed")
    panel.wait_idle()
    lab.screenshot("panel-lab", panel.root)  # the README picture
    try:
        lab.command("apputils:change-theme", {"theme": "JupyterLab Dark"})
        expect(lab.page.locator("body")).to_have_attribute("data-jp-theme-light", "false")
        expect(panel.root).to_have_attribute("data-theme", "dark", timeout=10_000)
        background = panel.root.evaluate("(el) => getComputedStyle(el).backgroundColor")
        assert luminance(background) < 0.2, background
        lab.page.wait_for_timeout(300)  # let the theme's transition settle for the picture
        lab.screenshot("panel-lab-dark", panel.root)
    finally:
        lab.command("apputils:change-theme", {"theme": "JupyterLab Light"})
    expect(panel.root).to_have_attribute("data-theme", "light", timeout=10_000)
    assert page_errors(lab) == []


def test_an_orchestration_run_from_a_cell_draws_its_delegation_card(lab: NotebookPage) -> None:
    """A cell sends to `orch_demo`; the delegation card appears in the orchestrator's turn
    and opens on the sub-agent's run (its tool cards, its answer); light and dark."""
    widget = (
        "from powawidget import ChatWidget\n\nchat = ChatWidget(orchestration_id='orch_demo')\nchat"
    )
    ask = "run = chat.send('Which plan fits a team of 40 people?')\nrun.wait(60)\nprint(run.status)"
    write_notebook(lab.server.root, "team.ipynb", [KERNEL_CHECK, widget, ask])
    lab.open("team.ipynb")
    lab.command("application:toggle-left-area")
    lab.run_all()
    panel = ChatPanel(lab.notebook.locator(by_testid("chat")).first).wait_ready()
    card = panel.turn(0).locator(by_testid("delegation-card"))
    expect(card).to_have_count(1, timeout=30_000)
    expect(card).to_have_attribute("data-status", "completed", timeout=30_000)
    panel.wait_turn_status(0, "completed")
    lab.wait_for_cells()
    assert lab.output_text(2).strip() == "completed"
    expect(card.locator(by_testid("delegation-agent"))).to_have_text("agt_demo")
    expect(card.locator(by_testid("delegation-status"))).to_have_text("done")
    card.locator("summary").first.click()
    expect(card).to_have_attribute("open", "")
    expect(card.locator(by_testid("delegation-task"))).to_contain_text("team of 40 people")
    expect(card.locator(by_testid("tool-card")).first).to_be_visible()
    expect(card.locator(by_testid("assistant-text")).first).not_to_be_empty()
    expect(card.locator(by_testid("delegation-usage"))).to_contain_text("tokens")
    expect(panel.answer(0).last).to_contain_text("I asked")
    panel.wait_idle()
    card.scroll_into_view_if_needed()
    lab.screenshot("panel-lab-delegation", panel.root)
    try:
        lab.command("apputils:change-theme", {"theme": "JupyterLab Dark"})
        expect(panel.root).to_have_attribute("data-theme", "dark", timeout=10_000)
        lab.page.wait_for_timeout(300)  # let the theme's transition settle for the picture
        lab.screenshot("panel-lab-delegation-dark", panel.root)
    finally:
        lab.command("apputils:change-theme", {"theme": "JupyterLab Light"})
    expect(panel.root).to_have_attribute("data-theme", "light", timeout=10_000)
    assert page_errors(lab) == []


def luminance(css_color: str) -> float:
    """Rough 0..1 brightness of an `rgb(...)`/`rgba(...)` colour."""
    parts = css_color[css_color.index("(") + 1 : css_color.index(")")].split(",")
    r, g, b = (float(v) / 255 for v in parts[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b
