"""The local Powabase-compatible agent server: for demos without a project, and for tests.

`start_local_server()` runs it in a background process and returns its URL and key;
`powawidget serve` runs it in the foreground. Heavy imports (uvicorn, Starlette) happen on
first use, so agents can import `powawidget.server.protocol` cheaply.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["LocalServer", "start_local_server"]

if TYPE_CHECKING:
    from powawidget.server.process import LocalServer, start_local_server


def __getattr__(name: str) -> Any:
    """Import the process module's public names on first use (PEP 562)."""
    if name in __all__:
        from powawidget.server import process

        return getattr(process, name)
    raise AttributeError(f"module 'powawidget.server' has no attribute {name!r}")
