"""The panel draws what Python folded: the same patches applied by the front end's
`Entries` (js/src/model/entries.js, in node) and by Python give the same entries, for every
recorded Powabase sequence and for real runs of the local server, cut into batches at
random points."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from powawidget.model.conversation import Conversation
from powawidget.model.view import entries
from powawidget.notebook.sync import PanelSync
from powawidget.wire.client import PowabaseClient
from powawidget.wire.events import EventNormaliser, make_event
from powawidget.wire.sse import ServerSentEvent

ROOT = Path(__file__).resolve().parents[2]
EVIDENCE = ROOT / "tests" / "fixtures" / "powabase_streams.json"
APPROVALS = ROOT / "tests" / "fixtures" / "approval_streams.json"


def evidence_events(path: Path = EVIDENCE) -> list[list[dict[str, Any]]]:
    """Each recorded sequence as canonical events, after the user's question."""
    runs = []
    for stream in json.loads(path.read_text(encoding="utf-8")):
        normaliser = EventNormaliser()
        events = [make_event("user_message", text="question")]
        events += [
            normaliser.normalise(ServerSentEvent(data=json.dumps(e))) for e in stream["events"]
        ]
        runs.append(events)
    return runs


def messages_for(events: list[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    """The kernel's messages for `events`, flushed after random runs of events."""
    conversation, lock, sent = Conversation(), threading.RLock(), []
    sync = PanelSync(conversation, lock, lambda m: sent.append(json.loads(json.dumps(m))))
    rng = random.Random(seed)
    for event in events:
        conversation.apply(event)
        if rng.random() < 0.3:
            sync.flush()
    sync.flush()
    return sent


def node_apply(runs: list[list[dict[str, Any]]]) -> list[Any]:
    """What the front end's Entries ends with for each list of messages."""
    node = shutil.which("node")
    assert node, "node is needed for the front end's tests (Node.js ≥ 18)"
    done = subprocess.run(
        [node, str(ROOT / "js" / "scripts" / "apply_messages.mjs")],
        input=json.dumps(runs),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout)


def test_every_recorded_sequence_draws_what_python_folded() -> None:
    runs = evidence_events()
    assert len(runs) == 29
    messages = [messages_for(events, seed) for seed, events in enumerate(runs)]
    expected = [json.loads(json.dumps(entries(Conversation(events)))) for events in runs]
    assert node_apply(messages) == expected


def test_approval_sequences_draw_what_python_folded() -> None:
    """Two approvals of one tool (approved and run, then denied) and an approval after a
    wait: each tool card carries its own approval, outcome and times."""
    runs = evidence_events(APPROVALS)
    assert len(runs) == 2
    for seed in range(3):
        messages = [messages_for(events, seed) for events in runs]
        expected = [json.loads(json.dumps(entries(Conversation(events)))) for events in runs]
        assert node_apply(messages) == expected
    [two, waited] = expected
    tools = [i for i in two[0]["items"] if i["kind"] == "tool"]
    assert [(t["state"], t["approval"]["state"]) for t in tools] == [
        ("done", "approved"),
        ("denied", "denied"),
    ]
    [query] = [i for i in waited[0]["items"] if i["kind"] == "tool"]
    assert (query["durationMs"], query["approvalWaitMs"]) == (2.0, 36000.0)


@pytest.mark.parametrize("agent", ["agt_demo", "agt_approval", "fault_step_reset", "agt_citations"])
def test_real_runs_draw_what_python_folded(client: PowabaseClient, agent: str) -> None:
    events: list[dict[str, Any]] = []
    for question in ("Refund order 1234, $30, it arrived late", "Which plan for 40 people?"):
        events.append(make_event("user_message", text=question))
        with client.stream_run(agent, question) as stream:
            for event in stream:
                events.append(event)
                if event["event"] == "approval_requested":
                    client.approve(event["run_id"], False, "too much")
    runs = [events]
    [shown] = node_apply([messages_for(events, 7) for events in runs])
    assert shown == json.loads(json.dumps(entries(Conversation(events))))
    assert len(shown) == 2


ORCHESTRATIONS = ROOT / "tests" / "fixtures" / "orchestrations"
ORCHESTRATION_CASES = {
    "nested-delegation": "o11_run_delegate_tool.sse",
    "failed-child": "o22_run_subagent_fail_500.rebuilt.sse",
    "orchestrator-failure": "o20_run_fail_429.sse",
}


def orchestration_events(name: str) -> list[dict[str, Any]]:
    """A recorded orchestration stream as canonical events, after the user's question."""
    from powawidget.wire.sse import SSEDecoder

    decoder = SSEDecoder()
    frames = decoder.feed((ORCHESTRATIONS / name).read_bytes()) + decoder.close()
    normaliser = EventNormaliser()
    return [make_event("user_message", text="Which cities are biggest?")] + [
        normaliser.normalise(f) for f in frames
    ]


@pytest.mark.parametrize("case", sorted(ORCHESTRATION_CASES))
def test_orchestrations_draw_what_python_folded_live_and_replayed(case: str) -> None:
    live = orchestration_events(ORCHESTRATION_CASES[case])
    # A replay: the saved log (one JSON object per event) read back and played again,
    # into a panel that already shows an earlier turn.
    saved = [json.loads(json.dumps(e)) for e in live]
    replayed = [make_event("user_message", text="earlier"), *saved]
    runs = [live, replayed]
    shown = node_apply([messages_for(events, seed) for seed, events in enumerate(runs * 3)])
    expected = [json.loads(json.dumps(entries(Conversation(events)))) for events in runs * 3]
    assert shown == expected
    live_turn, replayed_turn = expected[0][-1], expected[1][-1]
    assert replayed_turn == live_turn  # the replay draws the same turn
    kinds = [i["kind"] for i in live_turn["items"]]
    cards = [i for i in live_turn["items"] if i["kind"] == "delegation"]
    if case == "nested-delegation":
        assert kinds == ["step", "delegation", "step", "text"]
        assert cards[0]["status"] == "completed"
        assert [i["kind"] for i in cards[0]["run"]["items"]] == ["step", "tool", "step", "text"]
        assert live_turn["usageTotal"]["total_tokens"] == 602
    elif case == "failed-child":
        assert live_turn["status"] == "completed" and cards[0]["status"] == "failed"
        assert cards[0]["run"]["error"]["message"].startswith("litellm.InternalServerError")
    else:
        assert live_turn["status"] == "failed" and cards == []
        assert live_turn["error"]["message"].startswith("litellm.RateLimitError")


def test_a_streaming_sub_agent_sends_only_its_new_characters() -> None:
    """While a sub-agent streams, each flush carries a `run-text` op with the new words, not
    the whole delegation card again (the sync stays linear in the stream's size)."""
    events = orchestration_events(ORCHESTRATION_CASES["nested-delegation"])
    conversation, lock, sent = Conversation(), threading.RLock(), []
    sync = PanelSync(conversation, lock, lambda m: sent.append(json.loads(json.dumps(m))))
    deltas = 0
    for event in events:
        conversation.apply(event)
        sync.flush()
        inside = conversation.turns[0].delegations and conversation.turns[0].delegations[0].open
        if event["event"] == "content_delta" and inside:
            deltas += 1
            ops = sent[-1]["ops"]
            if deltas == 1:  # the first words open the answer's text item: the card, once
                assert [op["op"] for op in ops] == ["item"], ops
                continue
            assert [op["op"] for op in ops] == ["run-text"], ops
            assert ops[0]["append"] == event["text"]
    assert deltas == 4
    [shown] = node_apply([sent])
    assert shown == json.loads(json.dumps(entries(conversation)))
