"""`EvaluationPanel`: the live progress panel, an anywidget in the chat panel's bundle.

The bundle's default export dispatches on the `_view` trait ("evaluation"). Small state is
traits (`stats`, `state`, `stop_reason`, `banner`); rows travel as custom messages holding
only the rows that changed since the last flush (at most 5 flushes a second), so a
1,000-prompt evaluation costs the comm about the size of its rows once, not once per run.
Clicking a row asks for that run's folded turn — `model.view.turn_view`, the chat panel's own
snapshot shape — drawn read-only under the table; `Evaluation.show(i)` opens the full chat
panel replay.

notebook/ and evaluation/ are siblings (docs/architecture.md, "The layer contract"): the
panel reads an evaluation through `EvaluationSource`, never by importing evaluation/;
`powawidget.api` wires the two.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import anywidget
import traitlets as t

from powawidget.model.conversation import Conversation
from powawidget.model.view import turn_view
from powawidget.notebook import bundle
from powawidget.outputs.tables import Table
from powawidget.wire.canonical import CanonicalEvent

FLUSH_INTERVAL = 0.2
PREVIEW_CHARS = 240


class EvaluationSource(Protocol):
    """What the panel reads of an evaluation (`evaluation.Evaluation` is one)."""

    agent_id: str
    banner: str
    stop_reason: str | None

    @property
    def state(self) -> str: ...
    @property
    def done(self) -> bool: ...
    @property
    def progress(self) -> dict[str, Any]: ...
    @property
    def runs(self) -> Table: ...
    def stop(self) -> None: ...
    def run_events(self, index: int) -> list[CanonicalEvent]: ...
    def subscribe(self, listener: Callable[[], None]) -> None: ...
    def changed_rows(self, since: int) -> tuple[int, list[tuple[int, dict[str, Any]]]]: ...


class EvaluationPanel(anywidget.AnyWidget):
    """Done / running / failed counts, throughput, TTFT p50/p95, progress + ETA, runs, Stop."""

    _esm = bundle.ESM  # stored once per notebook (see `notebook.bundle`)
    _css = bundle.CSS

    _view = t.Unicode("evaluation").tag(sync=True)
    agent_id = t.Unicode("").tag(sync=True)
    stats = t.Dict().tag(sync=True)
    state = t.Unicode("running").tag(sync=True)
    stop_reason = t.Unicode("").tag(sync=True)
    banner = t.Unicode("").tag(sync=True)

    def __init__(self, evaluation: EvaluationSource) -> None:
        bundle.share(self)
        super().__init__(agent_id=evaluation.agent_id, banner=evaluation.banner)
        self.evaluation = evaluation
        self._lock = threading.Lock()
        self._sent: dict[int, dict[str, Any]] = {}
        self._seen = -1  # the evaluation's change count at the last flush (-1: send all)
        self._timer: threading.Timer | None = None
        self._last_flush = 0.0
        self.on_msg(self._on_front_message)
        evaluation.subscribe(self._changed)
        self.flush()

    def close(self) -> None:
        """Close the comm; another live panel takes the shared bundle over."""
        super().close()
        bundle.release(self)

    def __repr__(self) -> str:
        return f"<EvaluationPanel {self.evaluation!r}>"

    def flush(self) -> None:
        """Send the stats and the rows that changed since the last flush."""
        evaluation = self.evaluation
        with self._lock:
            self._timer = None
            self._last_flush = time.monotonic()
            changed = []
            self._seen, rows = evaluation.changed_rows(self._seen)
            for index, row in rows:
                compact = _compact(row)
                if self._sent.get(index) != compact:
                    self._sent[index] = compact
                    changed.append([index, compact])
            stats = evaluation.progress
            self.stats = stats
            self.state = evaluation.state
            self.stop_reason = evaluation.stop_reason or ""
            if changed:
                self._post({"type": "rows", "rows": changed})

    def _changed(self) -> None:
        """Flush soon (throttled); at once when the evaluation ended."""
        if self.evaluation.done:
            self.flush()
            return
        with self._lock:
            if self._timer is not None:
                return
            wait = max(0.0, FLUSH_INTERVAL - (time.monotonic() - self._last_flush))
            self._timer = threading.Timer(wait, self.flush)
            self._timer.daemon = True
            self._timer.start()

    def _post(self, message: dict[str, Any]) -> None:
        self.send(message)

    def _on_front_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        """Stop, a (re)connected front end asking for every row, or a row click."""
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "stop":
            self.evaluation.stop()
        elif kind == "ready":
            with self._lock:
                rows = [[i, r] for i, r in sorted(self._sent.items())]
            self._post({"type": "rows", "rows": rows, "reset": True})
        elif kind == "open" and isinstance(content.get("index"), int):
            self._post({"type": "run", **run_detail(self.evaluation, content["index"])})


def run_detail(evaluation: EvaluationSource, index: int) -> dict[str, Any]:
    """One run as the chat panel draws it: `model.view.turn_view` of its folded turn."""
    runs = evaluation.runs
    if not 0 <= index < len(runs):
        return {"index": index, "error": f"no prompt {index}"}
    row = runs[index]
    turn = Conversation(evaluation.run_events(index)).last_turn
    return {
        "index": index,
        "prompt": row["prompt"],
        "status": row["status"],
        "error": row["error"] or "",
        "turn": turn_view(turn) if turn is not None else None,
    }


def _compact(row: dict[str, Any]) -> dict[str, Any]:
    """The few fields the runs table shows, answers cut short."""
    return {
        "prompt": _clip(row["prompt"]),
        "answer": _clip(row["answer"] or ""),
        "status": row["status"],
        "passed": row.get("passed"),
        "ttft": row["time_to_first_token_ms"],
        "duration": row["duration_ms"],
        "tokens": row["tokens"],
        "tools": row["tool_calls"],
        "error": _clip(row["error"] or ""),
    }


def _clip(text: str) -> str:
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"
