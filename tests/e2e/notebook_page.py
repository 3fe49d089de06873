"""Drive a notebook in a real JupyterLab or Notebook 7 page: open, wait for the kernel, Run All.

Both hosts expose the application as `window.jupyterapp` (server flag `--expose-app-in-browser`)
and in both `shell.currentWidget` is the open NotebookPanel, so the kernel check is shared.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import nbformat
from jupyter_host import JupyterServer
from playwright.sync_api import Locator, Page

OPEN_TIMEOUT_MS = 60_000

# True once the open notebook has a session with a connected, idle kernel.
KERNEL_READY_JS = """() => {
  const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const ctx = panel && panel.sessionContext;
  const kernel = ctx && ctx.session && ctx.session.kernel;
  return !!(ctx && ctx.isReady && kernel && kernel.connectionStatus === 'connected'
            && kernel.status === 'idle');
}"""

# True once no cell is queued or running (the kernel is idle and no prompt shows "[*]").
CELLS_DONE_JS = """(scope) => {
  const panel = window.jupyterapp.shell.currentWidget;
  const kernel = panel.sessionContext.session.kernel;
  const busy = [...document.querySelectorAll(scope + ' .jp-InputPrompt')]
    .some((p) => p.textContent.includes('*'));
  return kernel.status === 'idle' && !busy;
}"""


def write_notebook(root: Path, name: str, cells: list[str]) -> str:
    """Write a notebook of code `cells` under `root` with the python3 kernel; return its name."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nbformat.write(nb, root / name)
    return name


class NotebookPage:
    """One browser page showing one notebook in JupyterLab ("lab") or Notebook 7 ("notebook")."""

    def __init__(self, page: Page, server: JupyterServer, artifacts: Path) -> None:
        """Wrap `page` for notebooks served by `server`; screenshots go to `artifacts`."""
        self.page = page
        self.server = server
        self.artifacts = artifacts
        self.errors: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    @property
    def scope(self) -> str:
        """CSS selector of the visible notebook panel in this host."""
        if self.server.kind == "lab":
            return ".jp-NotebookPanel:not(.lm-mod-hidden)"
        return ".jp-NotebookPanel"

    @property
    def notebook(self) -> Locator:
        """The visible notebook panel."""
        return self.page.locator(self.scope).first

    def open(self, name: str) -> NotebookPage:
        """Open notebook `name` and wait until its kernel is connected and idle."""
        path = quote(name)
        if self.server.kind == "lab":
            url = f"{self.server.url}/lab/tree/{path}?reset"
        else:
            url = f"{self.server.url}/notebooks/{path}"
        self.page.goto(url)
        self.notebook.locator(".jp-Cell").first.wait_for(timeout=OPEN_TIMEOUT_MS)
        self.page.wait_for_function(KERNEL_READY_JS, timeout=OPEN_TIMEOUT_MS)
        return self

    def run_all(self) -> None:
        """Run every cell through the Run menu, as a user would."""
        menubar = self.page.locator(".lm-MenuBar-item", has_text="Run").first
        menubar.click()
        self.page.locator(".lm-Menu-item[data-command='runmenu:run-all']").click()

    def wait_for_cells(self, timeout_ms: int = 60_000) -> None:
        """Wait until every cell has run and the kernel is idle again."""
        self.page.wait_for_timeout(200)
        self.page.wait_for_function(CELLS_DONE_JS, arg=self.scope, timeout=timeout_ms)

    def output_text(self, cell_index: int) -> str:
        """The text of a cell's outputs."""
        cell = self.notebook.locator(".jp-CodeCell").nth(cell_index)
        return cell.locator(".jp-OutputArea").inner_text()

    def execute(self, code: str) -> str:
        """Run `code` silently in the page's kernel and return its stdout (for checks only)."""
        js = """async (code) => {
          const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
          let out = '';
          const future = kernel.requestExecute({code, silent: false, store_history: false});
          future.onIOPub = (msg) => {
            if (msg.header.msg_type === 'stream') out += msg.content.text;
            const c = msg.content;
            if (msg.header.msg_type === 'error') out += c.ename + ': ' + c.evalue;
          };
          await future.done;
          return out;
        }"""
        return str(self.page.evaluate(js, code))

    def command(self, command_id: str, args: dict | None = None) -> None:
        """Execute an application command (e.g. 'apputils:change-theme')."""
        self.page.evaluate(
            "([id, args]) => window.jupyterapp.commands.execute(id, args)",
            [command_id, json.loads(json.dumps(args or {}))],
        )

    def screenshot(self, name: str, locator: Locator | None = None) -> Path:
        """Save a PNG of the page (or of `locator`) to the artifacts folder and return its path."""
        path = self.artifacts / f"{name}.png"
        (locator or self.page).screenshot(path=str(path))
        return path
