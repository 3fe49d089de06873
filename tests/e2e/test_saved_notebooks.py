"""Saved notebooks tell the truth: reload with the kernel alive, save, reopen with a fresh kernel.

JupyterLab runs once with widget state saved (`saveState: true`) and once without (its
default); what is checked is the .ipynb on disk and what a user sees when it reopens.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from chat_panel import ANSWER_MS, ChatPanel, by_testid, open_panel, page_errors
from notebook_page import KERNEL_READY_JS, OPEN_TIMEOUT_MS, NotebookPage
from playwright.sync_api import expect
from saved_state import saved_entries

pytestmark = pytest.mark.jupyter

FIRST = "Which plan is cheapest?"
FIRST_ANSWER = "The cheapest is Orbit Starter"
SECOND = "And which of those is the most expensive?"
SECOND_ANSWER = "Of those, the most expensive is Orbit Enterprise"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
MISSING_MODEL = "Error displaying widget"


def chat_once(page: NotebookPage, name: str) -> ChatPanel:
    """Open a notebook with a panel, ask one question and wait until the panel is idle."""
    panel = open_panel(page, name, "agt_demo")
    panel.type_and_enter(FIRST)
    panel.wait_turn_status(0, "completed")
    expect(panel.answer(0)).to_contain_text(FIRST_ANSWER)
    panel.wait_idle()
    return panel


def save(page: NotebookPage, name: str, done: Callable[[dict], bool]) -> dict:
    """Save the notebook as a user does (Ctrl+S); return it from disk once rewritten and `done`."""
    path = page.server.root / name
    written = path.stat().st_mtime_ns
    page.notebook.locator(".jp-Cell").first.click()  # focus the notebook, not the chat box
    page.page.keyboard.press("Control+s")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            notebook = json.loads(path.read_text())
            if path.stat().st_mtime_ns != written and done(notebook):
                return notebook
        except ValueError:  # caught mid-write
            pass
        time.sleep(0.2)
    raise AssertionError(f"{name} on disk never matched after saving:\n{path.read_text()[:3000]}")


def static_copies(notebook: dict) -> list[str]:
    """The static HTML copies of the chat among the widget cell's outputs."""
    outputs = notebook["cells"][1].get("outputs", [])
    html = ["".join(o.get("data", {}).get("text/html", "")) for o in outputs]
    return [h for h in html if "powawidget-static" in h]


def saved_history(notebook: dict) -> list[dict[str, Any]]:
    """The entries the ChatWidget's saved state holds (its `history` and the entry models)."""
    state = notebook.get("metadata", {}).get("widgets", {}).get(WIDGET_STATE, {})
    models = state.get("state", {})
    for model in models.values():
        if "history" in model.get("state", {}):
            return saved_entries(models, model["state"])
    return []


def user_texts(history: list[dict[str, Any]]) -> list[str]:
    """The questions of the turns in a saved history."""
    return [e.get("userText", "") for e in history if e.get("kind") == "turn"]


def reload(page: NotebookPage) -> ChatPanel:
    """Reload the page (the kernel stays alive) and return the reconnected panel."""
    page.page.reload()
    page.notebook.locator(".jp-Cell").first.wait_for(timeout=OPEN_TIMEOUT_MS)
    page.page.wait_for_function(KERNEL_READY_JS, timeout=OPEN_TIMEOUT_MS)
    panel = ChatPanel(page.notebook.locator(by_testid("chat")).first).wait_ready()
    expect(panel.part("status")).not_to_contain_text("no kernel")  # a snapshot, not the save
    return panel


def test_reload_reconnects_and_saving_keeps_both_turns(saving_lab: NotebookPage) -> None:
    name = "reload.ipynb"
    chat_once(saving_lab, name)
    before = save(saving_lab, name, lambda nb: any(FIRST in c for c in static_copies(nb)))
    assert "as of turn 1" in static_copies(before)[0]

    panel = reload(saving_lab)
    expect(panel.root).to_be_visible()  # the copy's <style> never hides a live panel
    expect(panel.turns).to_have_count(1)
    expect(panel.answer(0)).to_contain_text(FIRST_ANSWER)
    panel.type_and_enter(SECOND)
    panel.wait_turn_status(1, "completed")
    expect(panel.answer(1)).to_contain_text(SECOND_ANSWER)
    panel.wait_idle()

    if saving_lab.server.saves_widget_state:
        after = save(saving_lab, name, lambda nb: len(user_texts(saved_history(nb))) == 2)
        assert user_texts(saved_history(after)) == [FIRST, SECOND]
    else:
        after = save(saving_lab, name, lambda nb: saved_history(nb) == [])
    # The kernel cannot reach a copy restored by the reload (no display id any more): the
    # copy stays at turn 1 and says so, instead of passing for the whole conversation.
    [copy] = static_copies(after)
    assert FIRST in copy and SECOND not in copy
    assert "as of turn 1" in copy
    assert page_errors(saving_lab) == []


def test_reopened_with_a_fresh_kernel_shows_the_conversation_without_errors(
    saving_lab: NotebookPage,
) -> None:
    name = "reopen.ipynb"
    chat_once(saving_lab, name)
    if saving_lab.server.saves_widget_state:
        save(saving_lab, name, lambda nb: user_texts(saved_history(nb)) == [FIRST])
    else:
        save(saving_lab, name, lambda nb: any("as of turn 1" in c for c in static_copies(nb)))
    saving_lab.server.shutdown_kernels()

    saving_lab.page.goto("about:blank")
    saving_lab.open(name)  # a fresh kernel; no cell runs
    notebook = saving_lab.notebook
    if saving_lab.server.saves_widget_state:
        panel = ChatPanel(notebook.locator(by_testid("chat")).first)
        expect(panel.answer(0)).to_contain_text(FIRST_ANSWER, timeout=ANSWER_MS)
        expect(panel.turn(0).locator(by_testid("user-message"))).to_have_text(FIRST)
        expect(panel.part("status")).to_contain_text("no kernel")
        expect(notebook.get_by_text(MISSING_MODEL)).to_have_count(0)
        shot = "saved-reopen-with-widget-state"
    else:
        error = notebook.locator(".jupyter-widgets", has_text=MISSING_MODEL)
        expect(error).to_have_count(1, timeout=ANSWER_MS)  # JupyterLab did put it there...
        expect(error).to_be_hidden()  # ...and the static copy's style hides it
        copy = notebook.locator(".powawidget-static")
        expect(copy).to_be_visible()
        expect(copy).to_contain_text(FIRST_ANSWER)
        shot = "saved-reopen-without-widget-state"
    saving_lab.page.wait_for_timeout(300)
    saving_lab.screenshot(shot)
    assert page_errors(saving_lab) == []


def test_notebook7_reload_reconnects_the_panel_to_its_conversation(nb7: NotebookPage) -> None:
    name = "reload7.ipynb"
    chat_once(nb7, name)
    save(nb7, name, lambda nb: any("as of turn 1" in c for c in static_copies(nb)))

    panel = reload(nb7)
    expect(panel.turns).to_have_count(1)
    expect(panel.turn(0).locator(by_testid("user-message"))).to_have_text(FIRST)
    expect(panel.answer(0)).to_contain_text(FIRST_ANSWER)
    expect(panel.part("status")).to_have_attribute("data-status", "idle")
    expect(nb7.notebook.locator(".powawidget-static")).to_be_hidden()
    assert page_errors(nb7) == []
