"""README's first command, exactly: a clean virtual environment with `pip install -e ".[demo]"`
and nothing else, then every shipped notebook runs in it (nbclient, zero configuration).

The `test` extra installs more than `demo`; this is the check that it never hides a package
a shipped notebook imports but the demo install lacks. The command is read from README, so
the test follows README when it changes. One environment serves every notebook.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest
from notebook_runs import NOTEBOOKS, execute_notebook

pytestmark = pytest.mark.install

ROOT = Path(__file__).resolve().parent.parent
VENV = ".venv"


def readme_first_command() -> list[list[str]]:
    """The steps (argument lists) of README's first bash block, split at `&&`."""
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"```bash\n(.*?)\n```", readme, re.S)
    assert block, "README has no ```bash block"
    return [shlex.split(step) for step in block.group(1).strip().split("&&")]


def in_venv(step: list[str], venv: Path) -> list[str]:
    """`step` with README's `.venv` paths pointing at `venv`."""
    return [str(venv) + arg[len(VENV) :] if arg.startswith(VENV + "/") else arg for arg in step]


def clean_env() -> dict[str, str]:
    """This environment minus anything that would let the test environment leak in."""
    leaks = ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")
    return {k: v for k, v in os.environ.items() if k not in leaks and not k.startswith("POWABASE_")}


@pytest.fixture(scope="module")
def demo_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtual environment made by README's first command (all steps but the last, which
    starts Jupyter); its Python."""
    steps = readme_first_command()
    assert [step[:3] for step in steps] == [
        ["python3", "-m", "venv"],
        [f"{VENV}/bin/pip", "install", "-e"],
        [f"{VENV}/bin/powawidget", "demo"],
    ], steps
    venv = tmp_path_factory.mktemp("readme") / VENV
    for step in steps[:2]:
        command = in_venv(step, venv)
        if command[0] == "python3" and len(command) > 3 and command[3] == VENV:
            command[3] = str(venv)
        done = subprocess.run(
            command, cwd=ROOT, env=clean_env(), capture_output=True, text=True, timeout=900
        )
        assert done.returncode == 0, f"{shlex.join(command)}\n{done.stdout[-2000:]}{done.stderr}"
    assert (venv / "bin" / "powawidget").exists(), "README's last step needs this script"
    return venv / "bin" / "python"


def test_readme_install_has_no_test_only_packages(demo_python: Path) -> None:
    """The environment is the demo install, not the test one (so it can catch a gap)."""
    probe = (
        "import importlib.util as u; print([m for m in ('pytest', 'playwright') if u.find_spec(m)])"
    )
    found = subprocess.run([str(demo_python), "-c", probe], capture_output=True, text=True)
    assert found.stdout.strip() == "[]", found.stdout + found.stderr


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.stem)
def test_every_shipped_notebook_runs_with_the_demo_install(
    demo_python: Path, path: Path, tmp_path: Path
) -> None:
    check = "import sys; print('kernel prefix:', sys.prefix)"
    nb = execute_notebook(path.name, tmp_path, clean_env(), demo_python, first_cell=check)
    assert f"kernel prefix: {demo_python.parent.parent}" in "".join(
        o.get("text", "") for o in nb.cells[0].outputs
    ), "the kernel is not the demo install's Python"
    errors = [
        f"cell {n}: {o['ename']}: {o['evalue']}"
        for n, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        for o in cell.outputs
        if o.output_type == "error"
    ]
    assert errors == [], errors
