"""`Transcript`: canonical events plus DataFrame-ready views, save/load and exports.

Works without a widget, on events from anywhere: `Transcript(client.stream_run(...))`,
`Transcript.load("chat.jsonl")`, or the widget's own log. Views are `Table`s of flat rows
with fixed columns whatever the dialect (nested values as JSON strings):

- `rows`: one row per event (`ROW_COLUMNS`), `elapsed_ms` counted from the turn's start;
- `messages`: user, tool and assistant messages as a reader sees them (`MESSAGE_COLUMNS`);
- `runs`: one row per turn with timing, tokens and outcome (`RUN_COLUMNS`): times are
  counted from the user's message (else the run's first event); `time_to_first_token_ms`
  is to the first answer or reasoning text; `tokens_per_s` = completion tokens per second
  of the whole run;
- `tool_calls`: one row per tool call (`TOOL_CALL_COLUMNS`): `duration_ms` is the tool's
  own time, `approval_wait_ms` how long it waited for a person (docs/protocol.md);
- `delegations`: one row per delegation of an orchestration (`DELEGATION_COLUMNS`); `runs`
  and `tool_calls` also hold the sub-agents' runs and calls, with `agent`,
  `parent_run_id` and `depth` saying who did what;
- `citations`: one row per source a cited answer used (`CITATION_COLUMNS`, docs/protocol.md
  "Citations"): `key` is the `[n]` marker in the answer's text.

The columns and row builders are in `outputs.rows`. `turn` columns are indexes into
`Transcript.conversation.turns` (from 0).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from powawidget.model.conversation import Conversation
from powawidget.model.delegations import all_delegations
from powawidget.outputs.rows import (
    CITATION_COLUMNS,
    DELEGATION_COLUMNS,
    MESSAGE_COLUMNS,
    ROW_COLUMNS,
    RUN_COLUMNS,
    TOOL_CALL_COLUMNS,
    citation_row,
    delegation_row,
    event_row,
    run_rows,
    tool_rows,
    turn_messages,
)
from powawidget.outputs.tables import Table
from powawidget.session.recording import load_events, save_events
from powawidget.wire.canonical import CanonicalEvent


class Transcript:
    """A recorded conversation: its canonical events and the views derived from them."""

    def __init__(self, events: Iterable[CanonicalEvent] = ()) -> None:
        """Start from `events` (canonical event dicts, in order)."""
        self._conversation = Conversation()
        self.extend(events)

    def __repr__(self) -> str:
        """A cheap summary (never the whole transcript)."""
        conv = self._conversation
        return f"Transcript({len(conv.events)} events, {len(conv.turns)} turns)"

    def __len__(self) -> int:
        """The number of events."""
        return len(self._conversation.events)

    def __iter__(self) -> Iterator[CanonicalEvent]:
        """The events in order."""
        return iter(self._conversation.events)

    @property
    def events(self) -> list[CanonicalEvent]:
        """Every canonical event, in order (do not mutate: use append/extend)."""
        return self._conversation.events

    @property
    def conversation(self) -> Conversation:
        """The conversation model folded from the events (turns, tool calls, usage)."""
        return self._conversation

    def append(self, event: CanonicalEvent) -> None:
        """Add one canonical event."""
        self._conversation.apply(event)

    def extend(self, events: Iterable[CanonicalEvent]) -> None:
        """Add canonical events in order."""
        self._conversation.extend(events)

    @property
    def rows(self) -> Table:
        """One row per event, columns `ROW_COLUMNS` whatever the dialect."""
        conv = self._conversation
        out = []
        for event, index in zip(conv.events, conv.event_turns, strict=True):
            turn = conv.turns[index] if index is not None else None
            out.append(event_row(event, turn))
        return Table(out, ROW_COLUMNS)

    @property
    def messages(self) -> Table:
        """One row per message a reader sees: the user's, each tool call's, the assistant's."""
        out: list[dict] = []
        for turn in self._conversation.turns:
            out.extend(turn_messages(turn))
        return Table(out, MESSAGE_COLUMNS)

    @property
    def runs(self) -> Table:
        """One row per run (turn): question, answer, outcome, timing and tokens."""
        rows = [row for turn in self._conversation.turns for row in run_rows(turn)]
        return Table(rows, RUN_COLUMNS)

    @property
    def tool_calls(self) -> Table:
        """One row per tool call, duration the server's when sent else measured."""
        out = [row for turn in self._conversation.turns for row in tool_rows(turn)]
        return Table(out, TOOL_CALL_COLUMNS)

    @property
    def delegations(self) -> Table:
        """One row per delegation of an orchestration: agent, task, status, steps, tokens,
        duration (docs/protocol.md, Orchestrations)."""
        out = [
            delegation_row(turn, delegation)
            for turn in self._conversation.turns
            for delegation in all_delegations(turn)
        ]
        return Table(out, DELEGATION_COLUMNS)

    @property
    def citations(self) -> Table:
        """One row per citation of a cited answer, in the order the answer cites them."""
        out = [
            citation_row(turn, citation)
            for turn in self._conversation.turns
            for citation in turn.citations or ()
            if isinstance(citation, dict)
        ]
        return Table(out, CITATION_COLUMNS)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the events as JSON Lines (one canonical event a line), atomically.

        The file is written beside `path` and renamed over it, so a crash mid-save leaves
        the old file or the new one, never half of one (see `powawidget.session.recording`).
        """
        return save_events(self.events, path)

    @classmethod
    def load(cls, source: str | os.PathLike[str] | Iterable[CanonicalEvent]) -> Transcript:
        """Read a transcript saved by `save` (or take a list of canonical events).

        A last line cut short (no newline, not JSON) is skipped with a warning; any other bad
        line raises ValueError naming its line number.
        """
        if isinstance(source, Transcript):
            return cls(source.events)
        return cls(load_events(source))

    def to_markdown(self, **options: Any) -> str:
        """A readable Markdown handout (see `powawidget.outputs.export.to_markdown`)."""
        from powawidget.outputs.export import to_markdown

        return to_markdown(self, **options)

    def to_html(self, **options: Any) -> str:
        """A self-contained, sanitised HTML page (see `powawidget.outputs.export.to_html`)."""
        from powawidget.outputs.export import to_html

        return to_html(self, **options)
