"""The panel's sync: the folded conversation sent as a snapshot, then as batched patches.

Every trait assignment re-sends the whole value (O(N²) bytes for a growing list) and
jupyter_server drops iopub messages above 1000/s, so the panel gets custom messages
(`notebook.messages`): a `Snapshot` of every entry when a view renders or missed a message,
and `Patch`es of what changed. A flusher thread coalesces changes: the first after a quiet
spell goes out at once, later ones at most every `min_interval` s (≤ 30 messages/s), so a
batch's deltas become ONE text append. Only the tail of the conversation can change (a
late event always folds into the latest turn), so a flush re-projects the last entries
only: a long session costs per turn what a short one does. The thread exits when idle.

`PanelSync` reads the conversation it is given under the owner's lock and calls `send`;
it knows nothing of widgets or kernels.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from powawidget.model.conversation import Conversation
from powawidget.model.view import EntryView, entry_positions, entry_view
from powawidget.notebook.messages import KernelMessage, Op
from powawidget.notebook.patches import entry_ops

logger = logging.getLogger(__name__)

MIN_INTERVAL = 1 / 30
"""Default shortest time between two patches: well under the 60 messages/s ceiling."""

IDLE_EXIT = 0.5
"""Seconds without changes after which the flusher thread ends."""


class PanelSync:
    """Snapshot + numbered patches of one conversation, rate-limited, from any thread."""

    def __init__(
        self,
        conversation: Conversation,
        lock: threading.RLock,
        send: Callable[[KernelMessage], None],
        *,
        min_interval: float = MIN_INTERVAL,
        idle_exit: float = IDLE_EXIT,
    ) -> None:
        self._conversation = conversation
        self._lock = lock  # the conversation owner's: held while reading it and sending
        self._send = send
        self.min_interval = min_interval
        self._idle_exit = idle_exit
        self._sent: list[EntryView] = []  # the entries as the views have them
        self._seq = 0
        self._dirty = False
        self._last_send = -1e9
        self._cond = threading.Condition(threading.Lock())
        # Sending holds the owner's lock too: one lock order (owner, then `_cond`), so a
        # flush from a cell and the flusher thread never wait on each other.
        self._send_lock = lock
        self._flusher: threading.Thread | None = None
        self._closed = False
        self.views_seen = 0  # snapshot requests: a live view rendered (or re-rendered)

    def changed(self) -> None:
        """The conversation changed: a patch goes out in the next batch."""
        with self._cond:
            self._dirty = True
            if self._closed:
                return
            if self._flusher is None:
                self._flusher = threading.Thread(
                    target=self._flush_loop, name="powawidget-sync", daemon=True
                )
                self._flusher.start()
            self._cond.notify()

    def flush(self) -> None:
        """Send what changed now, ignoring the rate limit (e.g. at the end of a run)."""
        with self._send_lock:
            self._send_patch()

    def snapshot(self) -> list[EntryView]:
        """Every entry as the panel draws it."""
        return self.tail(0)[0]

    def tail(self, start: int) -> tuple[list[EntryView], int]:
        """The entries from `start` on, and how many entries there are in all."""
        with self._lock:
            conv = self._conversation
            positions = entry_positions(conv)
            return [entry_view(conv, p) for p in positions[start:]], len(positions)

    def send_snapshot(self) -> None:
        """Send every entry once (a view rendered, or it missed a patch)."""
        with self._send_lock:
            entries = self.snapshot()
            with self._cond:
                self._dirty = False
                self._last_send = time.monotonic()
            self._sent = entries
            self.views_seen += 1
            self._deliver({"type": "snapshot", "seq": self._seq, "entries": entries})

    def close(self) -> None:
        """Flush what is pending and stop the flusher thread."""
        self.flush()
        with self._cond:
            self._closed = True
            flusher = self._flusher
            self._cond.notify_all()
        if flusher is not None and flusher is not threading.current_thread():
            flusher.join(timeout=2.0)

    def _send_patch(self) -> None:
        """Diff the tail against what was sent; caller holds the send lock."""
        with self._cond:
            self._dirty = False
        with self._lock:
            conv = self._conversation
            positions = entry_positions(conv)
            start = max(len(self._sent) - 1, 0)
            views = [entry_view(conv, p) for p in positions[start:]]
            note = self._history_note(start)
            note_view = entry_view(conv, positions[note]) if note is not None else None
        ops: list[Op] = []
        if note is not None and note_view is not None:
            ops.extend(entry_ops(note, self._sent[note], note_view))
            self._sent[note] = note_view
        for offset, view in enumerate(views):
            at = start + offset
            old = self._sent[at] if at < len(self._sent) else None
            ops.extend(entry_ops(at, old, view))
        del self._sent[start:]
        self._sent.extend(views)
        if not ops:
            return
        with self._cond:
            self._last_send = time.monotonic()
        self._seq += 1
        self._deliver({"type": "patch", "seq": self._seq, "ops": ops})

    def _history_note(self, tail: int) -> int | None:
        """The sent history note whose group of loaded turns runs on to the tail entry, if
        any: the note says what its whole group holds, so it changes with the group's last
        turn (a loaded session's tool calls arrive after its turns' notes were sent)."""
        at = tail
        while at > 0 and self._sent[at].get("kind") == "turn" and self._sent[at].get("fromHistory"):
            at -= 1
        if at < tail and self._sent[at].get("kind") == "history-note":
            return at
        if tail and self._sent[tail - 1].get("kind") == "history-note":
            return tail - 1  # the tail turn is the group's first and not sent as history yet
        return None

    def _deliver(self, message: KernelMessage) -> None:
        """Hand one message to `send`; a failure is logged, never raised into a run."""
        try:
            self._send(message)
        except Exception:
            logger.exception("powawidget: could not send %s message", message.get("type"))

    def _flush_loop(self) -> None:
        """Send patches while changes come, at most one per `min_interval`; exit when idle."""
        idle_since = time.monotonic()
        while True:
            with self._cond:
                while True:
                    now = time.monotonic()
                    if self._dirty:
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
                self._send_patch()
            idle_since = time.monotonic()
