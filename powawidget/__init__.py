"""powawidget: chat with Powabase agents inside a Jupyter notebook.

The heavy parts (the widget and its front end, the local server) are imported lazily so
that `import powawidget` stays cheap in batch scripts that only read transcripts.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "ChatWidget": "powawidget.widget",
    "RunHandle": "powawidget.run",
    "RunInProgressError": "powawidget.run",
    "PowabaseClient": "powawidget.client",
    "RunStream": "powawidget.client",
    "Transcript": "powawidget.transcript",
    "Table": "powawidget.tables",
    "Conversation": "powawidget.conversation",
    "start_local_server": "powawidget.server",
    "PowabaseError": "powawidget.errors",
    "ConfigurationError": "powawidget.errors",
    "ConnectionFailedError": "powawidget.errors",
    "AuthenticationError": "powawidget.errors",
    "InsufficientCreditsError": "powawidget.errors",
    "NotFoundError": "powawidget.errors",
    "RateLimitedError": "powawidget.errors",
    "ServerError": "powawidget.errors",
    "StreamError": "powawidget.errors",
    "RunFailedError": "powawidget.errors",
}

__all__ = [
    "AuthenticationError",
    "ChatWidget",
    "ConfigurationError",
    "ConnectionFailedError",
    "Conversation",
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
    "Table",
    "Transcript",
    "__version__",
    "start_local_server",
]

if TYPE_CHECKING:
    from powawidget.client import PowabaseClient, RunStream
    from powawidget.conversation import Conversation
    from powawidget.errors import (
        AuthenticationError,
        ConfigurationError,
        ConnectionFailedError,
        InsufficientCreditsError,
        NotFoundError,
        PowabaseError,
        RateLimitedError,
        RunFailedError,
        ServerError,
        StreamError,
    )
    from powawidget.run import RunHandle, RunInProgressError
    from powawidget.server import start_local_server
    from powawidget.tables import Table
    from powawidget.transcript import Transcript
    from powawidget.widget import ChatWidget


def __getattr__(name: str) -> Any:
    """Import public names on first use (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'powawidget' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
