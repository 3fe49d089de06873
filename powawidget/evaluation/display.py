"""Show an evaluation's progress where the user is: the live panel in a notebook, else a line."""

from __future__ import annotations

from typing import Any

from powawidget.evaluation.evaluation import Evaluation


def show_progress(evaluation: Evaluation) -> Any:
    """Display the live panel (in a kernel) or start the terminal progress line."""
    from powawidget.notebook.kernel import in_kernel

    if in_kernel():
        from IPython.display import display

        from powawidget.evaluation.panel import EvaluationPanel

        panel = EvaluationPanel(evaluation)
        display(panel)
        return panel
    from powawidget.evaluation.terminal import ProgressLine

    return ProgressLine(evaluation)
