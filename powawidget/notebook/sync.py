"""Append-only, batched event sync from Python to the chat panel's front end.

Every traitlet assignment re-sends the whole value, so a list trait grown per token costs
O(N²) bytes, and jupyter_server drops iopub messages above 1000/s. Instead the widget keeps
an append-only log of slim events and sends only what is new, as custom messages:

- ``{"type": "events", "start": N, "events": [...]}``: ``start`` is the log index of the
  first event; a view that sees ``start`` beyond what it has asks for a snapshot.
- ``{"type": "snapshot", "events": [...], "next": N}``: the whole log `compact`-ed (text
  deltas merged, so it holds fewer events than the log), for a new view or after a gap;
  ``next`` is the log length it covers: the ``start`` the view expects from the next batch.

A flusher thread coalesces events: the first event after a quiet spell goes out at once, and
later ones at most every ``min_interval`` seconds (1/30 s by default: ≤ 30 messages/s, and a
batch at least every ~33 ms while events arrive). The thread exits when idle, so a widget
costs no thread between runs. `EventSync` knows nothing of widgets or kernels: it calls
``send``.

Saved notebooks keep the conversation twice: the widget's `history` trait (`compact` slim
events with long non-answer texts cut to `HISTORY_MAX_CHARS`, assigned once per run) and a
`StaticCopy` output of sanitised HTML for exports.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from powawidget.outputs.transcript import Transcript

logger = logging.getLogger(__name__)

MAX_RESULT_CHARS = 200_000
"""Tool results longer than this are cut in slim events (the full text stays in Python)."""

HISTORY_MAX_CHARS = 4_000
"""Longest text `compact` keeps in a field other than the conversation's own words.

The `history` trait is re-sent whole after every run and saved in the notebook, so a tool
result, reasoning or error text longer than this is cut there (marked ``<field>_truncated``).
"""

MIN_INTERVAL = 1 / 30
"""Default shortest time between two batches: well under the 60 messages/s ceiling."""

IDLE_EXIT = 0.5
"""Seconds without events after which the flusher thread ends."""

# Append-mode text events that `compact` may merge when consecutive in the same run and step.
_MERGEABLE = frozenset({"content_delta", "reasoning_delta", "chunk"})

# Events whose `text` is the conversation itself (the answer, the question): never cut.
_WORDS = frozenset({"content_delta", "chunk", "complete", "user_message", "history"})

Message = dict[str, Any]


def slim_event(event: dict[str, Any]) -> dict[str, Any]:
    """The front end's copy of a canonical event: no `raw`, no None values, long results cut."""
    slim = {k: v for k, v in event.items() if v is not None and k != "raw"}
    result = slim.get("result")
    if isinstance(result, str) and len(result) > MAX_RESULT_CHARS:
        slim["result"] = result[:MAX_RESULT_CHARS]
        slim["result_truncated"] = True
    return slim


def compact(
    events: Iterable[dict[str, Any]], *, max_chars: int | None = HISTORY_MAX_CHARS
) -> list[dict[str, Any]]:
    """Merge runs of consecutive append-mode text deltas into one event each; cut long texts.

    What the panel shows is unchanged (the deltas concatenate in order), but a finished
    10,000-chunk answer becomes one event. With `max_chars` (the default, for the `history`
    trait) any string longer than that is cut and marked ``<field>_truncated``, except the
    text of the answer and of the user's messages; ``max_chars=None`` cuts nothing.
    """
    out: list[dict[str, Any]] = []
    pieces: list[str] = []  # the texts of out[-1] while it is a merge in progress

    def close_merge() -> None:
        if len(pieces) > 1:
            out[-1]["text"] = "".join(pieces)
        pieces.clear()

    for event in events:
        prev = out[-1] if out else None
        if (
            prev is not None
            and event.get("event") in _MERGEABLE
            and event.get("text_mode") == "append"
            and prev.get("event") == event.get("event")
            and prev.get("text_mode") == "append"
            and prev.get("run_id") == event.get("run_id")
            and prev.get("step") == event.get("step")
        ):
            pieces.append(event.get("text") or "")
            continue
        close_merge()
        out.append(dict(event))
        pieces.append(event.get("text") or "")
    close_merge()
    if max_chars is not None:
        for event in out:
            _cut_long_texts(event, max_chars)
    return out


def _cut_long_texts(event: dict[str, Any], max_chars: int) -> None:
    """Cut, in place, every top-level string longer than `max_chars` but the conversation's."""
    for key, value in list(event.items()):
        if not isinstance(value, str) or len(value) <= max_chars:
            continue
        if key == "text" and event.get("event") in _WORDS:
            continue
        event[key] = value[:max_chars]
        event[f"{key}_truncated"] = True


class EventSync:
    """An append-only log of slim events, sent to the front end in rate-limited batches.

    Thread-safe: any thread may `append`; all messages are built and sent under one send
    lock, so a snapshot and a batch never cross (a view skips any overlap by `start`).
    """

    def __init__(
        self,
        send: Callable[[Message], None],
        *,
        min_interval: float = MIN_INTERVAL,
        idle_exit: float = IDLE_EXIT,
    ) -> None:
        self._send = send
        self.min_interval = min_interval
        self._idle_exit = idle_exit
        self._log: list[dict[str, Any]] = []
        self._sent = 0  # log index of the first event not yet sent in a batch
        self._last_send = -1e9  # monotonic time of the last message
        self._cond = threading.Condition(threading.Lock())
        self._send_lock = threading.Lock()
        self._flusher: threading.Thread | None = None
        self._closed = False
        self.messages_sent = 0

    def __len__(self) -> int:
        """Number of events in the log."""
        with self._cond:
            return len(self._log)

    @property
    def events(self) -> list[dict[str, Any]]:
        """A copy of the whole slim log."""
        with self._cond:
            return list(self._log)

    @property
    def pending(self) -> int:
        """Events appended but not yet sent."""
        with self._cond:
            return len(self._log) - self._sent

    def append(self, event: dict[str, Any]) -> None:
        """Add one canonical event; it reaches the front end in the next batch."""
        self.extend([event])

    def extend(self, events: Iterable[dict[str, Any]]) -> None:
        """Add canonical events (slimmed here) and wake the flusher."""
        slims = [slim_event(e) for e in events]
        if not slims:
            return
        with self._cond:
            self._log.extend(slims)
            if self._closed:
                return
            if self._flusher is None:
                self._flusher = threading.Thread(
                    target=self._flush_loop, name="powawidget-sync", daemon=True
                )
                self._flusher.start()
            self._cond.notify()

    def flush(self) -> None:
        """Send every pending event now (e.g. at the end of a run), ignoring the rate limit."""
        with self._send_lock:
            self._send_batch()

    def send_snapshot(self) -> None:
        """Send the whole log, compacted, once (a view rendered late, or one that saw a gap)."""
        with self._send_lock:
            with self._cond:
                log = list(self._log)
                self._sent = len(log)
                self._last_send = time.monotonic()
            # Merged outside the log lock (appends go on); nothing is cut but what slim cut.
            events = compact(log, max_chars=None)
            self._deliver({"type": "snapshot", "events": events, "next": len(log)})

    def close(self) -> None:
        """Flush what is pending and stop the flusher thread (the log stays readable)."""
        self.flush()
        with self._cond:
            self._closed = True
            flusher = self._flusher
            self._cond.notify_all()
        if flusher is not None and flusher is not threading.current_thread():
            flusher.join(timeout=2.0)

    def _send_batch(self) -> None:
        """Send events not yet sent as one message; caller holds the send lock."""
        with self._cond:
            start = self._sent
            batch = self._log[start:]
            if not batch:
                return
            self._sent = len(self._log)
            self._last_send = time.monotonic()
        self._deliver({"type": "events", "start": start, "events": batch})

    def _deliver(self, message: Message) -> None:
        """Hand one message to `send`; a failure is logged, never raised into a run."""
        try:
            self._send(message)
            self.messages_sent += 1
        except Exception:
            logger.exception("powawidget: could not send %s message", message.get("type"))

    def _flush_loop(self) -> None:
        """Send batches while events arrive, at most one per `min_interval`; exit when idle."""
        idle_since = time.monotonic()
        while True:
            with self._cond:
                while True:
                    now = time.monotonic()
                    if self._sent < len(self._log):
                        due = self._last_send + self.min_interval
                        if now >= due or self._closed:
                            break
                        self._cond.wait(due - now)
                        continue
                    if self._closed or now - idle_since >= self._idle_exit:
                        self._flusher = None
                        return
                    self._cond.wait(self._idle_exit - (now - idle_since))
            with self._send_lock:
                self._send_batch()
            idle_since = time.monotonic()


STATIC_COPY_CLASS = "powawidget-static"
"""The static copy's class; the panel's CSS (js/src/styles/theme.css) hides it."""


def in_kernel() -> bool:
    """True inside a running IPython kernel (not plain Python, not a terminal IPython)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and getattr(shell, "kernel", None) is not None


def static_html(transcript: Transcript, title: str) -> str:
    """The conversation as sanitised HTML for a notebook output (nbconvert, GitHub)."""
    body = transcript.to_html(title=title, full_page=False)
    note = (
        '<p class="powawidget-static-note"><em>Static copy of a powawidget chat: the live '
        "panel needs a running kernel.</em></p>"
    )
    return f'<div class="{STATIC_COPY_CLASS}">{note}{body}</div>'


class StaticCopy:
    """A static HTML copy of the conversation as its own notebook output, kept current.

    nbconvert and most renderers show ONE type per output, the widget view first, so the
    copy is a second output under a display id; `refresh` re-renders every copy shown
    (after each run), so saved and exported notebooks keep the conversation.
    """

    def __init__(self, render: Callable[[], str]) -> None:
        self._render = render
        self._display_ids: list[str] = []
        self._lock = threading.Lock()

    def with_copy(self, bundle: tuple[dict, dict] | None) -> tuple[dict, dict] | None:
        """A widget's mimebundle plus `text/html` of the copy (for one-output renderers)."""
        if bundle is None:
            return None
        data, metadata = bundle
        return {**data, "text/html": self._render()}, metadata

    def show(self, bundle: tuple[dict, dict] | None) -> None:
        """Display a widget's mimebundle, then one more copy as a second output."""
        if bundle is None:
            return
        from IPython.display import display

        data, metadata = bundle
        display(data, metadata=metadata, raw=True)
        self.display()

    def display(self) -> None:
        """Show one more copy (each display of the widget gets its own)."""
        from IPython.display import display

        display_id = uuid.uuid4().hex
        with self._lock:
            self._display_ids.append(display_id)
        display({"text/html": self._render()}, raw=True, display_id=display_id)

    def refresh(self) -> None:
        """Re-render every copy shown; a failure is logged, never raised into a run."""
        with self._lock:
            display_ids = list(self._display_ids)
        if not display_ids:
            return
        try:
            from IPython.display import update_display

            data = {"text/html": self._render()}
            for display_id in display_ids:
                update_display(data, raw=True, display_id=display_id)
        except Exception:
            logger.exception("powawidget: could not refresh the static copy of the chat")
