"""The local executor: one `RunPool` in a background thread of this process."""

from __future__ import annotations

import logging
import threading
from typing import Any

from powawidget.evaluation.evaluation import Evaluation
from powawidget.evaluation.executor import RunSettings
from powawidget.evaluation.pool import Outcome, RunPool
from powawidget.evaluation.prompts import Prompt
from powawidget.evaluation.recover import start_recovery

logger = logging.getLogger(__name__)


class LocalExecutor:
    """Runs an evaluation's prompts on this machine with threads (I/O bound streams)."""

    def __init__(self, client: Any, settings: RunSettings) -> None:
        self.gate = settings.gate
        self._client = client
        self._settings = settings
        self._pool: RunPool | None = None

    def start(self, evaluation: Evaluation, prompts: list[Prompt]) -> None:
        """Send `prompts` in a background thread; the evaluation ends when it returns."""

        def finished(outcome: Outcome) -> None:
            evaluation._finished(outcome.prompt, outcome.status, outcome.row, outcome.events)

        self._pool = RunPool(
            self._client,
            self._settings.agent_id,
            concurrency=self._settings.concurrency,
            gate=self.gate,
            on_finished=finished,
            on_started=evaluation._started,
            on_dispatch=evaluation._dispatched,
            options=self._settings.options,
        )
        thread = threading.Thread(
            target=self._main, args=(evaluation, prompts), name="powawidget-evaluate", daemon=True
        )
        thread.start()

    def stop(self) -> None:
        """Send nothing more; stop the runs in flight."""
        if self._pool is not None:
            self._pool.stop()
        else:
            self.gate.stop("stopped by the user")

    def _main(self, evaluation: Evaluation, prompts: list[Prompt]) -> None:
        reason = None
        recovery = start_recovery(evaluation, self._client, self.gate)
        try:
            assert self._pool is not None
            self._pool.run(prompts)
            if recovery is not None:
                recovery.join()
            reason = self.gate.stop_reason
        except Exception as error:
            logger.exception("powawidget: the evaluation failed")
            reason = f"the evaluation failed: {type(error).__name__}: {error}"
        finally:
            self._settings.close()
            evaluation._end(reason)
