"""Notebook objects as context (session/context.py) and what a message sends with them.

The building tests are pure; the request tests send each kind of context to the real local
agent server over HTTP and assert the exact JSON body that left the client (read from the
request `requests` sent, through a response hook on the client's own session).
"""

from __future__ import annotations

import base64
import io
import json
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import matplotlib
import pandas as pd
import polars as pl
import pytest

from powawidget.outputs.transcript import Transcript
from powawidget.session.chat import ChatSession
from powawidget.session.context import (
    ContextError,
    ContextLimits,
    ContextTooLargeError,
    build_context,
)
from powawidget.session.images import sniff

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def png(width: int, height: int) -> bytes:
    """A real, minimal RGB PNG of the given size (all black)."""
    raw = b"".join(b"\x00" + b"\x00\x00\x00" * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


CITIES = pd.DataFrame(
    {"city": ["Tokyo", "Delhi", "Lagos"] * 10, "population": [37.4, 28.5, 15.4] * 10}
)


# ---- building the context (pure) ------------------------------------------------------------


def test_a_string_is_sent_exactly_as_it_is() -> None:
    context = build_context("name,population\nTokyo,37400068\n", name="csv")
    assert context.override == "name,population\nTokyo,37400068\n"
    (record,) = context.records()
    assert record["kind"] == "text" and record["name"] == "csv" and record["size"] == 31
    assert len(record["sha256"]) == 16 and "text" not in record


def test_a_dataframe_is_its_shape_schema_summary_and_a_bounded_sample() -> None:
    text = build_context(CITIES, name="cities", limits=ContextLimits(max_rows=5)).override
    assert isinstance(text, str)
    assert text.startswith("pandas DataFrame `cities`: 30 rows × 2 columns.")
    assert "Columns (dtype): city (" in text and "population (float64)" in text
    # The summary covers every row, not the sample.
    assert "- population: min 15.4, mean 27.1, max 37.4" in text
    assert "| city | population |\n|---|---|\n| Tokyo | 37.4 |" in text
    assert text.count("| Tokyo |") + text.count("| Delhi |") + text.count("| Lagos |") == 5
    assert text.endswith("(Sample only: 25 more rows not shown.)")


def test_a_polars_frame_and_a_series_are_described_the_same_way() -> None:
    text = build_context(pl.from_pandas(CITIES), name="cities").override
    assert isinstance(text, str) and text.startswith("polars DataFrame `cities`: 30 rows × 2")
    assert "- population: min 15.4, mean 27.1, max 37.4" in text
    series = build_context(CITIES["population"])
    assert series.parts[0].kind == "series" and series.parts[0].name == "population"
    assert "pandas Series `population`: 30 rows × 1 columns." in str(series.override)


def test_wide_frames_and_long_cells_are_cut_with_a_note() -> None:
    wide = pd.DataFrame({f"c{i}": ["x" * 200] for i in range(40)})
    text = str(build_context(wide, limits=ContextLimits(max_columns=3, max_cell_chars=10)).override)
    assert "| c0 | c1 | c2 |" in text and "c3 |" not in text.split("First")[1]
    assert "| xxxxxxxxx… |" in text
    assert "(Sample only: 37 more columns not shown.)" in text


def test_dicts_and_json_lists_are_json_and_a_list_of_objects_is_several_parts() -> None:
    assert (
        build_context({"a": 1, "b": [1, 2]}).override
        == '{\n  "a": 1,\n  "b": [\n    1,\n    2\n  ]\n}'
    )
    assert build_context([{"a": 1}, {"b": 2}]).parts[0].kind == "json"
    both = build_context(["first note", CITIES.head(2)])
    assert [p.kind for p in both.parts] == ["text", "dataframe"]
    assert [p.name for p in both.parts] == ["text 1", "dataframe 2"]
    assert str(both.override).startswith("first note\n\npandas DataFrame `dataframe 2`")


def test_a_figure_becomes_blocks_and_its_image_fits_the_cap() -> None:
    figure, axes = plt.subplots(figsize=(12, 6), dpi=100)
    axes.plot([1, 2, 3])
    try:
        context = build_context(figure, name="fig", limits=ContextLimits(max_image_side=600))
    finally:
        plt.close(figure)
    blocks = context.override
    assert isinstance(blocks, list)
    assert blocks[0] == {"type": "text", "text": "Image `fig`: 600×300 px PNG."}
    assert blocks[1]["type"] == "image_url"
    url = blocks[1]["image_url"]["url"]
    assert url.startswith("data:image/png;base64,")
    assert sniff(base64.b64decode(url.split(",", 1)[1])) == ("image/png", 600, 300)
    record = context.records()[0]
    assert record["width"] == 600 and record["height"] == 300 and "image" not in record
    assert "drawn at 50 dpi" in record["note"]


def test_png_and_jpeg_bytes_and_pil_images_are_images() -> None:
    data = png(30, 20)
    context = build_context(data)
    assert context.parts[0].picture is not None and context.parts[0].picture.data == data
    from PIL import Image

    big = Image.new("RGB", (3000, 1500), "red")
    buffer = io.BytesIO()
    big.save(buffer, format="JPEG")
    assert sniff(buffer.getvalue()) == ("image/jpeg", 3000, 1500)
    shrunk = build_context(buffer.getvalue(), limits=ContextLimits(max_image_side=300)).parts[0]
    assert shrunk.picture is not None and (shrunk.picture.width, shrunk.picture.height) == (
        300,
        150,
    )
    assert shrunk.picture.note == "downscaled from 3000×1500 px"
    assert (
        build_context(big, limits=ContextLimits(max_image_side=100)).parts[0].picture.width == 100
    )  # type: ignore[union-attr]
    with pytest.raises(ContextError, match="PNG or JPEG"):
        build_context(b"plain bytes")


def test_paths_to_text_csv_and_image_files(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("# Notes\nhello", encoding="utf-8")
    CITIES.to_csv(tmp_path / "cities.csv", index=False)
    (tmp_path / "chart.png").write_bytes(png(8, 4))
    (tmp_path / "blob.bin").write_bytes(b"\xff\xfe\x00\x81")
    assert build_context(tmp_path / "notes.md").override == "# Notes\nhello"
    table = build_context(tmp_path / "cities.csv")
    assert str(table.override).startswith("pandas DataFrame `cities.csv`: 30 rows × 2 columns.")
    assert table.records()[0]["file"] == "cities.csv"
    image = build_context(tmp_path / "chart.png").records()[0]
    assert (image["kind"], image["width"], image["height"]) == ("image", 8, 4)
    with pytest.raises(ContextError, match="not UTF-8 text"):
        build_context(tmp_path / "blob.bin")
    with pytest.raises(ContextError, match="No file at"):
        build_context(tmp_path / "missing.txt")
    # A str is text, never a path.
    assert build_context(str(tmp_path / "notes.md")).override == str(tmp_path / "notes.md")


def test_caps_are_clear_settable_errors() -> None:
    with pytest.raises(
        ContextTooLargeError, match=r"20,001 characters .*w.context_limits.max_chars"
    ):
        build_context("x" * 20_001)
    assert build_context("x" * 20_001, limits=ContextLimits(max_chars=30_000)).parts
    with pytest.raises(ContextTooLargeError, match="at most 1 are sent"):
        build_context([png(2, 2), png(2, 2)], limits=ContextLimits(max_images=1))
    with pytest.raises(ContextTooLargeError, match="max_image_bytes"):
        build_context(png(64, 64), limits=ContextLimits(max_image_bytes=50))
    with pytest.raises(ContextError, match="cannot be sent as context"):
        build_context(object())
    with pytest.raises(ContextError, match="empty"):
        build_context([])


# ---- what a message sends (the local server, over HTTP) ---------------------------------


@pytest.fixture
def sent(client: Any) -> Iterator[list[dict[str, Any]]]:
    """The JSON body of every run request the client sends, in order."""
    bodies: list[dict[str, Any]] = []

    def keep(response: Any, *_args: Any, **_kwargs: Any) -> None:
        if response.request.url.endswith("/run/stream"):
            bodies.append(json.loads(response.request.body))

    client._session.hooks["response"].append(keep)
    yield bodies


@pytest.fixture
def chat(client: Any) -> Iterator[ChatSession]:
    session = ChatSession(client, "agt_plain")
    yield session
    session.close()


def test_string_context_is_a_context_override_string(
    chat: ChatSession, sent: list[dict[str, Any]]
) -> None:
    handle = chat.send("Which city is largest?", context="name,population\nTokyo,37400068\n")
    assert handle.wait(30) and handle.error is None
    assert sent == [
        {
            "message": "Which city is largest?",
            "context_override": "name,population\nTokyo,37400068\n",
        }
    ]


def test_an_image_makes_the_context_content_blocks(
    chat: ChatSession, sent: list[dict[str, Any]]
) -> None:
    image = png(4, 2)
    handle = chat.send("What is in the picture?", context=["A tiny image.", image])
    assert handle.wait(30) and handle.error is None
    url = "data:image/png;base64," + base64.b64encode(image).decode()
    # The message itself is not a block: the server adds it after the context blocks.
    assert sent == [
        {
            "message": "What is in the picture?",
            "context_override": [
                {"type": "text", "text": "A tiny image."},
                {"type": "text", "text": "Image `image 2`: 4×2 px PNG."},
                {"type": "image_url", "image_url": {"url": url}},
            ],
        }
    ]


def test_kept_context_goes_with_every_message_until_cleared(
    chat: ChatSession, sent: list[dict[str, Any]]
) -> None:
    chat.context = "Kept notes."
    chat.send("one", context={"extra": True}).wait(30)
    chat.send("two").wait(30)
    chat.context = None
    chat.send("three").wait(30)
    assert [b.get("context_override") for b in sent] == [
        'Kept notes.\n\n{\n  "extra": true\n}',
        "Kept notes.",
        None,
    ]
    turns = chat.conversation.turns
    assert [r["kept"] for r in turns[0].context or []] == [True, False]
    assert turns[2].context is None


def test_per_message_options_override_the_sessions(client: Any, sent: list[dict[str, Any]]) -> None:
    chat = ChatSession(client, "agt_plain", options={"temperature": 0.5, "knowledge_bases": ["kb"]})
    try:
        chat.send("hi", options={"temperature": 0.1, "knowledge_bases": None}).wait(30)
        chat.send("hi again").wait(30)
    finally:
        chat.close()
    assert sent[0] == {"message": "hi", "temperature": 0.1}
    assert sent[1]["temperature"] == 0.5 and sent[1]["knowledge_bases"] == ["kb"]


def test_two_context_sources_are_refused_before_sending(
    client: Any, sent: list[dict[str, Any]]
) -> None:
    chat = ChatSession(client, "agt_plain", options={"knowledge_bases": ["kb"]})
    try:
        with pytest.raises(ContextError, match="one context source, not knowledge_bases and"):
            chat.send("hi", context="notes")
        with pytest.raises(ContextError, match="context_override and context_items"):
            chat.send(
                "hi",
                options={"knowledge_bases": None, "context_override": "a", "context_items": [{}]},
            )
        chat.send("hi", context="notes", options={"knowledge_bases": None}).wait(30)
    finally:
        chat.close()
    assert sent == [{"message": "hi", "context_override": "notes"}]


def test_the_transcript_records_each_item_but_never_the_image(
    chat: ChatSession, sent: list[dict[str, Any]], tmp_path: Path
) -> None:
    image = png(16, 8)
    chat.send("Look", context=[CITIES.head(3), image]).wait(30)
    encoded = base64.b64encode(image).decode()
    assert encoded in json.dumps(sent)  # it was sent…
    transcript = Transcript(chat.events)
    (row,) = [r for r in transcript.rows if r["event"] == "user_message"]
    records = json.loads(row["arguments"])["context"]
    assert [(r["kind"], r["name"]) for r in records] == [
        ("dataframe", "dataframe 1"),
        ("image", "image 2"),
    ]
    assert records[1]["size"] == len(image) and records[1]["width"] == 16
    assert all(set(r) >= {"kind", "name", "size", "sha256"} for r in records)
    # …but no sink keeps it: not the events, not the rows, not a saved transcript.
    saved = tmp_path / "t.jsonl"
    transcript.save(saved)
    for text in (json.dumps(chat.events), json.dumps(list(transcript.rows)), saved.read_text()):
        assert encoded not in text and "data:image" not in text
    # Handouts name what was sent, from the records.
    line = (
        f"Context sent: dataframe dataframe 1 (3 rows × 2 columns, {records[0]['size']:,} "
        f"bytes); image image 2 (16×8 px, {len(image)} bytes)"
    )
    assert line in transcript.to_markdown() and line in transcript.to_html()
    assert encoded not in transcript.to_html()
    # The chip shows exactly what was sent (the panel's view of the turn).
    from powawidget.model.view import entries

    shown = entries(chat.conversation)[0]["context"]
    assert shown is not None and shown[1]["image"] == f"data:image/png;base64,{encoded}"
    assert shown[0]["text"] == sent[0]["context_override"][0]["text"]


def test_a_context_over_a_cap_sends_nothing(chat: ChatSession, sent: list[dict[str, Any]]) -> None:
    chat.context_limits.max_chars = 100
    with pytest.raises(ContextTooLargeError, match="the limit is 100 per message"):
        chat.send("hi", context="x" * 101)
    assert sent == [] and chat.conversation.turns == []
    chat.context_limits.max_chars = 1_000
    chat.send("hi", context="x" * 101).wait(30)
    assert sent == [{"message": "hi", "context_override": "x" * 101}]


def test_retry_sends_the_same_context_and_format_again(
    chat: ChatSession, sent: list[dict[str, Any]]
) -> None:
    chat.send(
        "hi", context=CITIES.head(2), response_format={"type": "json_object"}, options={"x": 1}
    ).wait(30)
    handle = chat.retry()
    assert handle is not None and handle.wait(30)
    assert len(sent) == 2 and sent[0] == {k: v for k, v in sent[1].items() if k != "session_id"}
    assert set(sent[1]) == {"message", "session_id", "context_override", "response_format", "x"}


def _kinds(tmp_path: Path) -> dict[str, Any]:
    """One object of every kind `context=` takes."""
    from PIL import Image

    (tmp_path / "notes.txt").write_text("Plain notes.", encoding="utf-8")
    CITIES.head(4).to_csv(tmp_path / "cities.csv", index=False)
    (tmp_path / "dot.png").write_bytes(png(3, 3))
    figure, axes = plt.subplots(figsize=(2, 1), dpi=50)
    axes.plot([1, 2])
    plt.close(figure)
    return {
        "str": "Some notes.",
        "pandas": CITIES.head(3),
        "polars": pl.from_pandas(CITIES.head(3)),
        "series": CITIES["population"].head(3),
        "dict": {"a": 1},
        "json list": [{"a": 1}, {"b": 2}],
        "figure": figure,
        "pil": Image.new("RGB", (5, 4), "blue"),
        "png bytes": png(6, 2),
        "text file": tmp_path / "notes.txt",
        "csv file": tmp_path / "cities.csv",
        "image file": tmp_path / "dot.png",
        "a list": ["Some notes.", CITIES.head(2), png(2, 2)],
    }


@pytest.mark.parametrize(
    ("kind", "blocks"),
    [
        ("str", False),
        ("pandas", False),
        ("polars", False),
        ("series", False),
        ("dict", False),
        ("json list", False),
        ("figure", True),
        ("pil", True),
        ("png bytes", True),
        ("text file", False),
        ("csv file", False),
        ("image file", True),
        ("a list", True),
    ],
)
def test_each_kind_reaches_the_server_as_exactly_its_context(
    chat: ChatSession, sent: list[dict[str, Any]], tmp_path: Path, kind: str, blocks: bool
) -> None:
    value = _kinds(tmp_path)[kind]
    expected = build_context(value).override
    handle = chat.send("What is this?", context=value)
    assert handle.wait(30) and handle.error is None, handle.error
    assert sent == [{"message": "What is this?", "context_override": expected}]
    assert isinstance(expected, list) is blocks
    if blocks:  # every image is a caption then a data URL, as the server passes on
        images = [b for b in expected if b["type"] == "image_url"]
        assert images and all(
            b["image_url"]["url"].startswith("data:image/png;base64,") for b in images
        )
