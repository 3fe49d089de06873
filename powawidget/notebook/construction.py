"""Making a `ChatWidget`: its options checked before anything opens, its client, its
clean-up when a constructor fails, and the orchestrations a user can pass to it."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from powawidget.outputs.tables import Table
from powawidget.session.connect import connect
from powawidget.session.listing import ORCHESTRATION_COLUMNS
from powawidget.wire.client import PowabaseClient

if TYPE_CHECKING:
    from powawidget.notebook.widget import ChatWidget

THEMES = ("auto", "light", "dark")

logger = logging.getLogger(__name__)


def check_theme(theme: str) -> None:
    """Refuse an unknown theme before anything (a client, a comm) is made."""
    if theme not in THEMES:
        raise ValueError(f"theme must be one of {', '.join(map(repr, THEMES))}, not {theme!r}")


def open_client(
    client: PowabaseClient | None,
    base_url: str | None,
    api_key: str | None,
    *,
    idle_timeout: float,
    replay: bool,
) -> tuple[PowabaseClient | None, bool, str]:
    """The widget's client, whether it is ours to close, and the banner to show; a replay
    talks to no server."""
    if replay:
        return client, False, ""
    return connect(client, base_url, api_key, idle_timeout=idle_timeout)


def abandon(widget: ChatWidget, own_client: PowabaseClient | None) -> None:
    """After a failed constructor: leave no open comm (Widget.widgets) and no client of ours
    behind, without hiding the error that made it fail."""
    if own_client is not None and "_chat" not in widget.__dict__:
        own_client.close()
    close_quietly(widget)


def close_quietly(widget: ChatWidget) -> None:
    """Close a half-made widget, logging (not raising) what goes wrong."""
    try:
        layout = widget.__dict__.get("_trait_values", {}).get("layout")
        widget.close()
        if layout is not None:  # DOMWidget made it with its own comm: not ours to leak
            layout.close()
    except Exception:
        logger.exception("powawidget: closing a half-made widget failed")


def orchestrations(
    client: PowabaseClient | None, base_url: str | None, api_key: str | None
) -> Table:
    """The project's orchestrations (id, name, strategy, agents, description)."""
    made, owns_client, _banner = connect(
        client, base_url, api_key, doing="listing the local demo orchestrations"
    )
    assert made is not None
    client = made
    try:
        rows = [
            {
                "id": o.get("id"),
                "name": o.get("name"),
                "strategy": o.get("strategy"),
                "agents": o.get("entity_count"),
                "description": o.get("description"),
            }
            for o in client.list_orchestrations()
            if isinstance(o, dict)
        ]
    finally:
        if owns_client:
            client.close()
    return Table(rows, ORCHESTRATION_COLUMNS)
