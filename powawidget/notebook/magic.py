"""`%%powa`: ask an agent from a cell, IPython's way (`%load_ext powawidget`).

    %%powa [AGENT] [--context var ...] [--format markdown|json]
    Summarise {df_name} in three bullet points.

The cell is sent with `{var}` replaced from the notebook's variables (as Jupyter AI's
`%%ai` does; `{{`/`}}` for literal braces); `--context` attaches notebook objects by name
(`session.context`); the answer streams into the chat panel shown below the cell — one
panel per notebook (per agent), the same `ChatWidget` every time, so the conversation
goes on from cell to cell. `--format json` asks for a JSON object and makes the parsed
answer the cell's value. `%powa_context var ...` attaches objects to the next message
only (sent from a cell or typed in the panel).
"""

from __future__ import annotations

import argparse
import shlex
import string
from collections.abc import Mapping
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.display import display

from powawidget.notebook.widget import ChatWidget

__all__ = ["PowaMagics", "load_ipython_extension"]


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage mistakes as IPython `UsageError`s, not SystemExit."""

    def error(self, message: str) -> Any:
        raise UsageError(f"%%powa: {message}\nUsage: {self.format_usage().strip()}")


def _parser() -> _Parser:
    parser = _Parser(prog="%%powa", add_help=False)
    parser.add_argument("agent", nargs="?", default=None, help="agent id (default: the panel's)")
    parser.add_argument("--context", "-c", nargs="+", default=[], metavar="VAR")
    parser.add_argument("--format", "-f", choices=("markdown", "json"), default="markdown")
    parser.add_argument("--timeout", type=float, default=None)
    return parser


class _Namespace(Mapping[str, Any]):
    """The user's namespace for `str.format`, with a clear error for a missing name."""

    def __init__(self, user_ns: Mapping[str, Any]) -> None:
        self._ns = user_ns

    def __getitem__(self, key: str) -> Any:
        if key not in self._ns:
            raise UsageError(
                f"%%powa: {{{key}}} is not defined in the notebook. Define {key} first, or "
                f"write {{{{{key}}}}} for literal braces."
            )
        return self._ns[key]

    def __iter__(self) -> Any:
        return iter(self._ns)

    def __len__(self) -> int:
        return len(self._ns)


def interpolate(template: str, user_ns: Mapping[str, Any]) -> str:
    """`template` with `{var}` (and `{var.attr}`, `{var[0]}`, `{var:.2f}`) filled in."""
    try:
        return string.Formatter().vformat(template, (), _Namespace(user_ns))
    except (ValueError, IndexError) as error:
        raise UsageError(
            f"%%powa: the cell has braces that are not a {{variable}} ({error}): write {{{{ "
            "and }} for literal braces."
        ) from None


@magics_class
class PowaMagics(Magics):
    """`%%powa` and `%powa_context`, with the notebook's panels (one per agent)."""

    def __init__(self, shell: Any) -> None:
        super().__init__(shell)
        self.widgets: dict[str | None, ChatWidget] = {}
        self.current: ChatWidget | None = None

    def widget(self, agent: str | None) -> ChatWidget:
        """The panel for `agent` (None: the one used last, else the project's first agent)."""
        if agent is None and self.current is not None:
            return self.current
        for existing in self.widgets.values():
            if agent is not None and agent in (existing.agent_id, existing.agent_name):
                self.current = existing
                return existing
        made = ChatWidget(agent)
        self.widgets[made.agent_id] = made
        self.current = made
        return made

    def _lookup(self, name: str) -> Any:
        user_ns = self.shell.user_ns if self.shell is not None else {}
        if name not in user_ns:
            raise UsageError(f"%%powa: no variable {name!r} in the notebook to send as context.")
        return user_ns[name]

    @cell_magic
    def powa(self, line: str, cell: str) -> Any:
        """Send the cell to the agent; the answer streams into the panel below it."""
        args = _parser().parse_args(shlex.split(line))
        user_ns = self.shell.user_ns if self.shell is not None else {}
        text = interpolate(cell, user_ns).strip()
        if not text:
            raise UsageError("%%powa: the cell is empty: write the message below the %%powa line.")
        values = [(name, self._lookup(name)) for name in args.context]
        widget = self.widget(args.agent)
        for name, value in values:
            widget._chat.attach(value, name)
        response_format = {"type": "json_object"} if args.format == "json" else None
        display(widget)
        handle = widget.send(text, response_format=response_format)
        try:
            handle.wait(args.timeout)
        except KeyboardInterrupt:
            handle.stop()
            raise
        if args.format == "json":
            return handle.answer(0) if handle.done else None
        return None

    @line_magic
    def powa_context(self, line: str) -> None:
        """`%powa_context var ...`: attach objects to the next message (`--clear` drops them)."""
        names = shlex.split(line)
        widget = self.widget(None)
        if names == ["--clear"]:
            widget._chat.next_context = []
            print("No context is attached to the next message.")
            return
        if not names:
            attached = [p.name for c in widget._chat.next_context for p in c.parts]
            print(
                "Attached to the next message: " + ", ".join(attached)
                if attached
                else "Nothing is attached. Usage: %powa_context var [var ...]"
            )
            return
        for name in names:
            context = widget._chat.attach(self._lookup(name), name)
            for part in context.parts:
                record = part.record()
                print(f"{name}: {part.kind}, {record['size']:,} bytes, sent with the next message")


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext powawidget`: register `%%powa` and `%powa_context`."""
    ipython.register_magics(PowaMagics(ipython))
