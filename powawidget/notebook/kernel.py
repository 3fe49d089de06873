"""Facts about the kernel a widget lives in (none of them needed outside a notebook)."""

from __future__ import annotations

import sys
import warnings


def in_kernel() -> bool:
    """True inside a running IPython kernel (not plain Python, not a terminal IPython)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and getattr(shell, "kernel", None) is not None


def warn_if_broken_ipykernel() -> None:
    """Warn under ipykernel 7.0, which loses messages sent from threads (runs look frozen)."""
    if "ipykernel" not in sys.modules:
        return
    try:
        from importlib.metadata import version

        found = version("ipykernel")
    except Exception:
        return
    if found.startswith("7.0."):
        warnings.warn(
            f"ipykernel {found} drops widget messages sent from threads, so the chat panel "
            "would not update while a run streams. Install ipykernel>=7.1 (or 6.x) and "
            "restart the kernel.",
            RuntimeWarning,
            stacklevel=3,
        )
