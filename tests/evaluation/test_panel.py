"""The evaluation panel's Python side: stats traits, changed rows only, Stop and row clicks."""

from __future__ import annotations

from typing import Any

import pytest

from powawidget import Evaluation, evaluate
from powawidget.notebook.evaluation_panel import EvaluationPanel


def test_panel_sends_changed_rows_answers_clicks_and_stops(connection: dict) -> None:
    ev = evaluate("agt_demo", [f"What is {i} + 2?" for i in range(5)], display=False,
                  **connection)  # fmt: skip
    panel = EvaluationPanel(ev)
    sent: list[dict[str, Any]] = []
    panel.send = lambda message, buffers=None: sent.append(message)  # type: ignore[method-assign]
    assert ev.wait(30)
    panel.flush()
    assert panel.state == "done" and panel.stats["completed"] == 5
    rows = {i: r for m in sent if m["type"] == "rows" for i, r in m["rows"]}
    assert sorted(rows) == [0, 1, 2, 3, 4] and rows[1]["status"] == "completed"
    count = len(sent)
    panel.flush()  # nothing changed: no rows message
    assert len(sent) == count
    panel._on_front_message(panel, {"type": "ready"}, [])
    assert sent[-1]["reset"] is True and len(sent[-1]["rows"]) == 5
    panel._on_front_message(panel, {"type": "open", "index": 3}, [])
    run = sent[-1]
    assert run["type"] == "run" and run["prompt"] == "What is 3 + 2?"
    items = run["turn"]["items"]  # the chat panel's own snapshot shape (model.view)
    assert [i["toolName"] for i in items if i["kind"] == "tool"] == ["calculator"]
    assert "5" in "".join(i["text"] for i in items if i["kind"] == "text")
    assert connection["api_key"] not in repr(sent) + repr(panel.get_state())
    panel.close()


def test_stop_button_stops_the_evaluation(connection: dict) -> None:
    ev = evaluate("agt_long", ["one", "two", "three"], concurrency=1, display=False,
                  **connection)  # fmt: skip
    panel = EvaluationPanel(ev)
    panel._on_front_message(panel, {"type": "stop"}, [])
    assert ev.wait(10) and ev.state == "stopped"
    panel.flush()
    assert panel.state == "stopped" and panel.stop_reason
    panel.close()


def test_the_package_wires_the_live_panel_and_the_replay(
    connection: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """notebook/ and evaluation/ never import each other; `powawidget.api` wires them."""
    from powawidget.evaluation.api import evaluate as bare

    monkeypatch.setattr("powawidget.notebook.kernel.in_kernel", lambda: True)
    shown: list[Any] = []
    monkeypatch.setattr("IPython.display.display", shown.append)
    ev = evaluate("agt_demo", ["What is 1 + 2?"], **connection)
    assert isinstance(ev, Evaluation) and ev.wait(30)
    [panel] = shown
    assert isinstance(panel, EvaluationPanel) and panel.evaluation is ev
    replay = ev.show(0)
    assert replay.mode == "replay"
    assert type(ev.rescore([])) is Evaluation  # a rescore can still show its runs
    replay.close()
    panel.close()
    plain = bare("agt_demo", ["What is 1 + 2?"], display=False, **connection)
    assert plain.wait(30) and not isinstance(plain, Evaluation)
    with pytest.raises(RuntimeError, match=r"powawidget\.evaluate\(\)"):
        plain.show(0)
