"""Fixtures for the fast front-end layer: the built bundle in a plain page on 127.0.0.1,
a fake anywidget model, and a real (Debian) Chromium driven by Playwright."""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page

from powawidget.model.conversation import Conversation
from powawidget.model.view import entries
from powawidget.notebook.saved import saved_entry
from powawidget.notebook.sync import PanelSync

ROOT = Path(__file__).resolve().parents[2]
JS_DIR = ROOT / "js"
STATIC = ROOT / "powawidget" / "static"
HARNESS = Path(__file__).parent / "harness"


def bundle_is_stale() -> bool:
    """True when widget.js is missing or older than any source file under js/src."""
    bundle = STATIC / "widget.js"
    if not bundle.exists() or not (STATIC / "widget.css").exists():
        return True
    built = bundle.stat().st_mtime
    sources = [*(JS_DIR / "src").rglob("*"), JS_DIR / "package.json"]
    return any(p.is_file() and p.stat().st_mtime > built for p in sources)


@pytest.fixture(scope="session")
def widget_bundle() -> Path:
    """The built front end; runs `npm run build` in js/ only when it is missing or stale."""
    if bundle_is_stale():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is needed to build the front end (js/): install Node.js 18+.")
        if not (JS_DIR / "node_modules").exists():
            subprocess.run([npm, "ci"], cwd=JS_DIR, check=True)
        subprocess.run([npm, "run", "build"], cwd=JS_DIR, check=True, capture_output=True)
    return STATIC


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves /static/* from the bundle folder and everything else from the harness."""

    def translate_path(self, path: str) -> str:
        """Map /static/ to powawidget/static, the rest to tests/browser/harness."""
        path = path.split("?", 1)[0]
        if path.startswith("/static/"):
            return str(STATIC / path.removeprefix("/static/"))
        if path in ("", "/"):
            path = "/index.html"
        return str(HARNESS / path.lstrip("/"))

    def end_headers(self) -> None:
        """No caching: every test sees the freshly built bundle."""
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test output is about the panel, not the file server."""


@pytest.fixture(scope="session")
def harness_url(widget_bundle: Path) -> Iterator[str]:
    """A tiny HTTP server on 127.0.0.1 (free port) serving the bundle and the test page."""
    handler = functools.partial(_Handler, directory=str(HARNESS))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="harness-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def module_page(browser: BrowserContext, harness_url: str) -> Iterator[Any]:
    """A blank page with the panel's stylesheet: add a `bundle_module` with add_script_tag."""
    page = browser.new_page()
    page.goto(harness_url + "blank.html")
    try:
        yield page
    finally:
        page.close()


class ChatPage:
    """The panel in the harness page, with the fake model's controls."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self._fold(Conversation())
        page.on("dialog", self._on_dialog)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def _on_dialog(self, dialog: Any) -> None:
        """Record and dismiss any alert/confirm/prompt (an XSS payload would open one)."""
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def mount(self, models: dict[str, Any] | None = None, **traits: Any) -> ChatPage:
        """Render the widget with these trait values (defaults for the rest); `models` are
        other widget models by id (a saved notebook's entries, see `saved`)."""
        self.page.evaluate("([s, m]) => pw.mount(s, m)", [traits, models or {}])
        return self

    def deliver(self, message: dict[str, Any]) -> None:
        """A custom message from "Python"."""
        self.page.evaluate("(m) => pw.deliver(m)", message)

    def _fold(self, conversation: Conversation) -> None:
        """Python's side, for real: the conversation and the sync that patches the page."""
        self.conversation = conversation
        self.sync = PanelSync(conversation, threading.RLock(), self.deliver)

    def events(self, events: list[dict[str, Any]]) -> None:
        """Fold canonical events in Python and deliver the one patch they make."""
        self.conversation.extend(events)
        self.sync.flush()

    def snapshot(self, events: list[dict[str, Any]]) -> None:
        """A `snapshot` message: the conversation these events fold into."""
        self._fold(Conversation(events))
        self.sync.send_snapshot()

    @staticmethod
    def saved(events: list[dict[str, Any]]) -> dict[str, Any]:
        """What a notebook saved for these events (`notebook.saved`): `history` references
        the last entry's model, each model the one before; pass it all to `mount`."""
        models: dict[str, Any] = {}
        previous = None
        for n, entry in enumerate(entries(Conversation(events))):
            model_id = f"saved{n:04d}"
            models[model_id] = {
                "entry": json.loads(json.dumps(saved_entry(entry))),
                "previous": previous,
            }
            previous = f"IPY_MODEL_{model_id}"
        return {"history": previous, "models": models}

    def set(self, name: str, value: Any) -> None:
        """Change a synced trait (as Python would)."""
        self.page.evaluate("([n, v]) => pw.set(n, v)", [name, value])

    def sent(self) -> list[dict[str, Any]]:
        """Messages the front end sent to Python so far."""
        return self.page.evaluate("() => pw.sent()")

    def settle(self) -> None:
        """Wait two animation frames: the panel renders at most once per frame."""
        self.page.evaluate("() => pw.frames(2)")

    def xss_fired(self) -> bool:
        """Whether any payload set the page's global flag."""
        return bool(self.page.evaluate("() => window.__xss"))


@pytest.fixture
def chat(browser: BrowserContext, harness_url: str) -> Iterator[ChatPage]:
    """A fresh page with the harness loaded (the widget not yet mounted)."""
    page = browser.new_page()
    page.set_viewport_size({"width": 900, "height": 760})
    page.goto(harness_url)
    page.wait_for_function("() => window.pwReady === true")
    chat_page = ChatPage(page)
    try:
        yield chat_page
    finally:
        page.close()
    assert not chat_page.errors, f"uncaught errors in the page: {chat_page.errors}"
