"""The wire shapes of docs/protocol.md v2, as assertions the server tests share.

`assert_framing` checks which frames carry type/seq/ts; `assert_react_stream` and
`assert_plain_stream` check a successful run on the tool (ReAct) path and on the standard
(tool-less) path, field by field.
"""

from __future__ import annotations

import json
import re
from datetime import datetime

DELTAS = ("content_delta", "reasoning_delta")
PLAIN = ("start", "complete")
TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$")
START_KEYS = ["event", "run_id", "session_id", "context_handler_id", "reasoning_requested"]
REACT_COMPLETE = [
    "event",
    "run_id",
    "session_id",
    "content",
    "status",
    "steps",
    "tool_calls",
    "usage",
    "error",
]
PLAIN_COMPLETE = [
    "event",
    "run_id",
    "session_id",
    "context_handler_id",
    "content",
    "retrieved_items",
    "is_new_session",
    "status",
    "error",
]
USAGE_KEYS = [
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "reasoning_tokens",
    "cached_tokens",
    "cache_creation_tokens",
]
CALL_KEYS = ["step", "tool_name", "arguments", "result", "duration_ms"]


def assert_framing(frames: list[dict], *, terminal_chunks: int = 1) -> None:
    """Deltas: `type` right after `event`, no seq/ts. start, complete and the terminal
    chunk: none of the three. Every other frame: type after event, seq and ts last, seq
    counting up from 1."""
    seqs = []
    for frame in frames:
        name = frame["event"]
        keys = list(frame)
        if name in DELTAS:
            assert keys[:2] == ["event", "type"] and frame["type"] == name, frame
            assert "seq" not in frame and "ts" not in frame, frame
        elif name in PLAIN or (name == "chunk" and "type" not in frame):
            assert not {"type", "seq", "ts"} & frame.keys(), frame
        elif name == "error" and "step" not in frame:
            assert not {"type", "seq", "ts"} & frame.keys(), frame  # a route error
        elif name == "reasoning" and "seq" not in frame:  # the standard path's reasoning
            assert keys[:2] == ["event", "type"], frame
        else:
            assert keys[:2] == ["event", "type"] and frame["type"] == name, frame
            assert keys[-2:] == ["seq", "ts"] and TS.match(frame["ts"]), frame
            datetime.fromisoformat(frame["ts"])
            seqs.append(frame["seq"])
    assert seqs == list(range(1, len(seqs) + 1)), seqs
    plain_chunks = [f for f in frames if f["event"] == "chunk" and "type" not in f]
    assert len(plain_chunks) == terminal_chunks, plain_chunks


def assert_react_stream(frames: list[dict]) -> None:
    """A completed ReAct run: start, steps, the terminal chunk (all the text), complete
    with steps, tool calls (completion order, full results, no call_id) and six-key usage."""
    json.dumps(frames)
    assert_framing(frames)
    names = [f["event"] for f in frames]
    start, complete = frames[0], frames[-1]
    assert list(start)[:5] == START_KEYS
    assert names[-1] == "complete" and list(complete) == REACT_COMPLETE
    assert names[-2] == "chunk" and names.count("chunk") == 1
    assert (complete["run_id"], complete["session_id"]) == (start["run_id"], start["session_id"])
    assert complete["status"] == "completed" and complete["error"] is None
    deltas = "".join(f["delta"] for f in frames if f["event"] == "content_delta")
    assert deltas == frames[-2]["content"] == complete["content"] != ""
    step, open_step, calls_in_step = 0, None, 0
    for frame in frames:
        if frame["event"] == "step_started":
            assert open_step is None and frame["step"] == step + 1
            assert list(frame)[2:4] == ["step", "is_last_step"]
            step, open_step, calls_in_step = frame["step"], frame["step"], 0
        elif frame["event"] == "step_completed":
            assert frame["step"] == open_step
            assert frame["has_tool_calls"] == (True if calls_in_step else [])
            assert frame["finish_reason"] == ("tool_calls" if calls_in_step else "stop")
            open_step = None
        elif frame["event"] in ("tool_call", "tool_result", "reasoning_delta", "reasoning"):
            assert frame["step"] == open_step
            calls_in_step += frame["event"] == "tool_call"
    assert open_step is None and complete["steps"] == step >= 1
    calls = {f["call_id"]: i for i, f in enumerate(frames) if f["event"] == "tool_call"}
    results = [f for f in frames if f["event"] == "tool_result"]
    assert sorted(calls) == sorted(r["call_id"] for r in results)
    assert all(frames.index(r) > calls[r["call_id"]] for r in results)
    records = complete["tool_calls"]
    assert [list(r) for r in records] == [CALL_KEYS] * len(results)
    assert [(r["step"], r["tool_name"]) for r in records] == [
        (r["step"], r["tool_name"]) for r in results
    ], "complete.tool_calls is in completion order"
    for result, record in zip(results, records, strict=True):
        assert "result" not in result and len(result["result_preview"]) <= 200
        assert record["result"].startswith(result["result_preview"])
    assert list(complete["usage"]) == USAGE_KEYS
    usage = complete["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0


def assert_plain_stream(frames: list[dict], *, reasoning: bool | None = None) -> None:
    """A completed run on the standard path: start, deltas, chunk (whole text), reasoning
    (after the chunk, when the agent reasons), complete without usage, steps or tool calls."""
    json.dumps(frames)
    assert_framing(frames)
    names = [f["event"] for f in frames]
    assert not {"step_started", "step_completed", "tool_call", "tool_result"} & set(names)
    start, complete = frames[0], frames[-1]
    assert list(start)[:5] == START_KEYS
    assert list(complete)[: len(PLAIN_COMPLETE)] == PLAIN_COMPLETE
    assert not {"usage", "steps", "tool_calls"} & complete.keys()
    assert complete["status"] == "completed" and complete["error"] is None
    chunk = names.index("chunk")
    deltas = "".join(f["delta"] for f in frames if f["event"] == "content_delta")
    if "citation_candidates" in start:  # markers naming no candidate are dropped at the end
        keys = {c["key"] for c in start["citation_candidates"]}
        deltas = re.sub(r"\[(\d+)\]", lambda m: m.group(0) if m.group(1) in keys else "", deltas)
    assert deltas == frames[chunk]["content"] == complete["content"] != ""
    thought = [f for f in frames if f["event"] == "reasoning"]
    if reasoning is not None:
        assert bool(thought) is reasoning
    if thought:
        assert names.index("reasoning") == chunk + 1 == len(frames) - 2
        streamed = "".join(f["delta"] for f in frames if f["event"] == "reasoning_delta")
        assert thought[0]["content"] == streamed and thought[0]["source"] == "thinking"
