"""A pandas or polars DataFrame (or Series) as context text: shape, schema, a summary of
every numeric column over ALL rows, and a bounded sample as a Markdown table with a note of
what was cut.

Neither library is imported here: a frame is recognised by its module and read through the
methods both share. The table writer is our own because `DataFrame.to_markdown` needs
`tabulate` (not a dependency) and polars has none; escaping `|` and newlines is all it takes.
"""

from __future__ import annotations

import math
import re
from typing import Any


def frame_library(value: Any) -> str | None:
    """'pandas' or 'polars' for a DataFrame or Series of theirs, else None."""
    module = type(value).__module__ or ""
    kind = type(value).__name__
    if kind not in ("DataFrame", "Series"):
        return None
    for library in ("pandas", "polars"):
        if module == library or module.startswith(library + "."):
            return library
    return None


_LINE_BREAKS = re.compile("[\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
"""Every character `str.splitlines` breaks at: none may stay inside a table row."""


def _cell(value: Any, limit: int) -> str:
    """One table cell: text on one line, `|` escaped, cut to `limit` characters."""
    text = "" if (isinstance(value, float) and math.isnan(value)) or value is None else str(value)
    text = _LINE_BREAKS.sub(" ", text).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def markdown_table(columns: list[str], rows: list[list[Any]], cell_chars: int) -> str:
    """A GitHub-flavoured Markdown table."""
    head = "| " + " | ".join(_cell(c, cell_chars) for c in columns) + " |"
    rule = "|" + "|".join("---" for _ in columns) + "|"
    body = ["| " + " | ".join(_cell(v, cell_chars) for v in row) + " |" for row in rows]
    return "\n".join([head, rule, *body])


def _number(value: Any) -> str:
    """A summary number: integers as they are, floats to 6 significant digits (no
    thousands separators: the summary's fields are separated by ", ")."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return f"{int(value)}" if abs(value) < 1e15 else f"{value:.4g}"
    try:
        return f"{float(value):.6g}"
    except (TypeError, ValueError):
        return str(value)


def describe_frame(
    value: Any, name: str, *, max_rows: int, max_columns: int, cell_chars: int
) -> tuple[str, dict[str, Any]]:
    """The context text of a DataFrame or Series, and facts for the transcript record
    (rows, columns)."""
    library = frame_library(value)
    series = type(value).__name__ == "Series"
    frame = value.to_frame() if series else value
    n_rows, n_cols = (int(v) for v in frame.shape)
    labels = list(frame.columns)
    names = [str(c) for c in labels]
    if library == "pandas":
        dtypes = [str(t) for t in frame.dtypes]
        index = frame.index
        default_index = (
            type(index).__name__ == "RangeIndex" and index.start == 0 and index.step == 1
        )
    else:
        dtypes = [str(t) for t in frame.dtypes]
        default_index = True
    shown_cols = names[:max_columns]
    shown_labels = labels[:max_columns]
    kind = f"{library} {'Series' if series else 'DataFrame'}"
    lines = [f"{kind} `{name}`: {n_rows:,} rows × {n_cols:,} columns."]
    lines.append("")
    lines.append(
        "Columns (dtype): " + ", ".join(f"{c} ({t})" for c, t in zip(names, dtypes, strict=False))
    )
    summary = _numeric_summary(frame, library, shown_labels, dtypes)
    if summary:
        lines += ["", "Numeric columns over all rows:"]
        lines += [f"- {col}: {text}" for col, text in summary]
    sample = frame.head(max_rows)
    columns = shown_cols
    if library == "pandas":
        rows = sample[shown_labels].astype(object).values.tolist()
        if not default_index:
            columns = [str(index.name or ""), *shown_cols]
            rows = [[label, *row] for label, row in zip(sample.index.tolist(), rows, strict=False)]
    else:
        rows = [list(r) for r in sample.select(shown_cols).rows()]
    shown_rows = min(n_rows, max_rows)
    lines += ["", f"First {shown_rows:,} rows:" if shown_rows else "No rows.", ""]
    if shown_rows:
        lines.append(markdown_table(columns, rows, cell_chars))
    cut = []
    if n_rows > shown_rows:
        cut.append(f"{n_rows - shown_rows:,} more rows")
    if n_cols > len(shown_cols):
        cut.append(f"{n_cols - len(shown_cols):,} more columns")
    if cut:
        lines += ["", f"(Sample only: {' and '.join(cut)} not shown.)"]
    return "\n".join(lines), {"rows": n_rows, "columns": n_cols}


def _numeric_summary(
    frame: Any, library: str | None, columns: list[Any], dtypes: list[str]
) -> list[tuple[str, str]]:
    """min, mean, max of each numeric column (over all rows), as text."""
    out = []
    for column, dtype in zip(columns, dtypes, strict=False):
        dtype = dtype.lower()
        if not any(k in dtype for k in ("int", "float", "decimal")) or "interval" in dtype:
            continue
        data = frame[column]
        try:
            low, mean, high = data.min(), data.mean(), data.max()
        except Exception:  # an odd dtype a library cannot summarise: leave it out
            continue
        nulls = int(data.isna().sum()) if library == "pandas" else int(data.null_count())
        text = f"min {_number(low)}, mean {_number(mean)}, max {_number(high)}"
        if nulls:
            text += f", {nulls:,} missing"
        out.append((str(column), text))
    return out
