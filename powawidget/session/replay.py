"""Play a recorded conversation back into the panel with its original timing, scaled.

For classrooms without network: no server, no key. The pacing comes from the events'
`received_at` stamps; `speed=2` plays twice as fast, `speed=0` at once. Long pauses (the
user thinking between turns) are capped at `max_gap` seconds so a replay never stalls.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from powawidget.model.conversation import parse_time
from powawidget.wire.canonical import CanonicalEvent

logger = logging.getLogger(__name__)


def replay_delays(
    events: Sequence[CanonicalEvent], speed: float = 1.0, max_gap: float = 2.0
) -> list[float]:
    """Seconds to wait before each event: the recorded gaps divided by `speed`, capped."""
    if speed < 0:
        raise ValueError(f"speed must be ≥ 0 (0 plays at once), not {speed!r}")
    delays: list[float] = []
    previous = None
    for event in events:
        at = parse_time(event.get("received_at"))
        gap = 0.0
        if speed > 0 and at is not None and previous is not None:
            gap = min(max((at - previous).total_seconds(), 0.0), max_gap) / speed
        if at is not None:
            previous = at
        delays.append(gap)
    return delays


class Replay:
    """Emits recorded events at their recorded pace (in a thread) until done or stopped."""

    def __init__(
        self,
        events: Sequence[CanonicalEvent],
        *,
        emit: Callable[[CanonicalEvent], object],
        on_finish: Callable[[], None] | None = None,
        speed: float = 1.0,
        max_gap: float = 2.0,
    ) -> None:
        self.events = list(events)
        self.delays = replay_delays(self.events, speed, max_gap)
        self._emit = emit
        self._on_finish = on_finish
        self._stop = threading.Event()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self.played = 0

    def start(self) -> Replay:
        """Start playing: in a background thread when there are pauses to keep, else at once
        in the caller's thread (an instant replay needs no thread); returns self."""
        if any(delay > 0 for delay in self.delays):
            self._thread = threading.Thread(
                target=self._play, name="powawidget-replay", daemon=True
            )
            self._thread.start()
        else:
            self._play()
        return self

    @property
    def done(self) -> bool:
        """True once every event was played (or the replay was stopped)."""
        return self._done.is_set()

    def stop(self) -> None:
        """Stop playing; the events played so far stay."""
        self._stop.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the replay ends; True when it did."""
        finished = self._done.wait(timeout)
        thread = self._thread
        if finished and thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5.0)
        return finished

    def _play(self) -> None:
        """Emit each event after its delay; stop promptly when asked."""
        try:
            for event, delay in zip(self.events, self.delays, strict=True):
                if delay > 0 and self._stop.wait(delay):
                    break
                if self._stop.is_set():
                    break
                self._emit(event)
                self.played += 1
        except Exception:
            logger.exception("powawidget: the replay failed")
        finally:
            if self._on_finish is not None:
                try:
                    self._on_finish()
                except Exception:
                    logger.exception("powawidget: finishing the replay failed")
            self._done.set()
