"""Resuming from a checkpoint: what it holds goes into the evaluation's rows; what is left
is the prompts still to send (or, for a run that started, to read back: `recover`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from powawidget.evaluation.checkpoint import Checkpoint
from powawidget.evaluation.columns import DONE_STATUSES, FAILED, RUN_COLUMNS, RUNNING, UNFINISHED
from powawidget.evaluation.prompts import Prompt
from powawidget.evaluation.results import pending_row

if TYPE_CHECKING:
    from powawidget.evaluation.evaluation import Evaluation


def resume(
    evaluation: Evaluation,
    checkpoint: Checkpoint,
    retry_unfinished: bool,
    retry_failed: bool = False,
    *,
    recover: bool = True,
) -> list[Prompt]:
    """Take what the checkpoint holds into `evaluation`; return the prompts still to send.

    A run that started (its run id is in the checkpoint) but has no outcome is to be
    read back from the server (`recover`; see `evaluation.recover`), never sent again.
    """
    ev = evaluation
    state = checkpoint.load()
    todo: list[Prompt] = []
    for prompt in ev._prompts:
        finished, started = state.finished.get(prompt.key), state.started.get(prompt.key)
        for record in (finished, started):
            if record is not None and record.get("prompt", prompt.prompt) != prompt.prompt:
                raise ValueError(
                    f"{checkpoint.path} was written for other prompts: prompt {prompt.key!r}"
                    f" was {record.get('prompt')!r}, now {prompt.prompt!r}. Use a new "
                    "checkpoint file for a new prompt set."
                )
        if finished is not None:
            row = {k: finished["row"].get(k) for k in RUN_COLUMNS}
            row["repeat"] = prompt.repeat
            ev._set_row(prompt.key, row)
            offset, length = finished["events_at"]
            ev._store.at(prompt.key, (checkpoint.path, offset, length))
            ev._score(prompt, row, finished.get("scores"))
            if row["status"] == FAILED and retry_failed:
                pass
            elif row["status"] in DONE_STATUSES or not retry_unfinished:
                continue
        elif started is not None and started.get("run_id") and recover:
            ev._set_row(
                prompt.key,
                pending_row(
                    prompt,
                    RUNNING,
                    run_id=started.get("run_id"),
                    session_id=started.get("session_id"),
                ),
            )
            ev._recovering.append((prompt, started))
            continue
        elif started is not None and recover and _number(started.get("sent_at")):
            # sent, no run id yet: looked for among the agent's sessions (`recover`)
            ev._set_row(prompt.key, pending_row(prompt, RUNNING))
            ev._unclaimed.append((prompt, started))
            continue
        elif started is not None:
            ev._set_row(
                prompt.key,
                pending_row(
                    prompt,
                    UNFINISHED,
                    run_id=started.get("run_id"),
                    session_id=started.get("session_id"),
                    error=(
                        "started before the checkpoint's process ended; not sent again "
                        if started.get("run_id")
                        else "sent before the checkpoint's process ended, with no run id "
                        "recorded (it may have run on the server); not sent again "
                    )
                    + "(pass retry_unfinished=True to send it again)",
                ),
            )
            if not retry_unfinished:
                continue
        todo.append(prompt)
    ev._checkpoint = checkpoint
    return todo


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
