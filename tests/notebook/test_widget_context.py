"""The widget's verbs with context and structured answers, against the local server: what
the panel is sent (the chip with exactly what went, marked kept), what `ask` returns or
raises, and what a saved notebook keeps of a chip."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
import pytest
from test_widget import CommLog, capture, from_panel, wait_until

from powawidget import ChatWidget, ContextError, StructuredAnswerError
from powawidget.notebook.saved import SAVED_IMAGE_CHARS, SAVED_RESULT_CHARS, saved_entry

FRAME = pd.DataFrame({"city": ["Tokyo", "Delhi"], "population": [37.4, 28.5]})


@dataclasses.dataclass
class Facts:
    rows: int
    max_population: float


@pytest.fixture
def chat(local_server: Any) -> Iterator[Callable[..., tuple[ChatWidget, CommLog]]]:
    made: list[ChatWidget] = []

    def make(agent_id: str) -> tuple[ChatWidget, CommLog]:
        widget = ChatWidget(agent_id, local_server.base_url, local_server.api_key)
        made.append(widget)
        return widget, capture(widget)

    yield make
    for widget in made:
        widget.close()


def test_ask_returns_the_validated_object_and_the_panel_shows_chip_and_table(chat: Any) -> None:
    widget, log = chat("agt_demo")
    facts = widget.ask("Facts as JSON", context=FRAME, response_format=Facts, timeout=30)
    assert facts == Facts(rows=2, max_population=37.4)
    widget._sync.flush()
    (turn,) = [e for e in log.panel_entries() if e["kind"] == "turn"]
    (chip,) = turn["context"]
    assert chip["kind"] == "dataframe" and chip["text"] == widget.last_run.context.parts[0].text
    assert turn["answerJson"] == {"rows": 2, "max_population": 37.4}


def test_ask_says_when_an_agent_ignored_the_format_and_keeps_the_text(chat: Any) -> None:
    widget, _ = chat("agt_plain")
    with pytest.raises(StructuredAnswerError, match=r"^The answer is not JSON for Facts \(") as err:
        widget.ask("Facts as JSON", context=FRAME, response_format=Facts, timeout=30)
    assert err.value.text == widget.last_run.text and "has 2 rows" in err.value.text
    assert widget.last_run.parsed is None


def test_kept_context_goes_with_every_message_and_the_chip_says_so(chat: Any) -> None:
    widget, log = chat("agt_plain")
    with pytest.raises(ContextError, match="cannot be sent as context"):
        widget.context = object()
    assert widget.context is None
    widget.context = FRAME
    widget.ask("first", timeout=30)
    answer = asyncio.run(widget.ask_async("second", timeout=30, context="and a note"))
    assert "has 2 rows" in answer
    widget.context = None
    widget.ask("third", timeout=30)
    widget._sync.flush()
    turns = [e for e in log.panel_entries() if e["kind"] == "turn"]
    assert [[c["kept"] for c in t["context"] or []] for t in turns] == [[True], [True, False], []]


def test_a_saved_notebook_cuts_long_context_text_and_leaves_out_big_images() -> None:
    entry: Any = {
        "kind": "turn",
        "items": [],
        "context": [
            {"kind": "text", "name": "t", "text": "x" * (SAVED_RESULT_CHARS + 10)},
            {
                "kind": "image",
                "name": "i",
                "image": "data:image/png;base64," + "A" * SAVED_IMAGE_CHARS,
            },
            {"kind": "image", "name": "small", "image": "data:image/png;base64,AAAA"},
        ],
    }
    text, big, small = saved_entry(entry)["context"]
    assert len(text["text"]) == SAVED_RESULT_CHARS and "cut to 4,000 characters" in text["note"]
    assert "image" not in big and big["name"] == "i"
    assert small["image"] == "data:image/png;base64,AAAA"


def test_an_attached_object_goes_with_the_next_message_typed_in_the_panel(chat: Any) -> None:
    widget, _ = chat("agt_plain")
    widget._chat.attach(FRAME, "cities")  # what %powa_context cities does
    from_panel(widget, {"type": "send", "text": "What is in it?"})
    wait_until(lambda: widget.last_run is not None and widget.last_run.done, what="the run")
    assert "**cities** has 2 rows" in widget.last_run.text
    assert widget._chat.next_context == []
    widget.ask("And now?", timeout=30)
    assert widget.last_run.context is None
