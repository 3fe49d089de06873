"""Debian Chromium as the tests and benchmarks launch it (flags known to work here)."""

from __future__ import annotations

import shutil

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_executable() -> str | None:
    """Debian's Chromium (never a Playwright download), or None when it is not installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")
