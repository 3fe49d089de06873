"""The pool's gate: a pause every worker honours (429 Retry-After), a stop, and budgets."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Gate:
    """Shared by a pool's dispatcher and its runs: pause, stop, and the budget counters.

    `pause(seconds)` holds back every new run until the pause ends (a 429 pauses the whole
    pool, not one worker); `stop(reason)` ends dispatching for good.
    """

    def __init__(
        self,
        *,
        max_runs: int | None = None,
        max_tokens: int | None = None,
        on_pause: Callable[[float], None] | None = None,
    ) -> None:
        if max_runs is not None and max_runs < 0:
            raise ValueError("max_runs must be >= 0 (or None for no limit)")
        if max_tokens is not None and max_tokens < 0:
            raise ValueError("max_tokens must be >= 0 (or None for no limit)")
        self.max_runs = max_runs
        self.max_tokens = max_tokens
        self.runs_sent = 0
        self.tokens_used = 0
        self.stop_reason: str | None = None
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._paused_until = 0.0
        self._on_pause = on_pause  # told of each pause (a Dask worker tells the others)

    @property
    def stopped(self) -> bool:
        """True once dispatching ended (a stop, a 402, a budget)."""
        return self._stopped.is_set()

    def stop(self, reason: str) -> None:
        """Send no more runs; the first reason given is kept."""
        with self._lock:
            if self.stop_reason is None:
                self.stop_reason = reason
        self._stopped.set()

    def pause(self, seconds: float, *, relay: bool = True) -> None:
        """Hold back new runs for `seconds` (a longer pause already under way is kept)."""
        with self._lock:
            self._paused_until = max(self._paused_until, time.monotonic() + max(0.0, seconds))
        if relay and self._on_pause is not None:
            self._on_pause(seconds)

    def paused_for(self) -> float:
        """Seconds left of the current pause (0 when not paused)."""
        with self._lock:
            return max(0.0, self._paused_until - time.monotonic())

    def wait_open(self) -> bool:
        """Block while paused; False once stopped (then send nothing)."""
        while not self._stopped.is_set():
            left = self.paused_for()
            if left <= 0:
                return True
            self._stopped.wait(min(left, 0.25))
        return False

    def sleep(self, seconds: float) -> bool:
        """Wait `seconds`, or less if stopped meanwhile; True when stopped."""
        return self._stopped.wait(seconds)

    def admit(self) -> bool:
        """Count one run about to be sent, or stop when a budget is reached."""
        with self._lock:
            if self.max_runs is not None and self.runs_sent >= self.max_runs:
                reason = f"max_runs={self.max_runs} reached"
            elif self.max_tokens is not None and self.tokens_used >= self.max_tokens:
                reason = f"max_tokens={self.max_tokens} reached ({self.tokens_used} used)"
            else:
                self.runs_sent += 1
                return True
        self.stop(reason)
        return False

    def spend(self, tokens: int | None) -> None:
        """Add a finished run's tokens to the budget."""
        if tokens:
            with self._lock:
                self.tokens_used += int(tokens)

    def refund(self) -> None:
        """Give back the run `admit` counted for a request the server refused (429)."""
        with self._lock:
            self.runs_sent = max(0, self.runs_sent - 1)
