"""Token usage for runs whose stream did not carry it (agents without tools).

On the server's standard-streaming path the `complete` event has no `usage`; the stored
run has it (`GET /api/agents/runs/{run_id}`, docs/protocol.md "Two server paths"). After
such a run ends, it is fetched once, with a short timeout, and logged as a `usage` event:

    {"event": "usage", "run_id": ..., "session_id": ..., "usage": {...}, "seq": -1, ...}

A failure is logged at debug level and never raised: usage is a nicety, the run is over.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from powawidget.wire.canonical import CanonicalEvent
from powawidget.wire.events import make_event

__all__ = ["USAGE_TIMEOUT", "needs_usage", "usage_event"]

logger = logging.getLogger(__name__)

USAGE_TIMEOUT = 1.5
"""Seconds to connect, and to wait for the answer, when looking up a run's stored usage
(one attempt, no retries): at most 3 s in all, what a message sent meanwhile waits."""


def needs_usage(events: Iterable[CanonicalEvent]) -> bool:
    """True when a run completed without any event carrying its usage."""
    completed = False
    for event in events:
        if isinstance(event.get("usage"), dict):
            return False
        if event.get("event") == "complete" and event.get("status") != "failed":
            completed = True
    return completed


def usage_event(client: Any, run_id: str, session_id: str | None) -> CanonicalEvent | None:
    """The `usage` event for a finished run, from its stored record; None when unavailable."""
    try:
        run = client.get_run(run_id, timeout=USAGE_TIMEOUT)
    except Exception as error:  # usage is optional: a slow or failing lookup must not matter
        logger.debug("powawidget: no usage for run %s: %s", run_id, error)
        return None
    usage = run.get("usage") if isinstance(run, dict) else None
    if not isinstance(usage, dict) or not usage:
        logger.debug("powawidget: run %s has no stored usage", run_id)
        return None
    return make_event("usage", run_id=run_id, session_id=session_id, usage=usage)
