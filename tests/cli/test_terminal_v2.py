"""`powawidget chat` on the v2 local server: approval outcomes from the server's
hook_result, numbered sources after a cited answer, stored usage for agents without tools."""

from __future__ import annotations

from typing import Any

import pytest
from test_terminal import chat_here


def test_a_denial_shows_the_servers_words(
    local_server: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    message = "please do the thing that needs approval"
    code, _, err = chat_here(local_server, monkeypatch, capsys, "agt_approval", message, "--deny")
    assert code == 0, err
    lines = err.splitlines()
    sent = lines.index("  sent: deny (denied with --deny)")
    assert lines[sent + 1].startswith("  denied: denied with --deny (waited ")


def test_a_cited_answer_lists_its_sources(
    local_server: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ("agt_citations", "What is the refund policy?")
    code, out, err = chat_here(local_server, monkeypatch, capsys, *args)
    assert code == 0, err
    assert "[1]" in out
    assert "sources:\n  [1] policies/refund.md: " in err


def test_an_agent_without_tools_still_shows_usage(
    local_server: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = chat_here(local_server, monkeypatch, capsys, "agt_plain", "hello")
    assert code == 0, err
    assert "usage: " in err and " tokens" in err


def test_chat_runs_an_orchestration_and_marks_each_delegation(capsys) -> None:
    """`powawidget chat --local --orchestration orch_demo "…"`: the sub-agent's work between
    a ⇢ and a ⇠ line, and a continue hint that names the orchestration."""
    from powawidget.cli.main import main

    code = main(
        ["chat", "--local", "--orchestration", "orch_demo", "What does the refund policy say?"]
    )
    out, err = capsys.readouterr()
    assert code == 0
    assert "⇢ agt_demo: What does the refund policy say?" in out + err
    assert "⇠ agt_demo completed" in out + err
    assert "powawidget chat --orchestration orch_demo" in err
    assert main(["chat", "--local", "--orchestration", "orch_demo", "agt_demo", "hi"]) != 0
    assert "not both" in capsys.readouterr().err
