"""`Evaluation`: the one owner of an evaluation's state — rows, events, progress, checkpoint.

Executors (the local pool, Dask) report into it through `_dispatched`, `_started` and
`_finished`; the panel and the terminal line subscribe to its changes. Everything a run
produced is kept, whatever ends the evaluation (a stop, a budget, a 402).
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
from powawidget.evaluation.columns import (
    DONE_STATUSES,
    FAILED,
    PENDING,
    RUN_COLUMNS,
    RUNNING,
    SCORED_STATUSES,
    UNFINISHED,
)
from powawidget.evaluation.events_store import EventStore
from powawidget.evaluation.prompts import Prompt
from powawidget.evaluation.results import pending_row, with_carried
from powawidget.evaluation.scoring import SCORE_TAIL, Scoring, finish
from powawidget.evaluation.stats import progress
from powawidget.outputs.tables import Table
from powawidget.outputs.views import TranscriptViews
from powawidget.wire.canonical import CanonicalEvent

Listener = Callable[[], None]


class Evaluation(TranscriptViews):
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

    # ---- views ----------------------------------------------------------------------------

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

    def changed_rows(self, since: int) -> tuple[int, list[tuple[int, dict[str, Any]]]]:
        """(the change count now, [(index, row)] changed after `since`; all when < 0): the
        live panel sends only these, without building the whole table each time."""
        with self._lock:
            names = self.score_columns if self.scoring or self._scores else None
            changed = [
                (i, self._row(p, names))
                for i, p in enumerate(self._prompts)
                if since < 0 or self._touched.get(p.key, 0) > since
            ]
            return self._seq, changed

    def _row(self, prompt: Prompt, names: list[str] | None) -> dict[str, Any]:
        """One row of `runs` (score columns when `names` is not None)."""
        row = with_carried(self._rows[prompt.key], prompt)
        if names is not None:
            row.update(dict.fromkeys(names))
            row.update(passed=None, score=None, errors=[])
            row.update(self._scores.get(prompt.key) or {})
        return row

    @property
    def runs(self) -> Table:
        """One row per (prompt, repeat), in the prompts' order: `RUN_COLUMNS`, the carried
        columns, then (with scorers) a column per scorer, `passed`, `score` and `errors`."""
        with self._lock:
            names = self.score_columns if self.scoring or self._scores else None
            rows = [self._row(p, names) for p in self._prompts]
        carried: list[str] = []
        for prompt in self._prompts:
            carried.extend(k for k in prompt.carried if k not in carried)
        columns = [*RUN_COLUMNS, *carried]
        if names is not None:
            columns += [*names, *SCORE_TAIL]
        return Table(rows, columns)

    @property
    def score_columns(self) -> list[str]:
        """The scorers' columns, in order (a scorer returning a dict has one per key)."""
        names = list(self.scoring.names)
        with self._lock:
            names += [n for n in self._score_names if n not in names]
        return names

    def summary(self, by: str | list[str] | None = None) -> Table:
        """Per group of `by` (columns of `runs`): n, pass_rate with its 95 % Wilson interval,
        each scorer's mean with its 95 % interval, tokens, latency p50/p95 (see
        `evaluation.summary`)."""
        from powawidget.evaluation.summary import summarise

        return summarise(self.runs, self.score_columns, by)

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

    @property
    def events(self) -> list[CanonicalEvent]:
        """Every run's canonical events, prompt after prompt (the transcript views' source)."""
        with self._lock:
            keys = [p.key for p in self._prompts]
        return [e for key in keys for e in self._store.get(key)]

    def run_events(self, index: int) -> list[CanonicalEvent]:
        """The canonical events of the run of prompt `index` (empty if it has not run)."""
        return self._store.get(self._prompts[index].key)

    def show(self, index: int) -> Any:
        """A read-only chat panel showing the run of prompt `index` (tool cards and all)."""
        if not -len(self._prompts) <= index < len(self._prompts):
            raise IndexError(f"no prompt {index}: this evaluation has {len(self._prompts)}")
        events = self.run_events(index)
        if not events:
            status = self._rows[self._prompts[index].key]["status"]
            raise ValueError(f"prompt {index} has no conversation to show (it is {status}).")
        return self._replay(events)

    def _replay(self, events: list[CanonicalEvent]) -> Any:
        """Draw one run's events; the chat panel lives in notebook/, a sibling layer, so
        `powawidget.Evaluation` (powawidget.api) supplies it."""
        raise RuntimeError(
            "ev.show(i) draws a chat panel: make the evaluation with powawidget.evaluate() or "
            "powawidget.Evaluation.load()."
        )

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
        """Take what the checkpoint holds; return the prompts still to send.

        A run that started (its run id is in the checkpoint) but has no outcome is to be
        read back from the server (`recover`; see `evaluation.recover`), never sent again.
        """
        state = checkpoint.load()
        todo: list[Prompt] = []
        for prompt in self._prompts:
            finished, started = state.finished.get(prompt.key), state.started.get(prompt.key)
            for record in (finished, started):
                if record is not None and record.get("prompt", prompt.prompt) != prompt.prompt:
                    raise ValueError(
                        f"{checkpoint.path} was written for other prompts: prompt {prompt.key!r}"
                        f" was {record.get('prompt')!r}, now {prompt.prompt!r}. Use a new "
                        "checkpoint file for a new prompt set."
                    )
            if finished is not None:
                row = {k: finished["row"].get(k) for k in RUN_COLUMNS}
                row["repeat"] = prompt.repeat
                self._set_row(prompt.key, row)
                offset, length = finished["events_at"]
                self._store.at(prompt.key, (checkpoint.path, offset, length))
                self._score(prompt, row, finished.get("scores"))
                if row["status"] == FAILED and retry_failed:
                    pass
                elif row["status"] in DONE_STATUSES or not retry_unfinished:
                    continue
            elif started is not None and started.get("run_id") and recover:
                self._set_row(
                    prompt.key,
                    pending_row(
                        prompt,
                        RUNNING,
                        run_id=started.get("run_id"),
                        session_id=started.get("session_id"),
                    ),
                )
                self._recovering.append((prompt, started))
                continue
            elif started is not None and recover and _number(started.get("sent_at")):
                # sent, no run id yet: looked for among the agent's sessions (`recover`)
                self._set_row(prompt.key, pending_row(prompt, RUNNING))
                self._unclaimed.append((prompt, started))
                continue
            elif started is not None:
                self._set_row(
                    prompt.key,
                    pending_row(
                        prompt,
                        UNFINISHED,
                        run_id=started.get("run_id"),
                        session_id=started.get("session_id"),
                        error=(
                            "started before the checkpoint's process ended; not sent again "
                            if started.get("run_id")
                            else "sent before the checkpoint's process ended, with no run id "
                            "recorded (it may have run on the server); not sent again "
                        )
                        + "(pass retry_unfinished=True to send it again)",
                    ),
                )
                if not retry_unfinished:
                    continue
            todo.append(prompt)
        self._checkpoint = checkpoint
        return todo

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


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


__all__ = ["Evaluation"]
