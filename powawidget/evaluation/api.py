"""`evaluate()`: start an agent over many prompts and return its `Evaluation` at once."""

from __future__ import annotations

import os
from typing import Any

from powawidget.evaluation.checkpoint import Checkpoint
from powawidget.evaluation.client import pause_on_rate_limits
from powawidget.evaluation.evaluation import Evaluation
from powawidget.evaluation.executor import RunSettings
from powawidget.evaluation.gate import Gate
from powawidget.evaluation.prompts import prompt_items
from powawidget.session.connect import connect

DEFAULT_CONCURRENCY = 8


def evaluate(
    agent_id: str,
    prompts: Any,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    base_url: str | None = None,
    api_key: str | None = None,
    client: Any = None,
    options: dict[str, Any] | None = None,
    checkpoint: str | os.PathLike[str] | None = None,
    retry_unfinished: bool = False,
    max_runs: int | None = None,
    max_tokens: int | None = None,
    executor: Any = None,
    display: bool | None = None,
) -> Evaluation:
    """Run `agent_id` once per prompt, `concurrency` runs at a time; returns at once.

    Args:
        prompts: strings, dicts with a `prompt` key, or a DataFrame with a `prompt` column;
            other columns (id, expected answer, tags) are carried into `ev.runs`.
        base_url, api_key, client: as for `ChatWidget`; with none of them (and no POWABASE_*
            variables) the built-in local agent server answers.
        options: run options sent with every prompt (temperature, ...).
        checkpoint: a JSON Lines file appended as runs start and finish; running again with
            it skips every finished prompt. A prompt that started but never finished is
            reported (status "unfinished"), not sent again, unless `retry_unfinished=True`.
        max_runs, max_tokens: stop sending once this many runs were sent / tokens used.
        executor: a `dask.distributed.Client` to spread the prompts over its workers
            (`concurrency` is then the total, shared out between the workers).
        display: show the live panel (in a notebook) or a progress line (in a terminal);
            default: yes.
    """
    if not isinstance(agent_id, str) or not agent_id:
        raise TypeError("evaluate() needs the agent id first, e.g. evaluate('agt_demo', prompts)")
    if int(concurrency) < 1:
        raise ValueError(f"concurrency must be at least 1, not {concurrency!r}")
    items = prompt_items(prompts)
    gate = Gate(max_runs=max_runs, max_tokens=max_tokens)
    evaluation = Evaluation(agent_id, items)
    todo = items
    if checkpoint is not None:
        todo = evaluation._resume(Checkpoint(checkpoint), retry_unfinished)
    run_client, owned, banner = connect(
        client, base_url, api_key, doing="evaluating a built-in local demo agent"
    )
    if owned:  # a 429 pauses the whole pool, not only the run that got it
        pause_on_rate_limits(run_client, gate)
    try:
        run_client.get_agent(agent_id)  # a wrong id fails here, once, not once per prompt
    except BaseException:
        if owned:
            run_client.close()
        raise
    evaluation.banner = banner
    settings = RunSettings(
        agent_id,
        concurrency,
        gate,
        options=dict(options or {}),
        on_close=run_client.close if owned else None,
    )
    if executor is None:
        from powawidget.evaluation.local import LocalExecutor

        runner: Any = LocalExecutor(run_client, settings)
    else:
        from powawidget.evaluation.distributed import DaskExecutor

        runner = DaskExecutor(executor, run_client, settings)
    evaluation._executor = runner
    if display is not False:
        from powawidget.evaluation.display import show_progress

        show_progress(evaluation)
    if todo:
        runner.start(evaluation, todo)
    else:
        if owned:
            run_client.close()
        evaluation._end(None)
    return evaluation
