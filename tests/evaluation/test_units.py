"""The pure parts: prompt normalisation, the gate, the checkpoint file, the stats."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from powawidget.evaluation.checkpoint import Checkpoint
from powawidget.evaluation.executor import RunSettings
from powawidget.evaluation.gate import Gate
from powawidget.evaluation.prompts import prompt_items, read_prompts_file
from powawidget.evaluation.stats import percentile, progress


def test_prompts_from_strings_dicts_and_files(tmp_path: Path) -> None:
    items = prompt_items(["a", "b"])
    assert [(p.key, p.index, p.prompt, p.carried) for p in items] == [
        ("#0", 0, "a", {}), ("#1", 1, "b", {})
    ]  # fmt: skip
    items = prompt_items([{"prompt": "x", "id": 7, "tag": "t"}])
    assert items[0].key == "7" and items[0].carried == {"id": 7, "tag": "t"}
    with pytest.raises(ValueError, match="empty"):
        prompt_items(["  "])
    with pytest.raises(ValueError, match="no prompts"):
        prompt_items([])
    with pytest.raises(TypeError, match="DataFrame"):
        prompt_items(42)
    one_column = tmp_path / "q.csv"
    one_column.write_text("What is 1 + 1?\nWhat is 2 + 2?\n")
    assert [r["prompt"] for r in read_prompts_file(one_column)] == [
        "What is 1 + 1?", "What is 2 + 2?"
    ]  # fmt: skip
    jsonl = tmp_path / "q.jsonl"
    jsonl.write_text('{"prompt": "hi", "expected": "hello"}\n\n')
    assert read_prompts_file(jsonl) == [{"prompt": "hi", "expected": "hello"}]
    bad = tmp_path / "bad.csv"
    bad.write_text("question,answer\nhi,there\n")
    with pytest.raises(ValueError, match="'prompt' column"):
        read_prompts_file(bad)


def test_a_pause_holds_back_every_dispatcher_until_stopped() -> None:
    told: list[float] = []
    gate = Gate(on_pause=told.append)
    gate.pause(60)
    results: list[bool] = []
    waiters = [threading.Thread(target=lambda: results.append(gate.wait_open())) for _ in range(3)]
    for waiter in waiters:
        waiter.start()
    assert results == [] and gate.paused_for() > 0 and told == [60]
    gate.stop("stopped by the user")
    for waiter in waiters:
        waiter.join(5)
    assert results == [False, False, False] and gate.stop_reason == "stopped by the user"


def test_budgets() -> None:
    gate = Gate(max_runs=2)
    assert gate.admit() and gate.admit() and not gate.admit()
    assert gate.stop_reason == "max_runs=2 reached"
    gate = Gate(max_tokens=100)
    assert gate.admit()
    gate.spend(150)
    assert not gate.admit() and "max_tokens=100" in (gate.stop_reason or "")
    with pytest.raises(ValueError, match="max_runs"):
        Gate(max_runs=-1)


def test_checkpoint_lines_and_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    checkpoint = Checkpoint(path)
    checkpoint.started("a", "A?", None, None)
    checkpoint.started("a", "A?", "run_1", "sess_1")
    checkpoint.finished("a", {"prompt": "A?", "status": "completed"}, [{"event": "complete"}])
    checkpoint.started("b", "B?", None, None)
    checkpoint.unsent("b")
    checkpoint.started("c", "C?", "run_3", "sess_3")
    checkpoint.close()
    state = Checkpoint(path).load()
    assert list(state.finished) == ["a"] and list(state.unfinished()) == ["c"]
    with path.open("ab") as handle:
        handle.write(b'{"type": "finished", "key": "c", "ro')  # the process died here
    with pytest.warns(RuntimeWarning, match="cut short"):
        assert list(Checkpoint(path).load().unfinished()) == ["c"]
    again = Checkpoint(path)
    again.started("d", "D?", "run_4", None)  # the next append starts on a line of its own
    again.close()
    with pytest.warns(RuntimeWarning, match="line 7"):
        assert "d" in Checkpoint(path).load().started
    path.write_text("not a checkpoint\n")
    with pytest.raises(ValueError, match="line 1: not JSON"):
        Checkpoint(path).load()


def test_stats() -> None:
    assert percentile([], 50) is None
    assert percentile([5, 1, 3, 2, 4], 50) == 3 and percentile(list(range(1, 101)), 95) == 95
    rows = [
        {"status": "completed", "time_to_first_token_ms": 100},
        {"status": "completed", "time_to_first_token_ms": 300},
        {"status": "failed", "time_to_first_token_ms": None},
        {"status": "running"},
        {"status": "pending"},
    ]
    stats = progress(rows, elapsed_s=2.0, finished_now=3)
    assert stats["done"] == 3 and stats["running"] == 1 and stats["pending"] == 1
    assert stats["throughput"] == 1.5 and stats["eta_s"] == round(2 / 1.5, 1)
    assert stats["ttft_p50_ms"] == 100 and stats["ttft_p95_ms"] == 300


def test_a_client_that_fails_to_close_is_logged_and_the_evaluation_still_ends(
    caplog: pytest.LogCaptureFixture,
) -> None:
    closed: list[str] = []

    def close() -> None:
        closed.append("tried")
        raise OSError("socket already gone")

    settings = RunSettings("agt_demo", 2, Gate(), on_close=close)
    settings.close()  # does not raise: the executor goes on to end the evaluation
    assert closed == ["tried"]
    assert "closing the evaluation's client failed" in caplog.text
    RunSettings("agt_demo", 2, Gate()).close()  # a caller-owned client: nothing to close


def test_events_live_on_disk_and_are_read_back_when_asked(tmp_path: Path) -> None:
    from powawidget.evaluation.events_store import EventStore

    store = EventStore()
    first = [{"event": "start", "run_id": "run_1"}, {"event": "complete", "text": "é"}]
    store.put("#0", first)  # type: ignore[arg-type]
    store.put("#1", [])
    assert store.get("#0") == first and store.get("#1") == [] and "#0" in store
    assert store._places["#0"][0] is None  # a spill file, not a list in memory
    checkpoint = Checkpoint(tmp_path / "c.jsonl")
    checkpoint.started("#2", "q", None, None)
    store.at("#2", checkpoint.finished("#2", {"status": "completed"}, first))  # type: ignore[arg-type]
    assert store.get("#2") == first
    state = Checkpoint(tmp_path / "c.jsonl").load()
    assert "events" not in state.finished["#2"]  # loading keeps only where they are
    offset, length = state.finished["#2"]["events_at"]
    assert store._places["#2"] == (tmp_path / "c.jsonl", offset, length)
