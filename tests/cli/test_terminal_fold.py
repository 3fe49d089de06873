"""`powawidget chat` prints what the fold made (docs/architecture.md): the same
`Conversation` the panel reads decides which call an approval gates, how it ended, the
tool's own time and its wait, the text rule and whether the run failed — the terminal only
prints it, as it arrives."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from powawidget.cli.printers import EXIT_FAILED, EXIT_OK, JsonLinesPrinter, Style, TerminalView
from powawidget.wire.events import EventNormaliser, make_event
from powawidget.wire.sse import ServerSentEvent

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "approval_streams.json"


def view() -> tuple[TerminalView, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    return TerminalView(out, err, Style(False), decide=lambda approval: None), out, err


def frames(kind: str) -> list[dict[str, Any]]:
    return next(s for s in json.loads(FIXTURES.read_text("utf-8")) if s["kind"] == kind)["events"]


def play(printer: TerminalView, raw: list[dict[str, Any]]) -> None:
    normaliser = EventNormaliser()
    for frame in raw:
        printer.show(normaliser.normalise(ServerSentEvent(data=json.dumps(frame))), None)
    printer.end_text()


def test_two_approvals_of_one_tool_print_each_calls_own_outcome_and_times() -> None:
    printer, out, err = view()
    play(printer, frames("two-approvals-one-tool"))
    lines = err.getvalue().splitlines()
    args = '{"order_id": "ORD-1042", "amount": 49}'
    assert lines[:10] == [
        "── step 1 ──",
        f"→ issue_refund({args})",
        f"? approval needed for issue_refund({args})",
        "  Refund $49 on ORD-1042?",
        "  approved (waited 12 s)",
        '← issue_refund (40 ms; waited 12 s for approval): {"refunded": 49}',
        f"→ issue_refund({args})",
        f"? approval needed for issue_refund({args})",
        "  Refund $49 on ORD-1042?",
        "  denied: already refunded (waited 3.0 s)",
    ]
    assert "Blocked by hook" not in err.getvalue()  # the denied call printed no result line
    assert out.getvalue() == "Refunded $49 once; the second refund was denied.\n"
    assert printer.exit_code == EXIT_OK


def test_an_approved_query_prints_its_own_time_not_the_wait() -> None:
    printer, _, err = view()
    play(printer, frames("approved-after-a-wait"))
    assert '← database_query (2 ms; waited 36 s for approval): [{"count": 1312}]' in err.getvalue()


def test_the_answer_streams_as_the_fold_grows_it() -> None:
    printer, out, _ = view()
    printer.show(make_event("start", run_id="run_1", text_mode=None), None)
    printer.show(make_event("content_delta", text="Hel", text_mode="append"), None)
    assert out.getvalue() == "Hel"  # on screen before the run ends
    printer.show(make_event("content_delta", text="lo.", text_mode="append"), None)
    assert out.getvalue() == "Hello."
    printer.show(
        make_event("complete", text="Hello.", text_mode="replace", status="completed"), None
    )
    printer.end_text()
    assert out.getvalue() == "Hello.\n"


def test_a_rewritten_answer_is_printed_once_at_the_end() -> None:
    printer, out, err = view()
    printer.show(make_event("content_delta", text="Draft", text_mode="append"), None)
    printer.show(
        make_event("complete", text="Final.", text_mode="replace", status="completed"), None
    )
    printer.end_text()
    assert out.getvalue() == "Draft\nFinal.\n"
    assert "(the server revised the answer:)" in err.getvalue()


def test_a_client_error_fails_the_run_in_both_printers() -> None:
    failure = make_event("client_error", error_message="the connection was lost mid-run")
    printer, _, err = view()
    printer.show(make_event("content_delta", text="Part", text_mode="append"), None)
    printer.show(failure, None)
    printer.end_text()
    assert printer.exit_code == EXIT_FAILED
    assert "error: the connection was lost mid-run" in err.getvalue()
    lines = JsonLinesPrinter(io.StringIO())
    lines.show(failure, None)
    assert lines.exit_code == EXIT_FAILED


def test_a_failure_before_the_first_event_is_printed_once() -> None:
    printer, _, err = view()
    printer.show(make_event("error", error_message="Session not found"), None)
    printer.show(make_event("complete", status="failed", error_message="Session not found"), None)
    printer.end_text()
    assert err.getvalue().count("Session not found") == 1
    assert printer.exit_code == EXIT_FAILED
