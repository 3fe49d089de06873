"""Server-sent events: a pure, incremental reader that follows the WHATWG rules exactly.

Bytes go in (any chunking), `ServerSentEvent`s come out as soon as the blank line that
ends them arrives. No I/O here: the HTTP client feeds chunks, tests feed anything.
Spec: https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation

How it stays fast and linear: each chunk is decoded once (UTF-8 with U+FFFD for bad
bytes; the bytes of a character split across chunks wait for the rest; one leading BOM
is dropped), line ends are normalised with C-level `replace` only when the chunk holds a
CR, and whole blocks are cut out with C-level `split`s (see `SSEDecoder`). Only the new
chunk is scanned while a block is unfinished; its text waits in a list of pieces, so a
4 MiB line costs one join, not a rescan per chunk.
"""

from __future__ import annotations

from codecs import BOM_UTF8, utf_8_decode
from collections.abc import Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass

__all__ = ["EventTooLarge", "SSEDecoder", "ServerSentEvent", "iter_events"]


class EventTooLarge(ValueError):
    """One event (the text of a block before its blank line) grew past the decoder's cap."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"an event of at least {size} characters, past the cap of {limit}")
        self.size = size
        self.limit = limit


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    """One dispatched event: its type, data, the last event id and a retry set in its block."""

    event: str = "message"
    data: str = ""
    id: str | None = None
    retry: int | None = None


class _Draft:
    """ServerSentEvent's exact slot layout without the frozen guard: filled, then retyped.

    The frozen dataclass __init__ costs four object.__setattr__ calls (~500 ns), the single
    biggest cost per event. A draft is filled with plain slot stores and its __class__ set
    to ServerSentEvent (allowed because the layouts are identical): ~130 ns, same object.
    """

    __slots__ = ServerSentEvent.__slots__
    event: str
    data: str
    id: str | None
    retry: int | None


def _make_event(event: str, data: str, last_id: str | None, retry: int | None) -> ServerSentEvent:
    """A ServerSentEvent built the fast way (see _Draft)."""
    sse = _Draft()
    sse.event = event
    sse.data = data
    sse.id = last_id
    sse.retry = retry
    sse.__class__ = ServerSentEvent  # type: ignore[assignment]
    return sse  # type: ignore[return-value]


_utf8_decode = utf_8_decode
_NEXT_DATA = "\n\ndata: "  # a blank line, then a block that starts with a data line


class SSEDecoder:
    """Turns a byte stream, fed in chunks of any size, into events; holds no I/O.

    `feed()` returns the events completed by a chunk; `close()` ends the stream (an
    unterminated last block is dropped, as the spec says). With `max_event_size`, an event
    (finished or still arriving) longer than that many characters is not kept: `feed()`
    returns the events before it, drops what it held, and sets `overflow` to the size seen;
    the stream is over (`iter_events` raises `EventTooLarge`). `last_event_id` (the id sent
    as Last-Event-ID on reconnection) and `retry` (the reconnection time in ms) keep what
    the stream set, also from blocks that carried no data, and survive `close()`.

    Complete blocks (text up to a blank line) are read as a whole. Agent streams are
    almost only `data: <json>` blocks, so the text is split at every "\\n\\ndata: ": each
    piece without a line end is the data of one event, taken as is with no further copy.
    Any other block goes line by line through the spec's field rules (`_read_block`).
    """

    __slots__ = (
        "_after_cr",
        "_carry",
        "_head",
        "_in_data",
        "_max_event_size",
        "_pending",
        "last_event_id",
        "overflow",
        "retry",
    )

    def __init__(self, max_event_size: int | None = None) -> None:
        """Start a new stream: no last event id, no retry, BOM not yet seen."""
        self._max_event_size = max_event_size
        self.overflow: int | None = None
        self._head: bytes | None = b""  # the stream's first bytes until the BOM is decided
        self._carry = b""  # an incomplete UTF-8 sequence at the end of the last chunk
        self._pending: list[str] = []  # text of the unfinished block, in non-empty pieces
        self._in_data = False  # the unfinished block began "data: " (not kept in _pending)
        self._after_cr = False  # the previous chunk ended in CR: a leading LF is its pair
        self.last_event_id: str | None = None
        self.retry: int | None = None

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Read one chunk; return the events whose blank line it completed, in order."""
        cap = self._max_event_size
        if cap is None:
            return self._feed(chunk)
        if self.overflow is not None:
            raise EventTooLarge(self.overflow, cap)
        before = sum(map(len, self._pending))
        out = self._feed(chunk)
        if before + len(chunk) <= cap:  # nothing this chunk touched can be past the cap
            return out
        for i, sse in enumerate(out):
            if len(sse.data) > cap:
                self._overflowed(len(sse.data))
                return out[:i]
        held = sum(map(len, self._pending))
        if held > cap:
            self._overflowed(held)
        return out

    def _overflowed(self, size: int) -> None:
        """Note an event past the cap and drop every byte held (memory stays bounded)."""
        self.overflow = size
        self._pending.clear()
        self._in_data = False
        self._carry = b""

    def _feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """`feed` without the cap."""
        if self._head is not None:  # still at the stream's start: a BOM may be arriving
            chunk = self._strip_bom(chunk)
        if type(chunk) is not bytes:
            chunk = bytes(chunk)
        # ASCII (JSON escapes non-ASCII by default): no bytes to carry, none invalid.
        text = self._decode(chunk) if self._carry or not chunk.isascii() else chunk.decode()
        if not text:
            return []
        if self._after_cr:
            self._after_cr = False
            if text[0] == "\n":
                text = text[1:]
                if not text:
                    return []
        if "\r" in text:
            # A CR at the very end ends its line now (no waiting for a maybe-LF).
            self._after_cr = text[-1] == "\r"
            text = text.replace("\r\n", "\n").replace("\r", "\n")

        # Line ends are found with memchr ("\n" in text), which is fast; a search for a
        # two-character needle with no match costs ~30x more, so it is done only when needed.
        pending = self._pending
        if "\n" not in text:  # no line end: the block goes on
            pending.append(text)
            return []
        if len(pending) <= 1:
            # Usually the previous chunk's tail: join and split at once. Without a blank
            # line the pieces stay apart (then the branch below): each byte is rejoined once.
            joined = pending[0] + text if pending else text
            pieces = joined.split(_NEXT_DATA)
            if len(pieces) == 1 and "\n\n" not in joined:
                pending.append(text)
                return []
            pending.clear()
            text = joined
        else:  # a long block: scan only the new text until the blank line, then join once
            if "\n\n" not in text and not (text[0] == "\n" and pending[-1][-1] == "\n"):
                pending.append(text)
                return []
            pending.append(text)
            text = "".join(pending)
            pending.clear()
            pieces = text.split(_NEXT_DATA)

        out: list[ServerSentEvent] = []
        last = pieces.pop()
        last_id = self.last_event_id
        if self._in_data:  # the text continues a block whose "data: " came earlier
            self._in_data = False
            if not pieces:
                self._read_blocks("data: " + text, out, ends_complete=False)
                return out
            head = pieces[0]
            if "\n" not in head:
                out.append(_make_event("message", head, last_id, None))
            else:
                self._read_blocks("data: " + head, out, ends_complete=True)
                last_id = self.last_event_id
        elif not pieces:  # no block starts with a data line: read it all the general way
            self._read_blocks(text, out, ends_complete=False)
            return out
        else:
            head = pieces[0]  # complete blocks before the first separator; often a data line
            if head[:6] == "data: " and "\n" not in head:
                out.append(_make_event("message", head[6:], last_id, None))
            elif head:
                self._read_blocks(head, out, ends_complete=True)
                last_id = self.last_event_id
        for i in range(1, len(pieces)):
            data = pieces[i]
            if "\n" in data:  # more lines than one data line: the general way
                self._read_blocks("data: " + data, out, ends_complete=True)
                last_id = self.last_event_id
            else:  # the hot path: see _Draft and _make_event (inlined here)
                sse = _Draft()
                sse.event = "message"
                sse.data = data
                sse.id = last_id
                sse.retry = None
                sse.__class__ = ServerSentEvent  # type: ignore[assignment]
                out.append(sse)  # type: ignore[arg-type]
        if "\n" not in last:  # the usual end of a chunk: a data line still arriving
            self._in_data = True
            if last:
                pending.append(last)
        elif last[-2:] == "\n\n" and last.find("\n") == len(last) - 2:  # "json\n\n"
            out.append(_make_event("message", last[:-2], last_id, None))
        elif "\n\n" not in last:  # more lines of a block still arriving
            self._in_data = True
            pending.append(last)
        else:
            self._read_blocks("data: " + last, out, ends_complete=False)
        return out

    def close(self) -> list[ServerSentEvent]:
        """End the stream: drop the unterminated block (keeping its `retry`); reset for reuse."""
        if self._pending or self._in_data:
            rest = "".join(self._pending)
            self._read_block("data: " + rest if self._in_data else rest, [], complete=False)
        self._head = b""
        self._carry = b""
        self._pending.clear()
        self._in_data = False
        self._after_cr = False
        return []

    def _read_blocks(self, text: str, out: list[ServerSentEvent], *, ends_complete: bool) -> None:
        """Read the blocks of `text`; unless it ends complete, keep its tail for later."""
        blocks = text.split("\n\n")
        if not ends_complete:
            tail = blocks.pop()
            if tail:
                self._pending.append(tail)
        for block in blocks:
            if block[:6] == "data: " and "\n" not in block:
                out.append(_make_event("message", block[6:], self.last_event_id, None))
            elif block:
                self._read_block(block, out, complete=True)
            # An empty block is a lone blank line: nothing to dispatch.

    def _read_block(self, block: str, out: list[ServerSentEvent], *, complete: bool) -> None:
        """Apply the spec's field rules to each line of a block; dispatch at blank lines.

        A complete block is followed by a blank line (dispatched at the end); an incomplete
        one (at close) has an unterminated last line, which is dropped, and no dispatch.
        """
        lines = block.split("\n")
        if complete:
            lines.append("")
        else:
            lines.pop()
        data: list[str] = []
        event = ""
        retry: int | None = None
        last_id = self.last_event_id
        for line in lines:
            if not line:
                if data:
                    out.append(_make_event(event or "message", "\n".join(data), last_id, retry))
                    data = []
                event = ""
                retry = None
                self.last_event_id = last_id  # the spec sets the last event id at dispatch
                continue
            colon = line.find(":")
            if colon == 0:
                continue  # a comment, e.g. ": keepalive"
            if colon < 0:
                name, value = line, ""
            else:
                name = line[:colon]
                value = line[colon + 1 :]
                if value[:1] == " ":
                    value = value[1:]
            if name == "data":
                data.append(value)
            elif name == "event":
                event = value
            elif name == "id":
                if "\0" not in value:
                    last_id = value
            elif name == "retry" and value.isdigit() and value.isascii():
                with suppress(ValueError):  # more digits than Python converts: ignored
                    self.retry = retry = int(value)
            # Any other field name is ignored.

    def _decode(self, chunk: bytes) -> str:
        """UTF-8 with U+FFFD for invalid bytes; a character's first bytes wait for the rest."""
        if self._carry:
            chunk = self._carry + chunk
            self._carry = b""
        text, used = _utf8_decode(chunk, "replace", False)
        if used != len(chunk):
            self._carry = chunk[used:]
        return text

    def _strip_bom(self, chunk: bytes) -> bytes:
        """Hold the stream's first bytes until they prove to be a BOM (dropped) or not."""
        head = (self._head or b"") + bytes(chunk)
        if len(head) < 3 and BOM_UTF8.startswith(head):
            self._head = head
            return b""
        self._head = None
        return head[3:] if head.startswith(BOM_UTF8) else head


def iter_events(
    chunks: Iterable[bytes], max_event_size: int | None = None
) -> Iterator[ServerSentEvent]:
    """Yield the events of a byte stream, each before the next chunk is pulled; past
    `max_event_size` characters in one event, raise `EventTooLarge` after the events
    before it (and pull no more chunks)."""
    decoder = SSEDecoder(max_event_size)
    feed = decoder.feed if max_event_size is not None else decoder._feed  # no cap, no check
    for chunk in chunks:
        if chunk:
            yield from feed(chunk)
            if decoder.overflow is not None:
                raise EventTooLarge(decoder.overflow, max_event_size or 0)
    yield from decoder.close()
