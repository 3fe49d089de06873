"""How `powawidget chat` shows a run: canonical events as terminal lines or as JSON lines.

`TerminalView` streams the answer to stdout and one short line per other event to stderr
(steps, step resets, tools, approvals and how they ended, sources, usage, errors), with
server text stripped of control characters; `JsonLinesPrinter` prints the events as they
are. Both note how the run went in `exit_code`.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

from powawidget.wire.canonical import CanonicalEvent
from powawidget.wire.events import blocked_result, citations, hook_outcome

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

LINE_WIDTH = 120
EXIT_OK, EXIT_FAILED, EXIT_SETUP, EXIT_INTERRUPTED = 0, 1, 2, 130


class EventPrinter:
    """Shows canonical events somewhere; `exit_code` says how the run went."""

    exit_code = EXIT_OK

    def show(self, event: CanonicalEvent, client: PowabaseClient) -> None:
        """Show one event."""
        raise NotImplementedError

    def end_text(self) -> None:
        """End a half-written line of answer text."""


class JsonLinesPrinter(EventPrinter):
    """One canonical event per line as JSON (for debugging and scripts)."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def show(self, event: CanonicalEvent, client: PowabaseClient) -> None:
        self.out.write(json.dumps(event, ensure_ascii=False, default=str) + "\n")
        self.out.flush()
        if event["event"] == "error" or (
            event["event"] == "complete" and event["status"] == "failed"
        ):
            self.exit_code = EXIT_FAILED


Decider = Callable[[CanonicalEvent], "tuple[bool, str | None] | None"]
"""Answers an approval request: (approved, reason), or None to leave it unanswered."""


class TerminalView(EventPrinter):
    """Human-readable output: text streamed on stdout, one short line per other event on stderr."""

    def __init__(self, out: TextIO, err: TextIO, style: Style, decide: Decider) -> None:
        self.out, self.err, self.style, self.decide = out, err, style, decide
        self.shown = ""  # the answer text printed so far
        self.mid_line = False  # stdout holds text without a final newline
        self.reasoning: list[str] = []
        self.last_reasoning = ""  # the reasoning line printed last
        self.awaiting_outcome = False  # an approval was asked for; its outcome is not shown yet
        # On one screen a stderr line must not land mid-sentence: end the text line first.
        # When stdout is redirected, the answer file stays exactly the answer.
        self.same_screen = (_isatty(out) and _isatty(err)) or _same_file(out, err)

    def show(self, event: CanonicalEvent, client: PowabaseClient) -> None:
        name = event["event"]
        if name not in ("reasoning_delta", "reasoning"):
            self._flush_reasoning()
        if name in ("content_delta", "chunk", "complete") and event["text"] is not None:
            self._text(event["text"], event["text_mode"])
        if name == "step_started":
            self._note(self.style.dim, f"── step {event['step'] or '?'} ──")
        elif name in ("reasoning_delta", "reasoning"):
            if event["text_mode"] == "replace":
                self.reasoning = []
            self.reasoning.append(event["text"] or "")
        elif name == "tool_call":
            args = _compact(event["arguments"])
            self._note(self.style.tool, f"→ {event['tool_name']}({args})")
        elif name == "tool_result":
            took = f" ({event['duration_ms']:.0f} ms)" if event["duration_ms"] is not None else ""
            self._note(
                self.style.tool, f"← {event['tool_name']}{took}: {_compact(event['result'])}"
            )
            refusal, words = blocked_result(event["result"])
            if refusal is not None and self.awaiting_outcome:  # no hook_result said it
                self._outcome(refusal, words)
        elif name == "approval_requested":
            self._approval(event, client)
        elif name == "hook_result":
            self._hook_result(event)
        elif name == "step_reset":
            reason = f" ({event['text']})" if event["text"] else ""
            self._note(self.style.dim, f"↺ step {event['step'] or '?'} starts again{reason}")
        elif name == "complete":
            self._complete(event)
        elif name == "usage":
            self._note(self.style.dim, f"usage: {_usage_text(event['usage'] or {})}")
        elif name == "error":
            code = f" [{event['error_code']}]" if event["error_code"] else ""
            message = printable(event["error_message"] or "no message")
            self._note(self.style.error, f"run error{code}: {message}")
            self.exit_code = EXIT_FAILED
        elif name == "malformed":
            self._note(self.style.dim, f"(a frame that is not JSON: {_compact(event['raw'])})")
        elif name not in ("start", "content_delta", "chunk", "step_completed", "on_run_complete"):
            self._note(self.style.dim, f"· {name}")

    def end_text(self) -> None:
        self._flush_reasoning()
        if self.mid_line:
            self.out.write("\n")
            self.out.flush()
            self.mid_line = False

    def _text(self, text: str, mode: str | None) -> None:
        """Print a delta, or only what a whole-text replacement adds to what is shown."""
        if mode == "replace":
            if text == self.shown:
                return
            dropped = _dropped_markers(self.shown, text)
            if dropped:  # citation markers the server could not match: no need to reprint
                self._note(self.style.dim, f"(the server dropped unmatched citations {dropped})")
                self.shown = text
                return
            if text.startswith(self.shown):
                text = text[len(self.shown) :]
            else:
                self.end_text()
                self._note(self.style.dim, "(the server revised the answer:)")
                self.shown = ""
        self._write(text)

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
        self._flush_reasoning()
        self._break_line()
        write_line(self.err, paint(printable(text)))

    def _break_line(self) -> None:
        """End the answer's current line when stderr notes share its screen."""
        if self.same_screen and self.mid_line:
            self.out.write("\n")
            self.out.flush()
            self.mid_line = False

    def _flush_reasoning(self) -> None:
        """Print gathered reasoning as one shortened line (once: the whole `reasoning` that
        follows its deltas on the path without tools repeats them)."""
        if self.reasoning:
            text, self.reasoning = "".join(self.reasoning), []
            if text == self.last_reasoning:
                return
            self.last_reasoning = text
            self._break_line()
            write_line(self.err, self.style.dim(f"thinking: {_shorten(text)}"))  # _shorten cleans

    def _approval(self, event: CanonicalEvent, client: PowabaseClient) -> None:
        """Show an approval request and answer it (flag, prompt, or deny when no one can)."""
        args = _compact(event["arguments"])
        self._note(self.style.tool, f"? approval needed for {event['tool_name']}({args})")
        if event["text"]:
            self._note(self.style.dim, f"  {_shorten(event['text'])}")
        self.awaiting_outcome = True
        decision = self.decide(event)
        if decision is None or not event["run_id"]:
            return
        approved, reason = decision
        client.approve(event["run_id"], approved, reason)
        self._note(self.style.dim, "  sent: approve" if approved else f"  sent: deny ({reason})")

    def _hook_result(self, event: CanonicalEvent) -> None:
        """The server's word on an approval: approved, denied (with why) or timed out."""
        outcome, message = hook_outcome(event)
        if outcome == "approved" and not self.awaiting_outcome:
            return  # a hook that let a call through without asking anyone
        if outcome is not None:
            self._outcome(outcome, message)

    def _outcome(self, outcome: str, message: str | None) -> None:
        """One line saying how an approval ended."""
        self.awaiting_outcome = False
        if outcome == "approved":
            self._note(self.style.tool, "  approved")
        elif outcome == "timed_out":
            self._note(self.style.error, f"  timed out: {_shorten(message or 'no answer in time')}")
        else:
            self._note(self.style.error, f"  denied: {_shorten(message or 'no reason given')}")

    def _complete(self, event: CanonicalEvent) -> None:
        """Sources, usage, and the failure when the run failed."""
        sources = citations(event)
        if sources:
            self._note(self.style.dim, "sources:")
            for number, source in enumerate(sources, 1):
                key = source.get("key") or number
                name = source.get("source_name") or source.get("source_id") or "source"
                excerpt = source.get("text_excerpt")
                said = f": {_shorten(str(excerpt), 80)}" if excerpt else ""
                self._note(self.style.dim, f"  [{key}] {name}{said}")
        usage = event["usage"]
        if isinstance(usage, dict) and usage:
            self._note(self.style.dim, f"usage: {_usage_text(usage)}")
        if event["status"] == "failed":
            code = f" [{event['error_code']}]" if event["error_code"] else ""
            message = printable(event["error_message"] or "no reason given")
            self._note(self.style.error, f"run failed{code}: {message}")
            self.exit_code = EXIT_FAILED


_MARKER = re.compile(r"\[\d+\]")


def _dropped_markers(shown: str, final: str) -> str:
    """The `[n]` markers (joined) whose removal turns the shown text into the final one, as
    the server does for citations it could not match; "" when that is not the difference."""
    missing = sorted({m for m in _MARKER.findall(shown) if m not in final})
    if not missing:
        return ""
    pattern = "|".join(re.escape(m) for m in missing)
    for removal in (rf"\s*(?:{pattern})", pattern):
        if re.sub(removal, "", shown).strip() == final.strip():
            return "".join(missing)
    return ""


def _usage_text(usage: dict[str, Any]) -> str:
    """Token counts in one line: prompt + completion = total (and any extras)."""
    prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
    total = usage.get("total_tokens")
    parts = []
    if prompt is not None and completion is not None:
        parts.append(f"{prompt} prompt + {completion} completion")
    if total is not None:
        parts.append(f"= {total} tokens" if parts else f"{total} tokens")
    known = {"prompt_tokens", "completion_tokens", "total_tokens"}
    extras = ", ".join(f"{k} {v}" for k, v in usage.items() if k not in known)
    line = " ".join(parts) or json.dumps(usage)
    return f"{line} ({extras})" if extras and parts else line


def _compact(value: Any, limit: int = LINE_WIDTH) -> str:
    """A value on one shortened line (JSON for objects)."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return _shorten(text, limit)


def _shorten(text: str, limit: int = LINE_WIDTH) -> str:
    """Whitespace collapsed, control characters removed, cut to `limit` with an ellipsis."""
    line = " ".join(printable(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


# C0 and C1 control characters except tab and newline: what the server sends must not be
# able to drive the terminal (escape sequences can move the cursor, retitle, hide text).
_CONTROL = {c: None for c in [*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0)]}


def printable(text: str) -> str:
    """`text` without terminal control characters (tab and newline kept)."""
    return text.translate(_CONTROL)


def _isatty(stream: TextIO) -> bool:
    """True when `stream` is a terminal."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _same_file(a: TextIO, b: TextIO) -> bool:
    """True when both streams write to the same file or pipe (as with `2>&1`)."""
    try:
        first, second = os.fstat(a.fileno()), os.fstat(b.fileno())
    except (AttributeError, OSError, ValueError):
        return False
    return (first.st_dev, first.st_ino) == (second.st_dev, second.st_ino)


def write_line(stream: TextIO, text: str) -> None:
    """Write one line and flush (stderr lines interleave with streamed stdout text)."""
    stream.write(text + "\n")
    stream.flush()


class Style:
    """ANSI colours for a terminal that wants them (a TTY, and NO_COLOR unset)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    @classmethod
    def for_stream(cls, stream: TextIO) -> Style:
        """Colours on when `stream` is a terminal and the user did not opt out."""
        return cls(_isatty(stream) and "NO_COLOR" not in os.environ)

    def _wrap(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.enabled else text

    def dim(self, text: str) -> str:
        """Secondary information."""
        return self._wrap("2", text)

    def tool(self, text: str) -> str:
        """Tool calls and results."""
        return self._wrap("36", text)

    def error(self, text: str) -> str:
        """Failures."""
        return self._wrap("31", text)
