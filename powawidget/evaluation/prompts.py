"""The prompts of an evaluation: strings, dicts or a DataFrame, each with a stable key.

A prompt's key identifies it in a checkpoint, so a later `evaluate(..., checkpoint=...)`
knows which prompts already ran: the `id` column when there is one, else its position.
Other columns (expected answer, tags) are carried into `Evaluation.runs`.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from powawidget.evaluation.columns import RESERVED


@dataclass(frozen=True)
class Prompt:
    """One run to make: its key, position, text, the columns carried with it, and which
    repeat of its prompt it is (`unit`: the key shared by a prompt's repeats)."""

    key: str
    index: int
    prompt: str
    carried: dict[str, Any] = field(default_factory=dict)
    repeat: int = 0

    @property
    def unit(self) -> str:
        """The prompt's own key, shared by all its repeats (what a paired test pairs on)."""
        return unit_of(self.key, self.repeat)


REPEAT_MARK = "@"


def repeat_key(unit: str, repeat: int) -> str:
    """A run's key: the prompt's for the first repeat (so a checkpoint written without
    repeats is resumed by one with them), `unit@r` for the others."""
    return unit if repeat == 0 else f"{unit}{REPEAT_MARK}{repeat}"


def unit_of(key: str, repeat: int) -> str:
    """The prompt key of a run key."""
    return key if not repeat else key.rsplit(REPEAT_MARK, 1)[0]


def with_repeats(items: list[Prompt], repeat: int) -> list[Prompt]:
    """Each prompt `repeat` times in a row (repeat 0, 1, ...), indexed anew."""
    if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 1:
        raise ValueError(f"repeat must be a whole number >= 1, not {repeat!r}")
    if repeat == 1:
        return items
    out: list[Prompt] = []
    for item in items:
        for r in range(repeat):
            out.append(Prompt(repeat_key(item.key, r), len(out), item.prompt, item.carried, r))
    return out


def prompt_items(prompts: Any) -> list[Prompt]:
    """Normalise `prompts` (strings, dicts with a `prompt` key, a DataFrame) into `Prompt`s."""
    rows = _records(prompts)
    items: list[Prompt] = []
    keys: set[str] = set()
    for index, row in enumerate(rows):
        if isinstance(row, str):
            text, carried = row, {}
        elif isinstance(row, Mapping):
            if "prompt" not in row:
                raise ValueError(
                    f"prompt {index} has no 'prompt' field (it has: {', '.join(map(str, row))}); "
                    "give every row a 'prompt' column holding the message to send."
                )
            text = row["prompt"]
            carried = {str(k): v for k, v in row.items() if k != "prompt"}
        else:
            raise TypeError(
                f"prompt {index} is a {type(row).__name__}; pass strings, dicts with a "
                "'prompt' key, or a DataFrame with a 'prompt' column."
            )
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"prompt {index} is empty or not text: {text!r}")
        clash = sorted(set(carried) & RESERVED)
        if clash:
            raise ValueError(
                f"the prompts have columns named like result columns ({', '.join(clash)}); "
                "rename them (e.g. 'expected' instead of 'answer')."
            )
        key = str(carried["id"]) if carried.get("id") is not None else f"#{index}"
        if key in keys:
            raise ValueError(
                f"two prompts share the id {key!r}; ids must be unique so that a checkpoint "
                "can tell which prompts already ran."
            )
        keys.add(key)
        items.append(Prompt(key, index, text, carried))
    if not items:
        raise ValueError("no prompts given: pass a non-empty list of prompts.")
    return items


def read_prompts_file(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Rows of a CSV (a `prompt` column, or a single column of prompts) or JSON Lines file."""
    file = Path(path)
    if not file.exists():
        raise FileNotFoundError(f"no prompts file at {file}")
    if file.suffix.lower() in (".jsonl", ".ndjson"):
        import json

        lines = file.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]
    with file.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        fields = reader.fieldnames or []
        if "prompt" in fields:
            return list(reader)
        if len(fields) == 1:  # one column of prompts; its header is the first prompt
            return [{"prompt": fields[0]}] + [{"prompt": row[fields[0]]} for row in reader]
    raise ValueError(
        f"{file} has columns {fields}; it needs a 'prompt' column (or a single column)."
    )


def _records(prompts: Any) -> list[Any]:
    """Rows of a list, a pandas/polars DataFrame, or a single string."""
    if isinstance(prompts, str):
        return [prompts]
    if hasattr(prompts, "to_dicts"):  # polars
        return list(prompts.to_dicts())
    if hasattr(prompts, "to_dict") and hasattr(prompts, "columns"):  # pandas
        return list(prompts.to_dict("records"))
    if isinstance(prompts, Iterable):
        return list(prompts)
    raise TypeError(
        f"prompts is a {type(prompts).__name__}; pass a list of strings, a list of dicts "
        "with a 'prompt' key, or a DataFrame with a 'prompt' column."
    )
