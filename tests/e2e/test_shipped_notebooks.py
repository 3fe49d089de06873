"""The shipped notebooks, opened and run as a user would: JupyterLab and Notebook 7, Run All.

Each notebook must finish without an error output and show live panels; screenshots of
each go to tests/artifacts/ for people to look at.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from chat_panel import by_testid, page_errors
from notebook_page import NotebookPage
from playwright.sync_api import expect

pytestmark = pytest.mark.jupyter

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
ERROR_OUTPUT = "[data-mime-type='application/vnd.jupyter.error']"
STDERR_OUTPUT = "[data-mime-type='application/vnd.jupyter.stderr']"


def run_notebook(page: NotebookPage, name: str) -> None:
    """Copy the shipped notebooks next to the server, open `name`, Run All, wait for the end."""
    shutil.copytree(NOTEBOOKS, page.server.root, dirs_exist_ok=True)
    page.open(name)
    if page.server.kind == "lab":
        page.command("application:toggle-left-area")
    page.run_all()
    page.wait_for_cells(timeout_ms=90_000)


def assert_ran_cleanly(page: NotebookPage) -> None:
    """No error output, nothing on stderr, no uncaught error in the page."""
    errors = page.notebook.locator(ERROR_OUTPUT)
    assert errors.count() == 0, errors.first.inner_text()
    stderr = page.notebook.locator(STDERR_OUTPUT)
    assert stderr.count() == 0, stderr.first.inner_text()
    assert page_errors(page) == []


@pytest.mark.parametrize(
    ("name", "panels"),
    [
        ("01_quickstart.ipynb", 4),
        ("02_transcripts_in_pandas.ipynb", 1),
        ("03_teaching_live_demo.ipynb", 2),
        ("05_ask_about_your_data.ipynb", 2),
    ],
)
def test_shipped_notebook_runs_in_jupyterlab(lab: NotebookPage, name: str, panels: int) -> None:
    run_notebook(lab, name)
    assert_ran_cleanly(lab)
    chats = lab.notebook.locator(by_testid("chat"))
    expect(chats).to_have_count(panels)
    first = chats.first
    first.scroll_into_view_if_needed()
    expect(first.locator(by_testid("turn")).first).to_be_visible()
    stem = name.split("_")[0]
    lab.screenshot(f"notebook-{stem}-lab-panel", first)
    lab.screenshot(f"notebook-{stem}-lab")
    if panels > 1:  # 01: the stopped run; 03: the step-through beside its raw events
        second = chats.nth(1).locator("xpath=ancestor::div[contains(@class, 'widget-hbox')][1]")
        target = second if second.count() else chats.nth(1)
        target.scroll_into_view_if_needed()
        lab.screenshot(f"notebook-{stem}-lab-second", target)
    if stem == "03":
        assert_raw_events_fit(lab)
    if stem == "05":  # the chips under the questions: a DataFrame, then the chart
        chips = first.locator(by_testid("context-chip"))
        expect(chips).to_have_count(3)
        chips.nth(1).locator("summary").click()
        expect(chips.nth(1).locator(by_testid("context-image"))).to_be_visible()
        chips.nth(1).scroll_into_view_if_needed()
        lab.screenshot("notebook-05-lab-chart-chip", first)
        expect(first.locator(by_testid("answer-json"))).to_have_count(1)


def assert_raw_events_fit(page: NotebookPage) -> None:
    """03's table of raw events ends inside the cell's output area: nothing cut on the right."""
    table = page.notebook.locator("table", has_text="tool_name").first
    expect(table).to_be_visible()
    overflow = table.evaluate(
        "(t) => t.getBoundingClientRect().right"
        " - t.closest('.jp-OutputArea-output').getBoundingClientRect().right"
    )
    assert overflow <= 1, f"the raw-event table is cut {overflow:.0f} px on the right"


def test_quickstart_runs_in_notebook7(nb7: NotebookPage) -> None:
    run_notebook(nb7, "01_quickstart.ipynb")
    assert_ran_cleanly(nb7)
    chats = nb7.notebook.locator(by_testid("chat"))
    expect(chats).to_have_count(4)
    approval = chats.nth(3)
    approval.scroll_into_view_if_needed()
    expect(approval.locator(by_testid("approval-outcome"))).to_contain_text("Approved")
    nb7.screenshot("notebook-01-notebook7-approval", approval)
