"""`evaluate` and `Evaluation` as the package exports them: evaluation/ wired to notebook/.

notebook/ and evaluation/ are sibling layers that never import each other
(docs/architecture.md, "The layer contract"); this module sits above both, so an
evaluation shows the notebook's live panel and `ev.show(i)` replays a run in a `ChatWidget`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, ParamSpec, cast

from powawidget.evaluation import api as engine
from powawidget.evaluation import evaluation as base
from powawidget.wire.canonical import CanonicalEvent

P = ParamSpec("P")


class Evaluation(base.Evaluation):
    __doc__ = base.Evaluation.__doc__

    def _replay(self, events: list[CanonicalEvent]) -> Any:
        """A read-only `ChatWidget` replaying the run (`Evaluation.show`)."""
        from powawidget.notebook.widget import ChatWidget

        return ChatWidget.replay(events, speed=0)

    def _show_progress(self) -> Any:
        """The live panel inside a notebook kernel, else the terminal's progress line."""
        from powawidget.notebook.kernel import in_kernel

        if not in_kernel():
            return super()._show_progress()
        from IPython.display import display

        from powawidget.notebook.evaluation_panel import EvaluationPanel

        panel = EvaluationPanel(self)
        display(panel)
        return panel


def _making_ours(start: Callable[P, base.Evaluation]) -> Callable[P, Evaluation]:
    """`start` (evaluation.api.evaluate, its signature and docstring) making our class."""

    @functools.wraps(start, assigned=("__name__", "__qualname__", "__doc__"))
    def made(*args: P.args, **kwargs: P.kwargs) -> Evaluation:
        kwargs["evaluation_class"] = Evaluation
        return cast(Evaluation, start(*args, **kwargs))

    shown = inspect.signature(start)  # help(evaluate) without the parameter it sets
    kept = [p for p in shown.parameters.values() if p.name != "evaluation_class"]
    made.__signature__ = shown.replace(parameters=kept, return_annotation=Evaluation)  # type: ignore[attr-defined]
    return made


evaluate = _making_ours(engine.evaluate)
