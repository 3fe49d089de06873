"""The local agents' tools: real, safe and deterministic (no network, no eval).

Each `Tool` has a name, a JSON-schema description of its arguments (as an LLM would see
it), a function, and a small simulated `latency` (the round trip a real backend would
take) that agents await before calling it, so concurrent calls finish in a realistic order.
"""

from __future__ import annotations

import ast
import json
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from powawidget.server import knowledge

MAX_EXPRESSION_CHARS = 200
MAX_EXPONENT = 1000
MAX_MAGNITUDE = 10**100


class ToolError(Exception):
    """A tool refused its arguments; the message says why, in words a user understands."""


@dataclass(frozen=True)
class Tool:
    """A callable tool with the schema an LLM would be shown."""

    name: str
    description: str
    parameters: dict[str, Any]
    func: Callable[..., Any]
    latency: float = 0.0

    def invoke(self, arguments: dict[str, Any]) -> Any:
        """Call the tool with keyword `arguments`; ToolError for unknown or missing ones."""
        allowed = set(self.parameters.get("properties", {}))
        unknown = sorted(set(arguments) - allowed)
        if unknown:
            raise ToolError(f"unknown argument(s) for {self.name}: {', '.join(unknown)}")
        missing = [k for k in self.parameters.get("required", []) if k not in arguments]
        if missing:
            raise ToolError(f"missing argument(s) for {self.name}: {', '.join(missing)}")
        return self.func(**arguments)


def result_text(value: Any) -> str:
    """A tool's value as the text a model would read: strings as is, the rest as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return format_number(value)
    return json.dumps(value, ensure_ascii=False)


def format_number(value: float | int) -> str:
    """A number without float noise: 0.1+0.2 → "0.3", 180.0 → "180", 1e20 stays exact-ish."""
    if isinstance(value, int):
        return str(value)
    if math.isnan(value) or math.isinf(value):
        return str(value)
    rounded = round(value, 10)
    if rounded.is_integer() and abs(rounded) < 1e15:
        return str(int(rounded))
    return repr(float(f"{rounded:.12g}"))


# --- calculator ---------------------------------------------------------------------------

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}


def _check_power(base: float, exponent: float) -> None:
    """Refuse powers whose result would be astronomically large (before computing them)."""
    if abs(exponent) > MAX_EXPONENT:
        raise ToolError(f"exponent {format_number(exponent)} is too large (limit {MAX_EXPONENT})")
    if base != 0 and abs(base) != 1 and exponent > 0 and exponent * math.log10(abs(base)) > 100:
        raise ToolError("result is too large (more than 100 digits)")
    if base == 0 and exponent < 0:
        raise ToolError("zero cannot be raised to a negative power")


def _evaluate(node: ast.AST) -> int | float:
    """Evaluate one node of an arithmetic expression tree; anything else is refused."""
    if isinstance(node, ast.Expression):
        return _evaluate(node.body)
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise ToolError(f"only numbers are allowed, not {node.value!r}")
        return node.value
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_evaluate(node.operand))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _evaluate(node.left), _evaluate(node.right)
        if isinstance(node.op, ast.Pow):
            _check_power(left, right)
        if isinstance(node.op, (ast.Div, ast.FloorDiv, ast.Mod)) and right == 0:
            raise ToolError("division by zero")
        try:
            value = _BINARY[type(node.op)](left, right)
        except OverflowError as exc:
            raise ToolError("result is too large") from exc
        if isinstance(value, complex):
            raise ToolError("the result is not a real number")
        if abs(value) > MAX_MAGNITUDE:
            raise ToolError("result is too large (more than 100 digits)")
        return value
    if isinstance(node, (ast.Name, ast.Attribute, ast.Call, ast.Subscript)):
        raise ToolError("names, calls and attributes are not allowed: use numbers and + - * / ** %")
    raise ToolError(f"unsupported syntax: {type(node).__name__}")


def calculate(expression: str) -> int | float:
    """Evaluate an arithmetic expression safely: numbers, + - * / // % **, parentheses."""
    if not isinstance(expression, str) or not expression.strip():
        raise ToolError("expression must be a non-empty string")
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise ToolError(f"expression is too long (limit {MAX_EXPRESSION_CHARS} characters)")
    text = expression.replace("×", "*").replace("÷", "/").replace("^", "**")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ToolError(f"could not read {expression!r} as arithmetic") from exc
    value = _evaluate(tree)
    if isinstance(value, float) and (math.isinf(value) or math.isnan(value)):
        raise ToolError("result is not a finite number")
    return value


# --- time ----------------------------------------------------------------------------------


def current_time(timezone_name: str = "UTC") -> dict[str, Any]:
    """The current date and time in an IANA timezone (e.g. "Europe/Berlin")."""
    name = (timezone_name or "UTC").strip()
    try:
        zone = timezone.utc if name.upper() in ("UTC", "GMT", "Z") else ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ToolError(
            f"unknown timezone {name!r}: use an IANA name such as 'Europe/Berlin' or 'UTC'"
        ) from exc
    now = datetime.now(zone)
    offset = now.strftime("%z")
    return {
        "timezone": "UTC" if zone is timezone.utc else name,
        "iso": now.isoformat(timespec="seconds"),
        "date": f"{now:%A}, {now.day} {now:%B %Y}",
        "time": f"{now:%H:%M}",
        "weekday": now.weekday(),
        "utc_offset": f"{offset[:3]}:{offset[3:]}",
    }


# --- unit conversion -----------------------------------------------------------------------

# category → unit → (factor to the base unit, aliases)
_UNITS: dict[str, dict[str, tuple[float, tuple[str, ...]]]] = {
    "length": {
        "mm": (0.001, ("millimeter", "millimetre")),
        "cm": (0.01, ("centimeter", "centimetre")),
        "m": (1.0, ("meter", "metre")),
        "km": (1000.0, ("kilometer", "kilometre", "kms")),
        "in": (0.0254, ("inch", "inches", '"')),
        "ft": (0.3048, ("foot", "feet", "'")),
        "yd": (0.9144, ("yard",)),
        "mi": (1609.344, ("mile",)),
        "nmi": (1852.0, ("nautical mile",)),
    },
    "mass": {
        "mg": (1e-6, ("milligram",)),
        "g": (0.001, ("gram", "gramme")),
        "kg": (1.0, ("kilogram", "kilo", "kilogramme")),
        "t": (1000.0, ("tonne", "metric ton")),
        "oz": (0.028349523125, ("ounce",)),
        "lb": (0.45359237, ("pound", "lbs")),
        "st": (6.35029318, ("stone",)),
    },
    "volume": {
        "ml": (0.001, ("milliliter", "millilitre")),
        "l": (1.0, ("liter", "litre")),
        "m3": (1000.0, ("cubic meter", "cubic metre")),
        "tsp": (0.00492892159375, ("teaspoon",)),
        "tbsp": (0.01478676478125, ("tablespoon",)),
        "floz": (0.0295735295625, ("fl oz", "fluid ounce")),
        "cup": (0.2365882365, ()),
        "pt": (0.473176473, ("pint",)),
        "qt": (0.946352946, ("quart",)),
        "gal": (3.785411784, ("gallon", "us gallon")),
    },
    "data": {
        "b": (1.0, ("byte",)),
        "kb": (1e3, ("kilobyte",)),
        "mb": (1e6, ("megabyte",)),
        "gb": (1e9, ("gigabyte",)),
        "tb": (1e12, ("terabyte",)),
        "kib": (1024.0, ("kibibyte",)),
        "mib": (1024.0**2, ("mebibyte",)),
        "gib": (1024.0**3, ("gibibyte",)),
        "tib": (1024.0**4, ("tebibyte",)),
    },
}
_TEMPERATURE = {
    "c": ("c", "°c", "celsius", "centigrade", "degrees celsius", "degree celsius"),
    "f": ("f", "°f", "fahrenheit", "degrees fahrenheit", "degree fahrenheit"),
    "k": ("k", "kelvin", "kelvins"),
}
_ALIASES: dict[str, tuple[str, str]] = {}
for _category, _table in _UNITS.items():
    for _unit, (_factor, _names) in _table.items():
        for _alias in (_unit, *_names, *(n + "s" for n in _names if n[-1].isalpha())):
            _ALIASES[_alias] = (_category, _unit)
for _unit, _names in _TEMPERATURE.items():
    for _alias in _names:
        _ALIASES[_alias] = ("temperature", _unit)


_LABELS = {"b": "B", "kib": "KiB", "mib": "MiB", "gib": "GiB", "tib": "TiB", "c": "°C", "f": "°F"}
_LABELS |= {unit: unit.upper() for unit in ("kb", "mb", "gb", "tb", "k")}
_LABELS |= {"floz": "fl oz", "m3": "m³"}


def unit_label(unit: str) -> str:
    """How a canonical unit is written in an answer ("gb" → "GB", "c" → "°C")."""
    return _LABELS.get(unit, unit)


def unit_key(unit: str) -> tuple[str, str] | None:
    """(category, canonical unit) for a unit name or alias ("Miles" → ("length", "mi"))."""
    key = " ".join(str(unit).strip().lower().replace(".", "").split())
    return _ALIASES.get(key) or _ALIASES.get(key.rstrip("s")) if key else None


def _to_kelvin(value: float, unit: str) -> float:
    """A temperature in kelvin."""
    if unit == "c":
        return value + 273.15
    if unit == "f":
        return (value - 32) * 5 / 9 + 273.15
    return value


def _from_kelvin(value: float, unit: str) -> float:
    """A kelvin temperature in `unit`."""
    if unit == "c":
        return value - 273.15
    if unit == "f":
        return (value - 273.15) * 9 / 5 + 32
    return value


def convert_units(value: float, from_unit: str, to_unit: str) -> dict[str, Any]:
    """Convert a quantity between units of length, mass, volume, temperature or data size."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ToolError("value must be a finite number")
    source, target = unit_key(from_unit), unit_key(to_unit)
    for given, found in ((from_unit, source), (to_unit, target)):
        if found is None:
            raise ToolError(f"unknown unit {given!r}")
    assert source is not None and target is not None
    if source[0] != target[0]:
        raise ToolError(f"cannot convert {source[0]} ({from_unit}) to {target[0]} ({to_unit})")
    category = source[0]
    if category == "temperature":
        kelvin = _to_kelvin(float(value), source[1])
        if kelvin < -1e-9:
            raise ToolError("that temperature is below absolute zero")
        result = _from_kelvin(kelvin, target[1])
    else:
        table = _UNITS[category]
        result = value * table[source[1]][0] / table[target[1]][0]
    return {
        "value": value,
        "from": source[1],
        "to": target[1],
        "category": category,
        "result": float(f"{result:.10g}"),
    }


# --- knowledge base --------------------------------------------------------------------------


def search_catalogue(query: str = "", names: list[str] | None = None) -> dict[str, Any]:
    """Products matching a free-text query or exact names (all products for an empty query)."""
    if names is not None and not (
        isinstance(names, list) and all(isinstance(n, str) for n in names)
    ):
        raise ToolError("names must be a list of product names")
    products = knowledge.search_products(str(query or ""), names)
    if names and not products:
        raise ToolError(f"no product named {', '.join(names)}")
    return {
        "query": query,
        "count": len(products),
        "products": [product.to_dict() for product in products],
    }


def get_policy(topic: str) -> dict[str, Any]:
    """One customer policy by topic: refund, billing, shipping, support, privacy or trial."""
    policy = knowledge.find_policy(str(topic))
    if policy is None:
        known = ", ".join(knowledge.policies())
        raise ToolError(f"no policy about {topic!r}; known topics: {known}")
    return policy.to_dict()


TOOLS: dict[str, Tool] = {
    tool.name: tool
    for tool in (
        Tool(
            "search_catalogue",
            "Search the product catalogue by free text or exact product names.",
            {
                "type": "object",
                "properties": {
                    "query": {"type": "string", "description": "What to look for."},
                    "names": {"type": "array", "items": {"type": "string"}},
                },
            },
            search_catalogue,
            latency=0.04,
        ),
        Tool(
            "get_policy",
            "Read one customer policy: refund, billing, shipping, support, privacy or trial.",
            {
                "type": "object",
                "properties": {"topic": {"type": "string"}},
                "required": ["topic"],
            },
            get_policy,
            latency=0.015,
        ),
        Tool(
            "calculator",
            "Evaluate an arithmetic expression: numbers, + - * / // % ** and parentheses.",
            {
                "type": "object",
                "properties": {"expression": {"type": "string"}},
                "required": ["expression"],
            },
            calculate,
        ),
        Tool(
            "current_time",
            "The current date and time in an IANA timezone (default UTC).",
            {
                "type": "object",
                "properties": {"timezone": {"type": "string", "default": "UTC"}},
            },
            lambda timezone="UTC": current_time(timezone),
        ),
        Tool(
            "convert_units",
            "Convert length, mass, volume, temperature or data-size units.",
            {
                "type": "object",
                "properties": {
                    "value": {"type": "number"},
                    "from_unit": {"type": "string"},
                    "to_unit": {"type": "string"},
                },
                "required": ["value", "from_unit", "to_unit"],
            },
            convert_units,
        ),
    )
}
