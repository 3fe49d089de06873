"""The package's public names resolve, and importing it stays cheap (no widget, no server)."""

from __future__ import annotations

import subprocess
import sys

import powawidget


def test_every_public_name_resolves() -> None:
    for name in powawidget.__all__:
        assert getattr(powawidget, name) is not None, name


def test_importing_the_package_loads_neither_the_widget_nor_the_server() -> None:
    code = (
        "import sys, powawidget; "
        "print(sorted(m for m in ('anywidget', 'starlette', 'uvicorn', 'ipywidgets') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
