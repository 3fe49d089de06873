"""Run a notebook headless with nbclient, as CI and `jupyter execute` users do — minus a stall.

Used by tests/test_notebooks.py, which runs every shipped notebook once, in a kernel of a
clean virtual environment made by README's first command (the demo install alone).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import nbformat
import zmq
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
VENV = ".venv"


def readme_first_command() -> list[list[str]]:
    """The steps (argument lists) of README's first bash block, split at `&&`."""
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"```bash\n(.*?)\n```", readme, re.S)
    assert block, "README has no ```bash block"
    return [shlex.split(step) for step in block.group(1).strip().split("&&")]


def clean_env() -> dict[str, str]:
    """This environment minus anything that would let the test environment leak in."""
    leaks = ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")
    return {k: v for k, v in os.environ.items() if k not in leaks and not k.startswith("POWABASE_")}


def readme_demo_install(folder: Path) -> Path:
    """A virtual environment under `folder` made by README's first command (all steps but
    the last, which starts Jupyter); its Python."""
    steps = readme_first_command()
    assert [step[:3] for step in steps] == [
        ["python3", "-m", "venv"],
        [f"{VENV}/bin/pip", "install", "-e"],
        [f"{VENV}/bin/powawidget", "demo"],
    ], steps
    venv = folder / VENV
    for step in steps[:2]:
        command = [str(venv) + a[len(VENV) :] if a.startswith(VENV + "/") else a for a in step]
        if command[0] == "python3" and len(command) > 3 and command[3] == VENV:
            command[3] = str(venv)
        done = subprocess.run(
            command, cwd=ROOT, env=clean_env(), capture_output=True, text=True, timeout=900
        )
        assert done.returncode == 0, f"{shlex.join(command)}\n{done.stdout[-2000:]}{done.stderr}"
    assert (venv / "bin" / "powawidget").exists(), "README's last step needs this script"
    return venv / "bin" / "python"


def rearm_shell_after_sends(kernel_client: Any) -> None:
    """Make every send on `kernel_client`'s shell channel re-arm the asyncio socket's wake-up.

    nbclient answers `ipywidgets.Output` updates with comm messages on the shell channel;
    jupyter_client's `Session.send` sends them on a blocking shadow of the asyncio socket,
    and libzmq then consumes the edge-triggered wake-up of a reply that already arrived, so
    the cell waits its whole timeout (nbclient issue #312). Reading `zmq.EVENTS` on the
    asyncio socket after the send re-arms it.
    """
    channel = kernel_client.shell_channel
    send = channel.send

    def send_and_rearm(msg: dict[str, Any]) -> None:
        send(msg)
        if channel.socket is not None:
            channel.socket.get(zmq.EVENTS)

    channel.send = send_and_rearm


class RearmedNotebookClient(NotebookClient):
    """An nbclient NotebookClient whose shell socket never misses a reply (see above)."""

    async def async_start_new_kernel_client(self) -> Any:
        """Start the kernel client as nbclient does, then guard its shell channel's sends."""
        kernel_client = await super().async_start_new_kernel_client()
        rearm_shell_after_sends(kernel_client)
        return kernel_client


def kernel_manager_for(python: Path, home: Path) -> AsyncKernelManager:
    """A kernel manager whose only kernel runs `python` (e.g. another virtual environment's)."""
    spec = home / "kernels" / "python3"
    spec.mkdir(parents=True, exist_ok=True)
    argv = [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "Python 3", "language": "python"})
    )
    specs = KernelSpecManager(kernel_dirs=[str(spec.parent)])
    return AsyncKernelManager(kernel_name="python3", kernel_spec_manager=specs)


def execute_notebook(
    name: str,
    folder: Path,
    env: dict[str, str],
    python: Path | None = None,
    first_cell: str = "",
) -> nbformat.NotebookNode:
    """Run notebook `name` in a copy of notebooks/ under `folder` (as `powawidget demo` copies
    them, so files it writes never land in the repository); `python` picks the kernel's
    interpreter (default: the python3 kernel of this environment); `first_cell`, if given,
    runs before the notebook's own cells."""
    shutil.copytree(NOTEBOOKS, folder, dirs_exist_ok=True)
    nb = nbformat.read(folder / name, as_version=4)
    if first_cell:
        nb.cells.insert(0, nbformat.v4.new_code_cell(first_cell))
    options: dict[str, Any] = {"kernel_name": "python3"}
    if python is not None:
        options["km"] = kernel_manager_for(python, folder / ".kernel")
    client = RearmedNotebookClient(
        nb,
        timeout=90,  # per cell: ample for the slowest; also bounds a rare stall under heavy load
        iopub_timeout=30,
        resources={"metadata": {"path": str(folder)}},
        **options,
    )
    # The zero-config local stores (per-user data folder) land in the temp folder too.
    client.execute(env={"XDG_DATA_HOME": str(folder / ".data"), **env})
    return nb
