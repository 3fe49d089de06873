"""Every flag that advice names exists: a terminal user who follows it gets no argparse error.

The advice is read from the wire's source (every string literal of the modules that word
errors, docstrings left out) and from the wording a terminal client renders, then each
`--flag` in it is looked up in `powawidget`'s own parsers: the command the text names
(`powawidget chat … --flag`) must know it, and any flag must belong to some command.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import re
from typing import Any

import pytest

from powawidget.cli.main import build_parser
from powawidget.wire import answers, config, orchestrations
from powawidget.wire.config import TERMINAL

FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
COMMAND = re.compile(r"\bpowawidget (\w+)")


def _commands() -> dict[str, set[str]]:
    """Each sub-command's option strings, from the parser the `powawidget` script uses."""
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {
        name: {flag for action in sub._actions for flag in action.option_strings}
        for name, sub in subparsers.choices.items()
    }


def _literals(module: Any) -> list[str]:
    """The string literals of a module's code, docstrings left out."""
    tree = ast.parse(inspect.getsource(module))
    docstrings = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def _terminal_advice() -> list[str]:
    """What a terminal client says about a wrong agent or orchestration id."""
    return [
        answers.agent_id_advice(TERMINAL),
        answers.agent_not_found_advice(TERMINAL),
        orchestrations.orchestration_id_advice(TERMINAL),
        orchestrations.orchestration_not_found_advice(TERMINAL),
    ]


ADVICE = [
    *(text for module in (answers, orchestrations, config) for text in _literals(module)),
    *_terminal_advice(),
]


@pytest.mark.parametrize("text", [t for t in ADVICE if FLAG.search(t)])
def test_every_flag_advice_names_exists(text: str) -> None:
    commands = _commands()
    known = set().union(*commands.values())
    named = COMMAND.findall(text)
    for flag in FLAG.findall(text):
        assert flag in known, f"{flag} is no flag of any powawidget command: {text!r}"
        for command in named:
            assert command in commands, f"powawidget {command} does not exist: {text!r}"
        if len(named) == 1:
            command = named[0]
            assert flag in commands[command], f"powawidget {command} has no {flag}: {text!r}"


def test_the_advice_is_read_at_all() -> None:
    # The test above would pass on nothing: the flags it checks must be there.
    flags = {flag for text in ADVICE for flag in FLAG.findall(text)}
    assert {"--base-url", "--api-key", "--idle-timeout", "--local", "--orchestration"} <= flags
