"""`TranscriptViews`: the DataFrame-ready views, as properties of anything that keeps
canonical events (a `ChatSession`, a `ChatWidget`)."""

from __future__ import annotations

import os
from pathlib import Path

from powawidget.outputs.tables import Table
from powawidget.outputs.transcript import Transcript
from powawidget.wire.canonical import CanonicalEvent


class TranscriptViews:
    """The DataFrame-ready views of anything with `events` (a session, a widget)."""

    @property
    def events(self) -> list[CanonicalEvent]:
        """Every canonical event so far (the subclass provides them)."""
        raise NotImplementedError

    def to_transcript(self) -> Transcript:
        """The conversation so far as a `Transcript` (views, save, Markdown/HTML export)."""
        return Transcript(self.events)

    @property
    def transcript(self) -> Table:
        """One row per event, stable columns: `pd.DataFrame(w.transcript)` just works."""
        return self.to_transcript().rows

    @property
    def messages(self) -> Table:
        """One row per message (user, assistant, tool) as a reader sees them."""
        return self.to_transcript().messages

    @property
    def runs(self) -> Table:
        """One row per run: question, answer, status, timing, tokens."""
        return self.to_transcript().runs

    @property
    def tool_calls(self) -> Table:
        """One row per tool call: name, arguments, result, duration, status."""
        return self.to_transcript().tool_calls

    @property
    def delegations(self) -> Table:
        """One row per delegation of an orchestration: agent, task, status, steps, tokens,
        duration."""
        return self.to_transcript().delegations

    @property
    def citations(self) -> Table:
        """One row per citation of a cited answer: its [n] key, source and excerpt."""
        return self.to_transcript().citations

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the events as JSON Lines; `ChatWidget.replay(path)` plays them back."""
        return self.to_transcript().save(path)
