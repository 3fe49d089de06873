"""`python -m powawidget chat`: what a user sees in a terminal, run as a real subprocess.

Answer text on stdout as it arrives; steps, tool calls, usage, the session id and errors on
stderr; exit codes 0 (done), 1 (run or server failed), 2 (configuration or key), 130 (Ctrl-C).
"""

from __future__ import annotations

import io
import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from powawidget.cli.main import main
from powawidget.cli.terminal import Style, TerminalView
from powawidget.wire.events import EVENT_KEYS, make_event

TIMEOUT = 60


def chat_env(local_server: Any, tmp_path: Path, **extra: str) -> dict[str, str]:
    """An environment for the command: the local server's URL and key, no colours."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("POWABASE_")}
    env.update(NO_COLOR="1", XDG_DATA_HOME=str(tmp_path / "data"), PYTHONUNBUFFERED="1")
    if local_server is not None:
        env["POWABASE_BASE_URL"] = local_server.base_url
        env["POWABASE_API_KEY"] = local_server.api_key
    env.update(extra)
    return env


def chat(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m powawidget chat ARGS…` to the end."""
    return subprocess.run(
        [sys.executable, "-m", "powawidget", "chat", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def test_a_run_prints_steps_tools_text_usage_and_the_session(
    local_server: Any, tmp_path: Path
) -> None:
    done = chat(chat_env(local_server, tmp_path), "agt_demo", "How much is the cheapest kettle?")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()  # the answer, and only the answer, on stdout
    assert "→ " not in done.stdout and "session" not in done.stdout
    err = done.stderr
    assert "── step 1 ──" in err
    assert "→ search_catalogue(" in err and "← search_catalogue" in err
    assert "usage:" in err and "tokens" in err
    assert "session sess_" in err and "--session sess_" in err


def chat_here(
    local_server: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    *args: str,
) -> tuple[int, str, str]:
    """Run the same command in this process (faster): exit code, stdout, stderr."""
    for name in ("POWABASE_BASE_URL", "POWABASE_API_KEY", "POWABASE_SERVICE_ROLE_KEY"):
        monkeypatch.delenv(name, raising=False)
    if local_server is not None:
        monkeypatch.setenv("POWABASE_BASE_URL", local_server.base_url)
        monkeypatch.setenv("POWABASE_API_KEY", local_server.api_key)
    code = main(["chat", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_session_can_be_continued(
    local_server: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _, _, first = chat_here(local_server, monkeypatch, capsys, "fault_malformed", "one")
    session = first.split("session ")[1].split()[0]
    code, _, second = chat_here(
        local_server, monkeypatch, capsys, "fault_malformed", "two", "--session", session
    )
    assert code == 0
    assert f"session {session}" in second


def test_text_streams_before_the_run_ends(local_server: Any, tmp_path: Path) -> None:
    # fault_crlf sends "First " and then stays silent 1.5 s: it must be on screen at once.
    env = chat_env(local_server, tmp_path)
    process = subprocess.Popen(
        [sys.executable, "-m", "powawidget", "chat", "fault_crlf", "hi"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        first = read_until(process, b"First ", TIMEOUT)
        assert first is not None
        still_running = process.poll() is None
        out, _ = process.communicate(timeout=TIMEOUT)
    finally:
        process.kill()
    assert still_running  # the first words came while the stall was still going on
    assert (first + out).decode().strip() == "First then the rest."
    assert process.returncode == 0


def read_until(process: subprocess.Popen[bytes], marker: bytes, timeout: float) -> bytes | None:
    """Read the process' stdout until `marker` shows up; None on timeout."""
    assert process.stdout is not None
    seen = b""
    deadline = time.monotonic() + timeout
    fd = process.stdout.fileno()
    while marker not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            seen += chunk
    return seen if marker in seen else None


def test_ctrl_c_stops_cleanly_and_keeps_what_arrived(local_server: Any, tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "powawidget", "chat", "agt_long", "tell me a long story"],
        env=chat_env(local_server, tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        shown = read_until(process, b" ", TIMEOUT)
        assert shown is not None
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=TIMEOUT)
    finally:
        process.kill()
    assert process.returncode == 130
    text = err.decode()
    assert "stopped by Ctrl-C" in text and "Traceback" not in text
    assert "session sess_" in text


@pytest.mark.parametrize(
    ("agent_id", "code", "expected"),
    [
        ("fault_unauthorized", 2, "Authorization headers"),
        ("fault_credits", 1, "out of credits"),
        ("agt_nope", 1, "Powabase Studio"),
        ("fault_not_event_stream", 1, "Sign in"),
        ("fault_failed_run", 1, "run failed [run_failed]: Step limit reached"),
        ("fault_error_event", 1, "run error: The model provider returned an error"),
        ("fault_drop", 1, "connection was lost mid-run"),
    ],
)
def test_failures_print_the_typed_message_and_exit_non_zero(
    local_server: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    agent_id: str,
    code: int,
    expected: str,
) -> None:
    exit_code, out, err = chat_here(local_server, monkeypatch, capsys, agent_id, "hello")
    assert exit_code == code
    assert expected in err
    assert local_server.api_key not in err + out
    assert speaks_terminal(err)


PYTHON_TERMS = ("api_key=", "base_url=", "agent_id=", "idle_timeout=", "session_id=", "ChatWidget")


def speaks_terminal(text: str) -> bool:
    """Advice names flags and environment variables, never the Python API's arguments."""
    return not any(term in text for term in PYTHON_TERMS)


def test_missing_configuration_exits_2_naming_the_variable(tmp_path: Path) -> None:
    done = chat(chat_env(None, tmp_path), "agt_demo", "hello")
    assert done.returncode == 2
    assert "POWABASE_BASE_URL" in done.stderr and "--local" in done.stderr
    assert "--base-url" in done.stderr and speaks_terminal(done.stderr)


def test_a_rejected_key_names_the_flag_it_came_from(
    local_server: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ("fault_unauthorized", "hi", "--api-key", "wrong-key")
    code, _, err = chat_here(local_server, monkeypatch, capsys, *args)
    assert code == 2
    assert "the --api-key you passed" in err and speaks_terminal(err)


def test_an_idle_timeout_names_the_flag_that_raises_it(
    local_server: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # fault_crlf stays silent 1.5 s after its first words.
    args = ("fault_crlf", "hi", "--idle-timeout", "0.5")
    code, out, err = chat_here(local_server, monkeypatch, capsys, *args)
    assert code == 1
    assert out.startswith("First ")  # what arrived is kept
    assert "Raise --idle-timeout" in err and speaks_terminal(err)


def test_flags_override_the_environment(
    local_server: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("POWABASE_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("POWABASE_API_KEY", "x")
    code = main(
        [
            "chat",
            "fault_malformed",
            "hi",
            "--base-url",
            local_server.base_url,
            "--api-key",
            local_server.api_key,
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.strip() == "Before after."
    assert "warning: malformed frame" in err


def test_local_starts_the_built_in_server(tmp_path: Path) -> None:
    done = chat(chat_env(None, tmp_path), "agt_plain", "How much is Orbit Team?", "--local")
    assert done.returncode == 0, done.stderr
    assert "built-in local agent server at http://127.0.0.1:" in done.stderr
    assert done.stdout.startswith("Orbit Team: $12 per seat / month.")


@pytest.mark.parametrize(("flag", "outcome"), [("--approve", "approve"), ("--deny", "deny")])
def test_approval_requests_are_answered_by_flag(
    local_server: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    flag: str,
    outcome: str,
) -> None:
    message = "please do the thing that needs approval"
    code, _, err = chat_here(local_server, monkeypatch, capsys, "agt_approval", message, flag)
    assert code == 0, err
    assert "? approval needed for" in err and f"  sent: {outcome}" in err


def test_jsonl_prints_canonical_events(
    local_server: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = chat_here(local_server, monkeypatch, capsys, "fault_malformed", "hi", "--jsonl")
    events = [json.loads(line) for line in out.splitlines()]
    assert [tuple(e) for e in events] == [EVENT_KEYS] * len(events)
    names = [e["event"] for e in events]
    assert names[0] == "start" and "complete" in names
    assert names[names.index("complete") + 1 :] in ([], ["usage"])  # usage looked up after


def test_an_approval_is_asked_for_in_an_interactive_terminal(
    local_server: Any, tmp_path: Path
) -> None:
    import pty

    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "powawidget", "chat", "agt_approval", "please do the thing"],
        env=chat_env(local_server, tmp_path),
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
    )
    os.close(terminal)
    try:
        screen = read_pty_until(controller, b"approve? [y/N]")
        os.write(controller, b"y\n")
        screen += read_pty_until(controller, b"continue with")
        assert process.wait(TIMEOUT) == 0
    finally:
        process.kill()
        os.close(controller)
    text = screen.decode(errors="replace")
    assert "? approval needed for" in text and "  sent: approve" in text
    assert "usage:" in text  # the run went on after the answer


def read_pty_until(fd: int, marker: bytes) -> bytes:
    """Read a pseudo-terminal until `marker` shows up (fails the test on timeout)."""
    seen = b""
    deadline = time.monotonic() + TIMEOUT
    while marker not in seen:
        assert time.monotonic() < deadline, seen.decode(errors="replace")
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the child closed the terminal
                break
            seen += chunk
    assert marker in seen, seen.decode(errors="replace")
    return seen


def test_server_text_cannot_drive_the_terminal() -> None:
    # Escape sequences from the server (clear screen, retitle, C1 CSI) are removed, tab and
    # newline kept: a hostile agent must not be able to rewrite what the user sees.
    out, err = io.StringIO(), io.StringIO()
    view = TerminalView(out, err, Style(False), decide=lambda event: None)
    hostile = "\x1b[2J\x1b]0;pwned\x07ok\x9b31m\tdone\n"
    view.show(make_event("content_delta", text=hostile, text_mode="append"), client=None)
    view.show(make_event("tool_call", tool_name="t\x1b[8m", arguments={"a": "\x1b[1m"}), None)
    view.show(make_event("error", error_message="bad\x1b[0m"), client=None)
    view.end_text()
    assert out.getvalue() == "[2J]0;pwnedok31m\tdone\n"
    assert "\x1b" not in err.getvalue() and "\x9b" not in err.getvalue()
    assert "run error: bad[0m" in err.getvalue()


def shown(*frames: dict[str, Any]) -> str:
    """What the terminal prints on stderr for these server frames."""
    from powawidget.wire.events import EventNormaliser
    from powawidget.wire.sse import ServerSentEvent

    out, err = io.StringIO(), io.StringIO()
    view = TerminalView(out, err, Style(False), decide=lambda event: None)
    normaliser = EventNormaliser()
    for frame in frames:
        view.show(normaliser.normalise(ServerSentEvent(data=json.dumps(frame))), client=None)
    view.end_text()
    return err.getvalue()


START = {"event": "start", "run_id": "run_00000000000a", "session_id": "sess_x"}
CALL = {"event": "tool_call", "step": 1, "tool_name": "refund", "arguments": {}, "call_id": "c1"}
ASK = {"event": "approval_requested", "tool_name": "refund", "tool_input": {}, "message": "OK?"}


def hook(blocked: bool, message: str) -> dict[str, Any]:
    return {
        "event": "hook_result",
        "hook_id": "approval",
        "position": 0,
        "hook_event": "PreToolUse",
        "status": "blocked" if blocked else "success",
        "modified": False,
        "blocked": blocked,
        "latency_ms": 900,
        "message": message,
    }


@pytest.mark.parametrize(
    ("result", "line"),
    [
        (hook(False, ""), "  approved (waited 900 ms)"),
        (hook(True, "Denied by user: too expensive"), "  denied: too expensive (waited 900 ms)"),
        (hook(True, "Approval timed out"), "  timed out: no answer in time (waited 900 ms)"),
    ],
)
def test_the_approval_outcome_comes_from_hook_result(result: dict[str, Any], line: str) -> None:
    err = shown(START, CALL, ASK, result)
    assert f"\n{line}\n" in err
    outcomes = [x for x in err.splitlines() if x.startswith(("  approved", "  denied", "  timed"))]
    assert outcomes == [line]


def test_a_hook_that_asked_no_one_prints_no_approval() -> None:
    assert "approved" not in shown(START, CALL, hook(False, ""))


def test_a_recording_without_hook_result_still_shows_the_denial() -> None:
    denied = {
        "event": "tool_result",
        "step": 1,
        "tool_name": "refund",
        "call_id": "c1",
        "result_preview": "Error: Blocked by hook — Denied by user: no",
    }
    assert "  denied: no (waited " in shown(START, CALL, ASK, denied)


def test_step_resets_and_citations_are_shown() -> None:
    reset = {"event": "step_reset", "step": 2, "reason": "rate_limit"}
    complete = {
        "event": "complete",
        "content": "Refunds take 5 days [1].",
        "status": "completed",
        "citations": [
            {
                "key": "1",
                "item_id": "i1",
                "source_id": "s1",
                "source_name": "policy.pdf",
                "text_excerpt": "Refunds are paid within five days.",
                "meta": {},
            }
        ],
    }
    err = shown(START, reset, complete)
    assert "↺ step 2 starts again (rate_limit)" in err
    assert "sources:\n  [1] policy.pdf: Refunds are paid within five days.\n" in err


def test_the_continue_hint_keeps_local_when_the_run_was_local(tmp_path: Path) -> None:
    done = chat(chat_env(None, tmp_path), "agt_demo", "hello", "--local")
    assert done.returncode == 0, done.stderr
    hint = done.stderr.strip().splitlines()[-1]
    assert "continue with: powawidget chat agt_demo" in hint and hint.endswith(" --local")


def test_reasoning_repeated_whole_after_its_deltas_is_printed_once() -> None:
    err = shown(
        START,
        {"event": "reasoning_delta", "type": "reasoning_delta", "delta": "Look it "},
        {"event": "reasoning_delta", "type": "reasoning_delta", "delta": "up."},
        {"event": "chunk", "content": "Done."},
        {"event": "reasoning", "step": 1, "source": "thinking", "content": "Look it up."},
        {"event": "complete", "content": "Done.", "status": "completed"},
    )
    assert err.count("thinking: Look it up.") == 1


def test_a_citation_the_server_dropped_is_noted_not_reprinted() -> None:
    out, err = io.StringIO(), io.StringIO()
    view = TerminalView(out, err, Style(False), decide=lambda event: None)
    for text, mode in (("Refunds within 30 days ", "append"), ("[1][4].", "append")):
        view.show(make_event("content_delta", text=text, text_mode=mode), client=None)
    view.show(make_event("chunk", text="Refunds within 30 days [1].", text_mode="replace"), None)
    view.end_text()
    assert out.getvalue() == "Refunds within 30 days [1][4].\n"
    assert "(the server dropped unmatched citations [4])" in err.getvalue()
    assert "revised" not in err.getvalue()
