"""Which server a new chat talks to: the caller's client, Powabase, or the local demo."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from powawidget.wire.config import ENV_API_KEY, ENV_API_KEY_ALIAS, ENV_BASE_URL

if TYPE_CHECKING:
    from powawidget.wire.client import PowabaseClient


def connect(
    client: PowabaseClient | None, base_url: str | None, api_key: str | None
) -> tuple[PowabaseClient, bool, str]:
    """The client runs go through, whether the caller owns it, and a banner when local.

    With no URL or key anywhere (arguments, POWABASE_* variables) the built-in local agent
    server starts, and the banner says so and how to connect to Powabase instead.
    """
    if client is not None and (base_url is not None or api_key is not None):
        raise TypeError("pass either client= or base_url=/api_key=, not both")
    if client is not None:
        return client, False, ""
    from powawidget.wire.client import PowabaseClient

    names = (ENV_BASE_URL, ENV_API_KEY, ENV_API_KEY_ALIAS)
    if base_url or api_key or any(os.environ.get(name) for name in names):
        return PowabaseClient(base_url, api_key), True, ""
    from powawidget.server import start_local_server

    server = start_local_server()
    banner = (
        f"Not connected to Powabase: chatting with the local demo agents at {server.base_url}. "
        f"Set {ENV_BASE_URL} and {ENV_API_KEY} (or pass base_url= and api_key=) to use your "
        "project."
    )
    origin = "the built-in local server"  # advice must not say "the base_url= you passed"
    return PowabaseClient(server.base_url, server.api_key, origin=origin), True, banner
