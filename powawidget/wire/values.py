"""Odd values made well-formed: the rules of docs/protocol.md, "Odd values", in one place.

A server may send anything JSON allows (and Python's `json` accepts more: NaN, Infinity,
lone surrogate escapes, integers of any length, nesting ~1,000 deep). Past the normaliser:

- text is valid Unicode: a lone surrogate becomes U+FFFD (`text`);
- a measure (a step, a duration, a count, a token count) is a finite number from 0 to
  2**53 - 1, else None (`measure`);
- a name or id that is not a string is its JSON text (`name`);
- data keeps every value as exact text where JSON numbers cannot hold it: an integer past
  2**53 - 1 as its digits, NaN/Infinity/1e999 as written; anything nested deeper than
  `MAX_DEPTH` as its JSON text (`data`).

Written here rather than with a JSON library's hooks alone: the decoder's hooks cover the
numbers at parse time (`careful_scan`), and one walk covers text and depth for the rare
frame that needs it, so the common frame pays nothing extra.
"""

from __future__ import annotations

import json
import json.scanner
import math
from typing import Any

__all__ = [
    "MAX_DEPTH",
    "MAX_SAFE_INTEGER",
    "NumberText",
    "as_written",
    "careful_loads",
    "careful_scan",
    "data",
    "deep_text",
    "measure",
    "name",
    "text",
]

MAX_SAFE_INTEGER = 2**53 - 1
"""The largest integer every sink holds exactly (JavaScript's Number.MAX_SAFE_INTEGER)."""

MAX_DEPTH = 64
"""How deep data may nest (the event object is level 1); deeper values become JSON text.
Far above any real tool's arguments, far below what a kernel's message packer survives."""


class NumberText(str):
    """A JSON number no sink holds exactly (a huge integer, NaN, Infinity, 1e999), kept as
    the text that came: data holds it as a string, a note in `dropped` writes it bare."""

    __slots__ = ()


def _parse_int(digits: str) -> int | str:
    """An integer token: an int when every sink holds it exactly, else its exact digits."""
    if len(digits) < 16:  # 15 digits are always below 2**53: the common case, no compare
        return int(digits)
    if len(digits) <= 17:
        number = int(digits)
        if -MAX_SAFE_INTEGER <= number <= MAX_SAFE_INTEGER:
            return number
    return NumberText(digits)  # never int() a long one: Python refuses past 4,300 digits


def _parse_float(written: str) -> float | str:
    """A float token: the float when it is finite, else the text as written (1e999)."""
    number = float(written)
    return number if math.isfinite(number) else NumberText(written)


def _parse_constant(written: str) -> str:
    """NaN, Infinity, -Infinity (not JSON, accepted by Python's json): the text as written."""
    return NumberText(written)


_decoder = json.JSONDecoder(
    parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant
)
careful_scan = json.scanner.make_scanner(_decoder)  # type: ignore[arg-type]
"""The C scanner with the number hooks: `(value, end) = careful_scan(text, 0)`."""


def careful_loads(source: str) -> Any:
    """`json.loads` with the number rules above (raises ValueError/RecursionError as it does)."""
    return _decoder.decode(source)


def text(value: str) -> str:
    """The string as valid Unicode: a lone surrogate becomes U+FFFD (a pair is joined)."""
    if value.isascii():
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return value


def measure(value: Any) -> int | float | None:
    """A count, step, duration or token count: a finite number in 0..2**53-1, else None.

    Bools are not numbers here; ints stay ints, floats stay floats."""
    kind = type(value)
    if kind is int:
        return value if 0 <= value <= MAX_SAFE_INTEGER else None
    if kind is float:
        return value if 0.0 <= value <= MAX_SAFE_INTEGER else None  # NaN fails both compares
    if isinstance(value, int) and not isinstance(value, bool):  # an int subclass
        return int(value) if 0 <= value <= MAX_SAFE_INTEGER else None
    return None


def name(value: Any) -> str | None:
    """A name or id: a string as valid text, None as None, anything else its JSON text."""
    if value is None:
        return None
    if isinstance(value, str):
        return text(value)
    return deep_text(data(value))


def data(value: Any, depth: int = 1) -> Any:
    """A JSON value made well-formed for every sink (see the module docstring).

    Returns the same object when nothing needed to change, a new one otherwise; never
    raises. Values of other Python types (from client code) become their `str`."""
    kind = type(value)
    if kind is str:
        return text(value)
    if kind is NumberText:  # already text, and a note can still write it bare
        return value
    if kind is int:
        return value if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER else _int_text(value)
    if kind is float:
        return value if math.isfinite(value) else _float_text(value)
    if value is None or kind is bool:
        return value
    if kind is dict or kind is list or isinstance(value, (dict, list, tuple)):
        if depth > MAX_DEPTH:
            return deep_text(value)
        if isinstance(value, dict):
            out: dict[str, Any] = {}
            changed = kind is not dict
            for key, item in value.items():
                clean_key = text(key) if isinstance(key, str) else deep_text(data(key))
                clean = data(item, depth + 1)
                changed = changed or clean is not item or clean_key is not key
                out[clean_key] = clean
            return out if changed else value
        items = [data(item, depth + 1) for item in value]
        if kind is list and all(a is b for a, b in zip(items, value, strict=True)):
            return value
        return items
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return data(int(value), depth)
    if isinstance(value, float):
        return data(float(value), depth)
    if isinstance(value, str):
        return text(str(value))
    return text(str(value))


def _int_text(value: int) -> str:
    """A huge int's digits (hex-free, exact); past Python's digit limit, a note of its size."""
    try:
        return str(value)
    except ValueError:  # more than sys.get_int_max_str_digits() digits
        return f"<integer of {value.bit_length()} bits>"


def _float_text(value: float) -> str:
    """NaN / Infinity / -Infinity as Python's json writes them."""
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def as_written(value: Any) -> str:
    """The JSON text of a value as it came: numbers bare (`NumberText`, a huge int's digits,
    NaN/Infinity as Python's json writes them), anything else `deep_text`."""
    if isinstance(value, NumberText):
        return str.__str__(value)
    if type(value) is int:
        return _int_text(value)
    if type(value) is float:
        return json.dumps(value)
    return deep_text(value)


def deep_text(value: Any) -> str:
    """A value's compact JSON text, built without recursion (it may nest ~1,000 deep).

    Strings are valid Unicode, numbers as `data` writes them (non-finite and huge ones as
    text), dict keys as strings."""
    parts: list[str] = []
    dumps = json.dumps
    stack: list[tuple[bool, Any]] = [(False, value)]  # (is literal text, item)
    while stack:
        literal, item = stack.pop()
        if literal:
            parts.append(item)
        elif isinstance(item, dict):
            stack.append((True, "}"))
            entries = list(item.items())
            for index in range(len(entries) - 1, -1, -1):
                key, inner = entries[index]
                stack.append((False, inner))
                key_text = text(key) if isinstance(key, str) else str(key)
                stack.append((True, dumps(key_text, ensure_ascii=False) + ":"))
                if index:
                    stack.append((True, ","))
            parts.append("{")
        elif isinstance(item, (list, tuple)):
            stack.append((True, "]"))
            for index in range(len(item) - 1, -1, -1):
                stack.append((False, item[index]))
                if index:
                    stack.append((True, ","))
            parts.append("[")
        else:
            parts.append(dumps(data(item, 0), ensure_ascii=False))
    return "".join(parts)
