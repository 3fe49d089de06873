"""`ChatWidget`: chat with a Powabase agent inside a notebook (an anywidget chat panel).

The class declares the front end and the small synced state and delegates its verbs; the
work lives elsewhere: `session.chat.ChatSession` owns the conversation (runs, the one event
log and fold, status), `notebook.sync` sends the folded turns to the panel,
`notebook.publishing` and `notebook.static` keep the saved and static copies,
`notebook.construction`, `notebook.replaying` and `notebook.asking` hold the constructors'
and the blocking verbs' logic. The traits are one-way projections of the session
(docs/architecture.md, "Who owns what").
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any, get_args

import anywidget
import ipywidgets as widgets
import traitlets as t

from powawidget.model.status import SessionStatus
from powawidget.notebook import bundle, construction, panel, publishing, replaying
from powawidget.notebook.asking import Answer, Asking
from powawidget.notebook.construction import THEMES
from powawidget.notebook.kernel import in_kernel, warn_if_broken_ipykernel
from powawidget.notebook.messages import KernelMessage
from powawidget.notebook.saved import SavedEntry, SavedHistory
from powawidget.notebook.static import MimeBundle, StaticCopy, static_html
from powawidget.notebook.sync import PanelSync
from powawidget.outputs.tables import Table
from powawidget.outputs.views import TranscriptViews
from powawidget.session.chat import ChatSession
from powawidget.session.context import ContextLimits, build_context
from powawidget.session.listing import SESSION_COLUMNS
from powawidget.session.run import RunHandle
from powawidget.wire.canonical import CanonicalEvent
from powawidget.wire.client import PowabaseClient

__all__ = ["THEMES", "Answer", "ChatWidget"]

warn_if_broken_ipykernel()


class ChatWidget(Asking, TranscriptViews, anywidget.AnyWidget):
    """A chat panel bound to one Powabase agent; runs stream in background threads."""

    # Stored once per notebook (see `notebook.bundle`). The styles also hide the static copy
    # (a second output, for exports) wherever the live panel renders.
    _esm = bundle.ESM
    _css = bundle.CSS

    # Projections of the session: read-only from outside, set by `_show` alone.
    agent_id = t.Unicode("", read_only=True).tag(sync=True)
    agent_name = t.Unicode("", read_only=True).tag(sync=True)
    session_id = t.Unicode(None, allow_none=True, read_only=True).tag(sync=True)
    status = t.Enum(get_args(SessionStatus), "idle", read_only=True).tag(sync=True)
    error = t.Unicode("", read_only=True).tag(sync=True)
    # The widget's own settings.
    banner = t.Unicode("").tag(sync=True)
    mode = t.Enum(("live", "replay"), "live").tag(sync=True)
    placeholder = t.Unicode("Message the agent…").tag(sync=True)
    theme = t.Enum(THEMES, "auto").tag(sync=True)
    # What a saved notebook shows: the last of the entries' models, each referencing the
    # one before (`notebook.saved`); written by the kernel alone, read by the page while no
    # kernel answers.
    history = t.Instance(SavedEntry, allow_none=True).tag(sync=True, **widgets.widget_serialization)
    # Written by the page only: turns settled, so marimo re-runs cells reading `.value`.
    settled = t.Int(0).tag(sync=True)

    def __init__(
        self,
        agent_id: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        orchestration_id: str | None = None,
        session_id: str | None = None,
        client: PowabaseClient | None = None,
        theme: str = "auto",
        placeholder: str | None = None,
        options: dict[str, Any] | None = None,
        fetch_usage: bool = True,
        idle_timeout: float = 300.0,
        _recording: list[CanonicalEvent] | None = None,
    ) -> None:
        """A panel for one agent (or orchestration), connected at once.

        Args:
            agent_id: the agent to chat with; None picks the first agent listed.
            orchestration_id: chat with an orchestration instead (a supervisor that delegates to
                the agents it holds): each delegation is drawn as the sub-agent's own run.
                `ChatWidget.orchestrations()` lists them.
            base_url, api_key: the project URL and key; else POWABASE_BASE_URL and
                POWABASE_API_KEY. With neither anywhere, the built-in local agent server starts
                and a banner says so.
            session_id: continue this session (its earlier runs are loaded into the panel).
            client: a ready `PowabaseClient` instead of base_url/api_key.
            theme: "auto" (follow JupyterLab), "light" or "dark".
            placeholder: the input box's hint text.
            options: extra run options sent with every message (temperature, ...).
            fetch_usage: look up the token usage of runs whose stream lacks it (agents without
                tools) once each ends; False skips that request.
            idle_timeout: seconds without any byte (keepalives count) before a run gives up
                (default 300; a client= passed keeps its own).
        """
        construction.check_theme(theme)
        replay = _recording is not None
        client, owns_client, banner = construction.open_client(
            client, base_url, api_key, idle_timeout=idle_timeout, replay=replay
        )
        try:
            bundle.share(self)
            super().__init__(theme=theme, banner=banner, mode="replay" if replay else "live")
            if placeholder is not None:
                self.placeholder = placeholder
            self._static = StaticCopy(self._static_html)
            self._saved = SavedHistory()
            self._chat = ChatSession(
                client,
                agent_id,
                orchestration_id=orchestration_id,
                owns_client=owns_client,
                options=options,
                on_event=lambda _event: self._sync.changed(),
                on_state=self._show,
                on_settle=self._settle,
                on_waited=self._republish,
                fetch_usage=fetch_usage,
            )
            self._sync = PanelSync(self._chat.conversation, self._chat.lock, self._send_panel)
            self.on_msg(self._on_panel_message)
            if session_id is not None:
                self.load_session(session_id)
        except BaseException:
            construction.abandon(self, client if owns_client else None)
            raise

    @staticmethod
    def orchestrations(
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        client: PowabaseClient | None = None,
    ) -> Table:
        """The project's orchestrations (id, name, strategy, agents, description): pass an
        id as ChatWidget(orchestration_id=...)."""
        return construction.orchestrations(client, base_url, api_key)

    @classmethod
    def replay(
        cls,
        source: str | os.PathLike[str] | Iterable[CanonicalEvent],
        speed: float = 1.0,
        *,
        max_gap: float = 2.0,
        theme: str = "auto",
    ) -> ChatWidget:
        """A read-only panel playing a recorded conversation (a saved .jsonl or events).

        Timing is the original divided by `speed` (0 = at once), pauses capped at `max_gap`
        seconds. No server, no key. `w.wait()` blocks until it has played; `w.stop()` ends it.
        """
        return replaying.replay(cls, source, speed, max_gap, theme)

    def __repr__(self) -> str:
        return (
            f"<ChatWidget agent_id={self.agent_id!r} session_id={self.session_id!r} "
            f"status={self.status!r} mode={self.mode!r} events={len(self._chat)}>"
        )

    # ---- the user's verbs (the conversation's, see `session.chat.ChatSession`) ----------

    def send(
        self,
        text: str | dict[str, Any],
        buffers: Any = None,
        *,
        context: Any = None,
        response_format: Any = None,
        options: dict[str, Any] | None = None,
    ) -> RunHandle:
        """Send a message to the agent; returns a `RunHandle` at once (the run streams).

        `context`: notebook objects the agent sees with this message (a str, a DataFrame or
        Series, a dict, a matplotlib Figure, an image, a Path, or a list of these; see
        `w.context` to keep one for every message). `response_format`: a Pydantic model, a
        dataclass or a JSON schema for a structured answer (`handle.parsed`). `options`:
        run options for this message only, over the widget's.

        A second message while a run streams raises `RunInProgressError` (runs are never
        queued): wait for the handle, or `stop()` first. A failed run never raises here:
        its handle holds the error and the panel shows it. (Passing a dict sends a raw
        custom message to the front end, as `anywidget` does.)
        """
        if isinstance(text, dict):
            super().send(text, buffers)
            return None  # type: ignore[return-value]
        return self._chat.send(
            text, context=context, response_format=response_format, options=options
        )

    @property
    def context(self) -> Any:
        """Context sent with EVERY message until set to None (the server keeps none between
        messages); each message's own `context=` comes after it."""
        return self._chat.context

    @context.setter
    def context(self, value: Any) -> None:
        if value is not None:  # refuse what cannot be sent now, not at the next message
            build_context(value, limits=self._chat.context_limits, kept=True)
        self._chat.context = value

    @property
    def context_limits(self) -> ContextLimits:
        """Caps on the context of one message (`w.context_limits.max_chars = 50_000`)."""
        return self._chat.context_limits

    @context_limits.setter
    def context_limits(self, value: ContextLimits) -> None:
        if not isinstance(value, ContextLimits):
            raise TypeError("context_limits takes a ContextLimits (change its fields instead).")
        self._chat.context_limits = value

    def stop(self) -> None:
        """Stop the streaming run (or the replay); what arrived so far stays."""
        self._chat.stop()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the current run (or replay) ends; True when nothing is playing."""
        finished = self._chat.wait(timeout)
        if finished and self._chat.replaying:
            self._republish()
        return finished

    @property
    def replay_done(self) -> bool:
        """True once a replay has played every event (always True for a live widget)."""
        return self._chat.replay_done

    @property
    def last_run(self) -> RunHandle | None:
        """The latest run's handle (streaming or finished), or None before the first."""
        return self._chat.last_run

    def new_session(self) -> None:
        """Start a fresh session: the next message opens a new conversation on the server."""
        self._chat.new_session()

    def approve(self, approved: bool = True, reason: str | None = None) -> None:
        """Answer the agent's approval request (Approve / Deny in the panel)."""
        self._chat.approve(approved, reason)

    def load_session(self, session_id: str) -> None:
        """Show a stored session (its tool calls and failed runs too) and continue it."""
        self._chat.load_session(session_id)

    def sessions(self) -> Table:
        """This agent's sessions (session_id, first_message, last_activity, runs), newest
        first: w.load_session(id) continues one."""
        return Table(self._chat.sessions(), SESSION_COLUMNS)

    # ---- views (the rest are `outputs.views.TranscriptViews`) ---------------------------

    @property
    def events(self) -> list[CanonicalEvent]:
        """A copy of every canonical event so far (raw payloads included)."""
        return self._chat.events

    def close(self) -> None:
        """Stop any run, flush the panel, close our client and the widget's comm."""
        parts = self.__dict__  # a failed __init__ may not have got that far
        if "_chat" in parts:
            self._chat.close()
        if "_sync" in parts:
            self._sync.close()
        super().close()
        if "_saved" in parts:
            self._saved.close()
        bundle.release(self)

    # ---- display: the live panel plus a static HTML copy for exports ------------------------

    def _repr_mimebundle_(self, **kwargs: Any) -> MimeBundle | None:
        """The widget view, plus `text/html` of the conversation for exports and GitHub."""
        return self._static.with_copy(super()._repr_mimebundle_(**kwargs))

    def _ipython_display_(self) -> None:
        """Show the panel, then its static copy as a second output (see `StaticCopy`)."""
        self._static.show(super()._repr_mimebundle_())

    def _static_html(self) -> str:
        """The conversation as sanitised HTML (what nbconvert and GitHub show)."""
        return static_html(self.to_transcript(), self.agent_name or self.agent_id or "Chat")

    # ---- the session's state → traits and the panel ------------------------------------------

    def _show(self, **changes: Any) -> None:
        """Project the session's new state onto the traits (the only writer of them)."""
        for name, value in changes.items():
            self.set_trait(name, value)

    def _settle(self, **changes: Any) -> None:
        """At rest: the panel catches up, the traits show the final state, the saved copies
        are refreshed (`notebook.publishing`)."""
        publishing.settle(self, changes)

    def _republish(self) -> None:
        """Keep the saved state from the cell that waited (for nbclient runs).

        Messages a thread sends between cells carry a stale parent header that headless
        runners ignore; sent from the waiting cell, they land in the saved notebook. With no
        view, a run's `SavedEntry` models are made here, so their comms open from a cell.
        """
        self._keep_history()
        if in_kernel():
            self._static.refresh()

    def _keep_history(self) -> None:
        """Bring the saved entries up to date; `history` then references the last model."""
        publishing.keep_history(self)

    def _send_panel(self, message: KernelMessage) -> None:
        """One kernel → panel message (a snapshot, a patch, the picker's sessions)."""
        anywidget.AnyWidget.send(self, message)

    def _on_panel_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        """Messages from the panel (see `notebook.panel`): never stream or wait here."""
        panel.handle(self, content)
