"""Save and load evaluations: Parquet (runs + each run's events as JSON) or a checkpoint.

Parquet so DuckDB, Polars or Spark read a team's evaluations directly; the columns are
`Evaluation.runs`' plus `key` and `events` (JSON text), and the agent id is in the schema
metadata. Nothing holds the API key: rows and events never do.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from powawidget.evaluation.checkpoint import Checkpoint
from powawidget.evaluation.columns import RESERVED, RUN_COLUMNS, SCORED_STATUSES
from powawidget.evaluation.prompts import Prompt
from powawidget.evaluation.scoring import SCORE_TAIL
from powawidget.outputs.tables import require

if TYPE_CHECKING:
    from powawidget.evaluation.evaluation import Evaluation

AGENT_KEY = b"powawidget.agent_id"
SCORES_KEY = b"powawidget.score_columns"
"""The scorers' columns (a JSON list), so a loaded evaluation tells them from carried ones."""
OPTIONAL = {"repeat": 0, "tool_names": []}
"""Columns a file saved before repeats and scorers lacks, and what they are then."""


def write_parquet(evaluation: Evaluation, path: str | os.PathLike[str]) -> Path:
    """Write beside `path`, then rename over it: a crash leaves the old file or the new one."""
    pa = require("pyarrow", "to_parquet", "pyarrow")
    pq = require("pyarrow.parquet", "to_parquet", "pyarrow")
    runs = evaluation.runs
    rows = []
    for index, row in enumerate(runs):
        stored = dict(row)
        stored["key"] = evaluation._prompts[index].key
        stored["events"] = json.dumps(evaluation.run_events(index), ensure_ascii=False, default=str)
        rows.append(stored)
    columns = [*runs.columns, "key", "events"]
    table = pa.Table.from_pylist(rows, schema=None) if rows else pa.table({c: [] for c in columns})
    table = table.select(columns)
    scores = json.dumps(evaluation.score_columns if evaluation._scores else [])
    table = table.replace_schema_metadata(
        {AGENT_KEY: evaluation.agent_id.encode(), SCORES_KEY: scores.encode()}
    )
    target = Path(path)
    partial = target.with_name(target.name + ".partial")
    pq.write_table(table, partial)
    os.replace(partial, target)
    return target


def read_evaluation(cls: type[Evaluation], path: str | os.PathLike[str]) -> Evaluation:
    """An ended `Evaluation` from a Parquet file written by `to_parquet`, or a checkpoint."""
    source = Path(path)
    if not source.exists():
        raise FileNotFoundError(f"no evaluation at {source}")
    if source.suffix.lower() in (".jsonl", ".ndjson"):
        return _from_checkpoint(cls, source)
    pq = require("pyarrow.parquet", "Evaluation.load", "pyarrow")
    table = pq.read_table(source)
    names = table.column_names
    missing = [c for c in (*RUN_COLUMNS, "key", "events") if c not in names and c not in OPTIONAL]
    if missing:
        raise ValueError(
            f"{source} is not a saved evaluation (no column {', '.join(missing)}); "
            "write one with ev.to_parquet(path)."
        )
    metadata = table.schema.metadata or {}
    agent = metadata.get(AGENT_KEY, b"").decode()
    scores = [*json.loads(metadata.get(SCORES_KEY, b"[]")), *SCORE_TAIL]
    if len(scores) == len(SCORE_TAIL):
        scores = []
    records = table.to_pylist()
    apart = RESERVED | set(scores)
    prompts = [
        Prompt(
            r["key"],
            i,
            r["prompt"],
            {k: v for k, v in r.items() if k not in apart},
            int(r.get("repeat") or 0),
        )
        for i, r in enumerate(records)
    ]
    evaluation = cls(agent, prompts)
    for prompt, record in zip(prompts, records, strict=True):
        row = {k: record.get(k, OPTIONAL.get(k)) for k in RUN_COLUMNS}
        evaluation._rows[prompt.key] = row
        evaluation._store.put(prompt.key, json.loads(record["events"] or "[]"))
        if scores and row["status"] in SCORED_STATUSES:
            evaluation._scores[prompt.key] = {k: record.get(k) for k in scores}
            evaluation._note_names(evaluation._scores[prompt.key])
    evaluation._end(None)
    return evaluation


def _from_checkpoint(cls: type[Evaluation], source: Path) -> Evaluation:
    """What a checkpoint holds, prompts in the order they were first written."""
    state = Checkpoint(source).load()
    keys = list(dict.fromkeys([*state.started, *state.finished]))
    prompts: list[Prompt] = []
    for index, key in enumerate(keys):
        record: dict[str, Any] = state.finished.get(key) or state.started[key]
        row = record.get("row") or {}
        text = record.get("prompt") or row.get("prompt") or ""
        prompts.append(Prompt(key, index, text, {}, int(row.get("repeat") or 0)))
    evaluation = cls("", prompts)
    evaluation._resume(Checkpoint(source), retry_unfinished=False, recover=False)
    evaluation._checkpoint = None
    evaluation._end(None)
    return evaluation
