"""The layer contract ([tool.importlinter] in pyproject.toml, docs/architecture.md) holds,
and it covers every package of the library, so a new one cannot slip past it."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import pytest
from importlinter.cli import lint_imports

import powawidget

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 (import-linter depends on tomli there)
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent


def _config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["importlinter"]


def test_layers_only_import_downward_and_the_server_stands_apart(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    # lint_imports runs logging's dictConfig, which disables every logger already made
    # (the library's too, so a later test's caplog saw nothing): they are enabled again.
    made = [v for v in logging.Logger.manager.loggerDict.values() if isinstance(v, logging.Logger)]
    disabled = {logger: logger.disabled for logger in made}
    try:
        code = lint_imports(
            config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True
        )
    finally:
        for logger, was in disabled.items():
            logger.disabled = was
    out = capsys.readouterr().out
    assert code == 0, out
    assert "3 kept, 0 broken" in out


def test_every_package_is_in_the_contract() -> None:
    packages = {
        f"powawidget.{p.name}"
        for p in Path(powawidget.__file__).parent.iterdir()
        if (p / "__init__.py").exists()
    }
    layers, apart, starts = _config()["contracts"]
    # A layer is one module or independent siblings ("a | b": neither imports the other).
    layered = {m.strip() for layer in layers["layers"] for m in layer.split("|")}
    layered |= {"powawidget.server"}
    # The one module in the layers: powawidget.api wires evaluation/ to notebook/.
    assert packages == layered - {"powawidget.api"}, (
        "a package outside the layer contract: add it to pyproject.toml"
    )
    assert "powawidget.notebook | powawidget.evaluation" in layers["layers"]
    assert set(apart["source_modules"]) | set(apart["forbidden_modules"]) == layered
    # Below the CLI, nothing starts the server but the one connect function.
    assert set(starts["source_modules"]) == layered - {"powawidget.cli", "powawidget.server"}
    assert starts["ignore_imports"] == ["powawidget.session.connect -> powawidget.server"]
