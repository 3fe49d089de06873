"""The run pool: at most `concurrency` runs at once, each one a chat-panel run.

Every run goes through `session.run.start_run` (the client's `stream_run`, its
`RunStream`, the conversation fold): no second protocol path. The dispatcher thread starts
a run when a slot is free and the `Gate` is open; a run's `start` event is reported the
moment it arrives (its run id goes to the checkpoint before anything else happens).
A run refused with 429 before it started is sent again after the pool's pause; a 402
stops the pool and leaves the prompt unsent; nothing that started is ever sent twice.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from powawidget.evaluation.client import rate_limit_pause
from powawidget.evaluation.columns import COMPLETED, FAILED, PENDING, STOPPED
from powawidget.evaluation.gate import Gate
from powawidget.evaluation.prompts import Prompt
from powawidget.evaluation.results import run_row
from powawidget.session.run import RunHandle, start_run
from powawidget.wire.canonical import CanonicalEvent
from powawidget.wire.errors import InsufficientCreditsError, RateLimitedError

logger = logging.getLogger(__name__)

MAX_RATE_LIMITED = 8
"""Times one prompt may be refused with 429 (after the client's own retries) before it fails."""


@dataclass
class Outcome:
    """A prompt's outcome: its result row and events, or PENDING when it was never sent."""

    prompt: Prompt
    status: str
    row: dict[str, Any]
    events: list[CanonicalEvent]


class RunPool:
    """Run prompts with bounded concurrency; report starts and outcomes through callbacks.

    Callbacks run in the run threads: `on_dispatch(prompt)` as a run is sent,
    `on_started(prompt, run_id, session_id)` when its `start` event arrives,
    `on_finished(outcome)` once it ended (or was handed back unsent: status PENDING).
    """

    def __init__(
        self,
        client: Any,
        agent_id: str,
        *,
        concurrency: int,
        gate: Gate,
        on_finished: Callable[[Outcome], None],
        on_started: Callable[[Prompt, str | None, str | None], None] | None = None,
        on_dispatch: Callable[[Prompt], None] | None = None,
        options: dict[str, Any] | None = None,
    ) -> None:
        if int(concurrency) < 1:
            raise ValueError(f"concurrency must be at least 1, not {concurrency!r}")
        self.client = client
        self.agent_id = agent_id
        self.concurrency = int(concurrency)
        self.gate = gate
        self.options = dict(options or {})
        self._on_finished = on_finished
        self._on_started = on_started
        self._on_dispatch = on_dispatch
        self._cond = threading.Condition()
        self._queue: deque[Prompt] = deque()
        self._inflight: dict[str, RunHandle] = {}
        self._refusals: dict[str, int] = {}

    def run(self, prompts: Iterable[Prompt]) -> list[Prompt]:
        """Send every prompt (blocking); return those left unsent by a stop or a budget."""
        with self._cond:
            self._queue.extend(prompts)
        while True:
            prompt = self._next()
            if prompt is None:
                break
            if not (self.gate.wait_open() and self.gate.admit()):
                self._hand_back(prompt)
                break
            self._start(prompt)
        with self._cond:
            while self._inflight:
                self._cond.wait(0.25)
            left = list(self._queue)
            self._queue.clear()
        return left

    def stop(self) -> None:
        """Send nothing more and stop the runs in flight (they keep what they received)."""
        self.gate.stop("stopped by the user")
        with self._cond:
            handles = list(self._inflight.values())
        for handle in handles:
            handle.stop()

    def _next(self) -> Prompt | None:
        """The next prompt once a slot is free; None when all are done or the gate stopped."""
        with self._cond:
            while True:
                if self.gate.stopped:
                    return None
                if self._queue and len(self._inflight) < self.concurrency:
                    return self._queue.popleft()
                if not self._queue and not self._inflight:
                    return None
                self._cond.wait(0.25)

    def _hand_back(self, prompt: Prompt) -> None:
        """Put a prompt back at the front of the queue (it was not sent)."""
        with self._cond:
            self._queue.appendleft(prompt)
            self._cond.notify_all()

    def _start(self, prompt: Prompt) -> None:
        """Start one run through the chat panel's run path."""
        seen: list[str] = []

        def emit(event: CanonicalEvent) -> None:
            run_id = event.get("run_id")
            if not seen and run_id and self._on_started is not None:
                seen.append(run_id)
                self._on_started(prompt, run_id, event.get("session_id"))

        if self._on_dispatch is not None:
            self._on_dispatch(prompt)
        with self._cond:  # held until registered: `_finish` (run thread) waits for it
            handle = start_run(
                self.client,
                self.agent_id,
                prompt.prompt,
                emit=emit,
                options=self.options,
                on_finish=lambda h: self._finish(prompt, h),
            )
            self._inflight[prompt.key] = handle
        if self.gate.stopped:
            handle.stop()

    def _finish(self, prompt: Prompt, handle: RunHandle) -> None:
        """A run ended (in its thread): requeue a refusal, stop on 402, else report it."""
        error = handle.error
        outcome: Outcome | None
        if handle.run_id is None and isinstance(error, RateLimitedError):
            outcome = self._refused(prompt, error)
        elif handle.run_id is None and isinstance(error, InsufficientCreditsError):
            self.gate.stop(error.message)
            outcome = Outcome(prompt, PENDING, {}, [])
        elif handle.run_id is None and handle.stopped:
            outcome = Outcome(prompt, PENDING, {}, [])  # stopped before the request left
        else:
            status = FAILED if error else STOPPED if handle.stopped else COMPLETED
            events = handle.events
            row = run_row(prompt, handle.turn, status, error.message if error else None)
            self.gate.spend(row.get("tokens"))
            outcome = Outcome(prompt, status, row, events)
        try:
            if outcome is not None:
                self._on_finished(outcome)
        except Exception:
            logger.exception("powawidget: recording an evaluation run failed")
        finally:
            with self._cond:
                self._inflight.pop(prompt.key, None)
                self._cond.notify_all()

    def _refused(self, prompt: Prompt, error: RateLimitedError) -> Outcome | None:
        """A 429 before the run started: pause the pool and send it again later."""
        with self._cond:
            self._refusals[prompt.key] = self._refusals.get(prompt.key, 0) + 1
            refusals = self._refusals[prompt.key]
        if refusals > MAX_RATE_LIMITED:
            return Outcome(prompt, FAILED, run_row(prompt, None, FAILED, error.message), [])
        self.gate.pause(rate_limit_pause(error))
        self.gate.refund()  # refused: it did not run, so it costs no budget
        self._hand_back(prompt)
        return None
