"""Every recorded Powabase sequence folds into what docs/protocol.md implies.

`tests/fixtures/powabase_streams.json` holds 29 event sequences taken from public sources
(hosted-service observations, the docs, the backend's and clients' tests, sequences rebuilt
from the backend's emitter code). Each one goes through the real normaliser after a user
message, and the turn it builds is held to an expectation written by hand from the protocol:
final text, status, error, tool states in order, approval outcome, steps, usage, citations
and what the panel draws. Where a recording is partial, the comment says what was assumed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from powawidget.model.conversation import Conversation
from powawidget.model.view import turn_view
from powawidget.wire.events import EventNormaliser, make_event
from powawidget.wire.sse import ServerSentEvent

FIXTURE = Path(__file__).parents[1] / "fixtures" / "powabase_streams.json"
SEQUENCES: list[dict] = json.loads(FIXTURE.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Expected:
    """What one recorded sequence must fold into (hand-written from the protocol)."""

    name: str  #: the test id: the source, briefly
    source: str  #: a piece of the fixture's `source`, so a reordered fixture fails loudly
    status: str
    text: str
    error: str | None = None
    tools: tuple[tuple[str, str | None, str], ...] = ()  #: (tool_name, call_id, state)
    durations: tuple[float | None, ...] | None = None  #: each call's own time (ms)
    waits: tuple[float | None, ...] | None = None  #: each call's approval wait (ms)
    results: tuple[str | None, ...] | None = None  #: each call's result, per tool call
    approval: str | None = None
    approval_reason: str | None = None
    steps: int = 0
    usage: dict | None = None
    citations: tuple[str, ...] | None = None  #: the citation keys
    reasoning: str = ""
    items: tuple[str, ...] = ()  #: the kinds of what the panel draws, in order


OVERLOAD = (
    "Stream iteration failed: litellm.MidStreamFallbackError: OpenrouterException - Upstream "
    "error from Nvidia: ResourceExhausted: Worker local total request limit reached "
    "(100/32), Metadata: {'error_type': 'provider_unavailable'}"
)
REACT_USAGE = {
    "prompt_tokens": 2110,
    "completion_tokens": 96,
    "reasoning_tokens": 40,
    "cached_tokens": 0,
    "total_tokens": 2206,
}

EXPECTED: list[Expected] = [
    # A lone `error` (hosted, ReAct path; the fixture kept only this frame): the run failed.
    Expected("hosted-overload-error", "test_chat_service.py:111", "failed", "", error=OVERLOAD),
    # No error event, but complete(failed): failed with the complete's error text; the
    # empty content is not an answer.
    Expected(
        "hosted-failed-complete",
        "test_chat_service.py:87",
        "failed",
        "",
        error="litellm.APIError: insufficient OpenRouter credits",
    ),
    # Field names only, placeholders as values; no `status` on the complete: a complete
    # that does not say "failed" completes the run.
    Expected(
        "hosted-citations-shape",
        "gated-kb-retrieval.md",
        "completed",
        "<string>",
        citations=("<string>",),
        items=("text",),
    ),
    # Tool-less agent: the complete has no usage, so none is shown.
    Expected("hosted-pong", "model-ratelimit.md:19 + app", "completed", "PONG", items=("text",)),
    # Orchestration: the run's usage is the complete's, not a delegation's.
    Expected(
        "hosted-orchestration-usage",
        "model-ratelimit.md:18",
        "completed",
        "",
        usage={"total_tokens": 1156},
        items=("delegation", "delegation"),  # two delegations, known by their ends alone
    ),
    Expected(
        "hosted-orchestration-usage-keys",
        "model-ratelimit.md:19 (commit",
        "completed",
        "",
        usage={"prompt_tokens": 674, "completion_tokens": 34, "total_tokens": 708},
    ),
    # complete(failed) with no error text: failed, with the generic note the fold writes.
    Expected(
        "hosted-orchestration-failed",
        "multi-agent-orchestration.md",
        "failed",
        "",
        error="the run failed",
    ),
    # Abbreviated trace: no step_started, no ids, an empty chunk and complete. Everything
    # between delegation_started and delegation_completed is billing-agent's run, so the
    # orchestrator's turn shows one delegation card and no tool or step of its own (the
    # child's tool and step: tests/model/test_orchestrations.py); a complete without
    # status completes.
    Expected(
        "cookbook-orchestration-trace",
        "cookbook:recipes",
        "completed",
        "",
        items=("delegation",),
    ),
    # Hosted, newer than the OSS code: one error frame and nothing else.
    Expected(
        "docs-session-not-found", "auth-connection.mdx", "failed", "", error="Session not found"
    ),
    # Documented dialect: chunk, then a complete without content keeps the chunk's text.
    Expected(
        "docs-parse-all-events",
        "Parse all event types",
        "completed",
        "Based on...",
        items=("text",),
    ),
    # Documented dialect, cut off after the chunk (no complete): still streaming; the
    # result without name or call_id pairs first-in-first-out.
    Expected(
        "docs-tool-calls-ui",
        "Handle tool calls in the UI",
        "streaming",
        "Based on the documentation, ",
        tools=(("knowledge_base_search", None, "done"),),
        items=("tool", "text"),
    ),
    # Deltas then the terminal chunk (start/complete not recorded): the chunk replaces them.
    Expected(
        "server-deltas-then-chunk",
        "TestChatStyleStreamingWithDeltas",
        "streaming",
        "first second third",
        items=("text",),
    ),
    # Kill switch: per-token chunks and no delta, so each chunk appends (PROTOCOL.md names
    # only the terminal chunk; the server's test says these chunks are the tokens).
    Expected(
        "server-kill-switch-chunks",
        "TestChatStyleKillSwitchFallback",
        "streaming",
        "AB",
        items=("text",),
    ),
    # Tool-less reasoning model: the whole `reasoning` comes after the chunk, replaces the
    # deltas, and is shown before the answer.
    Expected(
        "server-terminal-reasoning",
        "terminal_reasoning_event",
        "streaming",
        "answer",
        reasoning="Both have mass 1 kg, so equal weight.",
        items=("reasoning", "text"),
    ),
    # ReAct: the terminal chunk is every step's prose joined with no separator.
    Expected(
        "server-react-chunk-all-steps",
        "TestTerminalChunkSource",
        "streaming",
        "Step1: checking data. Step2: answer.",
        items=("text",),
    ),
    # Persisted shape keyed by `type`: step_reset drops the first attempt's reasoning,
    # keeps the step (one), leaves a marker.
    Expected(
        "studio-step-reset",
        "step_reset clears step",
        "streaming",
        "",
        steps=1,
        reasoning="retry attempt",
        items=("step", "reset", "reasoning"),
    ),
    # Nested delegation without call ids: knowledge_search is agent1's (it comes between
    # delegation_started and delegation_completed), so the orchestrator's turn holds its
    # delegate call (1500 ms) drawn as the delegation card; the outer result comes last.
    Expected(
        "studio-nested-delegation",
        "tool-call invocation order",
        "streaming",
        "",
        tools=(("delegate_to_agent1", None, "done"),),
        durations=(1500.0,),
        steps=1,
        reasoning="Looking up Vibevoice.",
        items=("step", "reasoning", "delegation"),
    ),
    Expected(
        "oss-no-tools",
        "tool-less branch agents.py",
        "completed",
        "Hello! How can I help?",
        items=("text",),
    ),
    # error then complete(failed, content ""): one failed turn, the error text kept.
    Expected(
        "oss-no-tools-failed",
        "failed model call",
        "failed",
        "",
        error="litellm.AuthenticationError: ...",
    ),
    # The invented [7] is stripped from chunk and complete: the final text drops it.
    Expected(
        "oss-citations",
        "tool-less branch with citations",
        "completed",
        "Refunds take 30 days [1].",
        citations=("1",),
        items=("text",),
    ),
    # Full ReAct run: the complete's full result replaces the 200-char preview; usage and
    # steps from the complete; the whole `reasoning` replaces its deltas in one block.
    Expected(
        "oss-react-one-tool",
        "one knowledge_search call",
        "completed",
        "Let me check the docs.Refunds are available within 30 days.",
        tools=(("knowledge_search", "call_Xk2p9aQ", "done"),),
        durations=(812.0,),
        results=("<full tool output, not truncated>",),
        steps=2,
        usage=REACT_USAGE,
        reasoning="I should search the KB.",
        items=("step", "reasoning", "text", "tool", "step", "text"),
    ),
    # Two calls of one tool, results in the other order: paired by call_id (the durations
    # say which result went where); one step recorded, no complete.
    Expected(
        "oss-concurrent-calls",
        "two concurrent knowledge_search",
        "streaming",
        "",
        tools=(("knowledge_search", "call_B", "done"), ("knowledge_search", "call_A", "done")),
        durations=(910.0, 640.0),
        steps=1,
        items=("step", "tool", "tool"),
    ),
    Expected(
        "oss-approval-approved",
        "approval hook, approved",
        "streaming",
        "",
        tools=(("database_write", "call_W1", "done"),),
        results=('{"rows_affected": 1}',),
        # The server's 41,310 ms holds the hook's 41,234 ms wait: the write took 76 ms.
        durations=(76.0,),
        waits=(41234.0,),
        approval="approved",
        steps=1,
        items=("step", "tool"),
    ),
    # Partial: starts at seq 3 (no step_started, no tool_call). The approval's card is the
    # call; the hook blocked it and the result is the refusal text: DENIED, never done.
    Expected(
        "oss-approval-denied",
        "approval denied",
        "streaming",
        "",
        tools=(("database_write", "call_W2", "denied"),),
        durations=(None,),  # it never ran: the server's 5,121 ms was the wait
        waits=(5120.0,),
        approval="denied",
        approval_reason="not allowed",
        items=("tool",),
    ),
    # chunk(partial), error, chunk(partial), complete(failed, steps 0, tool_calls []): one
    # failed turn keeping the partial text and the step it showed; usage null stays None.
    Expected(
        "oss-react-mid-stream-failure",
        "LLM stream breaks mid-answer",
        "failed",
        "Partial ans",
        error="Stream iteration failed: litellm.MidStreamFallbackError: ...",
        steps=1,
        items=("step", "text"),
    ),
    # step_reset then the same step again: one step, a reset marker.
    Expected(
        "oss-rate-limit-reset",
        "rate limit with settings.fallback_model",
        "streaming",
        "",
        steps=1,
        items=("step", "reset"),
    ),
    # Partial: starts at step 2 (seq 7), so one step was seen. step_reset keeps the text
    # already streamed; the continuation follows the marker.
    Expected(
        "oss-output-recovery",
        "output truncated",
        "streaming",
        "...first half of a long answer and the continuation.",
        steps=1,
        items=("step", "text", "reset", "text"),
    ),
    Expected(
        "oss-error-before-start",
        "failure before start",
        "failed",
        "",
        error=(
            "(psycopg2.errors.UniqueViolation) duplicate key value violates unique constraint "
            '"agent_sessions_session_id_key" ...'
        ),
    ),
    # Kill switch on the ReAct path: step prose comes as `reasoning` without `source` and
    # the chunk holds the last step's text only (cut off before complete).
    Expected(
        "oss-react-kill-switch",
        "AGENT_LLM_STREAMING_ENABLED=false",
        "streaming",
        "Refunds are available within 30 days.",
        tools=(("knowledge_search", "call_Q", "done"),),
        durations=(700.0,),
        steps=2,
        reasoning="Let me check the docs.",
        items=("step", "reasoning", "tool", "step", "text"),
    ),
]


def fold(frames: list[dict]) -> Conversation:
    """A user message, then each recorded frame through the real normaliser."""
    normaliser = EventNormaliser()
    conversation = Conversation([make_event("user_message", text="question")])
    for frame in frames:
        conversation.apply(normaliser.normalise(ServerSentEvent(data=json.dumps(frame))))
    return conversation


def test_every_recorded_sequence_has_an_expectation() -> None:
    assert len(SEQUENCES) == len(EXPECTED) == 29
    assert len({e.name for e in EXPECTED}) == 29


@pytest.mark.parametrize(
    ("sequence", "expected"),
    list(zip(SEQUENCES, EXPECTED, strict=True)),
    ids=[e.name for e in EXPECTED],
)
def test_recorded_sequence_folds_as_the_protocol_says(sequence: dict, expected: Expected) -> None:
    assert expected.source in sequence["source"]
    conversation = fold(sequence["events"])
    assert len(conversation.turns) == 1  # one user message, one run, whatever failed
    turn = conversation.turns[0]
    assert len(turn.events) == len(sequence["events"]) + 1  # nothing dropped

    assert turn.status == expected.status
    assert turn.text == expected.text
    assert turn.error_message == expected.error
    calls = [(c.tool_name, c.call_id, c.state) for c in turn.tool_calls]
    assert calls == list(expected.tools)
    if expected.durations is not None:
        assert [c.duration_ms for c in turn.tool_calls] == list(expected.durations)
    if expected.waits is not None:
        assert [c.approval_wait_ms for c in turn.tool_calls] == list(expected.waits)
    if expected.results is not None:
        assert [c.result for c in turn.tool_calls] == list(expected.results)
    outcome = turn.approvals[-1].outcome if turn.approvals else None
    assert outcome == expected.approval
    if expected.approval_reason is not None:
        assert turn.approvals[-1].reason == expected.approval_reason
    assert turn.step_count == expected.steps
    assert turn.usage == expected.usage
    keys = tuple(c.get("key") for c in turn.citations) if turn.citations is not None else None
    assert keys == expected.citations
    assert turn.reasoning == expected.reasoning
    assert turn.warnings == []

    view = turn_view(turn)
    assert tuple(item["kind"] for item in view["items"]) == expected.items
    assert view["status"] == expected.status
    assert view["steps"] == expected.steps
    shown = "".join(item["text"] for item in view["items"] if item["kind"] == "text")
    assert (view["answer"] if view["answer"] is not None else shown) == expected.text
    assert (view["error"] or {}).get("message") == expected.error


@pytest.mark.parametrize(
    ("name", "waiting_after"),
    [("oss-approval-approved", 3), ("oss-approval-denied", 1)],
)
def test_a_recorded_approval_waits_until_the_hook_decides(name: str, waiting_after: int) -> None:
    sequence = SEQUENCES[[e.name for e in EXPECTED].index(name)]
    frames = sequence["events"]
    assert fold(frames[:waiting_after]).turns[0].status == "waiting_approval"
    assert fold(frames[: waiting_after + 1]).turns[0].status == "streaming"  # hook decided
