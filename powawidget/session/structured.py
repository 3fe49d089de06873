"""Structured answers: `w.ask(text, response_format=MyModel)` sends a JSON schema and reads
the answer back as a validated object.

A format is a Pydantic model (pydantic is optional, used only when the user passes a model),
a dataclass, a JSON schema dict, or a ready `response_format` value (`{"type":
"json_schema", …}` or `{"type": "json_object"}`). It becomes the request's
`{"type": "json_schema", "json_schema": {"name", "schema", "strict"?}}`.

The server passes it to the model on agents with tools only; an agent without tools drops
it silently (docs/protocol.md), so the answer may be plain prose: `parse` then says so in
one sentence and the caller keeps the text. Validation uses `jsonschema` when installed
(Jupyter itself depends on it); without it only the top-level type and required keys are
checked. The dataclass schema is written here (a few lines over `typing`'s introspection)
because no dependency of ours converts dataclasses to JSON schema.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from powawidget.model.structured import NotJson, answer_json

__all__ = ["ResponseFormat", "StructuredAnswerError", "response_format"]

_NAME = re.compile(r"[^a-zA-Z0-9_-]+")
_JSON_TYPES: dict[Any, str] = {str: "string", int: "integer", float: "number", bool: "boolean"}


class StructuredAnswerError(ValueError):
    """`ask(…, response_format=…)` got an answer that is not valid for the format; the
    message says why in one sentence and `.text` keeps the answer."""

    def __init__(self, message: str, text: str) -> None:
        super().__init__(message)
        self.text = text


@dataclass(frozen=True)
class ResponseFormat:
    """A structured-answer request: the value sent and how the answer is read back."""

    name: str
    body: dict[str, Any]  # the request's `response_format`
    schema: dict[str, Any] | None  # None for {"type": "json_object"}
    target: Any = None  # the Pydantic model or dataclass to build, else None (plain JSON)

    def parse(self, text: str) -> tuple[Any, str | None]:
        """(the validated object, None), or (None, one sentence saying why it is not)."""
        try:
            value = answer_json(text)
        except NotJson as error:
            return None, (
                f"The answer is not JSON for {self.name} ({error}): the agent ignored "
                "response_format (agents without tools do), so .parsed is None and the "
                "answer's text is kept in .text."
            )
        problem = self._invalid(value)
        if problem is None:
            try:
                return self._build(value), None
            except Exception as error:  # a model's or dataclass's own validation
                problem = _first_line(str(error))
        return None, (
            f"The answer is JSON but does not match {self.name} ({problem}), so .parsed is "
            "None and the answer's text is kept in .text."
        )

    def _invalid(self, value: Any) -> str | None:
        """Why `value` does not fit the schema, or None."""
        if self.schema is None:
            return None if isinstance(value, dict) else "a JSON object was asked for"
        if _is_pydantic(self.target):
            return None  # the model validates in `_build`, with its own messages
        try:
            import jsonschema
        except ImportError:
            return _basic_check(value, self.schema)
        validator = jsonschema.validators.validator_for(self.schema)(self.schema)
        error = jsonschema.exceptions.best_match(validator.iter_errors(value))
        if error is None:
            return None
        where = "/".join(str(p) for p in error.absolute_path)
        return f"{where}: {error.message}" if where else error.message

    def _build(self, value: Any) -> Any:
        target = self.target
        if target is None:
            return value
        if _is_pydantic(target):
            return target.model_validate(value)
        return _construct(target, value)


def response_format(spec: Any) -> ResponseFormat:
    """A `ResponseFormat` from a Pydantic model, a dataclass, a JSON schema dict or a ready
    response_format value; anything else is refused with what to pass."""
    if isinstance(spec, ResponseFormat):
        return spec
    if _is_pydantic(spec):
        schema = spec.model_json_schema()
        return _from_schema(spec.__name__, schema, spec)
    if isinstance(spec, type) and dataclasses.is_dataclass(spec):
        return _from_schema(spec.__name__, _schema(spec), spec)
    if isinstance(spec, Mapping):
        spec = dict(spec)
        if spec.get("type") == "json_object":
            return ResponseFormat("a JSON object", {"type": "json_object"}, None)
        if spec.get("type") == "json_schema" and isinstance(spec.get("json_schema"), Mapping):
            inner = dict(spec["json_schema"])
            schema = inner.get("schema")
            if not isinstance(schema, Mapping):
                raise TypeError('response_format["json_schema"] needs a "schema" object.')
            name = str(inner.get("name") or "answer")
            return ResponseFormat(name, {"type": "json_schema", "json_schema": inner}, dict(schema))
        return _from_schema(str(spec.get("title") or "answer"), spec, None)
    raise TypeError(
        f"response_format takes a Pydantic model, a dataclass or a JSON schema dict, not "
        f"{type(spec).__name__}."
    )


def _from_schema(name: str, schema: dict[str, Any], target: Any) -> ResponseFormat:
    wire_name = _NAME.sub("_", name)[:64] or "answer"
    inner: dict[str, Any] = {"name": wire_name, "schema": schema}
    if _strict_ready(schema):
        inner["strict"] = True
    return ResponseFormat(name, {"type": "json_schema", "json_schema": inner}, schema, target)


def _strict_ready(schema: Mapping[str, Any]) -> bool:
    """OpenAI's strict mode wants every property required and no extra properties."""
    if schema.get("type") != "object":
        return False
    props = schema.get("properties") or {}
    return schema.get("additionalProperties") is False and set(schema.get("required", ())) == set(
        props
    )


def _is_pydantic(value: Any) -> bool:
    return isinstance(value, type) and hasattr(value, "model_json_schema")


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return "; ".join(lines[:3]) if lines else "invalid"


def _schema(tp: Any) -> dict[str, Any]:
    """The JSON schema of a type annotation (dataclasses, builtins, containers, Optional,
    Literal, Enum); an unknown type accepts anything."""
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        fields = dataclasses.fields(tp)
        required = [
            f.name
            for f in fields
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        ]
        return {
            "type": "object",
            "title": tp.__name__,
            "properties": {f.name: _schema(hints.get(f.name, Any)) for f in fields},
            "required": required,
            "additionalProperties": False,
        }
    if tp in _JSON_TYPES:
        return {"type": _JSON_TYPES[tp]}
    if tp in (datetime.date, datetime.datetime):
        return {"type": "string"}
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return {"enum": [m.value for m in tp]}
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Literal:
        return {"enum": list(args)}
    if origin in (typing.Union, types.UnionType):
        options = [_schema(a) if a is not type(None) else {"type": "null"} for a in args]
        return {"anyOf": options}
    if origin in (list, set, frozenset, tuple) or tp in (list, tuple, set):
        return {"type": "array", "items": _schema(args[0]) if args else {}}
    if origin is dict or tp is dict:
        return {"type": "object"}
    return {}


def _construct(tp: Any, value: Any) -> Any:
    """Build `tp` (a dataclass, or a container of them) from validated JSON."""
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        kwargs = {
            f.name: _construct(hints.get(f.name, Any), value[f.name])
            for f in dataclasses.fields(tp)
            if f.name in value
        }
        return tp(**kwargs)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType) and value is not None:
        for option in args:
            if isinstance(option, type) and dataclasses.is_dataclass(option):
                return _construct(option, value)
        return value
    if origin is list and args and isinstance(value, list):
        return [_construct(args[0], v) for v in value]
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return tp(value)
    return value


def _basic_check(value: Any, schema: Mapping[str, Any]) -> str | None:
    """Without jsonschema: the top-level type and required keys only."""
    expected = schema.get("type")
    if expected == "object" and not isinstance(value, dict):
        return "a JSON object was asked for"
    if expected == "array" and not isinstance(value, list):
        return "a JSON array was asked for"
    if isinstance(value, dict):
        missing = [k for k in schema.get("required", ()) if k not in value]
        if missing:
            return f"missing {', '.join(map(repr, missing))}"
    return None
