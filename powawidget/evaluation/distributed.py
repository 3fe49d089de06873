"""Dask executor: prompts partitioned over a `dask.distributed` cluster's workers.

Each worker runs its partition through the same `RunPool` (bounded concurrency, the chat
panel's run path) and sends every start and outcome back through a `distributed.Queue`
as it happens, so the caller's `Evaluation` (which alone writes the checkpoint) stays live.
The API key reaches each worker once, inside a worker plugin (`Credentials`): it is in no
task's arguments, key or graph, and the plugin's repr hides it. A stop, a 402 or a budget
sets a `distributed.Event` that every worker watches; a 429 on one worker pauses them all
through a `distributed.Variable` holding the pause's end (wall clock).
"""

from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from typing import Any, cast

from powawidget.evaluation.evaluation import Evaluation
from powawidget.evaluation.executor import RunSettings
from powawidget.evaluation.gate import Gate
from powawidget.evaluation.prompts import Prompt

logger = logging.getLogger(__name__)

POLL = 0.1


class DaskExecutor:
    """Spreads an evaluation over a `dask.distributed.Client`'s workers."""

    def __init__(
        self,
        dask_client: Any,
        run_client: Any,
        settings: RunSettings,
    ) -> None:
        try:
            from distributed import Client
        except ImportError as exc:  # pragma: no cover - the extra is missing
            raise ImportError(
                'executor= needs Dask: pip install "powawidget[scale]"  (dask[distributed])'
            ) from exc
        if not isinstance(dask_client, Client):
            raise TypeError(
                f"executor= takes a dask.distributed.Client, not {type(dask_client).__name__}"
            )
        self.gate = settings.gate
        self._dask = dask_client
        self._settings = settings
        self._name = f"powawidget-evaluate-{uuid.uuid4().hex[:12]}"
        self._credentials = Credentials(run_client.base_url, run_client._key)
        self._run_client = run_client
        self._stop_event: Any = None

    def start(self, evaluation: Evaluation, prompts: list[Prompt]) -> None:
        """Register the credentials, submit one task per partition, relay results."""
        from distributed import Event, Queue, Variable

        if self.gate.max_runs is not None and len(prompts) > self.gate.max_runs:
            prompts = prompts[: self.gate.max_runs]
            self.gate.stop(f"max_runs={self.gate.max_runs} reached")
        workers = max(1, len(self._dask.scheduler_info().get("workers", {})))
        parts = [prompts[i::workers] for i in range(workers)]
        parts = [p for p in parts if p]
        per_worker = max(1, math.ceil(self._settings.concurrency / max(1, len(parts))))
        self._dask.register_plugin(self._credentials, name=self._name)
        queue = Queue(self._name, client=self._dask)
        self._stop_event = Event(self._name + "-stop", client=self._dask)
        Variable(self._name + "-pause", client=self._dask).set(0.0)
        futures = [
            self._dask.submit(
                run_partition,
                self._name,
                self._settings.agent_id,
                [(p.key, p.index, p.prompt) for p in part],
                per_worker,
                self._settings.options,
                key=f"{self._name}-part-{i}",
                pure=False,
            )
            for i, part in enumerate(parts)
        ]
        by_key = {p.key: p for p in prompts}
        thread = threading.Thread(
            target=self._relay,
            args=(evaluation, by_key, queue, futures),
            name="powawidget-evaluate-dask",
            daemon=True,
        )
        thread.start()

    def stop(self, reason: str = "stopped by the user") -> None:
        """Tell every worker to send nothing more and stop its runs."""
        self.gate.stop(reason)
        if self._stop_event is not None:
            self._stop_event.set()

    def _relay(
        self, evaluation: Evaluation, by_key: dict[str, Prompt], queue: Any, futures: list
    ) -> None:
        """Apply the workers' messages to the evaluation until every partition returned."""
        from powawidget.evaluation.recover import start_recovery

        reason = None
        recovery = start_recovery(evaluation, self._run_client, self.gate)
        try:
            while True:
                finished = all(f.done() for f in futures)
                messages = queue.get(batch=True)
                for message in messages:
                    self._apply(evaluation, by_key, message)
                if finished and not messages:
                    break
                if not messages:
                    time.sleep(POLL)
            if recovery is not None:
                recovery.join()
            for future in futures:
                if future.status == "error":
                    error = future.exception()
                    reason = f"a Dask worker failed: {type(error).__name__}: {error}"
        except Exception as error:
            logger.exception("powawidget: relaying the Dask evaluation failed")
            reason = f"the evaluation failed: {type(error).__name__}: {error}"
        finally:
            self._cleanup(queue)
            evaluation._end(reason or self.gate.stop_reason)

    def _apply(self, evaluation: Evaluation, by_key: dict[str, Prompt], message: dict) -> None:
        """One worker message: dispatched, started, finished, or a stop (402)."""
        kind = message["kind"]
        if kind == "stop":
            self.stop(message["reason"])
            return
        prompt = by_key[message["key"]]
        if kind == "dispatched":
            evaluation._dispatched(prompt)
        elif kind == "started":
            evaluation._started(prompt, message["run_id"], message["session_id"])
        elif kind == "finished":
            evaluation._finished(prompt, message["status"], message["row"], message["events"])
            self.gate.spend(message["row"].get("tokens"))
            if self.gate.max_tokens is not None and self.gate.tokens_used >= self.gate.max_tokens:
                self.stop(
                    f"max_tokens={self.gate.max_tokens} reached ({self.gate.tokens_used} used)"
                )

    def _cleanup(self, queue: Any) -> None:
        """Drop the credentials from the workers, close the queue and our client."""
        try:
            self._dask.unregister_worker_plugin(self._name)
        except Exception:
            logger.debug("powawidget: could not unregister the worker plugin", exc_info=True)
        try:
            queue.close()
        except Exception:
            logger.debug("powawidget: could not close the Dask queue", exc_info=True)
        self._settings.close()


def _worker_plugin_base() -> type:
    try:
        from distributed.diagnostics.plugin import WorkerPlugin

        return WorkerPlugin
    except ImportError:  # pragma: no cover - without Dask the class is never used
        return object


class Credentials(_worker_plugin_base()):  # type: ignore[misc]
    """A worker plugin carrying the project URL and key to each worker, once."""

    def __init__(self, base_url: str, api_key: str) -> None:
        self.base_url = base_url
        self._api_key = api_key

    def __repr__(self) -> str:
        return f"Credentials(base_url={self.base_url!r}, api_key=<hidden>)"

    def client(self, gate: Gate) -> Any:
        """A client for this worker's partition (its 429s pause `gate`)."""
        from powawidget.evaluation.client import gated_client

        return gated_client(self.base_url, self._api_key, gate=gate)


def run_partition(
    name: str,
    agent_id: str,
    prompts: list[tuple[str, int, str]],
    concurrency: int,
    options: dict[str, Any],
) -> int:
    """On a worker: run one partition, sending each start and outcome to the caller."""
    from distributed import Event, Queue, Variable, get_worker

    from powawidget.evaluation.pool import Outcome, RunPool

    worker = get_worker()
    credentials = cast(Credentials, worker.plugins[name])  # registered by DaskExecutor
    queue = Queue(name)
    stop = Event(name + "-stop")
    pause = Variable(name + "-pause")
    gate = Gate(on_pause=lambda seconds: pause.set(time.time() + seconds))
    client = credentials.client(gate)
    client.size_pool(concurrency + 2)

    def finished(outcome: Outcome) -> None:
        queue.put(
            {
                "kind": "finished",
                "key": outcome.prompt.key,
                "status": outcome.status,
                "row": outcome.row,
                "events": outcome.events,
            }
        )
        if gate.stop_reason and not gate.stop_reason.startswith("stopped"):
            queue.put({"kind": "stop", "reason": gate.stop_reason})  # a 402: stop them all

    pool = RunPool(
        client,
        agent_id,
        concurrency=concurrency,
        gate=gate,
        on_finished=finished,
        on_started=lambda p, run_id, sid: queue.put(
            {"kind": "started", "key": p.key, "run_id": run_id, "session_id": sid}
        ),
        on_dispatch=lambda p: queue.put({"kind": "dispatched", "key": p.key}),
        options=options,
    )
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            if stop.is_set():
                pool.stop()
                return
            until = pause.get()
            if until and until > time.time():
                gate.pause(until - time.time(), relay=False)
            done.wait(0.25)

    watcher = threading.Thread(target=watch, name="powawidget-dask-watch", daemon=True)
    watcher.start()
    try:
        pool.run([Prompt(key, index, text) for key, index, text in prompts])
    finally:
        done.set()
        client.close()
    return len(prompts)
