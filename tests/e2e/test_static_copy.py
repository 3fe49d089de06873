"""The static copy of a chat (what a notebook shows without the widget: GitHub, nbconvert, a
reopened notebook whose widget state was not saved) in real JupyterLab, light and dark."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.sign import NotebookNotary
from notebook_page import NotebookPage
from playwright.sync_api import expect

from powawidget.notebook.static import static_html
from powawidget.outputs.transcript import Transcript
from powawidget.wire.events import make_event

pytestmark = pytest.mark.jupyter

AXE = Path(__file__).resolve().parents[2] / "js" / "node_modules" / "axe-core" / "axe.min.js"
ANSWER = (
    "Two plans fit:\n\n| Plan | Seats | Price |\n|---|---|---|\n"
    "| Orbit Team | 3–50 | $12 |\n| Orbit Business | 10–500 | $24 |\n\n"
    "```python\nprint(12 * 12)\n```"
)


def copy_notebook(root: Path) -> str:
    """A saved notebook whose one output is a chat's static copy (no widget state)."""
    events = [
        make_event("user_message", text="How much for 12 people?"),
        make_event("start", run_id="run_static0000001"),
        make_event("content_delta", text=ANSWER, run_id="run_static0000001"),
        make_event("complete", text=ANSWER, run_id="run_static0000001"),
        make_event("user_message", text="Go on"),
        make_event("start", run_id="run_static0000002"),
        make_event("content_delta", text="Partial", run_id="run_static0000002"),
        make_event("stopped", run_id="run_static0000002"),
    ]
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    cell = nbformat.v4.new_code_cell("chat")
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data", data={"text/html": static_html(Transcript(events), "Support chat")}
        )
    ]
    nb.cells = [cell]
    # Trusted, as a notebook its author saved (JupyterLab signs it): an untrusted one is
    # sanitized, styles and all, and shows the copy in the host's own styles.
    NotebookNotary().sign(nb)
    nbformat.write(nb, root / "static_copy.ipynb")
    return "static_copy.ipynb"


def test_the_static_copy_reads_well_in_jupyterlab_light_and_dark(lab: NotebookPage) -> None:
    lab.open(copy_notebook(lab.server.root))
    copy = lab.notebook.locator(".powawidget-transcript")
    expect(copy).to_contain_text("Stopped by the user")
    lab.page.add_script_tag(path=str(AXE))
    try:
        for theme, light in (("JupyterLab Light", "true"), ("JupyterLab Dark", "false")):
            lab.command("apputils:change-theme", {"theme": theme})
            expect(lab.page.locator("body")).to_have_attribute("data-jp-theme-light", light)
            lab.page.wait_for_timeout(300)  # the theme's stylesheet swaps in
            cell = copy.locator(".body td").first
            assert cell.evaluate("(e) => getComputedStyle(e).textAlign") == "left"
            code = copy.locator(".body pre").first  # a visible box around code
            assert code.evaluate("(e) => getComputedStyle(e).borderTopWidth") == "1px"
            assert code.evaluate("(e) => parseFloat(getComputedStyle(e).paddingLeft)") >= 8
            violations = copy.evaluate(
                "async (el) => (await axe.run(el)).violations"
                ".filter((v) => v.impact === 'serious' || v.impact === 'critical')"
                ".map((v) => v.id + ': ' + v.nodes.slice(0, 2).map((n) => n.failureSummary))"
            )
            assert violations == [], (theme, violations)
            lab.screenshot(f"static-copy-lab-{'light' if light == 'true' else 'dark'}", copy)
    finally:
        lab.command("apputils:change-theme", {"theme": "JupyterLab Light"})
