"""The panel's messages are checked and typed at the comm (`notebook.messages.panel_message`):
each kind becomes its TypedDict, anything malformed is ignored, never half-carried out."""

from __future__ import annotations

from typing import Any

import pytest

from powawidget.notebook.messages import panel_message


@pytest.mark.parametrize(
    ("content", "typed"),
    [
        ({"type": "send", "text": "hi", "extra": 1}, {"type": "send", "text": "hi"}),
        (
            {"type": "approve", "approved": False, "reason": "not today"},
            {"type": "approve", "approved": False, "reason": "not today"},
        ),
        (
            {"type": "approve", "approved": True},
            {"type": "approve", "approved": True, "reason": None},
        ),
        (
            {"type": "load_session", "session_id": "sess_1"},
            {"type": "load_session", "session_id": "sess_1"},
        ),
        ({"type": "sessions_request"}, {"type": "sessions_request"}),
        ({"type": "snapshot_request"}, {"type": "snapshot_request"}),
        ({"type": "stop"}, {"type": "stop"}),
        ({"type": "retry"}, {"type": "retry"}),
        ({"type": "new_session"}, {"type": "new_session"}),
    ],
)
def test_each_kind_of_message_is_typed(content: dict[str, Any], typed: dict[str, Any]) -> None:
    assert panel_message(content) == typed


@pytest.mark.parametrize(
    "content",
    [
        None,
        "send",
        ["send"],
        {},
        {"type": "rm -rf"},
        {"type": "send"},
        {"type": "send", "text": 42},
        {"type": "approve", "approved": "yes"},
        {"type": "approve"},
        {"type": "load_session"},
        {"type": "load_session", "session_id": None},
    ],
)
def test_a_malformed_message_is_ignored(content: Any) -> None:
    assert panel_message(content) is None
