"""`Evaluation`: the one owner of an evaluation's state — rows, events, progress, checkpoint.

Executors (the local pool, Dask) report into it through `_dispatched`, `_started` and
`_finished`; the panel and the terminal line subscribe to its changes. Everything a run
produced is kept, whatever ends the evaluation (a stop, a budget, a 402). What it shows
(`runs`, `summary`, `show`) is `views.EvaluationViews`; resuming a checkpoint is `resume`.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from powawidget.evaluation.checkpoint import Checkpoint
from powawidget.evaluation.columns import PENDING, RUNNING, SCORED_STATUSES
from powawidget.evaluation.events_store import EventStore
from powawidget.evaluation.prompts import Prompt
from powawidget.evaluation.results import pending_row, with_carried
from powawidget.evaluation.resume import resume
from powawidget.evaluation.scoring import SCORE_TAIL, Scoring, finish
from powawidget.evaluation.stats import progress
from powawidget.evaluation.views import EvaluationViews
from powawidget.wire.canonical import CanonicalEvent

Listener = Callable[[], None]


class Evaluation(EvaluationViews):
    """An agent run over many prompts: `runs`, `tool_calls`, `transcript`; wait, stop, save.

    Made by `powawidget.evaluate(...)` (running) or `Evaluation.load(path)` (finished).
    """

    def __init__(
        self, agent_id: str, prompts: list[Prompt], scoring: Scoring | None = None
    ) -> None:
        self.agent_id = agent_id
        self.scoring = scoring if scoring is not None else Scoring()
        self.stop_reason: str | None = None
        self.banner = ""
        self._prompts = list(prompts)
        self._rows: dict[str, dict[str, Any]] = {p.key: pending_row(p) for p in self._prompts}
        self._store = EventStore()  # each run's events, on disk (see `events_store`)
        self._scores: dict[str, dict[str, Any]] = {}
        self._recovering: list[tuple[Prompt, dict[str, Any]]] = []
        self._unclaimed: list[tuple[Prompt, dict[str, Any]]] = []
        self._seq = 0  # counts row changes; `_touched` has each row's last (the panel's diff)
        self._touched: dict[str, int] = {}
        self._score_names: dict[str, None] = {}  # every score column seen, in order
        self._lock = threading.RLock()
        self._done = threading.Event()
        self._listeners: list[Listener] = []
        self._checkpoint: Checkpoint | None = None
        self._executor: Any = None
        self._started_at = time.monotonic()
        self._ended_at: float | None = None
        self._finished_here = 0
        self._state = "running"

    def __repr__(self) -> str:
        stats = self.progress
        reason = f" ({self.stop_reason})" if self.stop_reason else ""
        return (
            f"<Evaluation agent={self.agent_id!r} {self._state}{reason}: "
            f"{stats['done']}/{stats['total']} done, {stats['running']} running, "
            f"{stats['failed']} failed>"
        )

    # ---- progress -------------------------------------------------------------------------

    @property
    def state(self) -> str:
        """running, done, stopped (by the user, a budget or a 402)."""
        return self._state

    @property
    def done(self) -> bool:
        """True once nothing more will run."""
        return self._done.is_set()

    @property
    def progress(self) -> dict[str, Any]:
        """Counts (done, running, failed, ...), throughput, TTFT p50/p95 and ETA."""
        with self._lock:
            end = self._ended_at if self._ended_at is not None else time.monotonic()
            stats = progress(list(self._rows.values()), end - self._started_at, self._finished_here)
            verdicts = [s["passed"] for s in self._scores.values() if s.get("passed") is not None]
        stats["passed"] = sum(1 for v in verdicts if v)
        stats["scored"] = len(verdicts)
        stats["pass_rate"] = round(stats["passed"] / len(verdicts), 4) if verdicts else None
        return stats

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every prompt ran (or the evaluation stopped); True when it ended.

        A cell blocked here handles no Stop click: use `await ev.wait_async()` for that.
        """
        try:
            return self._done.wait(timeout)
        except KeyboardInterrupt:
            self.stop()
            raise

    async def wait_async(self, timeout: float | None = None, poll: float = 0.1) -> bool:
        """Like `wait`, but lets the kernel handle panel clicks meanwhile."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._done.is_set():
            if deadline is not None and time.monotonic() >= deadline:
                return False
            await asyncio.sleep(poll)
        return True

    def stop(self) -> None:
        """Send no more prompts and stop the runs in flight; what finished is kept."""
        if self._executor is not None and not self.done:
            self._executor.stop()

    # ---- rescore, save, load -------------------------------------------------------------

    def rescore(self, scorers: Any, **connection: Any) -> Evaluation:
        """The same runs scored by `scorers`, as a new (ended) evaluation: no run is sent.

        `connection` (base_url=, api_key=, client=) is only needed by `scorers.judge`, which
        sends its own runs to grade.
        """
        if not self.done:
            raise RuntimeError("this evaluation is still running: ev.wait() first, then rescore")
        scoring = Scoring(scorers)
        if connection or any(hasattr(s, "bind") for _, s in scoring.scorers):
            from powawidget.evaluation.api import connect_for_judge

            closer = connect_for_judge(scoring, connection)
        else:
            closer = None
        try:
            other = type(self)(self.agent_id, self._prompts, scoring)
            other.banner = self.banner
            with self._lock:
                other._rows = {k: dict(v) for k, v in self._rows.items()}
                other._store.share(self._store)
            for prompt in self._prompts:
                other._score(prompt, other._rows[prompt.key])
        finally:
            if closer is not None:
                closer()
        other._end(self.stop_reason)
        return other

    def _show_progress(self) -> Any:
        """What `evaluate(display=...)` shows: here the terminal's progress line
        (`powawidget.Evaluation` shows the live panel instead inside a notebook)."""
        from powawidget.evaluation.terminal import ProgressLine

        return ProgressLine(self)

    def to_parquet(self, path: str | os.PathLike[str]) -> Path:
        """Write the runs (and each run's events, as JSON) to a Parquet file, atomically."""
        from powawidget.evaluation.storage import write_parquet

        return write_parquet(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Evaluation:
        """Read an evaluation saved by `to_parquet` (or a checkpoint .jsonl)."""
        from powawidget.evaluation.storage import read_evaluation

        return read_evaluation(cls, path)

    # ---- what executors report ----------------------------------------------------------

    def subscribe(self, listener: Listener) -> None:
        """Call `listener()` after every change (from any thread)."""
        self._listeners.append(listener)

    def _changed(self) -> None:
        for listener in list(self._listeners):
            try:
                listener()
            except Exception:  # a display problem must not lose a run
                import logging

                logging.getLogger(__name__).exception("powawidget: evaluation listener failed")

    def _resume(
        self,
        checkpoint: Checkpoint,
        retry_unfinished: bool,
        retry_failed: bool = False,
        *,
        recover: bool = True,
    ) -> list[Prompt]:
        """Take what the checkpoint holds; return the prompts still to send (`resume`)."""
        return resume(self, checkpoint, retry_unfinished, retry_failed, recover=recover)

    def _unrecovered(self, prompt: Prompt, record: dict[str, Any], why: str) -> None:
        """A run that could not be read back from the server: unfinished, saying why."""
        from powawidget.evaluation.recover import unrecovered_row

        with self._lock:
            self._set_row(prompt.key, unrecovered_row(prompt, record, why))
        self._changed()

    def _dispatched(self, prompt: Prompt) -> None:
        if self._checkpoint is not None:  # before the request leaves: a crash now leaves a trace
            self._checkpoint.started(prompt.key, prompt.prompt, None, None)
        with self._lock:
            self._set_row(prompt.key, pending_row(prompt, RUNNING))
        self._changed()

    def _started(self, prompt: Prompt, run_id: str | None, session_id: str | None) -> None:
        if self._checkpoint is not None:  # the run id, before anything else
            self._checkpoint.started(prompt.key, prompt.prompt, run_id, session_id)
        with self._lock:
            self._rows[prompt.key].update(run_id=run_id, session_id=session_id)
            self._touch(prompt.key)
        self._changed()

    def _finished(
        self, prompt: Prompt, status: str, row: dict, events: list[CanonicalEvent]
    ) -> None:
        if status == PENDING:  # handed back unsent (a stop before the request, a 402)
            if self._checkpoint is not None:
                self._checkpoint.unsent(prompt.key)
            with self._lock:
                self._set_row(prompt.key, pending_row(prompt))
            self._changed()
            return
        row["repeat"] = prompt.repeat
        scores = self._score(prompt, row)
        if self._checkpoint is not None:  # the events are read back from its line
            self._store.at(prompt.key, self._checkpoint.finished(prompt.key, row, events, scores))
        else:
            self._store.put(prompt.key, events)
        with self._lock:
            self._set_row(prompt.key, row)
            self._finished_here += 1
        self._changed()

    def _note_names(self, scores: dict[str, Any]) -> None:
        """Remember score columns first seen in `scores` (a dict scorer's keys)."""
        for name in scores:
            if name not in SCORE_TAIL and name not in self._score_names:
                self._score_names[name] = None

    def _set_row(self, key: str, row: dict[str, Any]) -> None:
        """Replace a prompt's row (under the lock) and note the change."""
        self._rows[key] = row
        self._touch(key)

    def _touch(self, key: str) -> None:
        self._seq += 1
        self._touched[key] = self._seq

    def _score(
        self, prompt: Prompt, row: dict[str, Any], stored: dict[str, Any] | None = None
    ) -> dict[str, Any] | None:
        """Score a finished run (stored scores of the same scorers are taken as they are;
        with no scorers, stored scores are kept: a loaded checkpoint)."""
        if row.get("status") not in SCORED_STATUSES or not (self.scoring or stored):
            self._scores.pop(prompt.key, None)
            return None
        names = self.scoring.names
        if stored and all(n in stored or any(k.startswith(n + ".") for k in stored) for n in names):
            values = dict(stored)
        else:
            values = self.scoring.score(with_carried(row, prompt))
        scores = finish(values, row.get("status"))
        with self._lock:
            self._scores[prompt.key] = scores
            self._note_names(scores)
        return scores

    def _end(self, stop_reason: str | None) -> None:
        """Nothing more will run: settle the state, close the checkpoint, wake waiters."""
        with self._lock:
            self.stop_reason = stop_reason
            for prompt in self._prompts:  # a run that never reported back is not running
                if self._rows[prompt.key]["status"] == RUNNING:
                    self._set_row(prompt.key, pending_row(prompt))
            pending = any(r["status"] == PENDING for r in self._rows.values())
            self._state = "stopped" if stop_reason or pending else "done"
            if self._state == "stopped" and self.stop_reason is None:
                self.stop_reason = "stopped"
            self._ended_at = time.monotonic()
        if self._checkpoint is not None:
            self._checkpoint.close()
        self._done.set()
        self._changed()


__all__ = ["Evaluation"]
