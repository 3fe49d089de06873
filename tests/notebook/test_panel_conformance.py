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


def evidence_events() -> list[list[dict[str, Any]]]:
    """Each recorded sequence as canonical events, after the user's question."""
    runs = []
    for stream in json.loads(EVIDENCE.read_text(encoding="utf-8")):
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
