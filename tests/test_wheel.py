"""The built wheel, installed in a clean virtual environment, is a working product: it ships
the front-end bundle and the demo notebooks, imports, and the zero-config chat answers."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import textwrap
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the wheel the way `pip wheel` does (the bundle is already built by the install)."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        timeout=300,
    )
    (built,) = out.glob("powawidget-*.whl")
    return built


def test_wheel_ships_the_bundle_and_the_notebooks(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "powawidget/static/widget.js" in names
    assert "powawidget/static/widget.css" in names
    assert "powawidget/notebooks/01_quickstart.ipynb" in names
    assert not any(name.startswith(("tests/", "js/")) for name in names)


def test_wheel_in_a_clean_environment_imports_and_chats(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(
        subprocess.check_output(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            text=True,
        ).strip()
    )
    # Install the wheel by unpacking it (what pip does for a pure wheel), then let the
    # dependencies come from this test environment's site-packages, appended after it.
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    (site / "zz_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    script = textwrap.dedent(
        """
        import os, pathlib, powawidget
        from powawidget import ChatWidget
        for name in ("POWABASE_BASE_URL", "POWABASE_API_KEY", "POWABASE_SERVICE_ROLE_KEY"):
            os.environ.pop(name, None)
        here = pathlib.Path(powawidget.__file__).parent
        assert "site-packages" in str(here), here
        assert (here / "static" / "widget.js").stat().st_size > 10_000
        w = ChatWidget()
        assert w.banner, "zero-config chat must say it is not connected to Powabase"
        print("ANSWER:", w.ask("What products do you offer?", timeout=60))
        """
    )
    result = subprocess.run(
        [str(python), "-c", script], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr[-3000:]
    answer = result.stdout.split("ANSWER:", 1)[1]
    assert len(answer.strip()) > 40
