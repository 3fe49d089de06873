"""executor=dask_client: prompts spread over a LocalCluster, results live, the key hidden."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from powawidget import evaluate

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def dask_client() -> Iterator[Any]:
    """A 2-worker in-process LocalCluster (this machine has 2 cores)."""
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def scheduler_text(dask_scheduler: Any) -> str:
    """Every task's key and spec as the scheduler (and its dashboard) holds them."""
    return repr([(key, ts.run_spec, ts.state) for key, ts in dask_scheduler.tasks.items()])


def test_dask_runs_every_prompt_once_and_hides_the_key(
    dask_client: Any, connection: dict, local_server: Any, tmp_path: Path, runs_seen: Any
) -> None:
    before = runs_seen(local_server, "agt_slow_tool")
    checkpoint = tmp_path / "eval.jsonl"
    prompts = [{"prompt": f"Stock check {i}", "id": f"s{i}"} for i in range(8)]
    seen: list[str] = []
    ev = evaluate(
        "agt_slow_tool", prompts, concurrency=4, executor=dask_client, checkpoint=checkpoint,
        display=False, **connection,
    )  # fmt: skip
    graphs: list[str] = []
    live = threading.Event()
    ev.subscribe(lambda: live.set() if ev.progress["done"] and not ev.done else None)
    while not ev.wait(0.05):
        graphs.append(dask_client.run_on_scheduler(scheduler_text))
        seen.append(str(ev.progress["done"]))
    assert ev.state == "done", ev.stop_reason
    assert [r["status"] for r in ev.runs] == ["completed"] * 8
    assert live.is_set()  # some results arrived while the evaluation was still running
    assert runs_seen(local_server, "agt_slow_tool") - before == 8
    assert any("powawidget-evaluate" in g for g in graphs)
    key = connection["api_key"]
    assert not any(key in g for g in graphs)
    assert key not in checkpoint.read_text() and checkpoint.read_text().count('"finished"') == 8
    plugins = dask_client.run(lambda dask_worker: repr(dask_worker.plugins))
    assert all(key not in text for text in plugins.values())


def test_dask_stop_reaches_every_worker(dask_client: Any, connection: dict) -> None:
    ev = evaluate(
        "agt_long", [f"Long {i}" for i in range(6)], concurrency=2, executor=dask_client,
        display=False, **connection,
    )  # fmt: skip
    while ev.progress["running"] < 2:
        assert not ev.wait(0.05)
    ev.stop()
    assert ev.wait(20)
    statuses = [r["status"] for r in ev.runs]
    assert "completed" not in statuses and statuses.count("pending") >= 4
    assert ev.state == "stopped"
