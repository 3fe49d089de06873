"""One module of the front end bundled on its own, for tests of it in a real browser."""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path

import pytest

JS_DIR = Path(__file__).resolve().parents[2] / "js"


@functools.cache
def bundle_module(entry: str) -> str:
    """An IIFE bundle of `entry` (ESM importing from js/src), built by the project's esbuild:
    a piece of the panel on its own page, for tests of one module in a real browser. Built
    once per entry and test session (an esbuild start costs about a second)."""
    npx = shutil.which("npx")
    if npx is None:
        pytest.fail("npx (Node.js 18+) is needed to bundle a front-end module.")
    return subprocess.run(
        [npx, "--no-install", "esbuild", "--bundle", "--format=iife", "--target=es2020"],
        input=entry,
        cwd=JS_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
