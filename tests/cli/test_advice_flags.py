"""Every flag that advice names exists: a terminal user who follows it gets no argparse error.

The advice is read from the wire's source (every string literal of the modules that word
errors, docstrings left out) and from the wording a terminal client renders, then each
`--flag` in it is looked up in `powawidget`'s own parsers: the command the text names
(`powawidget chat … --flag`) must know it, and any flag must belong to some command.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import inspect
import re
from contextlib import nullcontext as _nothing
from pathlib import Path
from typing import Any

import pytest

from powawidget.cli.evaluate import EVALUATE
from powawidget.cli.main import build_parser, main
from powawidget.wire import answers, config, orchestrations
from powawidget.wire.config import TERMINAL, Audience

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


AUDIENCES = {"chat": TERMINAL, "evaluate": EVALUATE}
"""Each command's client wording (`powawidget chat` passes TERMINAL)."""


def _terminal_advice(audience: Audience) -> list[str]:
    """What a terminal client says: every setting it names, and about a wrong id."""
    fields = [getattr(audience, f.name) for f in dataclasses.fields(audience)]
    return [
        *(f for f in fields if isinstance(f, str)),
        answers.agent_id_advice(audience),
        answers.agent_not_found_advice(audience),
        orchestrations.orchestration_id_advice(audience),
        orchestrations.orchestration_not_found_advice(audience),
    ]


ADVICE = [
    (None, text)
    for module in (answers, orchestrations, config)
    for text in _literals(module)
    if FLAG.search(text)
] + [
    (command, text)
    for command, audience in AUDIENCES.items()
    for text in _terminal_advice(audience)
    if FLAG.search(text)
]


@pytest.mark.parametrize(("reader", "text"), ADVICE)
def test_every_flag_advice_names_exists(reader: str | None, text: str) -> None:
    # A text that names a command (`powawidget chat --orchestration ID`) is held to that
    # command; a command's own wording to the command; the rest to some command.
    commands = _commands()
    known = set().union(*commands.values())
    named = COMMAND.findall(text)
    for command in named:
        assert command in commands, f"powawidget {command} does not exist: {text!r}"
    owner = named[0] if len(named) == 1 else reader
    for flag in FLAG.findall(text):
        assert flag in known, f"{flag} is no flag of any powawidget command: {text!r}"
        if owner is not None:
            assert flag in commands[owner], f"powawidget {owner} has no {flag}: {text!r}"


def test_the_advice_is_read_at_all() -> None:
    # The test above would pass on nothing: the flags it checks must be there.
    flags = {flag for _, text in ADVICE for flag in FLAG.findall(text)}
    assert {"--base-url", "--api-key", "--idle-timeout", "--local", "--orchestration"} <= flags


def test_powawidget_evaluate_words_its_errors_with_its_flags(
    local_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    # It goes through evaluate(), whose default wording is a notebook's (ChatWidget,
    # agent_id=, base_url=, api_key=): the command passes its own.
    prompts = tmp_path / "prompts.csv"
    prompts.write_text("prompt\nhello\n")
    for name in ("POWABASE_BASE_URL", "POWABASE_API_KEY", "POWABASE_SERVICE_ROLE_KEY"):
        monkeypatch.delenv(name, raising=False)
    said = []
    for argv in (
        ["agt_nope", "--base-url", local_server.base_url, "--api-key", local_server.api_key],
        ["agt_demo", "--base-url", "ftp://example.com"],
        ["agt_demo", "--base-url", "https://example.com"],  # no key anywhere
        ["agt_demo", "--concurrency", "0"],
    ):
        with pytest.raises(SystemExit) if "--concurrency" in argv else _nothing():
            assert main(["evaluate", argv[0], str(prompts), *argv[1:]]) == 2
        said.append(capsys.readouterr().err)
    for text in said:
        assert "ChatWidget" not in text and "_id=" not in text, text
        assert not re.search(r"\b(base_url|api_key|concurrency)=", text), text
    assert "Powabase Studio" in said[0]
    assert "fix --base-url" in said[1]
    assert "pass --api-key" in said[2]
    assert "argument --concurrency: must be at least 1, not 0" in said[3]


def test_every_argument_notebook_advice_names_is_one_the_widget_takes() -> None:
    # The notebook's wording (config.NOTEBOOK) names Python arguments: a user who follows
    # "Raise idle_timeout=" must find it on ChatWidget (and evaluate()).
    import inspect

    from powawidget.evaluation.api import evaluate
    from powawidget.notebook.widget import ChatWidget

    named = {
        m for f in dataclasses.fields(config.NOTEBOOK)
        for m in re.findall(r"\b([a-z_]+)=", getattr(config.NOTEBOOK, f.name))
    }  # fmt: skip
    assert {"base_url", "api_key", "idle_timeout", "agent_id"} <= named
    for function in (ChatWidget.__init__, evaluate):
        assert named <= set(inspect.signature(function).parameters), function
