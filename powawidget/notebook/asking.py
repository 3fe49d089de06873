"""`ask` and `ask_async`: send a message and wait for its answer (`ChatWidget`'s mixin).

The `@overload`s say what a structured answer returns: `response_format=MyModel` gives a
`MyModel`, a JSON schema gives the parsed value, none gives the final text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar, overload

from powawidget.session.run import RunHandle

Answer = TypeVar("Answer")
"""The class of a structured answer (`ask(..., response_format=MyModel)` returns one)."""


class Asking:
    """The blocking and the awaitable verb over `send` (which the widget provides)."""

    if TYPE_CHECKING:

        def send(
            self,
            text: str | dict[str, Any],
            buffers: Any = None,
            *,
            context: Any = None,
            response_format: Any = None,
            options: dict[str, Any] | None = None,
        ) -> RunHandle: ...

    @overload
    def ask(
        self,
        text: str,
        timeout: float | None = None,
        *,
        context: Any = None,
        response_format: None = None,
        options: dict[str, Any] | None = None,
    ) -> str: ...

    @overload
    def ask(
        self,
        text: str,
        timeout: float | None = None,
        *,
        context: Any = None,
        response_format: type[Answer],
        options: dict[str, Any] | None = None,
    ) -> Answer: ...

    @overload
    def ask(
        self,
        text: str,
        timeout: float | None = None,
        *,
        context: Any = None,
        response_format: dict[str, Any],
        options: dict[str, Any] | None = None,
    ) -> Any: ...

    def ask(
        self,
        text: str,
        timeout: float | None = None,
        *,
        context: Any = None,
        response_format: Any = None,
        options: dict[str, Any] | None = None,
    ) -> Any:
        """Send a message and block until the answer; returns its final text, or with
        `response_format` the validated object (`StructuredAnswerError` when the answer
        does not fit; `w.last_run.text` keeps it).

        Raises the run's typed error (`RunFailedError`, `StreamError`, an HTTP error...)
        when it fails; what arrived stays in the panel and the transcript. A cell blocked
        here handles no panel clicks: use `await w.ask_async(...)` to Stop or Approve.
        """
        handle = self.send(text, context=context, response_format=response_format, options=options)
        return handle.answer(timeout)

    async def ask_async(
        self,
        text: str,
        timeout: float | None = None,
        *,
        context: Any = None,
        response_format: Any = None,
        options: dict[str, Any] | None = None,
    ) -> Any:
        """Like `ask`, but awaitable, so the panel's Stop and Approve work meanwhile."""
        handle = self.send(text, context=context, response_format=response_format, options=options)
        return await answer_async(handle, timeout)


async def answer_async(handle: RunHandle, timeout: float | None) -> Any:
    """The run's answer once it ends; past `timeout` seconds it is stopped and this raises."""
    if not await handle.wait_async(timeout):
        handle.stop()
        raise TimeoutError(f"The run did not finish within {timeout:g} s and was stopped.")
    return handle.answer(0)
