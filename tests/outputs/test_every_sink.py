"""Every sink takes every canonical event (issue 15, item 2): Hypothesis properties.

Generated streams — frames of either dialect with hostile values (lone surrogates, NaN,
1e999, 400-digit integers, objects where names belong, nesting past the bound), in any
order, duplicated, cut short, mixed with client-made and history events — go through the
normaliser and then every sink: fold → view → patches (through the kernel's JSON packer)
→ the panel's `Entries` in node (all streams in one node process, after the examples) →
static copy → to_markdown/to_html → to_pandas/to_arrow/to_polars (every stream's rows in
one frame per view, after the examples) → save()/load() → fold again.

What must hold: no exception; every word of text that arrived is in each human-readable
sink; the round trip gives the same turns; the panel's entries equal the full projection.
Seeded (derandomized) and sized by `STREAMS`; `benchmarks/bench_properties.py` times it.
"""

from __future__ import annotations

import html
import io
import json
import os
import random
import re
import shutil
import tempfile
import threading
import warnings
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jupyter_client.session import json_packer
from panel_patches import apply_ops

from powawidget.cli.lines import Style
from powawidget.cli.printers import TerminalView
from powawidget.evaluation.prompts import Prompt
from powawidget.evaluation.results import run_row
from powawidget.model.conversation import Conversation
from powawidget.model.view import entries
from powawidget.notebook.saved import saved_entry
from powawidget.notebook.static import static_html
from powawidget.notebook.sync import PanelSync
from powawidget.outputs.tables import Table
from powawidget.outputs.transcript import Transcript
from powawidget.wire.canonical import CanonicalEvent, canonical
from powawidget.wire.events import EventNormaliser, make_event
from powawidget.wire.sse import ServerSentEvent
from tests.notebook.test_panel_conformance import node_apply

STREAMS = int(os.environ.get("POWAWIDGET_SINK_STREAMS", "2000"))
"""Generated streams per run (the issue asks for at least 2,000; the variable is for
benchmarks/bench_properties.py and for a longer hunt)."""

# --- values ------------------------------------------------------------------------------
# Frames come from a pool built once by a seeded generator: Hypothesis then composes the
# streams (which frames, in which order, duplicated, cut short, mixed with client events),
# drawing a few dozen choices a stream, so 2,000 streams fit in well under a minute.

HOSTILE_TEXT = [
    "x\ud83dy",  # a lone high surrogate (json.dumps writes it as an escape)
    "\udc00",  # a lone low one
    "\ud83d\ude00",  # a pair written as two escapes: one emoji
    "😀 café",
    "\u2028\u2029",
    "\x00\x1f",
    "",
    " ",
    "**bold** _it_ `code` # head",
    "> " * 40 + "deep",
    "\n".join("  " * d + "- li" for d in range(45)),
    "```\nunclosed fence",
    "Error: Blocked by hook — Denied by user: no",
    "Approval timed out",
    "run_a",
]
WORDS = [f"w{n}{c}" for n in range(10) for c in "abcde"] + ["Straße", "naïve", "日本語"]
MARKUP = [" ", "\n", "\n\n", "**", "_", "`", "# ", "> ", "- ", ". "]


def _nested(depth: int) -> Any:
    value: Any = "bottom"
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


NUMBERS = [
    0, 1, 2, 7, -1, -3, 2**53 - 1, 2**53, -(2**63), 10**400, -(10**30), 1.5, -0.0, 1e308,
    float("nan"), float("inf"), -float("inf"), True, False, None,
]  # fmt: skip
DATA = [
    None, {}, [], {"a": 1}, {"x": float("nan"), "n": 10**400}, [1, "two", None, 2.5],
    {"nested": {"deeper": [float("inf"), "x\ud83dy"]}}, {"\udc00key": "v"}, {"a": {"b": {}}},
    _nested(70), _nested(300), ["> " * 40], {"tool_name": {"a": 1}}, "a string", 42,
    {"is_error": True}, {"status": "failed"},
]  # fmt: skip
ANY = NUMBERS + DATA + HOSTILE_TEXT
NAMES = [
    "start", "step_started", "step_completed", "content_delta", "reasoning_delta",
    "reasoning", "tool_call", "tool_result", "approval_requested", "hook_result",
    "on_run_complete", "step_reset", "chunk", "complete", "error", "model_fallback",
    "compaction", "orchestration_started", "delegation_started", "delegation_completed",
    "delegation_started", "delegation_completed", "", "unknown_event", "x\ud83d",
]  # fmt: skip


class Frames:
    """A seeded generator of hostile frames (either dialect) and plain text."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def plain(self) -> str:
        """Text whose words must reach every human-readable sink (Markdown styles it)."""
        rng = self.rng
        return "".join(rng.choice(WORDS if rng.random() < 0.6 else MARKUP) for _ in range(6))

    def text(self) -> str:
        return self.plain() if self.rng.random() < 0.6 else self.rng.choice(HOSTILE_TEXT)

    def pick(self, *choices: Any) -> Any:
        """One of the given values or pools (a list is a pool to pick from)."""
        choice = self.rng.choice(choices)
        if callable(choice):
            return choice()
        return self.rng.choice(choice) if isinstance(choice, list) else choice

    def usage(self) -> Any:
        keys = ["prompt_tokens", "completion_tokens", "total_tokens", "cached_tokens"]
        return {k: self.pick(NUMBERS, ANY) for k in self.rng.sample(keys, self.rng.randint(0, 4))}

    def summary(self) -> Any:
        entry = {"tool_name": self.pick(["search", "refund"], ANY)}
        for key, pool in (("step", NUMBERS), ("arguments", DATA), ("result", DATA)):
            if self.rng.random() < 0.6:
                entry[key] = self.pick(pool)
        return entry

    def field(self, key: str) -> Any:
        pick = self.pick
        return {
            "run_id": lambda: pick(["run_a", "run_b"], ANY),
            "session_id": lambda: pick(["sess_a", "sess_b"], ANY),
            "step": lambda: pick(NUMBERS, ANY, [1, 2]),
            "step_number": lambda: pick(NUMBERS, [1, 2]),
            "delta": lambda: pick(self.plain, self.text, ANY),
            "content": lambda: pick(self.plain, None, ANY),
            "tool_name": lambda: pick(["search", "refund"], ANY),
            "call_id": lambda: pick(["c1", "c2"], ANY),
            "arguments": lambda: pick(DATA),
            "tool_input": lambda: pick(DATA),
            "result": lambda: pick(DATA, self.text),
            "result_preview": self.text,
            "result_meta": lambda: pick(DATA),
            "duration_ms": lambda: pick(NUMBERS, ANY),
            "latency_ms": lambda: pick(NUMBERS),
            "timeout_seconds": lambda: pick(NUMBERS, ANY),
            "usage": lambda: pick(self.usage, ANY),
            "status": lambda: pick(["completed", "failed", "error", "ok"], ANY),
            "error": lambda: pick(self.text, DATA),
            "message": lambda: pick(self.text, ANY),
            "code": lambda: pick(["rate_limited", "run_failed"], ANY),
            "steps": lambda: pick(NUMBERS),
            "tool_calls": lambda: pick(lambda: [self.summary() for _ in range(3)], ANY),
            "citations": lambda: pick(lambda: [pick(DATA), pick(DATA)], ANY),
            "blocked": lambda: pick([True, False], ANY),
            "reason": self.text,
            "is_last_step": lambda: pick([True, False], ANY),
            "finish_reason": self.text,
            "seq": lambda: pick(NUMBERS),
            "agent": lambda: pick(["researcher", "writer"], ANY),
            "task": self.text,
            "child_execution_id": lambda: pick(["run_c1", "run_c2"], ANY),
            "name": self.text,
            "strategy": lambda: pick(["sequential", "parallel"], ANY),
            "ts": lambda: pick(["2026-11-24T08:00:00.123456+00:00"], ANY),
        }[key]()

    def frame(self) -> str:
        """One data line's text: an event object, or now and then something else."""
        rng = self.rng
        if rng.random() < 0.03:
            return rng.choice(["[1, 2]", "null", "{", "", "not json", '"text"', "{}"])
        body: dict[str, Any] = {rng.choice(["event", "event", "type"]): rng.choice(NAMES)}
        for key in rng.sample(FIELD_NAMES, rng.randint(0, 5)):
            body[key] = self.field(key)
        return json.dumps(body)  # NaN, Infinity, huge ints, lone surrogates: as Python writes


FIELD_NAMES = [
    "run_id", "session_id", "step", "step_number", "delta", "content", "tool_name",
    "call_id", "arguments", "tool_input", "result", "result_preview", "result_meta",
    "duration_ms", "latency_ms", "timeout_seconds", "usage", "status", "error", "message",
    "code", "steps", "tool_calls", "citations", "blocked", "reason", "is_last_step",
    "finish_reason", "seq", "agent", "task", "child_execution_id", "child_execution_id",
    "name", "strategy", "ts",
]  # fmt: skip
_made = Frames(seed=15)
FRAMES = [_made.frame() for _ in range(3_000)]
TEXTS = [_made.text() for _ in range(300)]

# --- streams -----------------------------------------------------------------------------

_RUNS = st.integers(1, 4)
_OPENING = st.sampled_from(["user", "history", "divider", "loaded", "none"])
_ROLE = st.sampled_from(["user", "assistant", "system", None, {"a": 1}, "x\ud83d"])
_RUN_ID = st.sampled_from(["run_a", "run_b"])
_TEXT = st.sampled_from(TEXTS)
_FRAMES = st.lists(st.sampled_from(FRAMES), max_size=8)
_CLIENT = st.sampled_from([None, "stopped", "client_error", "approval_resolved"])
_INDEX = st.integers(0, 10_000)
_BOOL = st.booleans()
_CUT = st.integers(1, 40)
AT = "2025-11-24T16:00:01.000Z"  # client events' time: fixed, so every run draws the same


@st.composite
def stream(draw: st.DrawFn) -> list[CanonicalEvent]:
    """Runs of frames and client events, out of order, duplicated, cut short."""
    normaliser = EventNormaliser(clock=lambda: 1_764_000_000.0)
    events: list[CanonicalEvent] = []
    for _ in range(draw(_RUNS)):
        kind = draw(_OPENING)
        if kind == "user":
            events.append(make_event("user_message", text=draw(_TEXT), received_at=AT))
        elif kind == "history":
            events.append(
                make_event(
                    "history",
                    received_at=AT,
                    text=draw(_TEXT),
                    run_id=draw(_RUN_ID),
                    arguments={"role": draw(_ROLE), "timestamp": draw(_TEXT)},
                )
            )
        elif kind == "divider":
            events.append(make_event("new_session", received_at=AT))
        elif kind == "loaded":
            events.append(make_event("session_loaded", session_id="sess_a", received_at=AT))
        frames = draw(_FRAMES)
        if frames and draw(_BOOL):  # a duplicated frame, anywhere
            copy = frames[draw(_INDEX) % len(frames)]
            frames.insert(draw(_INDEX) % (len(frames) + 1), copy)
        for data in frames:
            events.append(normaliser.normalise(ServerSentEvent(data=data)))
        client = draw(_CLIENT)
        if client is not None:
            events.append(
                make_event(client, error_message=draw(_TEXT), status=draw(_TEXT), received_at=AT)
            )
    return events[: draw(_CUT)]  # cut short (or not: a stream is often shorter than the cut)


# --- the property ------------------------------------------------------------------------

_WORDS = re.compile(r"[A-Za-z0-9]{3,}")


def _projection(events: list[CanonicalEvent]) -> Any:
    return json.loads(json.dumps(entries(Conversation(events)), allow_nan=False))


def _visible(markup: str) -> str:
    """The text a reader sees in HTML: tags out, entities decoded."""
    return html.unescape(re.sub(r"<[^>]*>", " ", markup))


def _panel_text(entry: Any) -> str:
    """What a turn shows as question and answer (the panel's `answerOf`)."""
    if entry["kind"] != "turn":
        return ""
    answer = entry["answer"]
    if not isinstance(answer, str):
        answer = "".join(i["text"] for i in entry["items"] if i["kind"] == "text")
    return f"{entry['userText'] or ''} {answer}"


class Collected:
    """What the examples leave for the batched sinks (node, DataFrames)."""

    def __init__(self) -> None:
        self.messages: list[list[Any]] = []
        self.expected: list[Any] = []
        self.tables: dict[str, Table] = {}
        self.streams = 0


def check_every_sink(
    events: list[CanonicalEvent], path: Path, out: Collected, every: int = 3
) -> None:
    """Put one stream through every sink; assert the properties; keep the batched parts."""
    # Past the door: JSON without NaN, valid Unicode, and the door again changes nothing.
    json.dumps(events, ensure_ascii=False, allow_nan=False).encode("utf-8")
    assert [canonical(event) for event in events] == events
    conversation, lock, sent = Conversation(), threading.RLock(), []
    # Packed when sent, as the kernel does (the packer's lossy fallback would warn).
    sync = PanelSync(conversation, lock, lambda message: sent.append(json_packer(message)))
    for index, event in enumerate(events):
        conversation.apply(event)
        if index % every == 0:  # a batch of `every` events per patch
            sync.flush()
    sync.flush()
    projection = _projection(events)
    drawn: list[Any] = []
    for message in sent:
        apply_ops(drawn, json.loads(message)["ops"])  # applies in place: a copy of its own
    assert drawn == projection
    out.messages.append([json.loads(message) for message in sent])
    out.expected.append(projection)

    transcript = Transcript(events)
    words: set[str] = set()
    for turn in transcript.conversation.turns:
        words.update(_WORDS.findall(turn.text or ""))
        words.update(_WORDS.findall(turn.user_text or ""))
    markdown = transcript.to_markdown()
    page = _visible(transcript.to_html())
    static = _visible(static_html(transcript, "chat"))
    shown = " ".join(_panel_text(entry) for entry in drawn)
    for word in words:
        for sink, text in (("markdown", markdown), ("html", page), ("static", static)):
            assert word in text, f"{word!r} is missing from {sink}"
        assert word in shown, f"{word!r} is missing from the panel"

    # The saved notebook's entry models, packed strictly like the live patches.
    for entry in entries(conversation):
        json_packer({"entry": saved_entry(entry)})
    # The terminal reads the same fold: every event shown, the output valid UTF-8.
    stdout, stderr = io.StringIO(), io.StringIO()
    terminal = TerminalView(stdout, stderr, Style(False), decide=lambda approval: None)
    for event in events:
        terminal.show(event, None)
    terminal.end_text()
    (stdout.getvalue() + stderr.getvalue()).encode("utf-8")
    # An evaluation's row is read off the same turn.
    prompt = Prompt(key="p", index=0, prompt="q")
    for turn in conversation.turns:
        json.dumps(run_row(prompt, turn, turn.status, None), allow_nan=False).encode("utf-8")

    transcript.save(path)
    loaded = Transcript.load(path)
    assert _projection(loaded.events) == projection  # the same turns
    assert [t.text for t in loaded.conversation.turns] == [
        t.text for t in transcript.conversation.turns
    ]
    for name in ("runs", "tool_calls", "messages", "rows", "citations", "delegations"):
        table: Table = getattr(transcript, name)
        collected = out.tables.setdefault(name, Table([], table.columns))
        collected.extend(table)
    out.streams += 1


def test_every_sink_takes_every_canonical_event(tmp_path: Path) -> None:
    out = Collected()
    # save() fsyncs: on a RAM disk where there is one, so 2,000 saves cost no disk flushes.
    shm = Path("/dev/shm")
    folder = Path(tempfile.mkdtemp(dir=shm)) if shm.is_dir() else tmp_path
    path = folder / "stream.jsonl"

    @settings(
        max_examples=STREAMS,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(stream(), st.integers(1, 5))
    def one_stream(events: list[CanonicalEvent], every: int) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # e.g. the packer's lossy fallback
            check_every_sink(events, path, out, every)

    try:
        one_stream()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    assert out.streams >= STREAMS
    # The panel's own code, all streams in one node process.
    assert node_apply(out.messages) == out.expected
    # Every stream's rows in one frame per view, with each library.
    for table in out.tables.values():
        table.to_pandas()
        table.to_arrow()
        table.to_polars()
