"""`evaluate()`: start an agent over many prompts and return its `Evaluation` at once."""

from __future__ import annotations

import os
from typing import Any

from powawidget.evaluation.checkpoint import Checkpoint
from powawidget.evaluation.client import pause_on_rate_limits
from powawidget.evaluation.evaluation import Evaluation
from powawidget.evaluation.executor import RunSettings
from powawidget.evaluation.gate import Gate
from powawidget.evaluation.prompts import prompt_items, with_repeats
from powawidget.evaluation.scoring import Scoring
from powawidget.session.connect import connect
from powawidget.wire.config import NOTEBOOK, Audience
from powawidget.wire.orchestrations import OrchestrationId, is_orchestration

DEFAULT_CONCURRENCY = 8


def evaluate(
    agent_id: str | None = None,
    prompts: Any = None,
    *,
    orchestration_id: str | None = None,
    scorers: Any = (),
    repeat: int = 1,
    concurrency: int = DEFAULT_CONCURRENCY,
    base_url: str | None = None,
    api_key: str | None = None,
    client: Any = None,
    options: dict[str, Any] | None = None,
    checkpoint: str | os.PathLike[str] | None = None,
    retry_unfinished: bool = False,
    retry_failed: bool = False,
    max_runs: int | None = None,
    max_tokens: int | None = None,
    executor: Any = None,
    display: bool | None = None,
    idle_timeout: float = 300.0,
    audience: Audience = NOTEBOOK,
    evaluation_class: type[Evaluation] = Evaluation,
) -> Evaluation:
    """Run `agent_id` once per prompt, `concurrency` runs at a time; returns at once.

    Args:
        orchestration_id: run an orchestration instead of an agent:
            `evaluate(orchestration_id="orch_demo", prompts=[...])`; each row's answer is
            the orchestrator's own text and its tokens are the orchestrator's.
        prompts: strings, dicts with a `prompt` key, or a DataFrame with a `prompt` column;
            other columns (id, expected answer, tags) are carried into `ev.runs`.
        base_url, api_key, client: as for `ChatWidget`; with none of them (and no POWABASE_*
            variables) the built-in local agent server answers.
        scorers: callables `row -> bool | float | dict` grading each run as it finishes
            (`powawidget.scorers`: contains, exact, regex, number, tool_called, judge);
            each fills a column of `ev.runs` named after it, then `passed` and `score`.
        repeat: run every prompt this many times (`ev.runs` has a `repeat` column).
        options: run options sent with every prompt (temperature, ...).
        checkpoint: a JSON Lines file appended as runs start and finish; running again with
            it skips every finished prompt. A prompt that started but never finished is
            recovered from the server by its run id (never sent again); one sent before its
            run id came back is looked for among the agent's sessions (by its text and
            time); one the server never got is reported (status "unfinished") and sent again
            only with `retry_unfinished=True`; `retry_failed=True` sends failed prompts again.
        max_runs, max_tokens: stop sending once this many runs were sent / tokens used.
        executor: a `dask.distributed.Client` to spread the prompts over its workers
            (`concurrency` is then the total, shared out between the workers).
        display: show the live panel (in a notebook) or a progress line (in a terminal);
            default: yes.
        idle_timeout: seconds without any byte before a run gives up (default 300).
        audience: who reads the errors' advice: Python arguments (the default), or
            `powawidget evaluate`'s flags (the command passes its own wording).
        evaluation_class: the `Evaluation` made; `powawidget.evaluate` (powawidget.api)
            passes its own, which shows the live panel and replays runs in a notebook.
    """
    if orchestration_id is not None:
        if agent_id is not None:
            raise TypeError("pass agent_id or orchestration_id=, not both")
        if not isinstance(orchestration_id, str) or not orchestration_id:
            raise TypeError("orchestration_id= is the orchestration's id, e.g. 'orch_demo'")
        agent_id = OrchestrationId(orchestration_id)
    if not isinstance(agent_id, str) or not agent_id:
        raise TypeError("evaluate() needs the agent id first, e.g. evaluate('agt_demo', prompts)")
    if prompts is None:
        raise TypeError("evaluate() needs the prompts: a list of strings, dicts or a DataFrame")
    if int(concurrency) < 1:
        raise ValueError(f"concurrency must be at least 1, not {concurrency!r}")
    items = with_repeats(prompt_items(prompts), repeat)
    scoring = Scoring(scorers)
    clash = sorted(set(scoring.names) & {k for p in items for k in p.carried})
    if clash:
        raise ValueError(
            f"a scorer is named like a column of the prompts ({', '.join(clash)}); "
            "pass name=... to the scorer."
        )
    gate = Gate(max_runs=max_runs, max_tokens=max_tokens)
    evaluation = evaluation_class(agent_id, items, scoring)
    todo = items
    if checkpoint is not None:
        todo = evaluation._resume(Checkpoint(checkpoint), retry_unfinished, retry_failed)
    run_client, owned, banner = connect(
        client,
        base_url,
        api_key,
        doing="evaluating a built-in local demo agent",
        store="evaluations",
        audience=audience,
        idle_timeout=idle_timeout,
    )
    if owned:  # a 429 pauses the whole pool, not only the run that got it
        pause_on_rate_limits(run_client, gate)
        run_client.size_pool(concurrency + 2)  # every run (and a judge) keeps its connection
    scoring.bind(run_client, gate)
    try:
        if is_orchestration(agent_id):  # a wrong id fails here, once, not once per prompt
            run_client.get_orchestration(agent_id)
        else:
            run_client.get_agent(agent_id)
    except BaseException:
        if owned:
            run_client.close()
        raise
    if evaluation._recovering or evaluation._unclaimed:  # in flight at a crash: read back
        from powawidget.evaluation.recover import claim_sent, first_pass

        todo = [*todo, *claim_sent(evaluation, run_client, agent_id, retry_unfinished)]
        todo = [*todo, *first_pass(evaluation, run_client, retry_unfinished)]
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
        evaluation._show_progress()
    if todo or evaluation._recovering:
        runner.start(evaluation, todo)
    else:
        if owned:
            run_client.close()
        evaluation._end(None)
    return evaluation


def connect_for_judge(scoring: Scoring, connection: dict[str, Any]) -> Any:
    """Bind `scoring`'s judges to a client (`rescore`); returns what closes it."""
    unknown = set(connection) - {"client", "base_url", "api_key"}
    if unknown:
        raise TypeError(f"rescore() takes client=, base_url= or api_key=, not {sorted(unknown)}")
    gate = Gate()
    run_client, owned, _ = connect(
        connection.get("client"),
        connection.get("base_url"),
        connection.get("api_key"),
        doing="judging with a built-in local demo agent",
        store="evaluations",
    )
    if owned:
        pause_on_rate_limits(run_client, gate)
    scoring.bind(run_client, gate)
    return run_client.close if owned else None
