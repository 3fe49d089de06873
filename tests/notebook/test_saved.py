"""What a saved notebook keeps (`notebook.saved`): one model per entry, each referencing the
one before, written by the kernel alone, one cut, and as cheap at turn 60 as at turn 1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import comm
import pytest

from powawidget.model.conversation import Conversation
from powawidget.model.view import entries
from powawidget.notebook.saved import SAVED_RESULT_CHARS, SavedEntry, saved_entry
from powawidget.notebook.widget import ChatWidget
from powawidget.wire.events import make_event


class Comms:
    """Every comm message any widget publishes (no kernel here), by type, with its size."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, int]] = []

    def bytes(self) -> int:
        return sum(size for _, size in self.messages)

    def count(self, kind: str) -> int:
        return sum(1 for k, _ in self.messages if k == kind)


@pytest.fixture
def comms(monkeypatch: pytest.MonkeyPatch) -> Iterator[Comms]:
    """Log every widget's comm messages; `in_kernel()` is true, as under nbclient."""
    log = Comms()

    class LoggingComm(comm.DummyComm):
        def publish_msg(self, msg_type: str, data: Any = None, *_: Any, **__: Any) -> None:
            log.messages.append((msg_type, len(json.dumps(data, default=str))))

    monkeypatch.setattr(comm, "create_comm", LoggingComm)
    monkeypatch.setattr("powawidget.notebook.widget.in_kernel", lambda: True)
    yield log


def turn(n: int, result: str = "found it") -> list[dict[str, Any]]:
    """One finished run: a question, a tool call, an answer."""
    run = f"run_{n:04d}"
    return [
        make_event("user_message", text=f"Question {n}?", session_id="sess_1"),
        make_event("start", seq=0, run_id=run, session_id="sess_1"),
        make_event("tool_call", seq=1, run_id=run, tool_name="lookup", call_id=f"c{n}"),
        make_event("tool_result", seq=2, run_id=run, tool_name="lookup", call_id=f"c{n}",
                   result=result),
        make_event("complete", seq=3, run_id=run, text=f"Answer {n}. " * 20,
                   text_mode="replace", status="completed"),
    ]  # fmt: skip


def run_headless(widget: ChatWidget, events: list[dict[str, Any]]) -> None:
    """What a run does in a kernel with no view: it settles, then the waiting cell returns."""
    for event in events:
        widget._chat.record(event)
    widget._settle()
    widget._republish()


def chain(widget: ChatWidget) -> list[dict[str, Any]]:
    """The saved entries, oldest first, walking back from `history` as the page does."""
    found: list[dict[str, Any]] = []
    model = widget.history
    while model is not None:
        assert isinstance(model, SavedEntry)
        found.append(model.entry)
        model = model.previous
    return found[::-1]


def test_a_headless_session_saves_each_turn_once_at_a_flat_cost(comms: Comms) -> None:
    widget = ChatWidget(_recording=[])
    assert widget._sync.views_seen == 0
    opened = comms.count("comm_open")
    per_turn = []
    for n in range(40):
        before = comms.bytes()
        run_headless(widget, turn(n))
        per_turn.append(comms.bytes() - before)
    assert comms.count("comm_open") - opened == 40  # one model per turn, opened once
    assert per_turn[-1] == pytest.approx(per_turn[1], rel=0.1)
    assert sum(per_turn[30:]) <= 1.2 * sum(per_turn[:10]), per_turn
    assert chain(widget) == [saved_entry(e) for e in entries(widget._chat.conversation)]
    # What the panel's `history` trait saves: one reference, not the conversation.
    assert widget.get_state("history")["history"].startswith("IPY_MODEL_")
    widget.close()


def test_a_late_change_to_the_last_turn_updates_its_model_only(comms: Comms) -> None:
    widget = ChatWidget(_recording=[])
    for n in range(3):
        run_headless(widget, turn(n))
    last = widget.history
    assert last is not None and last.entry["usage"] is None
    comms.messages.clear()
    widget._chat.record(
        make_event("usage", run_id="run_0002", session_id="sess_1", usage={"total_tokens": 7})
    )
    widget._republish()
    assert widget.history is last and comms.count("comm_open") == 0
    assert last.entry["usage"] == {"total_tokens": 7}
    assert comms.count("comm_msg") == 1  # that model's update, not the conversation
    widget.close()


def test_a_live_view_gets_the_saved_entries_from_the_settling_run(comms: Comms) -> None:
    widget = ChatWidget(_recording=[])
    widget._sync.send_snapshot()  # a view rendered
    for event in turn(0):
        widget._chat.record(event)
    widget._settle()  # a click in the panel: nobody waits in a cell
    assert [e["userText"] for e in chain(widget)] == ["Question 0?"]
    widget.close()


def test_the_one_cut_shortens_long_tool_results_but_never_the_answer() -> None:
    conversation = Conversation(turn(0, result="r" * 50_000))
    [saved] = [saved_entry(e) for e in entries(conversation)]
    tool, text = saved["items"]
    assert len(tool["result"]) == SAVED_RESULT_CHARS and tool["resultTruncated"]
    assert text["text"] == "Answer 0. " * 20
