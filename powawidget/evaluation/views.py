"""`EvaluationViews`: what an `Evaluation` shows — `runs`, the panel's changed rows, score
columns, `summary`, each run's events and `show(i)`.

The read side only: it never changes a row. `Evaluation` (evaluation.py) owns the state
and its lifecycle; this mixin declares the part of that state it reads.
"""

from __future__ import annotations

import threading
from typing import Any

from powawidget.evaluation.columns import RUN_COLUMNS
from powawidget.evaluation.events_store import EventStore
from powawidget.evaluation.prompts import Prompt
from powawidget.evaluation.results import with_carried
from powawidget.evaluation.scoring import SCORE_TAIL, Scoring
from powawidget.outputs.tables import Table
from powawidget.outputs.views import TranscriptViews
from powawidget.wire.canonical import CanonicalEvent


class EvaluationViews(TranscriptViews):
    """The views of an evaluation's rows and events (state set up by `Evaluation`)."""

    scoring: Scoring
    _prompts: list[Prompt]
    _rows: dict[str, dict[str, Any]]
    _store: EventStore
    _scores: dict[str, dict[str, Any]]
    _seq: int
    _touched: dict[str, int]
    _score_names: dict[str, None]
    _lock: threading.RLock

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
