"""The Powabase HTTP client: one method per endpoint (runs, approvals, agents, sessions).

`PowabaseClient.stream_run` returns a `RunStream` (powawidget.wire.stream, re-exported here),
an iterator of canonical event dicts that reads the run's events as they arrive. This module
holds the run endpoints (start, stored run, approval); agents, sessions, history and
orchestrations are `powawidget.wire.listings`'s `Listings`, which it extends. Sending,
retries and error answers are `powawidget.wire.transport`'s job.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from powawidget.wire.answers import (
    agent_id_advice,
    agent_not_found_advice,
    not_event_stream_error,
    run_resend_advice,
)
from powawidget.wire.errors import NotFoundError, scrub_error
from powawidget.wire.listings import Listings
from powawidget.wire.orchestrations import (
    OrchestrationId,
    is_orchestration,
    orchestration_id_advice,
    orchestration_not_found_advice,
)
from powawidget.wire.stopping import CancelWatch, InflightRequest
from powawidget.wire.stream import RunStream
from powawidget.wire.transport import PAGE_SIZE, Stopped, read_start, segment

__all__ = ["PAGE_SIZE", "OrchestrationId", "PowabaseClient", "RunStream"]

log = logging.getLogger(__name__)

APPROVE_NOT_FOUND_RETRIES = 3
"""Extra tries of an approval answered 404: a multi-worker server may route it to a worker
that does not hold the run for a moment (docs/protocol.md, Approvals)."""
APPROVE_NOT_FOUND_DELAY = 0.25
"""Seconds before the first such retry; doubled each time (0.25, 0.5, 1 s)."""
AGENT_NOT_FOUND_ADVICE = agent_not_found_advice()


class PowabaseClient(Listings):
    """A client for one Powabase project: one `requests.Session`, both auth headers, retries.

    Args:
        base_url: the project URL; defaults to $POWABASE_BASE_URL.
        api_key: the project key; defaults to $POWABASE_API_KEY (or $POWABASE_SERVICE_ROLE_KEY).
        connect_timeout: seconds to establish a connection.
        idle_timeout: seconds without any byte (keepalives count) before a read gives up;
            there is no total timeout, runs can last many minutes.
        max_retries: retries before the first byte of an answer (429, 502, 503, 504, and
            connection failures: for a run or an approval only those that prove the request
            never left, since the server may have started it); 0 disables them.
        backoff, max_backoff: exponential backoff with full jitter, capped (a Retry-After
            header replaces it, see `max_retry_after`).
        sleep, jitter: injectable pause and `random.random` (for fast tests); by default a
            backoff waits on `stream_run`'s `cancel` event, so a stop cuts it short.
        origin: who chose the URL and key when the user did not (e.g. "the built-in local
            server"): advice names it instead of base_url= / POWABASE_BASE_URL.
        uuid_agent_ids: the server's agent ids are UUIDs (Powabase): a 500 for an agent id
            that is not one is the permanent `InvalidIdError`, whatever its page says
            (False for the built-in local server, whose demo ids are `agt_…`).
        max_event_mb, max_answer_mb, max_decompressed_mb: caps on one event, one JSON
            answer, and the bytes one compressed answer expands to (MB; default 64, 128,
            256, else the POWABASE_MAX_EVENT_MB / _ANSWER_MB / _DECOMPRESSED_MB variables).
            Past one, reading stops with a `TooLargeError`; a run keeps what arrived.
        max_retry_after: the longest Retry-After waited out (seconds, default 60, else
            POWABASE_MAX_RETRY_AFTER); a longer one fails at once, naming the wait.
        on_error_answer: called with the typed error of every error answer, retried or not
            (an evaluation pauses all its runs on a 429 this way).
        audience: who reads the advice in errors: `config.NOTEBOOK` (arguments such as
            api_key=, the default) or `config.TERMINAL` (flags such as --api-key).
    """

    def __repr__(self) -> str:
        return f"PowabaseClient(base_url={self._base_url!r})"

    # -- runs -----------------------------------------------------------------------------

    def stream_run(
        self,
        agent_id: str,
        message: str,
        session_id: str | None = None,
        *,
        cancel: threading.Event | None = None,
        **options: Any,
    ) -> RunStream:
        """Start a run and return its event stream.

        Configuration and HTTP errors (and a 200 that is not an event stream) raise here, at
        once; the body is read lazily as the caller iterates. `options` (temperature,
        timeout_seconds, …) go into the request body; None values are left out.

        `cancel` (one event per run) is the run's stop flag, from any thread, at any time
        (a `StopFlag` acts inside its `set()`; a plain Event is noticed within 50 ms):
        set before the request, no request is sent; set during a retry backoff, the wait
        ends at once; set while waiting for the response headers, the connection is shut
        down at once (milliseconds). In those cases no error is raised: the `RunStream` returned is
        already `stopped` and yields nothing — exactly as if `stop()` had been called on it
        at once (a request that reached the server may still run there in the background).
        Later, setting `cancel` stops the stream like `RunStream.stop()`, which sets it too.
        """
        body: dict[str, Any] = {"message": message}
        if session_id:
            body["session_id"] = session_id
        body.update({k: v for k, v in options.items() if v is not None})
        inflight = watch = None
        if cancel is not None:
            inflight = InflightRequest()
            watch = CancelWatch(cancel, inflight.abort)
        orchestration = is_orchestration(agent_id)  # OrchestrationId: /api/orchestrations/…
        try:
            response = self._request(
                "POST",
                f"/api/{'orchestrations' if orchestration else 'agents'}/"
                f"{segment(agent_id)}/run/stream",
                json_body=body,
                headers={"Accept": "text/event-stream", "Cache-Control": "no-cache"},
                subject=f"{'Orchestration' if orchestration else 'Agent'} {str(agent_id)!r}",
                not_found_advice=orchestration_not_found_advice(self.audience)
                if orchestration
                else agent_not_found_advice(self.audience),
                bad_id_advice=(
                    orchestration_id_advice(self.audience)
                    if orchestration
                    else agent_id_advice(self.audience)
                ),
                agent_id=agent_id,
                resend_advice=run_resend_advice(self.audience),
                cancel=cancel,
                inflight=inflight,
            )
        except Stopped:
            return RunStream.stopped_before_start(agent_id, cancel)
        except NotFoundError as missing:
            raise self._ids_here(missing, orchestration=orchestration) from None
        finally:
            if watch is not None:
                watch.close()
        if cancel is not None and cancel.is_set():
            response.close()
            return RunStream.stopped_before_start(agent_id, cancel)
        content_type = response.headers.get("Content-Type", "")
        if content_type.split(";")[0].strip().lower() != "text/event-stream":
            start = read_start(response, self._key)
            error = not_event_stream_error(
                response.status_code, self.redact(content_type), start, self._url_setting
            )
            raise scrub_error(error, self._key)
        return RunStream(
            response,
            agent_id=agent_id,
            idle_timeout=self.idle_timeout,
            cancel=cancel,
            limits=self.limits,
            idle_setting=self.audience.idle_timeout,
        )

    def get_run(self, run_id: str, *, timeout: float | None = None) -> dict[str, Any]:
        """The stored run: status, content, usage, tool calls, events.

        With `timeout`, one attempt that waits at most that long (connect and read each).
        """
        return self._json(
            "GET",
            f"/api/agents/runs/{segment(run_id)}",
            subject=f"Run {run_id!r}",
            timeout=timeout,
            retries=0 if timeout is not None else None,
        )

    def approve(self, run_id: str, approved: bool, reason: str | None = None) -> dict[str, Any]:
        """Answer a run's approval request (`approved` True or False, with an optional reason).

        A 404 is asked again a few times with a short backoff (a multi-worker server may
        route the answer to a worker that does not hold the run, for a moment); a 404 that
        persists means the run is no longer waiting.
        """
        if not isinstance(approved, bool):
            raise TypeError(f"approved must be True (approve) or False (deny), not {approved!r}.")
        if reason is not None and not isinstance(reason, str):
            raise TypeError(f"reason must be text (or None), not {type(reason).__name__}.")
        body: dict[str, Any] = {"approved": approved}
        if reason is not None:
            body["reason"] = reason
        attempt = 0
        while True:
            try:
                return self._json(
                    "POST",
                    f"/api/agents/runs/{segment(run_id)}/approve",
                    json_body=body,
                    subject=f"A run {run_id!r} waiting for approval",
                    not_found_advice=(
                        "The run is not waiting for approval: it may have finished, timed out "
                        "(runs wait 300 s) or been answered already."
                    ),
                    bad_request_advice=(
                        "The server wants approved as true or false, and reason as text."
                    ),
                    resend_advice=(
                        "The answer may have reached the run: watch for its next events "
                        "before answering again."
                    ),
                )
            except NotFoundError:
                if attempt >= APPROVE_NOT_FOUND_RETRIES:
                    raise
            delay = APPROVE_NOT_FOUND_DELAY * 2**attempt
            log.info("approve %s: HTTP 404; asking again in %.2f s", run_id, delay)
            self._pause(delay, None)
            attempt += 1
