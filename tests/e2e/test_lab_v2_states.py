"""JupyterLab pictures of protocol v2 states, against the local server with its fault agents:
a cited answer (chips, `[n]` markers), an approval denied with the panel's Deny button, and a
step the server restarted. Light and dark screenshots go to tests/artifacts/."""

from __future__ import annotations

import pytest
from chat_panel import KERNEL_CHECK, ChatPanel, by_testid, page_errors
from notebook_page import NotebookPage, write_notebook
from playwright.sync_api import expect

pytestmark = pytest.mark.jupyter

AGENTS = ("agt_citations", "agt_approval", "fault_step_reset")


def _cell(agent_id: str, name: str) -> str:
    """A panel for `agent_id` bound to `name` (three panels share the kernel)."""
    return f"from powawidget import ChatWidget\n{name} = ChatWidget(agent_id={agent_id!r})\n{name}"


def test_citations_denial_and_step_reset_in_light_and_dark(lab: NotebookPage) -> None:
    cells = [KERNEL_CHECK] + [_cell(a, f"chat{i}") for i, a in enumerate(AGENTS)]
    lab.open(write_notebook(lab.server.root, "v2_states.ipynb", cells))
    lab.command("application:toggle-left-area")
    lab.run_all()
    roots = lab.notebook.locator(by_testid("chat"))
    expect(roots).to_have_count(3, timeout=60_000)
    cited, approval, reset = (ChatPanel(roots.nth(i)).wait_ready() for i in range(3))

    # A cited answer: chips under it, its [2] opens source 2's excerpt.
    cited.type_and_enter("What is the refund policy?")
    cited.wait_turn_status(0, "completed")
    chips = cited.part("citation-chip")
    expect(chips.first).to_be_visible()
    assert chips.count() >= 2
    expect(cited.answer(0).locator(by_testid("citation-ref")).first).to_be_visible()
    cited.answer(0).locator(f"{by_testid('citation-ref')}[data-key='2']").first.click()
    expect(cited.part("citation-detail")).to_contain_text("policies/refund.md")
    expect(chips.nth(1)).to_have_attribute("aria-expanded", "true")

    # An approval denied through the panel: one card, the question and then "Denied by you"
    # where the buttons were (the Deny button sends no reason, and the server's bare
    # "Denied by user" is not one), as an approved call keeps its "Approved".
    approval.type_and_enter("Refund order 1042, $49, because it arrived damaged")
    card = approval.turn(0).locator(by_testid("approval-card"))
    expect(card).to_be_visible()
    card.locator(by_testid("deny")).click()
    approval.wait_turn_status(0, "completed")
    approval.wait_idle()
    shown = approval.turn(0).locator(f"{by_testid('tool-card')}:visible")
    expect(shown).to_have_count(1)
    expect(shown.locator(by_testid("approval-card"))).to_be_visible()
    expect(shown.locator(by_testid("approval-outcome"))).to_contain_text("Denied by you ·")
    expect(shown.locator(by_testid("tool-state"))).to_have_text("denied")

    # A step the server reset and retried: the "Step N restarted" marker.
    reset.type_and_enter("What is the refund policy?")
    reset.wait_turn_status(0, "completed")
    expect(reset.turn(0).locator(by_testid("step-reset")).first).to_contain_text("restarted")
    for panel in (cited, approval, reset):
        panel.wait_idle()

    _pictures(lab, "light", cited, approval, reset)
    try:
        lab.command("apputils:change-theme", {"theme": "JupyterLab Dark"})
        expect(cited.root).to_have_attribute("data-theme", "dark", timeout=10_000)
        lab.page.wait_for_timeout(300)  # the theme's transition settles before the pictures
        _pictures(lab, "dark", cited, approval, reset)
    finally:
        lab.command("apputils:change-theme", {"theme": "JupyterLab Light"})
    assert page_errors(lab) == []


def _pictures(lab: NotebookPage, theme: str, *panels: ChatPanel) -> None:
    """One screenshot per panel, named after its state and the theme."""
    for name, panel in zip(("citations", "denied", "step-reset"), panels, strict=True):
        panel.root.scroll_into_view_if_needed()
        lab.screenshot(f"lab-v2-{name}-{theme}", panel.root)
