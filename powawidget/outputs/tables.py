"""`Table`: a list of flat dicts with fixed columns, ready for pandas, polars or Arrow.

Transcript views are Tables. Being a plain `list`, a Table needs no dataframe library:
`pd.DataFrame(table)` just works, and so does `json.dumps(table)`. The converters import
their library lazily and keep the column order even when the table is empty.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from importlib import import_module
from typing import Any

_PREVIEW_ROWS = 10
_PREVIEW_CHARS = 80


def require(module: str, method: str, package: str) -> Any:
    """Import an optional dataframe library, or say how to install it."""
    try:
        return import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"Table.{method}() needs {package}: pip install {package}  "
            f'(or pip install "powawidget[dataframes]" for pandas, polars and pyarrow)'
        ) from exc


class Table(list):
    """Rows (dicts sharing the keys in `columns`, in that order) of one transcript view."""

    def __init__(self, rows: Iterable[dict] = (), columns: Sequence[str] = ()) -> None:
        """Hold `rows`; `columns` fixes the column names and order (default: first row's keys)."""
        super().__init__(rows)
        if not columns and self:
            columns = list(self[0])
        self.columns: list[str] = list(columns)

    def __repr__(self) -> str:
        """Row count and column names only: cheap for a transcript of any size."""
        return f"Table({len(self)} rows × {len(self.columns)} columns: {', '.join(self.columns)})"

    def __getitem__(self, index: Any) -> Any:
        """A row, or for a slice a Table with the same columns."""
        if isinstance(index, slice):
            return Table(super().__getitem__(index), self.columns)
        return super().__getitem__(index)

    def column(self, name: str) -> list[Any]:
        """The values of one column, in row order."""
        if name not in self.columns:
            raise KeyError(f"no column {name!r}; columns are: {', '.join(self.columns)}")
        return [row.get(name) for row in self]

    def to_pandas(self) -> Any:
        """A pandas DataFrame with the table's columns in order (pandas is imported lazily)."""
        pd = require("pandas", "to_pandas", "pandas")
        frame = pd.DataFrame(list(self), columns=self.columns)
        integers = [name for name in self.columns if _is_integer_column(self.column(name))]
        # Nullable Int64: a count with a missing value prints as 897, not 897.0.
        return frame.astype(dict.fromkeys(integers, "Int64")) if integers else frame

    def to_polars(self) -> Any:
        """A polars DataFrame with the table's columns in order (polars is imported lazily)."""
        pl = require("polars", "to_polars", "polars")
        data = {name: [row.get(name) for row in self] for name in self.columns}
        return pl.DataFrame(data, strict=False)

    def to_arrow(self) -> Any:
        """A pyarrow Table with the table's columns in order (pyarrow is imported lazily)."""
        pa = require("pyarrow", "to_arrow", "pyarrow")
        return pa.table({name: [row.get(name) for row in self] for name in self.columns})

    def _repr_html_(self) -> str:
        """A short escaped preview for Jupyter: the first rows, long cells cut."""
        head = "".join(f"<th>{html.escape(name)}</th>" for name in self.columns)
        body = []
        for row in list.__getitem__(self, slice(_PREVIEW_ROWS)):
            cells = "".join(f"<td>{_cell(row.get(name))}</td>" for name in self.columns)
            body.append(f"<tr>{cells}</tr>")
        more = len(self) - _PREVIEW_ROWS
        note = f"<p>… {more} more rows. Use .to_pandas() for all of them.</p>" if more > 0 else ""
        return (
            f"<p>Table: {len(self)} rows × {len(self.columns)} columns</p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{note}"
        )


def _is_integer_column(values: list[Any]) -> bool:
    """Whether a column holds whole numbers (and maybe gaps): ints, never bools or floats."""
    present = [v for v in values if v is not None]
    return bool(present) and all(isinstance(v, int) and not isinstance(v, bool) for v in present)


def _cell(value: Any) -> str:
    """One preview cell: escaped, cut to a readable length."""
    if value is None:
        return ""
    text = str(value)
    if len(text) > _PREVIEW_CHARS:
        text = text[: _PREVIEW_CHARS - 1] + "…"
    return html.escape(text)
