"""An orchestration's stored session, from the real server's recorded answers (o41, o43,
o42, o44, o45), loads as the turns the live streams folded into."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from powawidget.model.conversation import Conversation
from powawidget.session.history import UnknownSessionError, load_orchestration_history
from powawidget.wire.errors import NotFoundError

FIXTURES = Path(__file__).parents[1] / "fixtures" / "orchestrations"
CITIES = '[{"name": "Lagos", "population": 15388000}, {"name": "Osaka", "population": 2752412}]'
CHILD = f"I looked it up. Results: {CITIES} Done."


def recorded(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


class RecordedAnswers:
    """The two endpoints' recorded answers, by session and run id (no HTTP: the bytes are
    the real server's; the local server's test goes over HTTP)."""

    def __init__(self, messages: dict, runs: list[dict]) -> None:
        self.messages = messages
        self.runs = {r["run_id"]: r for r in runs}

    def orchestration_session_messages(self, orchestration_id: str, session_id: str) -> dict:
        if session_id != self.messages["session_id"]:
            raise NotFoundError("Session not found", status_code=404)
        return self.messages

    def get_orchestration_run(self, run_id: str) -> dict:
        if run_id not in self.runs:
            raise NotFoundError("Run not found", status_code=404)
        return self.runs[run_id]


def test_a_stored_delegation_loads_as_its_child_run_and_the_orchestrators_own_answer() -> None:
    messages = recorded("o41_session_messages_delegate.json")
    run = recorded("o43_get_run_delegate.json")
    client = RecordedAnswers(messages, [run])
    conversation = Conversation(
        load_orchestration_history(client, "city-desk", "orch_sess_79ea631d0227")
    )
    first, second = conversation.turns
    assert first.user_text == "Which cities are biggest? #delegate"
    assert first.status == "completed" and first.from_history
    (delegation,) = first.delegations
    assert delegation.agent == "tools-agent" and delegation.status == "completed"
    assert [c.tool_name for c in delegation.run.tool_calls] == ["database_query"]
    assert delegation.run.text == CHILD
    assert first.text == f"I looked it up. Results: {CHILD} Done."  # not the glued content
    assert first.server_text == CHILD + first.text
    # o41's second run is not in the recorded runs: its message and events stand in.
    assert second.user_text == "And what about Europe? #plain"
    assert second.text == "Stub answer #2: And what about Europe?." and second.status == "completed"


def test_stored_failures_load_failed() -> None:
    messages = recorded("o42_session_messages_failed.json")
    failed_run = recorded("o44_get_run_failed.json")
    conversation = Conversation(
        load_orchestration_history(
            RecordedAnswers(messages, [failed_run]), "x", messages["session_id"]
        )
    )
    failed, retried = conversation.turns
    assert failed.status == "failed"
    assert failed.error_message == (
        "litellm.RateLimitError: RateLimitError: OpenAIException - Rate limit reached (stub)"
    )
    assert retried.status == "completed" and retried.text == "Stub answer #1: Try again."
    with pytest.raises(UnknownSessionError):
        load_orchestration_history(RecordedAnswers(messages, []), "x", "orch_sess_unknown")


def test_a_stored_failed_child_is_a_failed_card() -> None:
    run = recorded("o45_get_run_subagent_failed.json")
    messages = {
        "session_id": "orch_sess_9ae754f93618",
        "messages": [
            {"role": "user", "content": "Which cities are biggest? #delegatefail"},
            {
                "role": "assistant",
                "content": run["content"],
                "run_id": run["run_id"],
                "events": run["events"],
            },
        ],
    }
    conversation = Conversation(
        load_orchestration_history(RecordedAnswers(messages, [run]), "x", messages["session_id"])
    )
    (turn,) = conversation.turns
    assert turn.status == "completed"
    assert turn.delegations[0].status == "failed"
    assert turn.delegations[0].run.error_message.startswith("litellm.InternalServerError")
    assert turn.text == run["content"]  # nothing glued: the failed child said nothing
