"""The SSE reader follows the WHATWG event-stream rules, whatever the chunking."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from powawidget.wire.sse import ServerSentEvent, SSEDecoder, iter_events


def events(stream: bytes) -> list[ServerSentEvent]:
    """All events of a stream fed in one chunk."""
    return list(iter_events([stream]))


def bytewise(stream: bytes) -> list[ServerSentEvent]:
    """All events of a stream fed one byte at a time (the harshest chunking)."""
    return list(iter_events(stream[i : i + 1] for i in range(len(stream))))


def datas(stream: bytes) -> list[str]:
    """The data of each event, checked to be the same when fed byte by byte."""
    got = events(stream)
    assert bytewise(stream) == got
    return [e.data for e in got]


# --- line ends ---------------------------------------------------------------------------


@pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r"])
def test_each_line_end_ends_lines(eol: bytes) -> None:
    stream = b"event: add" + eol + b"data: 1" + eol + b"data: 2" + eol + eol
    assert events(stream) == [ServerSentEvent(event="add", data="1\n2")]
    assert bytewise(stream) == events(stream)


def test_line_ends_can_be_mixed_in_one_stream() -> None:
    stream = b"data: a\r\ndata: b\rdata: c\n\r\ndata: d\r\rdata: e\n\n"
    assert datas(stream) == ["a\nb\nc", "d", "e"]


def test_crlf_split_across_chunks_is_one_line_end() -> None:
    # One blank line would dispatch "a"; CR|LF split must not count as two line ends.
    got = list(iter_events([b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"]))
    assert got == [ServerSentEvent(data="a\nb")]


def test_a_chunk_ending_in_cr_dispatches_at_once() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r\r") == [ServerSentEvent(data="a")]
    # The LF that may follow pairs with the CR: it is not another blank line.
    assert decoder.feed(b"\ndata: b\n\n") == [ServerSentEvent(data="b")]


def test_each_event_is_yielded_before_the_next_chunk_is_pulled() -> None:
    pulled: list[int] = []

    def chunks() -> Iterator[bytes]:
        pulled.append(1)
        yield b"data: first\n\n"
        pulled.append(2)
        yield b"data: second\r\n\r"  # completed by its final CR
        pulled.append(3)
        yield b"\ndata: third\n\n"

    stream = iter_events(chunks())
    assert next(stream).data == "first"
    assert pulled == [1]
    assert next(stream).data == "second"
    assert pulled == [1, 2]
    assert next(stream).data == "third"
    assert list(stream) == []


def test_any_bytes_like_chunk_is_read_and_empty_chunks_are_harmless() -> None:
    chunks = [bytearray(b"data: a"), b"", memoryview(b"\n\ndata: b\n\n")]
    assert [e.data for e in iter_events(chunks)] == ["a", "b"]  # type: ignore[arg-type]


# --- byte order mark and decoding --------------------------------------------------------


def test_one_leading_bom_is_stripped() -> None:
    assert datas(b"\xef\xbb\xbfdata: x\n\n") == ["x"]


def test_a_leading_bom_split_across_chunks_is_stripped() -> None:
    got = list(iter_events([b"\xef", b"\xbb", b"\xbfdata: x\n\n"]))
    assert got == [ServerSentEvent(data="x")]


def test_only_the_first_bom_is_stripped() -> None:
    # The second BOM becomes part of the field name "\ufeffdata", an unknown field.
    assert datas(b"\xef\xbb\xbf\xef\xbb\xbfdata: x\n\ndata: y\n\n") == ["y"]
    assert datas(b"data: x\n\n\xef\xbb\xbfdata: y\n\n") == ["x"]
    assert datas(b"data: \xef\xbb\xbfx\n\n") == ["\ufeffx"]


def test_a_partial_bom_is_not_a_bom() -> None:
    # EF BB then "\n": an invalid sequence (U+FFFD) on a line of its own, not a BOM.
    assert datas(b"\xef\xbb\ndata: x\n\n") == ["x"]
    assert datas(b"\xef\xbbdata: x\n\n") == []


def test_invalid_utf8_becomes_replacement_characters() -> None:
    assert datas(b"data: a\xffb\n\ndata: \xe2\x82\n\n") == ["a\ufffdb", "\ufffd"]


def test_multibyte_characters_split_across_chunks_decode_right() -> None:
    text = "café € 𝄞 日本"
    stream = f"data: {text}\n\n".encode()
    for cut in range(len(stream) + 1):
        got = list(iter_events([stream[:cut], stream[cut:]]))
        assert got == [ServerSentEvent(data=text)], cut
    assert bytewise(stream) == [ServerSentEvent(data=text)]


def test_unicode_line_separators_are_data_not_line_ends() -> None:
    text = "a\u2028b\u2029c\x85d\x0be\x0cf\x1cg"
    assert datas(f"data: {text}\n\n".encode()) == [text]


# --- fields ------------------------------------------------------------------------------


def test_comments_are_ignored() -> None:
    assert datas(b": keepalive\n\n:\ndata: x\n: inside a block\n\n") == ["x"]


def test_a_field_without_colon_has_an_empty_value() -> None:
    assert datas(b"data\n\ndata\ndata\n\n") == ["", "\n"]
    assert events(b"event\ndata: x\n\n") == [ServerSentEvent(event="message", data="x")]


def test_exactly_one_space_after_the_colon_is_stripped() -> None:
    assert datas(b"data:x\n\ndata: x\n\ndata:  x\n\ndata:\tx\n\n") == ["x", "x", " x", "\tx"]
    assert events(b"event:  add\ndata: 1\n\n")[0].event == " add"


def test_multi_line_data_is_joined_with_newlines() -> None:
    assert datas(b"data: YHOO\ndata: +2\ndata: 10\n\n") == ["YHOO\n+2\n10"]
    assert datas(b"data: \ndata:\n\n") == ["\n"]


def test_unknown_fields_and_case_variants_are_ignored() -> None:
    assert datas(b"foo: bar\nData: no\nDATA: no\ndata: yes\n\n") == ["yes"]


def test_an_empty_data_field_is_still_dispatched() -> None:
    assert events(b"data:\n\n") == [ServerSentEvent(data="")]


# --- blocks and dispatch -----------------------------------------------------------------


def test_a_block_without_data_is_not_dispatched_but_its_id_counts() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"id: 7\nevent: x\n\n") == []
    assert decoder.last_event_id == "7"
    assert decoder.feed(b"data: a\n\n") == [ServerSentEvent(data="a", id="7")]


def test_the_event_type_resets_after_each_block() -> None:
    stream = b"event: add\ndata: 1\n\ndata: 2\n\nevent: gone\n\ndata: 3\n\n"
    assert [(e.event, e.data) for e in events(stream)] == [
        ("add", "1"),
        ("message", "2"),
        ("message", "3"),
    ]
    assert events(b"event:\ndata: x\n\n")[0].event == "message"


def test_an_unterminated_block_at_end_of_stream_is_dropped() -> None:
    assert datas(b"data: a\n\ndata: b\n") == ["a"]
    assert datas(b"data: a\n\ndata: b") == ["a"]
    decoder = SSEDecoder()
    assert decoder.feed(b"data: b\n") == []
    assert decoder.close() == []


def test_the_last_event_id_persists_until_changed() -> None:
    stream = b"id: 1\ndata: a\n\ndata: b\n\nid\ndata: c\n\nid: 2\ndata: d\n\n"
    assert [e.id for e in events(stream)] == ["1", "1", "", "2"]
    assert events(b"data: a\n\n")[0].id is None


def test_an_id_containing_nul_is_ignored() -> None:
    stream = b"id: 1\ndata: a\n\nid: 2\x00x\ndata: b\n\n"
    assert [e.id for e in events(stream)] == ["1", "1"]


def test_retry_is_set_only_by_ascii_digits_and_only_for_its_block() -> None:
    stream = (
        b"retry: 3000\ndata: a\n\n"
        b"data: b\n\n"
        b"retry: 30x0\ndata: c\n\n"
        b"retry: -1\ndata: d\n\n"
        b"retry:\ndata: e\n\n"
        b"retry: \xef\xbc\x93\ndata: f\n\n"  # a full-width digit 3
        b"retry:  5\ndata: g\n\n"
    )
    assert [e.retry for e in events(stream)] == [3000, None, None, None, None, None, None]


def test_the_decoder_remembers_retry_from_any_block() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"retry: 1500\n\n") == []
    assert decoder.retry == 1500
    decoder.feed(b"retry: 2500\ndata: a\n")
    decoder.close()  # the block is dropped, but its retry field was read
    assert decoder.retry == 2500


def test_a_closed_decoder_reads_a_new_stream_keeping_the_last_event_id() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"id: 9\ndata: a\n\ndata: half") == [ServerSentEvent(data="a", id="9")]
    decoder.close()
    assert decoder.feed(b"\xef\xbb\xbfdata: b\n\n") == [ServerSentEvent(data="b", id="9")]


def test_events_are_frozen() -> None:
    event = ServerSentEvent(data="x")
    with pytest.raises(AttributeError):
        event.data = "y"  # type: ignore[misc]
    assert events(b"data: x\n\n")[0] == event
    assert type(events(b"data: x\n\n")[0]) is ServerSentEvent


# --- the spec's own examples --------------------------------------------------------------


def test_spec_example_stock_ticker() -> None:
    assert events(b"data: YHOO\ndata: +2\ndata: 10\n\n") == [ServerSentEvent(data="YHOO\n+2\n10")]


def test_spec_example_ids_and_comment() -> None:
    stream = (
        b": test stream\n\ndata: first event\nid: 1\n\n"
        b"data:second event\nid\n\ndata:  third event\n\n"
    )
    assert events(stream) == [
        ServerSentEvent(data="first event", id="1"),
        ServerSentEvent(data="second event", id=""),
        ServerSentEvent(data=" third event", id=""),
    ]


def test_spec_example_empty_data_and_unterminated_tail() -> None:
    assert datas(b"data\n\ndata\ndata\n\ndata:") == ["", "\n"]


def test_spec_example_space_after_colon() -> None:
    assert datas(b"data:test\n\ndata: test\n\n") == ["test", "test"]


def test_spec_example_event_types() -> None:
    stream = (
        b"event: add\ndata: 73857293\n\nevent: remove\ndata: 2153\n\nevent: add\ndata: 113411\n\n"
    )
    assert [(e.event, e.data) for e in events(stream)] == [
        ("add", "73857293"),
        ("remove", "2153"),
        ("add", "113411"),
    ]


def test_an_sse_starlette_style_crlf_stream() -> None:
    stream = b': ping\r\n\r\nid: 1\r\nevent: chunk\r\ndata: {"a": 1}\r\nretry: 15000\r\n\r\n'
    assert events(stream) == [ServerSentEvent("chunk", '{"a": 1}', "1", 15000)]
    assert bytewise(stream) == events(stream)


# --- linear time -------------------------------------------------------------------------


@pytest.mark.parametrize("chunk_size", [512, 64 * 1024])
def test_a_4_mib_line_costs_milliseconds_not_seconds(chunk_size: int) -> None:
    line = b"data: " + b"x" * (4 * 1024 * 1024) + b"\n\n"
    chunks = [line[i : i + chunk_size] for i in range(0, len(line), chunk_size)]
    start = time.perf_counter()
    got = list(iter_events(chunks))
    elapsed = time.perf_counter() - start
    assert len(got) == 1 and len(got[0].data) == 4 * 1024 * 1024
    # Linear: ~10 ms here. Rescanning the buffer per chunk would take many seconds.
    assert elapsed < 2.0


def test_a_block_of_many_lines_in_small_chunks_is_linear() -> None:
    stream = b"".join(b"data: %d\n" % i for i in range(100_000)) + b"\n"
    chunks = [stream[i : i + 512] for i in range(0, len(stream), 512)]
    start = time.perf_counter()
    (event,) = list(iter_events(chunks))
    assert event.data.split("\n") == [str(i) for i in range(100_000)]
    assert time.perf_counter() - start < 2.0


# --- any chunking: the same events as a plain reading of the spec ------------------------


def reference_events(stream: bytes) -> tuple[list[ServerSentEvent], str | None, int | None]:
    """A direct, slow transcription of the spec: decode all, split lines, interpret.

    Returns the events, the last event id as of the last blank line (what a reconnect
    sends) and the last retry value.
    """
    text = stream.decode("utf-8", errors="replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = re.split(r"\r\n|\r|\n", text)[:-1]  # the last piece is never terminated
    out: list[ServerSentEvent] = []
    data, event, last_id, retry, block_retry = "", "", None, None, None
    dispatched_id = None
    for line in lines:
        if line == "":
            dispatched_id = last_id
            if data:
                out.append(ServerSentEvent(event or "message", data[:-1], last_id, block_retry))
            data, event, block_retry = "", "", None
            continue
        if line.startswith(":"):
            continue
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            data += value + "\n"
        elif name == "event":
            event = value
        elif name == "id" and "\0" not in value:
            last_id = value
        elif name == "retry" and re.fullmatch(r"[0-9]+", value):
            retry = block_retry = int(value)
    return out, dispatched_id, retry


TOKENS = [
    b"data: ",
    b"data:",
    b"data",
    b"event: ",
    b"id: ",
    b"id",
    b"retry: ",
    b": ",
    b":",
    b" ",
    b"\n",
    b"\r",
    b"\r\n",
    b"\n\n",
    b"\r\n\r\n",
    b"12",
    b"x",
    b'{"event": "chunk"}',
    b"\x00",
    b"\xef\xbb\xbf",
    b"\xff",
    b"\xe2\x82",
    b"\xe2\x82\xac",
    "😀\u2028\x85".encode(),
    b"\n\ndata: ",
]


@st.composite
def streams_and_cuts(draw: st.DrawFn) -> tuple[bytes, list[int]]:
    """A stream built from SSE-shaped tokens, and points at which to cut it."""
    stream = b"".join(draw(st.lists(st.sampled_from(TOKENS), max_size=60)))
    cuts = sorted(draw(st.lists(st.integers(0, len(stream)), max_size=12)))
    return stream, cuts


@settings(max_examples=400, deadline=None)
@given(streams_and_cuts())
def test_any_rechunking_yields_the_events_the_spec_defines(
    case: tuple[bytes, list[int]],
) -> None:
    stream, cuts = case
    bounds = [0, *cuts, len(stream)]
    chunks = [stream[a:b] for a, b in pairwise(bounds)]
    expected, last_id, retry = reference_events(stream)

    decoder = SSEDecoder()
    got = [e for chunk in chunks for e in decoder.feed(chunk)]
    got += decoder.close()
    assert got == expected
    assert list(iter_events([stream])) == expected
    assert decoder.retry == retry
    assert decoder.last_event_id == last_id


FRAMES = [
    b"data: {}\n\n",
    b'data: {"event": "content_delta", "delta": "Hel"}\n\n',
    b"data: " + b"x" * 700 + b"\n\n",
    b"data: \xe2\x82\xac\xf0\x9f\x98\x80\n\n",
    b"data:\n\n",
    b"data: a\ndata: b\n\n",
    b": keepalive\n\n",
    b"id: 3\ndata: with id\n\n",
    b"event: ping\ndata: typed\n\n",
    b"retry: 10\n\n",
    b"data: crlf\r\n\r\n",
    b"data: cr\r\r",
    b"\n",
]


@st.composite
def agent_streams(draw: st.DrawFn) -> tuple[bytes, int]:
    """Streams of whole frames (mostly one data line each) and a chunk size to cut them by."""
    stream = b"".join(draw(st.lists(st.sampled_from(FRAMES), max_size=40)))
    tail = draw(st.sampled_from([b"", b"data: unfinished", b"data: half\n", b"\n\ndata: "]))
    return stream + tail, draw(st.integers(1, 800))


@settings(max_examples=250, deadline=None)
@given(agent_streams())
def test_agent_shaped_streams_in_fixed_size_chunks_match_the_spec(case: tuple[bytes, int]) -> None:
    stream, size = case
    chunks = [stream[i : i + size] for i in range(0, len(stream), size)]
    decoder = SSEDecoder()
    got = [e for chunk in chunks for e in decoder.feed(chunk)] + decoder.close()
    expected, last_id, retry = reference_events(stream)
    assert got == expected
    assert (decoder.last_event_id, decoder.retry) == (last_id, retry)


@pytest.mark.parametrize("size", [1, 3, 64, 512, 4096, 65536])
def test_a_long_agent_stream_in_common_chunk_sizes_matches_the_spec(size: int) -> None:
    frames = [FRAMES[(i * 7) % len(FRAMES)] for i in range(600)]
    stream = b"".join(frames)
    chunks = [stream[i : i + size] for i in range(0, len(stream), size)]
    expected, _, _ = reference_events(stream)
    assert len(expected) > 300
    assert list(iter_events(chunks)) == expected
