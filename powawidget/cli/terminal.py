"""`powawidget chat`: stream one agent run to the terminal — the quickest credentials check.

The answer text goes to stdout as it arrives; steps (and step resets), tool calls and
results, how each approval ended (approved, denied and why, timed out), the cited sources,
usage (fetched from the stored run when the stream had none), the session id and errors go
to stderr (one line each), so `> answer.txt` keeps just the answer.
Exit codes: 0 done, 1 the run or the server failed, 2 configuration or key problems,
130 stopped with Ctrl-C (what arrived is kept on screen).
"""

from __future__ import annotations

import argparse
import sys

from powawidget.cli.printers import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_SETUP,
    Decider,
    EventPrinter,
    JsonLinesPrinter,
    Style,
    TerminalView,
    printable,
    write_line,
)
from powawidget.model.turns import Approval
from powawidget.session.usage import needs_usage, usage_event
from powawidget.wire.client import OrchestrationId, PowabaseClient
from powawidget.wire.config import TERMINAL
from powawidget.wire.errors import AuthenticationError, ConfigurationError, PowabaseError
from powawidget.wire.events import make_event
from powawidget.wire.orchestrations import not_found_frame

__all__ = ["Style", "TerminalView", "add_arguments", "chat_main"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `chat` command's arguments."""
    parser.add_argument(
        "agent_id",
        metavar="AGENT_ID",
        nargs="?",
        help="the agent to run, e.g. agt_demo (leave out with --orchestration)",
    )
    parser.add_argument("message", metavar="MESSAGE", nargs="?", help="what to ask the agent")
    parser.add_argument(
        "--orchestration",
        metavar="ID",
        help="run this orchestration (a supervisor and its agents, e.g. orch_demo) instead of "
        "an agent",
    )
    parser.add_argument("--session", metavar="ID", help="continue this session (sess_…)")
    parser.add_argument(
        "--base-url", metavar="URL", help="project URL (default $POWABASE_BASE_URL)"
    )
    parser.add_argument("--api-key", metavar="KEY", help="project key (default $POWABASE_API_KEY)")
    parser.add_argument(
        "--local",
        action="store_true",
        help="run against the built-in local agent server (no account needed)",
    )
    decision = parser.add_mutually_exclusive_group()
    decision.add_argument(
        "--approve", action="store_true", help="approve every tool the agent asks to run"
    )
    decision.add_argument("--deny", action="store_true", help="deny every approval request")
    parser.add_argument(
        "--idle-timeout",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="give up after this long without any data (default 300)",
    )
    parser.add_argument(
        "--jsonl", action="store_true", help="print the canonical events as JSON lines instead"
    )


def _target(args: argparse.Namespace) -> str | None:
    """What to run: AGENT_ID, or --orchestration's id (then the one positional is MESSAGE).
    None (after saying why) when the arguments do not name exactly one."""
    if args.orchestration is not None:
        if args.message is not None:
            write_line(sys.stderr, "error: give --orchestration ID or AGENT_ID, not both")
            return None
        args.message, args.agent_id = args.agent_id, OrchestrationId(args.orchestration)
    if args.agent_id is None or args.message is None:
        write_line(
            sys.stderr,
            'error: say what to ask: powawidget chat AGENT_ID "MESSAGE" '
            '(or powawidget chat --orchestration ID "MESSAGE")',
        )
        return None
    return str(args.agent_id)


def chat_main(args: argparse.Namespace) -> int:
    """Run the `chat` command; returns the exit code."""
    err = sys.stderr
    style = Style.for_stream(err)
    if _target(args) is None:
        return EXIT_SETUP
    server = None
    try:
        base_url, api_key = args.base_url, args.api_key
        if args.local:
            from powawidget.server import start_local_server

            try:
                server = start_local_server()
            except (RuntimeError, OSError) as exc:
                write_line(err, style.error(printable(f"error: {exc}")))
                return EXIT_FAILED
            base_url, api_key = server.base_url, server.api_key
            write_line(err, style.dim(f"using the built-in local agent server at {base_url}"))
        origin = "the built-in local server" if server is not None else None
        with PowabaseClient(
            base_url,
            api_key,
            idle_timeout=args.idle_timeout,
            origin=origin,
            uuid_agent_ids=server is None,  # the local server's demo ids are agt_…
            audience=TERMINAL,  # advice names --api-key, --idle-timeout…, not Python arguments
        ) as client:
            return _chat(client, args, style)
    except PowabaseError as exc:
        write_line(err, style.error(printable(f"error: {exc}")))
        return (
            EXIT_SETUP if isinstance(exc, ConfigurationError | AuthenticationError) else EXIT_FAILED
        )
    except KeyboardInterrupt:
        write_line(err, style.dim("stopped"))
        return EXIT_INTERRUPTED
    finally:
        if server is not None:
            server.stop()


def _chat(client: PowabaseClient, args: argparse.Namespace, style: Style) -> int:
    """Stream the run, printing as it goes; returns the exit code."""
    out, err = sys.stdout, sys.stderr
    stream = client.stream_run(args.agent_id, args.message, session_id=args.session)
    view: EventPrinter = (
        JsonLinesPrinter(out) if args.jsonl else TerminalView(out, err, style, _decider(args))
    )
    code = EXIT_OK
    try:
        with stream:
            for event in stream:
                view.show(event, client)
        if stream.run_id and needs_usage(stream.events):  # agents without tools: stored usage
            stored = usage_event(client, stream.run_id, stream.session_id)
            if stored is not None:
                view.show(stored, client)
        code = view.exit_code
    except KeyboardInterrupt:
        stream.stop()
        view.end_text()
        write_line(err, style.dim(f"stopped by Ctrl-C; kept {len(stream.events)} event(s)"))
        code = EXIT_INTERRUPTED
    except PowabaseError as exc:  # folded like any failure: the view prints it
        client.redact_error(exc)
        failure = make_event(
            "client_error",
            error_message=exc.message,
            error_code=exc.code,
            run_id=stream.run_id,
            session_id=stream.session_id,
        )
        view.show(failure, client)
        setup = isinstance(exc, ConfigurationError | AuthenticationError)
        code = EXIT_SETUP if setup else EXIT_FAILED
    view.end_text()
    if isinstance(args.agent_id, OrchestrationId) and any(
        e.get("event") == "error" and not_found_frame(e.get("error_message")) for e in stream.events
    ):  # a 200 with one error frame: the id names nothing (docs/protocol.md)
        write_line(err, style.dim(client.not_found_advice(orchestration=True)))
    session_id = stream.session_id or args.session
    if session_id:
        local = " --local" if args.local else ""  # the session lives in the local server's store
        write_line(
            err,
            style.dim(
                f"session {session_id} — continue with: powawidget chat {_named(args)} "
                f'"…" --session {session_id}{local}'
            ),
        )
    return code


def _named(args: argparse.Namespace) -> str:
    """How the continue hint names what ran (an agent id, or --orchestration ID)."""
    if isinstance(args.agent_id, OrchestrationId):
        return f"--orchestration {args.agent_id}"
    return str(args.agent_id)


def _decider(args: argparse.Namespace) -> Decider:
    """How approval requests are answered: the flags, else a y/N prompt, else deny."""

    def decide(approval: Approval) -> tuple[bool, str | None] | None:
        if args.approve:
            return True, None
        if args.deny:
            return False, "denied with --deny"
        if sys.stdin.isatty():
            answer = input("  approve? [y/N] ").strip().lower()
            return (True, None) if answer in ("y", "yes") else (False, "denied in the terminal")
        return False, "no one to approve in a non-interactive terminal (use --approve)"

    return decide
