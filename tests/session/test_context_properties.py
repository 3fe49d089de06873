"""Properties of the context builder over generated input (Hypothesis): text and JSON are
sent exactly, a sample table always has one cell per column whatever the cells hold, and
a record never carries the content it describes."""

from __future__ import annotations

import json
import re

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from powawidget.session.context import ContextLimits, build_context

LIMITS = ContextLimits(max_chars=10_000_000)
texts = st.text(min_size=1, max_size=200)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


@given(st.lists(texts, min_size=1, max_size=4))
@settings(max_examples=60, deadline=None)
def test_text_parts_are_sent_exactly_and_joined_by_blank_lines(parts: list[str]) -> None:
    value = parts[0] if len(parts) == 1 else parts
    assert build_context(value, limits=LIMITS).override == "\n\n".join(parts)


@given(st.dictionaries(st.text(max_size=8), json_values, min_size=1, max_size=5))
@settings(max_examples=60, deadline=None)
def test_a_dict_is_sent_as_json_that_reads_back_the_same(value: dict) -> None:
    override = build_context(value, limits=LIMITS).override
    assert isinstance(override, str) and json.loads(override) == value


@given(
    st.lists(st.tuples(st.text(max_size=30), st.text(max_size=30)), min_size=1, max_size=8),
    st.sampled_from(["a", "b|c", "line\nbreak"]),
)
@settings(max_examples=60, deadline=None)
def test_every_sample_row_has_one_cell_per_column(rows: list[tuple[str, str]], name: str) -> None:
    frame = pd.DataFrame(rows, columns=[name, "other"])
    context = build_context(frame, limits=LIMITS)
    text = context.override
    assert isinstance(text, str)
    table = [line for line in text.splitlines() if line.startswith("|")]
    assert len(table) == 2 + len(rows)
    for line in table:
        assert len(_UNESCAPED_PIPE.findall(line)) == 3, line
    record = context.records()[0]
    assert "text" not in record and "image" not in record
    assert record["rows"] == len(rows) and record["size"] == len(text.encode("utf-8"))
