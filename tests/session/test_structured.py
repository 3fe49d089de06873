"""Structured answers (session/structured.py): the response_format sent, and the answer read
back — validated both ways (it fits, it does not)."""

from __future__ import annotations

import dataclasses
from typing import Literal

import pytest

from powawidget.session.structured import response_format


@dataclasses.dataclass
class City:
    name: str
    population: int


@dataclasses.dataclass
class Report:
    biggest: City
    others: list[City]
    unit: Literal["people", "millions"]
    note: str | None = None


def test_a_dataclass_becomes_a_strict_json_schema() -> None:
    fmt = response_format(City)
    assert fmt.body == {
        "type": "json_schema",
        "json_schema": {
            "name": "City",
            "schema": {
                "type": "object",
                "title": "City",
                "properties": {"name": {"type": "string"}, "population": {"type": "integer"}},
                "required": ["name", "population"],
                "additionalProperties": False,
            },
            "strict": True,
        },
    }


def test_a_valid_answer_builds_nested_dataclasses() -> None:
    fmt = response_format(Report)
    schema = fmt.body["json_schema"]["schema"]
    assert schema["properties"]["note"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}
    assert "strict" not in fmt.body["json_schema"]  # `note` has a default: not strict-ready
    text = (
        '{"biggest": {"name": "Tokyo", "population": 37400068}, '
        '"others": [{"name": "Delhi", "population": 28514000}], "unit": "people"}'
    )
    parsed, problem = fmt.parse(text)
    assert problem is None
    assert parsed == Report(City("Tokyo", 37400068), [City("Delhi", 28514000)], "people")
    # A fenced answer is read too.
    assert fmt.parse(f"```json\n{text}\n```")[0] == parsed


def test_an_answer_that_is_not_json_says_so_in_one_sentence() -> None:
    parsed, problem = response_format(City).parse("Tokyo is the biggest city.")
    assert parsed is None
    assert problem == (
        "The answer is not JSON for City (Expecting value at line 1 column 1): the agent "
        "ignored response_format (agents without tools do), so .parsed is None and the "
        "answer's text is kept in .text."
    )


def test_json_that_does_not_fit_the_schema_names_the_field() -> None:
    parsed, problem = response_format(City).parse('{"name": "Tokyo", "population": "many"}')
    assert parsed is None and problem is not None
    assert problem.startswith("The answer is JSON but does not match City (population: ")
    assert "'many' is not of type 'integer'" in problem


def test_schema_dicts_and_ready_formats() -> None:
    schema = {"title": "Count", "type": "object", "properties": {"n": {"type": "integer"}}}
    fmt = response_format(schema)
    assert fmt.body == {"type": "json_schema", "json_schema": {"name": "Count", "schema": schema}}
    assert fmt.parse('{"n": 3}') == ({"n": 3}, None)
    ready = {"type": "json_schema", "json_schema": {"name": "x", "schema": schema}}
    assert response_format(ready).body == ready
    loose = response_format({"type": "json_object"})
    assert loose.body == {"type": "json_object"}
    assert loose.parse('{"any": 1}') == ({"any": 1}, None)
    assert loose.parse("[1]")[0] is None
    with pytest.raises(TypeError, match="Pydantic model, a dataclass or a JSON schema"):
        response_format(City("a", 1))


def test_pydantic_models_validate_with_their_own_rules() -> None:
    pydantic = pytest.importorskip("pydantic")  # optional: only used when the user has it

    class Answer(pydantic.BaseModel):
        city: str
        population: int

    fmt = response_format(Answer)
    assert fmt.body["json_schema"]["name"] == "Answer"
    assert fmt.body["json_schema"]["schema"]["required"] == ["city", "population"]
    assert fmt.parse('{"city": "Tokyo", "population": 1}')[0] == Answer(city="Tokyo", population=1)
    parsed, problem = fmt.parse('{"city": "Tokyo"}')
    assert parsed is None and problem is not None and "population" in problem
