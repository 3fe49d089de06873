"""A run in its own thread: the RunHandle's contract, against the real local server."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from powawidget.session.run import RunHandle, start_run
from powawidget.wire.errors import NotFoundError, RunFailedError


class Sink:
    """Collects emitted events, noting the thread that emitted each one."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.threads: list[str] = []
        self.fail_at = fail_at

    def __call__(self, event: dict[str, Any]) -> None:
        if self.fail_at is not None and len(self.events) == self.fail_at:
            self.fail_at = None
            raise KeyError("a broken sink")
        self.events.append(event)
        self.threads.append(threading.current_thread().name)


def test_events_flow_in_order_from_one_background_thread(client: Any) -> None:
    sink = Sink()
    finished: list[bool] = []
    handle = start_run(
        client,
        "agt_demo",
        "What is the refund policy?",
        emit=sink,
        on_finish=lambda h: finished.append(h.done),
    )
    assert handle.wait(30)
    assert finished == [False]  # on_finish runs before the handle counts as done
    assert sink.events[0]["event"] == "user_message"
    assert sink.events[0]["text"] == "What is the refund policy?"
    assert sink.threads[0] == threading.current_thread().name
    assert len(set(sink.threads[1:])) == 1 and sink.threads[1].startswith("powawidget-run")
    assert [e["event"] for e in sink.events] == [e["event"] for e in handle.events]
    assert handle.events[-1]["event"] == "complete"
    assert handle.text == handle.events[-1]["text"]
    assert handle.session_id and handle.run_id
    seqs = [e["seq"] for e in handle.events[1:]]
    assert seqs == list(range(len(seqs)))


def test_an_http_error_becomes_a_client_error_event_and_the_handle_error(client: Any) -> None:
    sink = Sink()
    handle = start_run(client, "no_such_agent", "hi", emit=sink)
    assert handle.wait(30)
    assert isinstance(handle.error, NotFoundError)
    assert sink.events[-1]["event"] == "client_error"
    assert sink.events[-1]["error_code"] == "not_found"
    assert sink.events[-1]["error_message"] == handle.error.message
    with pytest.raises(NotFoundError):
        handle.result()


def test_a_failed_complete_is_a_run_failed_error(client: Any) -> None:
    handle = start_run(client, "fault_failed_run", "hi", emit=Sink())
    with pytest.raises(RunFailedError) as raised:
        handle.result(30)
    assert raised.value is handle.error
    assert handle.status == "failed"


def test_a_broken_sink_is_reported_on_the_handle(client: Any) -> None:
    sink = Sink(fail_at=2)
    handle = start_run(client, "agt_demo", "hi", emit=sink)
    assert handle.wait(30)
    assert handle.error is not None and handle.error.code == "internal"
    assert "KeyError" in handle.error.message
    assert sink.events[-1]["event"] == "client_error"


def test_stop_before_the_stream_opens_still_stops(client: Any) -> None:
    handle = start_run(client, "agt_long", "Tell me a long story", emit=Sink())
    handle.stop()
    assert handle.wait(10)
    assert handle.status == "stopped" and handle.error is None
    assert handle.events[-1]["event"] == "stopped"


def test_result_with_a_timeout_stops_the_run(client: Any) -> None:
    handle = start_run(client, "agt_long", "Tell me a long story", emit=Sink())
    started = time.monotonic()
    with pytest.raises(TimeoutError, match="stopped"):
        handle.result(timeout=0.5)
    assert handle.wait(10) and handle.status == "stopped"
    assert time.monotonic() - started < 8


def test_wait_async_lets_the_event_loop_run(client: Any) -> None:
    async def main() -> tuple[bool, int]:
        handle = start_run(client, "agt_demo", "What is the refund policy?", emit=Sink())
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while not handle.done:
                ticks += 1
                await asyncio.sleep(0.001)

        ticker = asyncio.ensure_future(tick())
        finished = await handle.wait_async(30)
        await ticker
        return finished, ticks

    finished, ticks = asyncio.run(main())
    assert finished and ticks > 0


def test_the_handle_repr_is_cheap_and_informative(client: Any) -> None:
    handle = start_run(client, "agt_demo", "hi", emit=Sink())
    assert handle.wait(30)
    assert isinstance(handle, RunHandle)
    assert "completed" in repr(handle) and handle.run_id in repr(handle)


def test_stop_after_the_run_completed_changes_nothing(client: Any) -> None:
    handle: list[RunHandle] = []

    def emit(event: dict[str, Any]) -> None:
        if event["event"] == "complete":
            handle[0].stop()  # the run's end is recorded; its thread has not finished yet

    handle.append(start_run(client, "agt_demo", "What is the refund policy?", emit=emit))
    run = handle[0]
    assert run.wait(30)
    run.stop()  # and once it is done
    assert (run.status, run.stopped, run.error) == ("completed", False, None)
    assert [e["event"] for e in run.events][-1] == "complete"


def test_stop_after_a_failed_run_keeps_it_failed(client: Any) -> None:
    stops: list[RunHandle] = []

    def emit(event: dict[str, Any]) -> None:
        if event["event"] in ("error", "client_error") and stops:
            stops[0].stop()

    stops.append(start_run(client, "fault_error_event", "hi", emit=emit))
    run = stops[0]
    assert run.wait(30)
    assert (run.status, run.stopped) == ("failed", False)
    assert "stopped" not in [e["event"] for e in run.events]


def test_stopping_sets_stopping_until_the_run_ends(client: Any) -> None:
    run = start_run(client, "agt_long", "Tell me a long story", emit=lambda event: None)
    deadline = time.monotonic() + 30
    while not run.text and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not run.stopping
    run.stop()
    assert run.wait(10)
    assert (run.status, run.stopped, run.stopping) == ("stopped", True, False)
