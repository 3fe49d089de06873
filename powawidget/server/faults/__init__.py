"""Fault agents: each one a real HTTP misbehaviour a Powabase client must survive.

Besides the `Agent` fields, a fault agent may carry wire hooks the transport reads with
`getattr` (ordinary agents have none): `reject(message)` answers before any stream
(status, headers, body); `framing` ("lf", "crlf", "close_delimited", "gzip");
`drop_after` (cut the connection after that many frames); `keepalive` (seconds between
keepalive comments while idle; `math.inf` for none). `run` may yield `bytes`, written to
the wire as they are (a malformed frame).
"""

from __future__ import annotations

import math
from typing import Any

from powawidget.server.faults.agent import FaultAgent, Rejection
from powawidget.server.faults.failures import (
    FailsMidStream,
    LlmFailsEarly,
    PlainFails,
    RouteError,
    RouteErrorBeforeStart,
    SessionNotFound,
    StepReset,
)
from powawidget.server.faults.status import (
    AgentMissing,
    InsufficientCredits,
    NotEventStream,
    RateLimited,
    Unauthorized,
    Unavailable,
)
from powawidget.server.faults.streaming import (
    BigResult,
    Busy,
    Dropped,
    ErrorEvent,
    FailedRun,
    FramingFault,
    Malformed,
    ManyChunks,
    Stall,
    Xss,
)

__all__ = ["FAULT_AGENTS", "FaultAgent", "Rejection"]


def _fault(cls: type[FaultAgent], id: str, description: str, **wire: Any) -> FaultAgent:
    """A fault agent named after its id."""
    return cls(id=id, name=id.replace("_", " ").title(), description=description, **wire)


def _framing(id: str, description: str, framing: str) -> FaultAgent:
    """A framing fault: its wire framing, and no keepalives to blur it."""
    return _fault(FramingFault, id, description, framing=framing, keepalive=math.inf)


FAULT_AGENTS: list[FaultAgent] = [
    _fault(Unauthorized, "fault_unauthorized", "Answers 401 to every run."),
    _fault(InsufficientCredits, "fault_credits", "Answers 402 insufficient_credits."),
    _fault(AgentMissing, "fault_not_found", "Answers 404 Agent not found to every run."),
    _fault(
        RateLimited,
        "fault_rate_limited",
        "429 with Retry-After: 1 the first time a message is sent, then a normal run.",
    ),
    _fault(
        Unavailable, "fault_unavailable", "503 the first time a message is sent, then a normal run."
    ),
    _fault(NotEventStream, "fault_not_event_stream", "200 with an HTML page, not a stream."),
    _fault(Malformed, "fault_malformed", "A non-JSON data frame mid-stream, then continues."),
    _fault(Dropped, "fault_drop", "Cuts the connection mid-stream.", drop_after=3),
    _fault(
        Stall,
        "fault_stall",
        'Stalls with keepalives every 0.5 s; "stall N" stalls N seconds (default 3).',
        keepalive=0.5,
    ),
    _fault(
        Busy,
        "fault_busy",
        'Blocks its thread before answering; "busy N" for N seconds (default 3).',
        keepalive=math.inf,
    ),
    _fault(FailedRun, "fault_failed_run", "Ends with complete.status failed and an error."),
    _fault(ErrorEvent, "fault_error_event", "Ends with an error event."),
    _fault(BigResult, "fault_big_result", "A tool with a 1 MB result."),
    _fault(ManyChunks, "fault_many_chunks", "10,000 content_delta chunks."),
    _framing(
        "fault_close_delimited",
        "No Content-Length, no chunked: an HTTP/1.0-style body ended by closing.",
        "close_delimited",
    ),
    _framing("fault_crlf", "Frames with CRLF line ends.", "crlf"),
    _framing("fault_gzip", "A gzip-compressed stream flushed per event.", "gzip"),
    _fault(Xss, "fault_xss", "Markdown/HTML attack payloads in every field."),
    _fault(
        LlmFailsEarly,
        "fault_llm_fails_early",
        'Tools path, the model fails before streaming: chunk(""), complete failed, no error.',
    ),
    _fault(
        FailsMidStream,
        "fault_mid_stream",
        "Tools path, fails mid-answer after a tool call: error(step), complete failed.",
    ),
    _fault(
        PlainFails,
        "fault_plain_fails",
        "No-tools path fails after some text: chunk, error(run_id), complete failed.",
    ),
    _fault(RouteError, "fault_route_error", "start, then one error frame and the end."),
    _fault(
        RouteErrorBeforeStart,
        "fault_route_error_early",
        "One error frame before start, then the end.",
    ),
    _fault(
        SessionNotFound,
        "fault_session_not_found",
        'The hosted answer to an unknown session: {"event":"error","error":"Session not found"}.',
    ),
    _fault(
        StepReset,
        "fault_step_reset",
        "Steps reset and retried (name a reason: rate_limit, model_error, prompt_too_long, "
        "output_recovery); the text already streamed stays.",
    ),
]
