"""`powawidget demo`: the zero-config first run — the quickstart notebook in JupyterLab (or
Notebook 7), talking to the built-in local agent server, no Powabase account needed."""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import socket
import subprocess
import sys
from pathlib import Path

QUICKSTART = "01_quickstart.ipynb"
DEFAULT_FOLDER = "~/powawidget-demo"


def git_work_tree(path: Path) -> Path | None:
    """The git work tree `path` lies in (a folder holding `.git`), or None."""
    for folder in (path, *path.parents):
        if (folder / ".git").exists():
            return folder
    return None


def demo_folder(requested: str | None) -> Path:
    """Where the notebooks go: `--dir` if given, else ~/powawidget-demo — never, unasked, a
    folder inside a git work tree (a checkout should not fill up with demo copies)."""
    if requested:
        return Path(requested).expanduser().resolve()
    folder = Path(DEFAULT_FOLDER).expanduser().resolve()
    tree = git_work_tree(folder)
    if tree is not None:
        raise ValueError(
            f"{folder} is inside the git work tree {tree}; choose a folder for the demo "
            "notebooks with --dir PATH"
        )
    return folder


def notebooks_source() -> Path:
    """The shipped notebooks: inside the wheel, else the checkout's `notebooks/` folder."""
    packaged = Path(__file__).resolve().parent.parent / "notebooks"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "notebooks"


def copy_notebooks(target: Path) -> Path:
    """Copy the demo notebooks into `target`, keeping any the user already edited there."""
    source = notebooks_source()
    if not (source / QUICKSTART).is_file():
        raise FileNotFoundError(
            f"the demo notebooks are missing from {source}; reinstall powawidget "
            "(pip install --force-reinstall powawidget)"
        )
    target.mkdir(parents=True, exist_ok=True)
    for item in sorted(source.iterdir()):
        if item.name.startswith((".", "_")) or item.name == "__pycache__":
            continue
        destination = target / item.name
        if destination.exists():
            continue
        if item.is_dir():
            shutil.copytree(item, destination)
        else:
            shutil.copy2(item, destination)
    return target


def free_port(preferred: int = 8888) -> int:
    """`preferred` when nothing listens there, else a free port the system picks."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", preferred))
        except OSError:
            probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def jupyter_command(args: argparse.Namespace, folder: Path, port: int, token: str) -> list[str]:
    """The Jupyter command line that serves the demo folder and opens the quickstart."""
    app = "notebook" if args.classic else "lab"
    command = [
        sys.executable,
        "-m",
        "jupyter",
        app,
        str(folder / QUICKSTART),
        f"--ServerApp.root_dir={folder}",
        f"--port={port}",
        "--port-retries=0",
        f"--IdentityProvider.token={token}",
    ]
    if args.no_browser:
        command.append("--no-browser")
    if args.ip:
        command.append(f"--ip={args.ip}")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # Jupyter refuses to start as root otherwise
    return command


def notebook_url(args: argparse.Namespace, port: int, token: str) -> str:
    """The address that opens the quickstart notebook itself (not just the file browser)."""
    path = "notebooks" if args.classic else "lab/tree"
    host = args.ip or "localhost"
    return f"http://{host}:{port}/{path}/{QUICKSTART}?token={token}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `powawidget demo`."""
    parser.add_argument(
        "--dir",
        default=None,
        help=f"folder the demo notebooks are copied into (default: {DEFAULT_FOLDER})",
    )
    parser.add_argument("--classic", action="store_true", help="use Notebook 7, not JupyterLab")
    parser.add_argument("--port", type=int, default=0, help="Jupyter's port (default: 8888…)")
    parser.add_argument("--ip", default="", help="address Jupyter listens on")
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser")


def demo_main(args: argparse.Namespace) -> int:
    """Copy the notebooks and run Jupyter until the user stops it (Ctrl-C)."""
    if shutil.which("jupyter") is None and not _has_module("jupyterlab"):
        print('powawidget demo needs JupyterLab: pip install "powawidget[demo]"', file=sys.stderr)
        return 2
    try:
        folder = copy_notebooks(demo_folder(args.dir))
    except (FileNotFoundError, ValueError) as error:
        print(f"powawidget demo: {error}", file=sys.stderr)
        return 2
    port = args.port or free_port()
    token = secrets.token_hex(16)
    print(f"powawidget demo: the notebooks are in {folder} (edits there are kept; --dir to move)")
    print("  the chat talks to the built-in local agent server (no Powabase account needed);")
    print("  set POWABASE_BASE_URL and POWABASE_API_KEY to talk to your own project instead.")
    print(f"  open the quickstart: {notebook_url(args, port, token)}")
    print("  stop with Ctrl-C")
    sys.stdout.flush()
    try:
        return subprocess.call(jupyter_command(args, folder, port, token))
    except KeyboardInterrupt:
        return 0


def _has_module(name: str) -> bool:
    """Whether a module can be imported, without importing it."""
    from importlib.util import find_spec

    return find_spec(name) is not None
