"""The front end's pure modules (entries, streaming markdown, highlighting),
tested with Node's built-in runner (`npm test` in js/): fast, no browser needed."""

from __future__ import annotations

import json
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


def test_the_whole_front_end_type_checks() -> None:
    """Every module of js/src passes `tsc --checkJs --noEmit` with 0 errors."""
    config = json.loads((JS_DIR / "tsconfig.json").read_text("utf-8"))
    assert config["include"] == ["src/**/*.js"], "tsc must check all of js/src"
    assert config["compilerOptions"]["checkJs"] and config["compilerOptions"]["noEmit"]
    tsc = JS_DIR / "node_modules" / ".bin" / "tsc"
    assert tsc.exists(), "run `npm install` in js/ (the pip install does it)"
    proc = subprocess.run(
        [str(tsc), "-p", "tsconfig.json", "--listFilesOnly"],
        cwd=JS_DIR, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    checked = {Path(line).resolve() for line in proc.stdout.splitlines() if "/js/src/" in line}
    assert checked == {p.resolve() for p in (JS_DIR / "src").rglob("*.js")}
    proc = subprocess.run(
        [str(tsc), "-p", "tsconfig.json"], cwd=JS_DIR, capture_output=True, text=True, timeout=180
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


def test_the_front_end_is_formatted() -> None:
    """js/src and js/test pass `prettier --check` (the JS twin of `ruff format --check`)."""
    prettier = JS_DIR / "node_modules" / ".bin" / "prettier"
    assert prettier.exists(), "run `npm install` in js/ (the pip install does it)"
    proc = subprocess.run(
        [str(prettier), "--check", "src", "test"], cwd=JS_DIR, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
