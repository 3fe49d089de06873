"""What every executor (local threads, Dask workers) is given: where and how to send runs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from powawidget.evaluation.gate import Gate

logger = logging.getLogger(__name__)


@dataclass
class RunSettings:
    """An evaluation's run settings, built once by `evaluate` and shared by its executor:
    the agent, how many runs at once, the gate (stop, pause, budgets), per-run options and
    what closes the client `evaluate` opened (None when the caller owns it)."""

    agent_id: str
    concurrency: int
    gate: Gate
    options: dict[str, Any] = field(default_factory=dict)
    on_close: Callable[[], None] | None = None

    def close(self) -> None:
        """Close the evaluation's client; a failure is logged, so the evaluation still ends."""
        if self.on_close is None:
            return
        try:
            self.on_close()
        except Exception:
            logger.exception("powawidget: closing the evaluation's client failed")
