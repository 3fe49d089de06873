"""The local agents and a client's context (docs/protocol.md, "Context from the client" and
"Structured answers"), end to end over HTTP: the demo answers about a DataFrame (shape,
columns, a computed mean and max) and an image (its size); response_format gets JSON in
the schema on the agent with tools and is ignored by the one without; a malformed format
fails the run inside the stream; two context sources are a 400, as on the real server."""

from __future__ import annotations

import base64
import dataclasses
import struct
import zlib
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

from powawidget.session.chat import ChatSession
from powawidget.session.structured import StructuredAnswerError
from powawidget.wire.errors import PowabaseError

FRAME = pd.DataFrame(
    {"city": ["Tokyo", "Delhi", "Lagos", "Cairo"], "population": [37.4, 28.5, 15.4, 20.9]}
)


def png(width: int, height: int) -> bytes:
    raw = b"".join(b"\x00" + b"\x10\x20\x30" * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


@dataclasses.dataclass
class Shape:
    rows: int
    columns: int
    mean_population: float
    summary: str


@pytest.fixture
def session(client: Any) -> Iterator[Any]:
    made: list[ChatSession] = []

    def make(agent: str) -> ChatSession:
        chat = ChatSession(client, agent)
        made.append(chat)
        return chat

    yield make
    for chat in made:
        chat.close()


@pytest.mark.parametrize("agent", ["agt_demo", "agt_plain"])
def test_agents_answer_about_a_dataframe_and_an_image(session: Any, agent: str) -> None:
    chat = session(agent)
    text = chat.send("What is in this data?", context=FRAME).result(30)
    assert "has 4 rows and 2 columns: `city`, `population`." in text
    assert "The mean of `population` is 25.55 and its max is 37.4" in text
    text = chat.send("How big is the picture?", context=png(64, 32)).result(30)
    assert "is 64×32 pixels (image/png)" in text


def test_the_tools_agent_answers_json_in_the_schema(session: Any) -> None:
    handle = session("agt_demo").send(
        "Describe the data as JSON", context=FRAME, response_format=Shape
    )
    assert handle.wait(30)
    assert handle.parse_error is None
    parsed = handle.parsed
    assert isinstance(parsed, Shape)
    assert (parsed.rows, parsed.columns, parsed.mean_population) == (4, 2, 25.55)
    assert "has 4 rows" in parsed.summary
    assert handle.answer() == parsed


def test_the_agent_without_tools_ignores_response_format(session: Any) -> None:
    handle = session("agt_plain").send(
        "Describe the data as JSON", context=FRAME, response_format=Shape
    )
    assert handle.wait(30) and handle.error is None
    assert handle.parsed is None
    assert handle.parse_error is not None
    assert handle.parse_error.startswith("The answer is not JSON for Shape (")
    assert "has 4 rows" in handle.text  # the prose is kept
    with pytest.raises(StructuredAnswerError, match="agents without tools do") as caught:
        handle.answer()
    assert caught.value.text == handle.text


def test_a_malformed_response_format_fails_the_run_in_the_stream(session: Any) -> None:
    handle = session("agt_demo").send("hi", options={"response_format": "json"})
    assert handle.wait(30)
    assert handle.error is not None
    assert "Unsupported response_format type - json" in handle.error.message
    names = [e["event"] for e in handle.events]
    assert names[-3:] == ["step_started", "chunk", "complete"]


def test_two_context_sources_are_a_400_as_on_the_real_server(client: Any) -> None:
    with pytest.raises(PowabaseError) as caught:
        client.stream_run(
            "agt_plain", "hi", context_override="notes", context_items=[{"text": "x"}]
        )
    assert caught.value.status_code == 400
    assert "Only one of 'knowledge_bases', 'context_handler_id', 'context_override', or " in str(
        caught.value.body
    )


def test_an_image_url_block_reaches_the_agent_verbatim(client: Any) -> None:
    url = "data:image/png;base64," + base64.b64encode(png(3, 5)).decode()
    blocks = [
        {"type": "text", "text": "A figure."},
        {"type": "image_url", "image_url": {"url": url}},
    ]
    with client.stream_run("agt_plain", "Size?", context_override=blocks) as stream:
        text = "".join(e["text"] or "" for e in stream if e["event"] == "content_delta")
    assert "The image **image 1** is 3×5 pixels" in text
    assert "I also read 9 characters of text context." in text
