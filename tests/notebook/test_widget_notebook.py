"""A notebook run headless (nbclient) keeps the conversation in what it saves and exports.

What is kept, and where: the entries' models the widget's `history` trait references, in
the saved widget state (notebook/saved.py), and a
static `text/html` copy of the conversation next to the widget view in the output (it is
refreshed through the display id when a run ends), which nbconvert's HTML export shows.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from saved_state import saved_entries

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
nbconvert = pytest.importorskip("nbconvert")

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def _plain_words(text: str, count: int = 4) -> str:
    """A run of `count` plain words from `text` (markdown and HTML escaping leave it alone)."""
    for line in text.splitlines():
        words = line.split()
        for i in range(len(words) - count + 1):
            window = words[i : i + count]
            if all(re.fullmatch(r"[A-Za-z]+", w) for w in window):
                return " ".join(window)
    raise AssertionError(f"no {count} plain words in the answer: {text!r}")


def test_nbconvert_html_export_contains_the_conversation(
    local_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POWABASE_BASE_URL", local_server.base_url)
    monkeypatch.setenv("POWABASE_API_KEY", local_server.api_key)
    cells = [
        "from powawidget import ChatWidget\nw = ChatWidget('agt_demo')\nw",
        "answer = w.ask('What is the refund ' + 'policy?', timeout=60)",
    ]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    runner = nbclient.NotebookClient(
        notebook,
        timeout=120,
        iopub_timeout=30,
        kernel_name="python3",
        store_widget_state=True,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    runner.execute()
    path = tmp_path / "chat.ipynb"
    nbformat.write(notebook, path)

    display = notebook.cells[0].outputs[0]
    state = notebook.metadata["widgets"][WIDGET_STATE]["state"]
    model = state[display["data"][WIDGET_VIEW]["model_id"]]["state"]
    [turn] = saved_entries(state, model)
    answer = "".join(i["text"] for i in turn["items"] if i["kind"] == "text")
    phrase = _plain_words(answer)
    assert not notebook.cells[1].outputs  # the answer is only in the widget's output
    # The live view, then the static copy (its own output), refreshed after the run.
    static = notebook.cells[0].outputs[1]
    assert WIDGET_VIEW in display["data"]
    assert "text/html" not in display["data"]
    assert "refund policy?" in static["data"]["text/html"]
    assert phrase in static["data"]["text/html"]
    # The saved widget state holds the conversation (`history` and the entries' models).
    assert turn["userText"] == "What is the refund policy?" and turn["status"] == "completed"
    assert model["status"] == "idle"

    html, _ = nbconvert.HTMLExporter().from_notebook_node(notebook)
    copy = html[html.index('<div class="powawidget-static">') :]
    assert phrase in copy[: copy.index("</main>")]
    # And the key is nowhere in what was saved or exported.
    for text in (path.read_text(encoding="utf-8"), html, json.dumps(state)):
        assert local_server.api_key not in text
