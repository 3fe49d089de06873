"""The front end's pure modules (entries, streaming markdown, highlighting),
tested with Node's built-in runner (`npm test` in js/): fast, no browser needed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

JS_DIR = Path(__file__).resolve().parents[2] / "js"


def test_js_unit_tests_pass() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js 18+ is needed for the front end (js/): install nodejs.")
    proc = subprocess.run(
        [node, "--test", "test/"], cwd=JS_DIR, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "# fail 0" in proc.stdout


def test_the_typed_front_end_modules_type_check() -> None:
    """The wire's JS twin (js/src/model, js/src/host/sync.js) passes `tsc --checkJs`."""
    tsc = JS_DIR / "node_modules" / ".bin" / "tsc"
    assert tsc.exists(), "run `npm install` in js/ (the pip install does it)"
    proc = subprocess.run(
        [str(tsc), "-p", "tsconfig.json"], cwd=JS_DIR, capture_output=True, text=True, timeout=180
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
