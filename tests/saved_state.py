"""Read a saved notebook's conversation as the page does (powawidget/notebook/saved.py): the
panel's `history` references the last entry's model, each model the one before."""

from __future__ import annotations

from typing import Any

REF = "IPY_MODEL_"


def saved_entries(models: dict[str, Any], panel: dict[str, Any]) -> list[dict[str, Any]]:
    """The entries a saved panel shows, oldest first. `models` is the widget state's
    `state` (model id → {"state": ...}), `panel` the ChatWidget's own state."""
    found: list[dict[str, Any]] = []
    ref = panel.get("history")
    while isinstance(ref, str) and ref.startswith(REF):
        state = models[ref[len(REF) :]]["state"]
        found.append(state["entry"])
        ref = state.get("previous")
    return found[::-1]
