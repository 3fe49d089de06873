"""`powawidget serve`: run the local agent server in the foreground and say how to use it."""

from __future__ import annotations

import argparse
import secrets
import shlex
import sys
from pathlib import Path

from powawidget.server.settings import (
    DEFAULT_DELAY,
    DEFAULT_KEEPALIVE,
    DEFAULT_MAX_BODY_MB,
    ServerSettings,
    default_db_path,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `powawidget serve`."""
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (default 0: a free one)")
    parser.add_argument(
        "--db", metavar="PATH", default=None, help="SQLite file (default: a per-user data file)"
    )
    parser.add_argument(
        "--key", default=None, help="API key clients must send (default: a random one)"
    )
    parser.add_argument(
        "--delay",
        type=float,
        default=DEFAULT_DELAY,
        metavar="SECONDS",
        help=f"pause between streamed tokens (default {DEFAULT_DELAY}; 0 for tests)",
    )
    parser.add_argument(
        "--keepalive",
        type=float,
        default=DEFAULT_KEEPALIVE,
        metavar="SECONDS",
        help=f"idle seconds before a keepalive comment (default {DEFAULT_KEEPALIVE:g})",
    )
    parser.add_argument(
        "--faults",
        action="store_true",
        help="also serve the fault agents (fault_…): misbehaving peers for client tests",
    )
    parser.add_argument(
        "--strict-ids",
        action="store_true",
        help="answer non-UUID agent ids as the real backend does (a 500 HTML page)",
    )
    parser.add_argument(
        "--max-body-mb",
        type=float,
        default=DEFAULT_MAX_BODY_MB,
        metavar="MB",
        help=f"refuse request bodies larger than this with a 413 (default {DEFAULT_MAX_BODY_MB:g})",
    )


def serve_main(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C; print the URL, the key and the lines to export."""
    from powawidget.server.serving import serve

    if args.delay < 0 or args.keepalive <= 0 or not args.max_body_mb > 0:
        print(
            "powawidget serve: --delay must be >= 0, --keepalive and --max-body-mb > 0",
            file=sys.stderr,
        )
        return 2
    settings = ServerSettings(
        host=args.host,
        port=args.port,
        db_path=str(Path(args.db).expanduser()) if args.db else str(default_db_path()),
        api_key=args.key or "pk_local_" + secrets.token_hex(16),
        delay=args.delay,
        keepalive=args.keepalive,
        faults=args.faults,
        strict_ids=args.strict_ids,
        max_body_mb=args.max_body_mb,
    )

    def ready(base_url: str) -> None:
        print(f"Local Powabase agent server on {base_url}", flush=True)
        print(f"API key: {settings.api_key}")
        print(f"Database: {settings.db_path}")
        print("\nPoint powawidget (or any Powabase client) at it:")
        print(f"  export POWABASE_BASE_URL={shlex.quote(base_url)}")
        print(f"  export POWABASE_API_KEY={shlex.quote(settings.api_key)}")
        print("\nPress Ctrl-C to stop.", flush=True)

    try:
        serve(settings, on_ready=ready)
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        print(f"powawidget serve: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    return 0
