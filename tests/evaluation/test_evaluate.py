"""evaluate() against the real local server: rows, bounded pool, budgets, stop, rate limits."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from powawidget import Evaluation, evaluate
from powawidget.evaluation.columns import RUN_COLUMNS
from powawidget.evaluation.gate import Gate
from powawidget.wire.errors import PowabaseError


def questions(n: int) -> list[str]:
    """`n` distinct arithmetic questions (fault agents act on a message's first sending)."""
    tag = uuid.uuid4().hex[:6]
    return [f"What is {i} + {i}? ({tag})" for i in range(n)]


def test_one_row_per_prompt_with_carried_columns(
    connection: dict, local_server: Any, runs_seen: Any
) -> None:
    before = runs_seen(local_server, "agt_demo")
    prompts = [{"prompt": q, "id": f"q{i}", "expected": str(2 * i)}
               for i, q in enumerate(questions(6))]  # fmt: skip
    ev = evaluate("agt_demo", prompts, concurrency=3, display=False, **connection)
    assert ev.wait(60)
    runs = ev.runs
    assert runs.columns == [*RUN_COLUMNS, "id", "expected"]
    assert [r["prompt"] for r in runs] == [p["prompt"] for p in prompts]
    assert {r["status"] for r in runs} == {"completed"}
    for row, prompt in zip(runs, prompts, strict=True):
        assert prompt["expected"] in row["answer"]
        assert row["run_id"].startswith("run_") and row["session_id"]
        assert row["tokens"] > 0 and row["tool_calls"] == 1
        assert row["time_to_first_token_ms"] is not None and row["duration_ms"] is not None
    assert len(ev.tool_calls) == 6 and {t["tool_name"] for t in ev.tool_calls} == {"calculator"}
    assert {r["run_id"] for r in ev.transcript} >= {r["run_id"] for r in runs}
    assert runs_seen(local_server, "agt_demo") - before == 6
    assert ev.state == "done" and ev.progress["completed"] == 6
    assert "6/6 done" in repr(ev)


def test_concurrency_is_bounded(connection: dict) -> None:
    from powawidget.evaluation.evaluation import Evaluation as Ev

    peak = [0]
    original = Ev._dispatched

    def dispatched(self: Ev, prompt: Any) -> None:
        original(self, prompt)
        peak[0] = max(peak[0], self.progress["running"])

    Ev._dispatched = dispatched  # type: ignore[method-assign]
    try:
        ev = evaluate("agt_slow_tool", questions(8), concurrency=3, display=False, **connection)
        assert ev.wait(60)
    finally:
        Ev._dispatched = original  # type: ignore[method-assign]
    assert peak[0] == 3
    assert ev.progress["completed"] == 8


def test_max_runs_budget_then_resume_from_checkpoint(
    connection: dict, local_server: Any, tmp_path: Any, runs_seen: Any
) -> None:
    before = runs_seen(local_server, "agt_demo")
    prompts = questions(7)
    checkpoint = tmp_path / "eval.jsonl"
    first = evaluate(
        "agt_demo", prompts, concurrency=2, max_runs=3, checkpoint=checkpoint, display=False,
        **connection,
    )  # fmt: skip
    assert first.wait(60)
    assert first.state == "stopped" and "max_runs=3" in (first.stop_reason or "")
    statuses = [r["status"] for r in first.runs]
    assert statuses.count("completed") == 3 and statuses.count("pending") == 4
    second = evaluate(
        "agt_demo", prompts, concurrency=2, checkpoint=checkpoint, display=False, **connection
    )
    assert second.wait(60) and second.state == "done"
    assert [r["status"] for r in second.runs] == ["completed"] * 7
    assert [r["run_id"] for r in second.runs][:3] == [r["run_id"] for r in first.runs][:3]
    assert runs_seen(local_server, "agt_demo") - before == 7  # none ran twice
    again = evaluate("agt_demo", prompts, checkpoint=checkpoint, display=False, **connection)
    assert again.wait(10) and again.state == "done"
    assert runs_seen(local_server, "agt_demo") - before == 7


def test_started_but_unfinished_is_reported_not_resent(
    connection: dict, local_server: Any, tmp_path: Any, runs_seen: Any
) -> None:
    prompts = questions(3)
    checkpoint = tmp_path / "eval.jsonl"
    done = evaluate("agt_demo", prompts[:1], checkpoint=checkpoint, display=False, **connection)
    assert done.wait(30)
    # A crash: prompt #1 started (its run id was recorded), the process died mid-line.
    with checkpoint.open("a") as handle:
        started = {"type": "started", "key": "#1", "prompt": prompts[1], "run_id": "run_lost",
                   "session_id": "sess_lost"}  # fmt: skip
        handle.write(json.dumps(started) + '\n{"type": "finished", "key": "#2", "ro')
    before = runs_seen(local_server, "agt_demo")
    with pytest.warns(RuntimeWarning, match="cut short"):
        ev = evaluate("agt_demo", prompts, checkpoint=checkpoint, display=False, **connection)
    assert ev.wait(30)
    assert [r["status"] for r in ev.runs] == ["completed", "unfinished", "completed"]
    assert ev.runs[1]["run_id"] == "run_lost" and "retry_unfinished" in ev.runs[1]["error"]
    assert runs_seen(local_server, "agt_demo") - before == 1
    with pytest.warns(RuntimeWarning, match="cut short"):
        retried = evaluate(
            "agt_demo", prompts, checkpoint=checkpoint, retry_unfinished=True, display=False,
            **connection,
        )  # fmt: skip
    assert retried.wait(30)
    assert [r["status"] for r in retried.runs] == ["completed"] * 3
    assert runs_seen(local_server, "agt_demo") - before == 2
    with pytest.warns(RuntimeWarning, match="cut short"):
        loaded = Evaluation.load(checkpoint)
    assert [r["status"] for r in loaded.runs] == ["completed"] * 3


def test_rate_limit_pauses_the_pool_and_sends_nothing_twice(
    connection: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    pauses: list[float] = []
    pause = Gate.pause
    monkeypatch.setattr(
        Gate, "pause", lambda gate, s, **kw: (pauses.append(s), pause(gate, s, **kw))
    )
    ev = evaluate("fault_rate_limited", questions(4), concurrency=4, display=False, **connection)
    assert ev.wait(60)
    assert [r["status"] for r in ev.runs] == ["completed"] * 4
    assert pauses  # the whole pool was held back, not one run


def test_out_of_credits_stops_with_a_clear_message(connection: dict) -> None:
    ev = evaluate("fault_credits", questions(5), concurrency=1, display=False, **connection)
    assert ev.wait(30)
    assert ev.state == "stopped"
    assert "out of credits" in (ev.stop_reason or "")
    assert [r["status"] for r in ev.runs] == ["pending"] * 5
    assert "out of credits" in repr(ev)


def test_max_tokens_budget(connection: dict) -> None:
    ev = evaluate(
        "agt_demo", questions(10), concurrency=1, max_tokens=1, display=False, **connection
    )
    assert ev.wait(30)
    assert ev.progress["completed"] == 1 and ev.progress["pending"] == 9
    assert "max_tokens=1" in (ev.stop_reason or "")


def test_stop_keeps_what_finished(connection: dict) -> None:
    ev = evaluate("agt_long", questions(4), concurrency=2, display=False, **connection)
    while ev.progress["running"] < 2 or not all(r["run_id"] for r in ev.runs[:2]):
        assert not ev.wait(0.05)
    ev.stop()
    assert ev.wait(10)
    statuses = [r["status"] for r in ev.runs]
    assert statuses == ["stopped", "stopped", "pending", "pending"]
    assert ev.state == "stopped"
    assert ev.runs[0]["run_id"] and len(ev.run_events(0)) > 1


def test_bad_input_says_what_to_do(connection: dict) -> None:
    with pytest.raises(ValueError, match="'prompt' column"):
        evaluate("agt_demo", [{"question": "hi"}], display=False, **connection)
    with pytest.raises(ValueError, match="unique"):
        evaluate("agt_demo", [{"prompt": "a", "id": 1}, {"prompt": "b", "id": 1}], **connection)
    with pytest.raises(ValueError, match="rename"):
        evaluate("agt_demo", [{"prompt": "a", "answer": "x"}], **connection)
    with pytest.raises(ValueError, match="concurrency"):
        evaluate("agt_demo", ["a"], concurrency=0, **connection)
    from powawidget import NotFoundError

    with pytest.raises(NotFoundError, match="agent"):
        evaluate("agt_missing", ["a"], display=False, **connection)


def test_dataframe_prompts_and_parquet_round_trip(connection: dict, tmp_path: Any) -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"prompt": questions(3), "tag": ["x", "y", "z"]})
    ev = evaluate("agt_demo", frame, display=False, **connection)
    assert ev.wait(30)
    path = ev.to_parquet(tmp_path / "eval.parquet")
    back = Evaluation.load(path)
    assert list(back.runs) == list(ev.runs) and back.agent_id == "agt_demo"
    assert len(back.tool_calls) == 3 and back.runs.columns[-1] == "tag"
    import pyarrow.parquet as pq

    assert pq.read_table(path).column("tag").to_pylist() == ["x", "y", "z"]
    assert back.show(0).mode == "replay"


def test_an_orchestration_is_evaluated_like_an_agent(connection: dict) -> None:
    ev = evaluate(
        orchestration_id="orch_demo",
        prompts=["What does the refund policy say?", "hi"],
        display=False,
        **connection,
    )
    assert ev.wait(60)
    delegated, greeted = ev.runs
    assert delegated["status"] == "completed" and greeted["status"] == "completed"
    assert delegated["answer"].startswith("I asked **")  # the supervisor's own words
    assert delegated["tool_names"] == ["delegate_to_agt_demo"]
    assert greeted["tool_calls"] == 0 and greeted["answer"].startswith("Hello!")
    with pytest.raises(PowabaseError):
        evaluate(
            orchestration_id="00000000-0000-4000-8000-000000000000",
            prompts=["x"],
            display=False,
            **connection,
        )
