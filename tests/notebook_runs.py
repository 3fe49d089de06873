"""Run a notebook headless with nbclient, as CI and `jupyter execute` users do — minus a stall.

Shared by tests/test_notebooks.py (the test environment's kernel) and
tests/test_demo_install.py (a kernel from a clean README install).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import nbformat
import zmq
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


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
