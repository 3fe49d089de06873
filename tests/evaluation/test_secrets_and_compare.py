"""The key appears in no output; compare() joins two evaluations; the CLI writes Parquet."""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import Any

import pytest

from powawidget import Evaluation, compare, evaluate
from powawidget.evaluation.terminal import ProgressLine


def test_the_key_is_in_no_output(
    connection: dict, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    key = connection["api_key"]
    caplog.set_level(logging.DEBUG)
    checkpoint = tmp_path / "eval.jsonl"
    prompts = [{"prompt": f"What is {i} + 1?", "id": i} for i in range(3)]
    ev = evaluate("agt_demo", prompts, checkpoint=checkpoint, display=False, **connection)
    line = io.StringIO()
    ProgressLine(ev, line)
    assert ev.wait(30)
    failing = evaluate("fault_credits", ["hello"], display=False, **connection)
    assert failing.wait(30)
    parquet = ev.to_parquet(tmp_path / "eval.parquet")
    outputs = {
        "checkpoint": checkpoint.read_bytes().decode(),
        "parquet": parquet.read_bytes().decode("latin-1"),
        "runs": repr(list(ev.runs)) + repr(list(failing.runs)),
        "events": repr(ev.events),
        "repr": repr(ev) + repr(failing) + repr(ev._executor.gate),
        "stop_reason": str(failing.stop_reason),
        "terminal": line.getvalue(),
        "log": caplog.text,
        "html": ev.runs._repr_html_() + compare(ev, failing)._repr_html_(),
    }
    assert outputs["checkpoint"] and outputs["terminal"]
    leaked = [name for name, text in outputs.items() if key in text]
    assert leaked == []


def test_compare_flags_differences(connection: dict) -> None:
    prompts = ["What is 2 + 2?", "What is 3 + 3?", "Tell me about the Orbit Hub"]
    a = evaluate("agt_demo", prompts, display=False, **connection)
    b = evaluate("agt_slow_tool", [*prompts[:2], "extra"], display=False, **connection)
    assert a.wait(30) and b.wait(30)
    table = compare(a, b)
    assert [r["prompt"] for r in table] == [*prompts, "extra"]
    first = table[0]
    assert first["answer_a"] == a.runs[0]["answer"] and first["answer_b"] == b.runs[0]["answer"]
    assert first["same_answer"] is False and "answer" in first["differences"]
    assert first["same_status"] is True
    assert table[2]["differences"] == "missing" and table[2]["answer_b"] is None
    same = compare(a, a)
    assert all(r["differences"] == "" for r in same) and len(same.differing()) == 0
    assert len(table.differing()) == 4
    html = table._repr_html_()
    assert "agt_demo" in html and "agt_slow_tool" in html and "4 differ" in html
    with pytest.raises(TypeError, match="two evaluations"):
        compare(a, list(b.runs))  # type: ignore[arg-type]


def test_cli_writes_parquet(local_server: Any, tmp_path: Path, monkeypatch: Any) -> None:
    from powawidget.cli.main import main

    monkeypatch.setenv("POWABASE_BASE_URL", local_server.base_url)
    monkeypatch.setenv("POWABASE_API_KEY", local_server.api_key)
    csv = tmp_path / "prompts.csv"
    csv.write_text("prompt,expected\nWhat is 2 + 2?,4\nWhat is 5 + 5?,10\n")
    out = tmp_path / "eval.parquet"
    assert main(["evaluate", "agt_demo", str(csv), "--concurrency", "2", "--out", str(out)]) == 0
    back = Evaluation.load(out)
    assert [r["status"] for r in back.runs] == ["completed", "completed"]
    assert [r["expected"] for r in back.runs] == ["4", "10"]
    assert main(["evaluate", "agt_demo", str(tmp_path / "missing.csv")]) == 2
