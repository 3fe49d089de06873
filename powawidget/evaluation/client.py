"""The evaluation's own client: a `PowabaseClient` that tells the pool about every 429.

The client retries a 429 itself (before the first byte, honouring Retry-After), but only
the run that got it would wait; this subclass also pauses the pool's `Gate`, so no other
run starts meanwhile. Runs still go through `PowabaseClient.stream_run` and `RunStream`.
"""

from __future__ import annotations

from typing import Any

from powawidget.evaluation.gate import Gate
from powawidget.wire.client import PowabaseClient
from powawidget.wire.errors import PowabaseError, RateLimitedError

RATE_LIMIT_PAUSE = 1.0
"""Seconds the pool pauses after a 429 that names no Retry-After."""


class GatedClient(PowabaseClient):
    """A `PowabaseClient` whose 429 answers pause a whole pool (see the module docstring)."""

    def __init__(self, *args: Any, gate: Gate | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.gate = gate

    def _error(self, *args: Any, **kwargs: Any) -> PowabaseError:
        error = super()._error(*args, **kwargs)
        if isinstance(error, RateLimitedError) and self.gate is not None:
            self.gate.pause(rate_limit_pause(error, self.max_backoff))
        return error


def rate_limit_pause(error: RateLimitedError, cap: float = 60.0) -> float:
    """How long a 429 pauses the pool: its Retry-After (capped), else a second."""
    retry_after = getattr(error, "retry_after", None)
    return min(cap, retry_after) if retry_after is not None else RATE_LIMIT_PAUSE
