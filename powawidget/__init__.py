"""powawidget: chat with Powabase agents inside a Jupyter notebook.

The heavy parts (the widget and its front end, the local server) are imported lazily so
that `import powawidget` stays cheap in batch scripts that only read transcripts.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from powawidget._version import __version__

_EXPORTS = {
    "ChatWidget": "powawidget.notebook.widget",
    "RunHandle": "powawidget.session.run",
    "RunInProgressError": "powawidget.wire.errors",
    "PowabaseClient": "powawidget.wire.client",
    "RunStream": "powawidget.wire.client",
    "Transcript": "powawidget.outputs.transcript",
    "Table": "powawidget.outputs.tables",
    "Conversation": "powawidget.model.conversation",
    "evaluate": "powawidget.api",
    "compare": "powawidget.evaluation.compare",
    "Evaluation": "powawidget.api",
    "start_local_server": "powawidget.server",
    "PowabaseError": "powawidget.wire.errors",
    "ConfigurationError": "powawidget.wire.errors",
    "ConnectionFailedError": "powawidget.wire.errors",
    "AuthenticationError": "powawidget.wire.errors",
    "InsufficientCreditsError": "powawidget.wire.errors",
    "NotFoundError": "powawidget.wire.errors",
    "RateLimitedError": "powawidget.wire.errors",
    "ServerError": "powawidget.wire.errors",
    "StreamError": "powawidget.wire.errors",
    "RunFailedError": "powawidget.wire.errors",
    "ContextLimits": "powawidget.session.context",
    "ContextError": "powawidget.session.context",
    "ContextTooLargeError": "powawidget.session.context",
    "StructuredAnswerError": "powawidget.session.structured",
}

__all__ = [
    "AuthenticationError",
    "ChatWidget",
    "ConfigurationError",
    "ConnectionFailedError",
    "ContextError",
    "ContextLimits",
    "ContextTooLargeError",
    "Conversation",
    "Evaluation",
    "InsufficientCreditsError",
    "NotFoundError",
    "PowabaseClient",
    "PowabaseError",
    "RateLimitedError",
    "RunFailedError",
    "RunHandle",
    "RunInProgressError",
    "RunStream",
    "ServerError",
    "StreamError",
    "StructuredAnswerError",
    "Table",
    "Transcript",
    "__version__",
    "compare",
    "evaluate",
    "scorers",
    "start_local_server",
]

if TYPE_CHECKING:
    from powawidget.api import Evaluation, evaluate
    from powawidget.evaluation.compare import compare
    from powawidget.model.conversation import Conversation
    from powawidget.notebook.widget import ChatWidget
    from powawidget.outputs.tables import Table
    from powawidget.outputs.transcript import Transcript
    from powawidget.server import start_local_server
    from powawidget.session.context import ContextError, ContextLimits, ContextTooLargeError
    from powawidget.session.run import RunHandle
    from powawidget.session.structured import StructuredAnswerError
    from powawidget.wire.client import PowabaseClient, RunStream
    from powawidget.wire.errors import (
        AuthenticationError,
        ConfigurationError,
        ConnectionFailedError,
        InsufficientCreditsError,
        NotFoundError,
        PowabaseError,
        RateLimitedError,
        RunFailedError,
        RunInProgressError,
        ServerError,
        StreamError,
    )


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext powawidget`: the `%%powa` cell magic and `%powa_context`."""
    from powawidget.notebook.magic import load_ipython_extension as load

    load(ipython)


def __getattr__(name: str) -> Any:
    """Import public names on first use (PEP 562)."""
    if name == "scorers":
        value = import_module("powawidget.scorers")
        globals()[name] = value
        return value
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'powawidget' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
