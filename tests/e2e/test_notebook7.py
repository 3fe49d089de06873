"""Notebook 7 end to end: the same panel in the classic-style Notebook 7 page."""

from __future__ import annotations

import sys

import pytest
from chat_panel import by_testid, open_panel, page_errors
from notebook_page import NotebookPage
from playwright.sync_api import expect

pytestmark = pytest.mark.jupyter


def test_notebook7_streams_an_answer_with_a_tool_card(nb7: NotebookPage) -> None:
    panel = open_panel(nb7, "chat.ipynb", "agt_demo")
    assert f"kernel prefix: {sys.prefix}" in nb7.output_text(0)
    expect(panel.part("banner")).to_be_hidden()

    panel.type_and_enter("How much for 12 people for 6 months?")
    panel.wait_turn_status(0, "completed")
    expect(panel.answer(0)).to_contain_text("12 seats of Orbit Team cost $144 a month")
    cards = panel.turn(0).locator(by_testid("tool-card"))
    expect(cards).to_have_count(3)
    calculator = panel.turn(0).locator(f"{by_testid('tool-card')}[data-tool-name='calculator']")
    calculator.first.locator("summary").focus()
    nb7.page.keyboard.press("Enter")
    expect(calculator.first.locator(by_testid("tool-result"))).to_contain_text("144")
    panel.wait_idle()
    nb7.screenshot("panel-notebook7", panel.root)
    nb7.screenshot("notebook7-page")
    assert page_errors(nb7) == []
