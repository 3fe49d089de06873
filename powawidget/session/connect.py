"""Which server a new chat or evaluation talks to: the caller's client, Powabase, or the
local demo.

The one function in the library that starts the built-in local server (the layer contract
in pyproject.toml allows this import and no other below the CLI; docs/architecture.md).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, TypeVar

from powawidget.wire.config import ENV_API_KEY, ENV_API_KEY_ALIAS, ENV_BASE_URL, NOTEBOOK, Audience

if TYPE_CHECKING:
    from powawidget.wire.client import PowabaseClient

Client = TypeVar("Client")

LOCAL_ORIGIN = "the built-in local server"
"""How advice names the local server's origin (never "the base_url= you passed")."""


def connect(
    client: Client | None,
    base_url: str | None,
    api_key: str | None,
    *,
    doing: str = "chatting with the local demo agents",
    store: str = "chats",
    audience: Audience = NOTEBOOK,
    idle_timeout: float = 300.0,
) -> tuple[Client | PowabaseClient, bool, str]:
    """The client runs go through, whether the caller owns it, and a banner when local.

    With no URL or key anywhere (arguments, POWABASE_* variables) the built-in local agent
    server starts, and the banner says what the user is `doing` there and how to connect to
    Powabase instead. It keeps its sessions in `store` ("chats" or "evaluations") of the
    working directory (`start_local_server(store=…)`): a chat's session picker never
    lists evaluations' runs or other folders' chats. `audience` words the client's advice
    and the banner (a command passes its flags); `idle_timeout` (seconds) is the client's.
    """
    if client is not None and (base_url is not None or api_key is not None):
        raise TypeError("pass either client= or base_url=/api_key=, not both")
    if client is not None:
        return client, False, ""
    from powawidget.wire.client import PowabaseClient

    names = (ENV_BASE_URL, ENV_API_KEY, ENV_API_KEY_ALIAS)
    if base_url or api_key or any(os.environ.get(name) for name in names):
        return (
            PowabaseClient(base_url, api_key, audience=audience, idle_timeout=idle_timeout),
            True,
            "",
        )
    from powawidget.server import start_local_server

    server = start_local_server(store=store)
    banner = (
        f"Not connected to Powabase: {doing} at {server.base_url}. Set {ENV_BASE_URL} and "
        f"{ENV_API_KEY} (or pass {audience.base_url} and {audience.api_key}) to use your "
        "project."
    )
    # Its demo agents are `agt_…`, not UUIDs: a 500 there is a bug, not a wrong id.
    local = PowabaseClient(
        server.base_url,
        server.api_key,
        origin=LOCAL_ORIGIN,
        uuid_agent_ids=False,
        audience=audience,
        idle_timeout=idle_timeout,
    )
    return local, True, banner
