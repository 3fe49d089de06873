"""`%load_ext powawidget` and `%%powa` in a real IPython shell (no kernel needed) against
the local agent server: interpolation, context by name, JSON answers, `%powa_context`,
one panel per notebook, and clear usage errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from powawidget.notebook.magic import PowaMagics


@pytest.fixture
def shell(local_server: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """An IPython shell with the extension loaded, pointed at the local server."""
    monkeypatch.setenv("POWABASE_BASE_URL", local_server.base_url)
    monkeypatch.setenv("POWABASE_API_KEY", local_server.api_key)
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "powawidget")
    magics = ip.magics_manager.registry["PowaMagics"]
    yield ip
    for widget in magics.widgets.values():
        widget.close()
    magics.widgets.clear()
    magics.current = None
    ip.user_ns.clear()
    InteractiveShell.clear_instance()


def magics(ip: Any) -> PowaMagics:
    return ip.magics_manager.registry["PowaMagics"]


def record_bodies(ip: Any) -> list[dict[str, Any]]:
    """The JSON bodies the panel's client sends (a hook on its own requests session)."""
    widget = magics(ip).widget(None)
    bodies: list[dict[str, Any]] = []
    widget._chat.client._session.hooks["response"].append(  # type: ignore[union-attr]
        lambda r, *a, **k: (
            bodies.append(json.loads(r.request.body))
            if r.request.url.endswith("/run/stream")
            else None
        )
    )
    return bodies


def test_powa_sends_the_interpolated_cell_with_named_context(shell: Any) -> None:
    shell.user_ns["cities"] = pd.DataFrame({"city": ["Tokyo", "Delhi"], "population": [37.4, 28.5]})
    shell.user_ns["topic"] = "population"
    shell.run_cell_magic("powa", "agt_demo", "Warm-up: what can you do?")
    bodies = record_bodies(shell)
    shell.run_cell_magic("powa", "--context cities", "What is the mean {topic}? Use {{braces}}.")
    assert bodies[-1]["message"] == "What is the mean population? Use {braces}."
    assert bodies[-1]["context_override"].startswith("pandas DataFrame `cities`: 2 rows × 2")
    widget = magics(shell).widget(None)
    assert widget.agent_id == "agt_demo" and len(magics(shell).widgets) == 1
    assert "The mean of `population` is 32.95" in widget.last_run.text
    assert [t.user_text for t in widget._chat.conversation.turns] == [
        "Warm-up: what can you do?",
        "What is the mean population? Use {braces}.",
    ]


def test_format_json_makes_the_parsed_answer_the_cells_value(shell: Any) -> None:
    shell.user_ns["cities"] = pd.DataFrame({"city": ["Tokyo"], "population": [37.4]})
    value = shell.run_cell_magic("powa", "agt_demo --context cities --format json", "As JSON")
    assert isinstance(value, dict) and value["rows"] == 1 and value["max"] == 37.4
    assert json.loads(magics(shell).widget(None).last_run.text) == value


def test_powa_context_attaches_to_the_next_message_only(shell: Any, capsys: Any) -> None:
    shell.run_cell_magic("powa", "agt_plain", "hello")
    bodies = record_bodies(shell)
    shell.user_ns["notes"] = "Tokyo is big."
    shell.run_line_magic("powa_context", "notes")
    assert "notes: text, 13 bytes, sent with the next message" in capsys.readouterr().out
    shell.run_cell_magic("powa", "", "What do my notes say?")
    shell.run_cell_magic("powa", "", "And now?")
    assert [b.get("context_override") for b in bodies] == ["Tokyo is big.", None]


def test_usage_errors_say_what_to_do(shell: Any) -> None:
    with pytest.raises(UsageError, match=r"\{missing\} is not defined in the notebook"):
        shell.run_cell_magic("powa", "agt_plain", "Tell me about {missing}")
    with pytest.raises(UsageError, match="no variable 'nothing' in the notebook"):
        shell.run_cell_magic("powa", "agt_plain --context nothing", "hi")
    with pytest.raises(UsageError, match="argument --format"):
        shell.run_cell_magic("powa", "--format yaml", "hi")
    with pytest.raises(UsageError, match="the cell is empty"):
        shell.run_cell_magic("powa", "agt_plain", "   \n")
