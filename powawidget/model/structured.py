"""A structured answer's JSON: the one reader of an answer asked for with `response_format`.

The panel (`model.view`, as a table) and the run's handle (`session.structured`, validated
against the schema) both read the answer through `answer_json`, so they agree on what counts
as JSON: the whole text, or the one fenced ```json block a model may wrap it in.
"""

from __future__ import annotations

import json
import re
from typing import Any

_FENCE = re.compile(r"^```(?:json)?\s*\n(.*)\n```$", re.DOTALL)

MAX_JSON_CHARS = 1_000_000
"""Longer answers are not parsed for the panel's table (the text still shows)."""


class NotJson(ValueError):
    """The answer is not a JSON document; the message says where it stopped parsing."""


def answer_json(text: str) -> Any:
    """The JSON document an answer holds; raises `NotJson` when it holds none."""
    body = text.strip()
    fenced = _FENCE.match(body)
    if fenced:
        body = fenced.group(1).strip()
    if not body:
        raise NotJson("the answer is empty")
    if len(body) > MAX_JSON_CHARS:
        raise NotJson(f"the answer is over {MAX_JSON_CHARS:,} characters")
    try:
        return json.loads(body)
    except json.JSONDecodeError as error:
        raise NotJson(f"{error.msg} at line {error.lineno} column {error.colno}") from None
