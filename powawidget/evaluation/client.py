"""The evaluation's own client: a `PowabaseClient` that tells the pool about every 429.

The client retries a 429 itself (before the first byte, honouring Retry-After), but only
the run that got it would wait; `on_error_answer` also pauses the pool's `Gate`, so no
other run starts meanwhile. Runs still go through `PowabaseClient.stream_run`.
"""

from __future__ import annotations

from typing import Any

from powawidget.evaluation.gate import Gate
from powawidget.wire.client import PowabaseClient
from powawidget.wire.errors import PowabaseError, RateLimitedError

RATE_LIMIT_PAUSE = 1.0
"""Seconds the pool pauses after a 429 that names no Retry-After."""


def gated_client(*args: Any, gate: Gate | None = None, **kwargs: Any) -> PowabaseClient:
    """A `PowabaseClient` whose 429 answers pause the whole pool behind `gate`."""
    return pause_on_rate_limits(PowabaseClient(*args, **kwargs), gate)


def pause_on_rate_limits(client: PowabaseClient, gate: Gate | None) -> PowabaseClient:
    """Make `client`'s 429 answers pause the whole pool behind `gate`; returns `client`."""

    def pause_on_rate_limit(error: PowabaseError) -> None:
        if isinstance(error, RateLimitedError) and gate is not None:
            gate.pause(rate_limit_pause(error, client.limits.retry_after.value))

    client.on_error_answer = pause_on_rate_limit
    return client


def rate_limit_pause(error: RateLimitedError, cap: float = 60.0) -> float:
    """How long a 429 pauses the pool: its Retry-After (capped), else a second."""
    retry_after = getattr(error, "retry_after", None)
    return min(cap, retry_after) if retry_after is not None else RATE_LIMIT_PAUSE
