"""`ChatWidget.replay`: a read-only panel playing a recorded conversation, no server."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, TypeVar

from powawidget.notebook.construction import close_quietly
from powawidget.outputs.transcript import Transcript
from powawidget.session.replay import replay_delays
from powawidget.wire.canonical import CanonicalEvent

if TYPE_CHECKING:
    from powawidget.notebook.widget import ChatWidget

Widget = TypeVar("Widget", bound="ChatWidget")


def replay(
    cls: type[Widget],
    source: str | os.PathLike[str] | Iterable[CanonicalEvent],
    speed: float,
    max_gap: float,
    theme: str,
) -> Widget:
    """A widget of `cls` playing `source` (see `ChatWidget.replay`)."""
    events = list(Transcript.load(source).events)
    replay_delays(events, speed, max_gap)  # bad timing arguments fail before a comm opens
    widget = cls(theme=theme, _recording=events)
    try:
        widget._chat.agent_name = "Replay"
        widget._show(agent_name="Replay")
        widget._chat.play(events, speed, max_gap)
    except BaseException:
        close_quietly(widget)
        raise
    return widget
