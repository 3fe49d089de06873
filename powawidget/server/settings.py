"""The local server's settings and defaults (stdlib only: the notebook side imports this)."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DELAY = 0.02  # seconds between streamed tokens: a human reading pace
DEFAULT_KEEPALIVE = 30.0  # idle seconds before a `: keepalive` comment, as Powabase sends
DEFAULT_APPROVAL_TIMEOUT = 300.0  # seconds a run waits for a human's approval, as Powabase
DEFAULT_MAX_BODY_MB = 32.0  # a request body past this many MB (10**6 bytes) is a 413


def default_db_path() -> Path:
    """The per-user data file used when no path is given (XDG / macOS / Windows)."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "powawidget" / "agents.sqlite3"


STORES = ("chats", "evaluations")
"""The zero-config local stores: chat widgets' sessions, and evaluations' runs apart."""


def local_store_path(store: str = "chats", folder: str | Path | None = None) -> Path:
    """The SQLite file a zero-config local server keeps `store`'s sessions in for notebooks
    in `folder` (default: the working directory, a kernel's notebook folder): one file per
    folder and store under the per-user data folder, e.g.
    `~/.local/share/powawidget/chats/powawidget-demo-1a2b3c4d.sqlite3`. So the demo's
    session picker lists the demo's chats, not evaluations' runs or other folders' chats."""
    if store not in STORES:
        raise ValueError(f"store must be one of {', '.join(STORES)}, not {store!r}")
    where = Path(folder if folder is not None else os.getcwd()).expanduser().resolve()
    digest = hashlib.sha256(str(where).encode("utf-8")).hexdigest()[:8]
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", where.name).strip("-.")[:40] or "root"
    return default_db_path().parent / store / f"{name}-{digest}.sqlite3"


@dataclass
class ServerSettings:
    """What a local server serves and how."""

    host: str = "127.0.0.1"
    port: int = 0
    db_path: str = field(default_factory=lambda: str(default_db_path()))
    api_key: str = field(default_factory=lambda: "pk_local_" + secrets.token_hex(16))
    delay: float = DEFAULT_DELAY
    keepalive: float = DEFAULT_KEEPALIVE
    faults: bool = False  # serve the fault agents (test fixtures) too
    approval_timeout: float = DEFAULT_APPROVAL_TIMEOUT
    approve_misses: int = 0  # approve POSTs each run answers 404 first (multi-worker)
    strict_ids: bool = False  # non-UUID agent ids: the real backend's 500 HTML page
    max_body_mb: float = DEFAULT_MAX_BODY_MB
