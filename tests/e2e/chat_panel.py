"""The chat panel as a user meets it in the page: type, press Enter, read answers, click.

Selectors are the front end's `data-testid` attributes (js/src/app.js, js/src/render/*),
so restyling the panel does not break these tests.
"""

from __future__ import annotations

from notebook_page import NotebookPage, write_notebook
from playwright.sync_api import Locator, expect

ANSWER_MS = 30_000


def by_testid(name: str) -> str:
    """CSS selector for a `data-testid`."""
    return f"[data-testid='{name}']"


class ChatPanel:
    """One rendered ChatWidget inside a notebook page."""

    def __init__(self, root: Locator) -> None:
        """Wrap the panel's root element (`[data-testid=chat]`)."""
        self.root = root

    def part(self, name: str) -> Locator:
        """Elements of the panel with data-testid `name`."""
        return self.root.locator(by_testid(name))

    @property
    def input(self) -> Locator:
        """The message box."""
        return self.part("input")

    @property
    def turns(self) -> Locator:
        """One article per turn (user message + answer)."""
        return self.part("turn")

    def wait_ready(self) -> ChatPanel:
        """Wait until the panel is connected to its kernel and accepts a message."""
        expect(self.input).to_be_enabled(timeout=ANSWER_MS)
        expect(self.part("send")).to_have_attribute("data-action", "send")
        return self

    def type_and_enter(self, text: str) -> None:
        """Type `text` into the message box and press Enter, as a user does."""
        self.input.click()
        self.input.press_sequentially(text)
        self.input.press("Enter")

    def turn(self, index: int) -> Locator:
        """The turn at `index` (0 = first; -1 = last)."""
        return self.turns.last if index == -1 else self.turns.nth(index)

    def wait_turn_status(self, index: int, status: str, timeout_ms: int = ANSWER_MS) -> None:
        """Wait until turn `index` has `status` (streaming, completed, stopped, …)."""
        expect(self.turn(index)).to_have_attribute("data-status", status, timeout=timeout_ms)

    def answer(self, index: int = -1) -> Locator:
        """The assistant's text of turn `index`."""
        return self.turn(index).locator(by_testid("assistant-text"))

    def wait_idle(self) -> None:
        """Wait until the run status line says the panel is ready again."""
        expect(self.part("status")).to_have_attribute("data-status", "idle", timeout=ANSWER_MS)
        expect(self.part("send")).to_have_attribute("data-action", "send")


KERNEL_CHECK = "import sys\nprint('kernel prefix:', sys.prefix)"
"""A first cell whose output proves which Python runs the kernel."""


def widget_cell(agent_id: str) -> str:
    """A cell that shows a ChatWidget for `agent_id` (URL and key come from the server env)."""
    return f"from powawidget import ChatWidget\n\nchat = ChatWidget(agent_id={agent_id!r})\nchat"


def open_panel(page: NotebookPage, name: str, agent_id: str) -> ChatPanel:
    """Write and open a notebook showing a panel for `agent_id`; Run All; return the panel."""
    write_notebook(page.server.root, name, [KERNEL_CHECK, widget_cell(agent_id)])
    page.open(name)
    if page.server.kind == "lab":
        page.command("application:toggle-left-area")  # room for the panel and screenshots
    page.run_all()
    return ChatPanel(page.notebook.locator(by_testid("chat")).first).wait_ready()


def page_errors(page: NotebookPage) -> list[str]:
    """Uncaught errors in the page, minus Notebook 7's known settings-loader noise."""
    return [e for e in page.errors if "reading 'schema'" not in e]
