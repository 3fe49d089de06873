"""How `powawidget chat` shows a run: what the fold made, as terminal lines, or the
canonical events as JSON lines.

`TerminalView` folds each event into a `Conversation` (the same fold the panel, the views
and evaluations read: docs/architecture.md) and prints what changed, as it changes: the
answer streams to stdout; steps, step resets, reasoning, tool calls (own time and approval
wait apart), approvals and how they ended, delegations, sources, usage, warnings and errors
go to stderr, one short line each, server text stripped of control characters. It decides
no protocol rule itself. `JsonLinesPrinter` prints the events as they are. Both note how
the run went in `exit_code`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

from powawidget.cli.lines import (
    Style,
    compact,
    dropped_markers,
    duration,
    isatty,
    printable,
    same_file,
    shorten,
    usage_text,
    write_line,
)
from powawidget.model.conversation import Conversation
from powawidget.model.folding import HANDLERS
from powawidget.model.tools import plain_reason
from powawidget.model.turns import (
    Approval,
    Delegation,
    ReasoningBlock,
    Step,
    StepReset,
    TextSegment,
    ToolCall,
    Turn,
)
from powawidget.wire.canonical import CanonicalEvent

if TYPE_CHECKING:
    from powawidget.wire.client import PowabaseClient

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_SETUP",
    "Decider",
    "EventPrinter",
    "JsonLinesPrinter",
    "Style",
    "TerminalView",
    "printable",
    "write_line",
]

EXIT_OK, EXIT_FAILED, EXIT_SETUP, EXIT_INTERRUPTED = 0, 1, 2, 130
FAILURES = frozenset({"error", "client_error"})
"""Events that fail a run whatever follows (a failed `complete` fails it too)."""
QUIET = frozenset(
    {
        "user_message",
        "usage",
        "history",
        "session_loaded",
        "new_session",
        "orchestration_started",
        "orchestration_completed",
        "delegation_started",
        "delegation_completed",
    }
)
"""Events the fold takes without an item of their own, shown through what they change."""


class EventPrinter:
    """Shows canonical events somewhere; `exit_code` says how the run went."""

    exit_code = EXIT_OK

    def show(self, event: CanonicalEvent, client: PowabaseClient | None) -> None:
        """Show one event."""
        raise NotImplementedError

    def end_text(self) -> None:
        """End a half-written line of answer text."""


class JsonLinesPrinter(EventPrinter):
    """One canonical event per line as JSON (for debugging and scripts)."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def show(self, event: CanonicalEvent, client: PowabaseClient | None) -> None:
        self.out.write(json.dumps(event, ensure_ascii=False, default=str) + "\n")
        self.out.flush()
        if event["event"] in FAILURES or (
            event["event"] == "complete" and event["status"] == "failed"
        ):
            self.exit_code = EXIT_FAILED


Decider = Callable[[Approval], "tuple[bool, str | None] | None"]
"""Answers an approval the fold holds: (approved, reason), or None to leave it unanswered."""


@dataclass
class _Shown:
    """What was printed of one item of the fold (the item is kept so its id stays its own)."""

    item: object
    text: str = ""  #: a text segment's or reasoning block's words printed so far
    done: bool = False  #: a call's result / an approval's outcome / a delegation's end
    asked: bool = False  #: an approval answered from here


@dataclass
class _RunShown:
    """What was printed of one run (the turn, or a delegated sub-agent's run)."""

    items: dict[int, _Shown] = field(default_factory=dict)
    error: bool = False
    usage: bool = False
    sources: bool = False
    warnings: int = 0


class TerminalView(EventPrinter):
    """The fold's run on a terminal: answer text streamed on stdout, one short line per
    other change on stderr (docs/architecture.md: the terminal reads the fold too)."""

    def __init__(self, out: TextIO, err: TextIO, style: Style, decide: Decider) -> None:
        self.out, self.err, self.style, self.decide = out, err, style, decide
        self.conversation = Conversation()
        self.shown = ""  # the answer text printed so far
        self.diverged = False  # the answer changed other than by growing: settled at the end
        self.settled = False
        self.mid_line = False  # stdout holds text without a final newline
        self.last_reasoning = ""
        self._runs: dict[int, tuple[Turn, _RunShown]] = {}
        # On one screen a stderr line must not land mid-sentence: end the text line first.
        # When stdout is redirected, the answer file stays exactly the answer.
        self.same_screen = (isatty(out) and isatty(err)) or same_file(out, err)

    @property
    def turn(self) -> Turn | None:
        """The run being shown (the conversation's latest turn)."""
        return self.conversation.last_turn

    def show(self, event: CanonicalEvent, client: PowabaseClient | None) -> None:
        turn = self.conversation.apply(event)
        if turn is None:
            return
        name = event["event"]
        if name not in HANDLERS and name not in QUIET:
            self._note(self.style.dim, f"· {name}")
        self._draw(turn, client, "")
        if turn.status == "failed":
            self.exit_code = EXIT_FAILED

    def end_text(self) -> None:
        turn = self.turn
        if turn is not None:
            self._draw(turn, None, "", closing=True)
        if self.mid_line:
            self.out.write("\n")
            self.out.flush()
            self.mid_line = False

    # -- drawing what changed -------------------------------------------------------------

    def _draw(
        self, run: Turn, client: PowabaseClient | None, indent: str, closing: bool = False
    ) -> None:
        """Print what changed in `run` since the last call, in the order it shows."""
        _, shown = self._runs.setdefault(id(run), (run, _RunShown()))
        for item in run.items:
            seen = shown.items.get(id(item))
            if seen is None:
                seen = shown.items[id(item)] = _Shown(item)
            if isinstance(item, TextSegment):
                if not indent:
                    self._answer(item, seen)
            elif isinstance(item, ReasoningBlock):
                if (item.done or closing) and item.text and item.text != seen.text:
                    seen.text = item.text
                    if item.text != self.last_reasoning:  # a whole repeat of its deltas
                        self.last_reasoning = item.text
                        self._note(self.style.dim, f"{indent}thinking: {shorten(item.text)}")
            elif isinstance(item, ToolCall):
                self._call(item, seen, indent)
            elif isinstance(item, Approval):
                self._approval(run, item, seen, client, indent)
            elif isinstance(item, Delegation):
                self._delegation(item, seen, client, indent)
            elif not seen.done:
                seen.done = True
                if isinstance(item, Step):
                    self._note(self.style.dim, f"{indent}── step {item.number or '?'} ──")
                elif isinstance(item, StepReset):
                    why = f" ({item.reason})" if item.reason else ""
                    self._note(
                        self.style.dim, f"{indent}↺ step {item.step or '?'} starts again{why}"
                    )
        for warning in run.warnings[shown.warnings :]:
            self._note(self.style.dim, f"{indent}warning: {shorten(warning)}")
        shown.warnings = len(run.warnings)
        if run.error_message is not None and not shown.error:
            shown.error = True
            self._failure(run, indent)
        if run.finished or closing:
            if not indent:
                self._settle_answer(run)
            self._sources(run, shown, indent)
        if (run.finished or closing) and run.usage and not shown.usage:
            shown.usage = True
            self._note(self.style.dim, f"{indent}usage: {usage_text(run.usage)}")

    def _answer(self, segment: TextSegment, seen: _Shown) -> None:
        """Stream a text segment's new words; a segment rewritten waits for the end."""
        text = segment.text
        if self.diverged or text == seen.text:
            return
        if not text.startswith(seen.text):
            self.diverged = True
            return
        self._write(text[len(seen.text) :])
        seen.text = text

    def _settle_answer(self, run: Turn) -> None:
        """The run ended: print only what the final answer adds to what is on screen."""
        if self.settled:
            return
        self.settled = True
        final = run.text
        if final == self.shown:
            return
        dropped = dropped_markers(self.shown, final)
        if dropped:  # citation markers the server could not match: no need to reprint
            self._note(self.style.dim, f"(the server dropped unmatched citations {dropped})")
        elif final.startswith(self.shown):
            self._write(final[len(self.shown) :])
        elif not final:  # a hook redacted the answer (docs/protocol.md, the text rule)
            self._note(self.style.dim, "(the server withdrew the answer above)")
        else:
            self._break()
            self._note(self.style.dim, "(the server revised the answer:)")
            self._write(final)

    def _call(self, call: ToolCall, seen: _Shown, indent: str) -> None:
        """A tool call when it starts, then its result, with its own time and its wait."""
        if not seen.asked:  # `asked`: the call's start line is out
            seen.asked = True
            self._note(self.style.tool, f"{indent}→ {call.tool_name}({compact(call.arguments)})")
        if seen.done or call.state in ("pending", "running"):
            return
        seen.done = True
        took = _took(call)
        if call.state == "denied":
            if call.approval is None:  # a hook refused it without asking anyone
                why = plain_reason(call.error)
                self._note(self.style.error, f"{indent}← {call.tool_name} blocked: {why or ''}")
            return
        if call.state == "error":
            said = compact(call.error or call.result)
            self._note(self.style.error, f"{indent}← {call.tool_name} failed{took}: {said}")
            return
        self._note(self.style.tool, f"{indent}← {call.tool_name}{took}: {compact(call.result)}")

    def _approval(
        self,
        run: Turn,
        approval: Approval,
        seen: _Shown,
        client: PowabaseClient | None,
        indent: str,
    ) -> None:
        """An approval: the question, the answer sent from here, then how it ended."""
        if not seen.text:
            seen.text = "asked"
            args = compact(approval.arguments)
            self._note(
                self.style.tool, f"{indent}? approval needed for {approval.tool_name}({args})"
            )
            if approval.message:
                self._note(self.style.dim, f"{indent}  {shorten(approval.message)}")
        if approval.waiting and not seen.asked:
            seen.asked = True
            decision = self.decide(approval)
            # The server waits on the run the stream belongs to (an orchestration's too).
            top = self.turn.run_id if self.turn is not None else run.run_id
            if decision is not None and top and client is not None:
                approved, reason = decision
                client.approve(top, approved, reason)
                sent = "approve" if approved else f"deny ({reason})"
                self._note(self.style.dim, f"{indent}  sent: {sent}")
        if approval.outcome is None or seen.done:
            return
        seen.done = True
        waited = approval.wait_ms
        wait = f" (waited {duration(waited)})" if waited is not None else ""
        if approval.outcome == "approved":
            self._note(self.style.tool, f"{indent}  approved{wait}")
        elif approval.outcome == "timed_out":
            self._note(self.style.error, f"{indent}  timed out: no answer in time{wait}")
        else:
            why = plain_reason(approval.reason) or "no reason given"
            self._note(self.style.error, f"{indent}  denied: {shorten(why)}{wait}")

    def _delegation(
        self, delegation: Delegation, seen: _Shown, client: PowabaseClient | None, indent: str
    ) -> None:
        """An orchestrator's delegation: the task, the sub-agent's run indented, its end."""
        if not seen.asked:
            seen.asked = True
            task = f": {shorten(delegation.task, 80)}" if delegation.task else ""
            self._note(self.style.tool, f"{indent}⇢ {delegation.agent or 'agent'}{task}")
        self._draw(delegation.run, client, indent + "  ")
        if delegation.open or seen.done:
            return
        seen.done = True
        said = f": {shorten(delegation.run.text, 80)}" if delegation.run.text else ""
        self._note(
            self.style.tool, f"{indent}⇠ {delegation.agent or 'agent'} {delegation.status}{said}"
        )

    def _failure(self, run: Turn, indent: str) -> None:
        """The run's failure, once, as the event that reported it says it."""
        reported = next(
            (e["event"] for e in reversed(run.events) if e["event"] in (*FAILURES, "complete")),
            None,
        )
        code = f" [{run.error_code}]" if run.error_code else ""
        message = printable(run.error_message or "no reason given")
        if reported == "client_error":
            self._note(self.style.error, f"{indent}error: {message}")
        else:
            kind = "run error" if reported == "error" else "run failed"
            self._note(self.style.error, f"{indent}{kind}{code}: {message}")

    def _sources(self, run: Turn, shown: _RunShown, indent: str) -> None:
        """The cited sources of a finished run, numbered as the answer's markers."""
        if shown.sources or not run.citations:
            return
        shown.sources = True
        self._note(self.style.dim, f"{indent}sources:")
        for number, source in enumerate(run.citations, 1):
            key = source.get("key") or number
            name = source.get("source_name") or source.get("source_id") or "source"
            excerpt = source.get("text_excerpt")
            said = f": {shorten(str(excerpt), 80)}" if excerpt else ""
            self._note(self.style.dim, f"{indent}  [{key}] {name}{said}")

    # -- writing ---------------------------------------------------------------------------

    def _write(self, text: str) -> None:
        """Answer text to stdout (control characters removed), flushed at once."""
        if not text:
            return
        self.out.write(printable(text))
        self.out.flush()
        self.shown += text
        self.mid_line = not text.endswith("\n")

    def _note(self, paint: Callable[[str], str], text: str) -> None:
        """One painted line on stderr (after ending a half-written answer line on screen)."""
        if self.same_screen:
            self._break()
        write_line(self.err, paint(printable(text)))

    def _break(self) -> None:
        """End the answer's current line."""
        if self.mid_line:
            self.out.write("\n")
            self.out.flush()
            self.mid_line = False


def _took(call: ToolCall) -> str:
    """ " (40 ms)", " (40 ms; waited 12 s for approval)", or "" without a duration."""
    parts = []
    if call.duration_ms is not None:
        parts.append(duration(call.duration_ms))
    if call.approval_wait_ms is not None:
        parts.append(f"waited {duration(call.approval_wait_ms)} for approval")
    return f" ({'; '.join(parts)})" if parts else ""
