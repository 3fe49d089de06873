"""A static HTML copy of the conversation beside the panel, for exports and GitHub.

nbconvert and most renderers show ONE type per output, the widget view first, so the copy
is a second output under a display id; the panel's CSS (js/src/styles/theme.css) hides it
wherever the live panel renders.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from powawidget.outputs.transcript import Transcript

logger = logging.getLogger(__name__)


STATIC_COPY_CLASS = "powawidget-static"
"""The static copy's class; the panel's CSS (js/src/styles/theme.css) hides it."""


# Hides JupyterLab's / Notebook 7's "Error displaying widget: model not found" (an output
# node of class `jupyter-widgets` holding only that text) in the output right before a static
# copy: a notebook reopened without saved widget state then shows the copy alone. A live
# panel's node has element children and is never matched; outside Jupyter nothing matches.
HIDE_MISSING_WIDGET = (
    "<style>.jp-OutputArea-child:has(+ .jp-OutputArea-child .powawidget-static)"
    " > .jp-OutputArea-output.jupyter-widgets:not(:has(*)){display:none}</style>"
)


def static_html(transcript: Transcript, title: str) -> str:
    """The conversation as sanitised HTML for a notebook output (nbconvert, GitHub).

    The note says how many turns the copy holds: a copy the kernel can no longer refresh
    (the page was reloaded, docs/hosts.md) shows its age instead of silently lying.
    """
    body = transcript.to_html(title=title, full_page=False)
    turns = len(transcript.conversation.turns)
    note = (
        '<p class="powawidget-static-note"><em>Static copy of a powawidget chat as of turn '
        f"{turns}: the live panel needs a running kernel.</em></p>"
    )
    return f'{HIDE_MISSING_WIDGET}<div class="{STATIC_COPY_CLASS}">{note}{body}</div>'


MimeBundle = tuple[dict[str, Any], dict[str, Any]]
"""(data, metadata) of a display: what `_repr_mimebundle_` returns."""


class StaticCopy:
    """A static HTML copy of the conversation as its own notebook output, kept current.

    nbconvert and most renderers show ONE type per output, the widget view first, so the
    copy is a second output under a display id; `refresh` re-renders every copy shown
    (after each run), so saved and exported notebooks keep the conversation.
    """

    def __init__(self, render: Callable[[], str]) -> None:
        self._render = render
        self._display_ids: list[str] = []
        self._lock = threading.Lock()

    def with_copy(self, bundle: MimeBundle | None) -> MimeBundle | None:
        """A widget's mimebundle plus `text/html` of the copy (for one-output renderers)."""
        if bundle is None:
            return None
        data, metadata = bundle
        return {**data, "text/html": self._render()}, metadata

    def show(self, bundle: MimeBundle | None) -> None:
        """Display a widget's mimebundle, then one more copy as a second output."""
        if bundle is None:
            return
        from IPython.display import display

        data, metadata = bundle
        display(data, metadata=metadata, raw=True)
        self.display()

    def display(self) -> None:
        """Show one more copy (each display of the widget gets its own)."""
        from IPython.display import display

        display_id = uuid.uuid4().hex
        with self._lock:
            self._display_ids.append(display_id)
        display({"text/html": self._render()}, raw=True, display_id=display_id)

    def refresh(self) -> None:
        """Re-render every copy shown; a failure is logged, never raised into a run."""
        with self._lock:
            display_ids = list(self._display_ids)
        if not display_ids:
            return
        try:
            from IPython.display import update_display

            data = {"text/html": self._render()}
            for display_id in display_ids:
                update_display(data, raw=True, display_id=display_id)
        except Exception:
            logger.exception("powawidget: could not refresh the static copy of the chat")
