"""Transcript views of an orchestration say who did what: the sub-agents' runs and tool
calls carry agent / parent_run_id / depth, and `delegations` has one row per delegation
(expectations from RECORDINGS.md, captures o11 and o22)."""

from __future__ import annotations

from pathlib import Path

from powawidget.outputs.transcript import Transcript
from powawidget.wire.events import EventNormaliser, make_event
from powawidget.wire.sse import SSEDecoder

FIXTURES = Path(__file__).parents[1] / "fixtures" / "orchestrations"
CHILD = "09532f7a-1d2f-4cf7-b7e4-2dfdb0e9bb8c"


def transcript(*names: str) -> Transcript:
    events = []
    for name in names:
        decoder = SSEDecoder()
        frames = decoder.feed((FIXTURES / name).read_bytes()) + decoder.close()
        normaliser = EventNormaliser()
        events.append(make_event("user_message", text="Which cities are biggest?"))
        events.extend(normaliser.normalise(f) for f in frames)
    return Transcript(events)


def test_runs_and_tool_calls_say_who_did_what() -> None:
    t = transcript("o11_run_delegate_tool.sse")
    runs = list(t.runs)
    assert [(r["agent"], r["depth"], r["run_id"], r["parent_run_id"]) for r in runs] == [
        ("city-desk", 0, "orch_run_f073a9b991c6", None),
        ("tools-agent", 1, CHILD, "orch_run_f073a9b991c6"),
    ]
    orchestrator, child = runs
    assert orchestrator["total_tokens"] == 301 and child["total_tokens"] == 301
    assert child["question"] == "Find the two biggest cities #tool1"
    assert child["session_id"] == "orch_sess_79ea631d0227" and child["turn"] == 0
    assert orchestrator["server_answer"].startswith("I looked it up. Results: [{")
    assert orchestrator["server_answer"] != orchestrator["answer"]
    calls = list(t.tool_calls)
    assert [(c["tool_name"], c["agent"], c["depth"], c["run_id"]) for c in calls] == [
        ("delegate_to_tools-agent", "city-desk", 0, "orch_run_f073a9b991c6"),
        ("database_query", "tools-agent", 1, CHILD),
    ]


def failed_ms(t: Transcript) -> float:
    return list(t.delegations)[1]["duration_ms"]


def test_one_row_per_delegation() -> None:
    t = transcript("o11_run_delegate_tool.sse", "o22_run_subagent_fail_500.rebuilt.sse")
    done, failed = list(t.delegations)
    assert done["agent"] == "tools-agent" and done["status"] == "completed"
    assert done["task"] == "Find the two biggest cities #tool1"
    assert (done["steps"], done["tool_calls"], done["total_tokens"]) == (2, 1, 301)
    assert done["duration_ms"] == 198.923  # by the server's ts
    assert failed_ms(t) == 3215.432  # 01:31:18.552367 → 01:31:21.767799
    assert done["run_id"] == "orch_run_f073a9b991c6" and done["child_run_id"] == CHILD
    assert failed["status"] == "failed" and failed["total_tokens"] is None
    assert failed["error"].startswith("litellm.InternalServerError")
    assert failed["turn"] == 1


def test_agent_conversations_keep_their_views() -> None:
    t = transcript("o10_run_plain.sse")
    (run,) = t.runs
    assert run["depth"] == 0 and run["parent_run_id"] is None and run["server_answer"] is None
    assert list(t.delegations) == []


def test_exports_show_each_sub_agents_run_under_its_delegation() -> None:
    t = transcript("o11_run_delegate_tool.sse", "o22_run_subagent_fail_500.rebuilt.sse")
    markdown = t.to_markdown()
    assert "Delegated to `tools-agent` — completed · 2 steps · " in markdown
    assert "301 total tokens · 199 ms" in markdown
    assert "    - Tool call `database_query` — done" in markdown
    assert "Delegated to `tools-agent` — failed · 1 step" in markdown
    assert "**Failed**: litellm.InternalServerError" in markdown
    page = t.to_html()
    assert page.count('class="tool delegation state-') == 2
    assert "<code>database_query</code>" in page and "state-failed" in page
