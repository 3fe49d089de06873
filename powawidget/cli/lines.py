"""Terminal lines for `powawidget chat`: colours when wanted, server text made printable
(no control characters can drive the terminal), values shortened to one line, durations
and token counts as a person reads them."""

from __future__ import annotations

import json
import os
import re
from typing import Any, TextIO

LINE_WIDTH = 120


def duration(ms: float) -> str:
    """A duration as a person reads it: "2 ms", "1.4 s", "36 s", "5 min 0 s"."""
    if ms < 1000:
        return f"{ms:.0f} ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"
    minutes = int(seconds // 60)
    return f"{minutes} min {seconds - minutes * 60:.0f} s"


_MARKER = re.compile(r"\[\d+\]")


def dropped_markers(shown: str, final: str) -> str:
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


def usage_text(usage: dict[str, Any]) -> str:
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


def compact(value: Any, limit: int = LINE_WIDTH) -> str:
    """A value on one shortened line (JSON for objects)."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return shorten(text, limit)


def shorten(text: str, limit: int = LINE_WIDTH) -> str:
    """Whitespace collapsed, control characters removed, cut to `limit` with an ellipsis."""
    line = " ".join(printable(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


# C0 and C1 control characters except tab and newline: what the server sends must not be
# able to drive the terminal (escape sequences can move the cursor, retitle, hide text).
_CONTROL = {c: None for c in [*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0)]}


def printable(text: str) -> str:
    """`text` without terminal control characters (tab and newline kept)."""
    return text.translate(_CONTROL)


def isatty(stream: TextIO) -> bool:
    """True when `stream` is a terminal."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def same_file(a: TextIO, b: TextIO) -> bool:
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
        return cls(isatty(stream) and "NO_COLOR" not in os.environ)

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
