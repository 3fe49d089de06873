"""The progress line outside a notebook: one line on stderr, redrawn at most 4 times a second."""

from __future__ import annotations

import sys
import threading
import time
from typing import Any, TextIO

from powawidget.evaluation.evaluation import Evaluation
from powawidget.evaluation.stats import progress_line

INTERVAL = 0.25


class ProgressLine:
    """Redraws `evaluation`'s progress on `stream` (a carriage return on a TTY, else lines)."""

    def __init__(self, evaluation: Evaluation, stream: TextIO | None = None) -> None:
        self._evaluation = evaluation
        self._stream = stream if stream is not None else sys.stderr
        self._tty = bool(getattr(self._stream, "isatty", lambda: False)())
        self._lock = threading.Lock()
        self._last = 0.0
        self._ended = False
        if evaluation.banner:
            print(evaluation.banner, file=self._stream)
        evaluation.subscribe(self.update)

    def update(self) -> None:
        """Draw the line if the last draw is old enough (always at the end)."""
        evaluation = self._evaluation
        now = time.monotonic()
        with self._lock:
            if self._ended:
                return
            final = evaluation.done
            if not final and now - self._last < (INTERVAL if self._tty else 5.0):
                return
            self._last = now
            self._ended = final
            self._draw(progress_line(evaluation.progress, evaluation.state), final)

    def _draw(self, line: str, final: bool) -> None:
        out: Any = self._stream
        if self._tty:
            out.write("\r\x1b[K" + line + ("\n" if final else ""))
        else:
            out.write(line + "\n")
        if final and self._evaluation.stop_reason:
            out.write(f"Stopped: {self._evaluation.stop_reason}\n")
        out.flush()
