"""An orchestration's delegation in the panel: one card in the orchestrator's turn (agent,
task, live status, duration) that opens on the sub-agent's run drawn as a turn is drawn;
a failed child is a failed card; the footer says who spent which tokens. Screenshots light
and dark, from the recorded captures (tests/fixtures/orchestrations)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from slim_streams import client, normalise, paced, user

from powawidget.model.view import entries

pytestmark = pytest.mark.browser

FIXTURES = Path(__file__).parents[1] / "fixtures" / "orchestrations"


def frames(name: str) -> list[dict]:
    """The JSON frames of a recorded stream, in order."""
    text = (FIXTURES / name).read_text(encoding="utf-8")
    return [json.loads(b[len("data: ") :]) for b in text.split("\n\n") if b.startswith("data: ")]


def recorded(name: str, upto: int | None = None) -> list[dict]:
    """The user's question and the capture's events (the first `upto` frames), paced."""
    events = normalise(frames(name)[:upto])
    return paced([user("Which cities are biggest?"), *events], step_ms=60)


def shoot(chat, artifacts_dir: Path, theme: str, events: list[dict], path: str, **traits) -> None:
    chat.page.set_viewport_size({"width": 860, "height": 900})
    if theme == "dark":
        chat.page.evaluate("() => document.body.classList.add('host-dark')")
    chat.mount(theme=theme, session_id="orch_sess_79ea631d0227", **traits)
    chat.snapshot(events)
    chat.page.get_by_test_id("delegation-card").first.locator("summary").first.click()
    chat.settle()
    root = chat.page.get_by_test_id("chat")
    expect(root).to_have_attribute("data-theme", theme)
    root.screenshot(path=str(artifacts_dir / path))


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_a_live_delegation_opens_on_the_sub_agents_run(chat, artifacts_dir: Path, theme: str):
    # o11 up to the sub-agent's second delta: its tool ran, it is writing its answer.
    upto = next(
        n
        for n, f in enumerate(frames("o11_run_delegate_tool.sse"))
        if f.get("delta") == "Results: "
    )
    events = recorded("o11_run_delegate_tool.sse", upto + 1)
    path = f"front_delegation_live_{theme}.png"
    shoot(chat, artifacts_dir, theme, events, path, status="streaming")
    card = chat.page.get_by_test_id("delegation-card")
    expect(card).to_have_count(1)
    expect(card).to_have_attribute("data-status", "running")
    expect(card.get_by_test_id("delegation-agent")).to_have_text("tools-agent")
    expect(card.get_by_test_id("delegation-status")).to_have_text("working")
    expect(card.get_by_test_id("delegation-task")).to_contain_text("Find the two biggest cities")
    nested = card.get_by_test_id("tool-card")
    expect(nested).to_have_count(1)
    expect(nested.get_by_test_id("tool-name")).to_have_text("database_query")
    expect(card.get_by_test_id("assistant-text")).to_contain_text("I looked it up. Results:")
    # The orchestrator's delegate call is the card, not a second tool card outside it.
    expect(chat.page.locator("[data-tool-name='delegate_to_tools-agent']")).to_have_count(0)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_a_finished_delegation_and_the_footer_per_agent(chat, artifacts_dir: Path, theme: str):
    events = recorded("o11_run_delegate_tool.sse")
    shoot(chat, artifacts_dir, theme, events, f"front_delegation_done_{theme}.png")
    card = chat.page.get_by_test_id("delegation-card")
    expect(card).to_have_attribute("data-status", "completed")
    expect(card.get_by_test_id("delegation-status")).to_have_text("done")
    expect(card.get_by_test_id("delegation-duration")).not_to_have_text("")
    expect(card.get_by_test_id("delegation-usage")).to_contain_text("2 steps")
    turn = chat.page.get_by_test_id("turn")
    # The orchestrator's own answer once, not the server's glued text.
    own = ":scope > .pw-msg-assistant > .pw-assistant-body > .pw-items > "
    answer = turn.locator(own + "[data-testid='assistant-text']")
    expect(answer).to_have_count(1)
    expect(answer).to_contain_text("I looked it up. Results: I looked it up.")
    expect(answer).not_to_contain_text("Done.I looked it up")
    expect(turn.get_by_test_id("turn-usage")).to_have_text(
        "city-desk 301 tokens · tools-agent 301 tokens · total 602 tokens (520 in · 82 out)"
    )


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_a_failed_child_is_a_failed_card_in_a_completed_turn(chat, artifacts_dir: Path, theme: str):
    events = recorded("o22_run_subagent_fail_500.rebuilt.sse")
    shoot(chat, artifacts_dir, theme, events, f"front_delegation_failed_{theme}.png")
    card = chat.page.get_by_test_id("delegation-card")
    expect(card).to_have_attribute("data-status", "failed")
    expect(card.get_by_test_id("delegation-status")).to_have_text("failed")
    expect(card.get_by_test_id("delegation-error")).to_have_text(
        "Errorlitellm.InternalServerError: InternalServerError: OpenAIException"
        " - Internal error (stub)"
    )
    expect(chat.page.get_by_test_id("turn")).to_have_attribute("data-status", "completed")


def test_a_sub_agent_streams_into_its_open_card(chat):
    """Patches (run-text ops) grow the sub-agent's answer inside the open card."""
    events = recorded("o11_run_delegate_tool.sse")
    first = next(n for n, e in enumerate(events) if e["event"] == "content_delta")
    done = next(n for n, e in enumerate(events) if e["event"] == "delegation_completed")
    chat.mount(status="streaming")
    chat.snapshot(events[: first + 1])
    chat.page.get_by_test_id("delegation-card").locator("summary").first.click()
    for event in events[first + 1 : done]:
        chat.events([event])
    chat.settle()
    card = chat.page.get_by_test_id("delegation-card")
    expect(card.get_by_test_id("assistant-text")).to_contain_text("Osaka")
    expect(card.get_by_test_id("assistant-text")).to_contain_text("Done.")
    expect(card).to_have_attribute("data-status", "running")
    chat.events(events[done:])
    chat.settle()
    expect(card).to_have_attribute("data-status", "completed")


def test_a_real_orchestration_run_of_the_local_server(chat, client, artifacts_dir: Path):
    """orch_demo over HTTP: the sub-agent's thinking, parallel tool cards and Markdown
    answer inside the open card; the supervisor's short answer under it."""
    from powawidget.session.chat import ChatSession

    session = ChatSession(client, orchestration_id="orch_demo")
    try:
        session.send("Which plan fits a team of 40 people?")
        assert session.wait(30)
        events = session.events
    finally:
        session.close()
    chat.page.set_viewport_size({"width": 860, "height": 1100})
    chat.mount(session_id=events[-1]["session_id"])
    chat.snapshot(events)
    chat.page.get_by_test_id("delegation-card").locator("summary").first.click()
    chat.settle()
    card = chat.page.get_by_test_id("delegation-card")
    expect(card.get_by_test_id("tool-card")).to_have_count(2)
    expect(card.locator("table, ul").first).to_be_visible()  # the answer as Markdown
    expect(card).to_have_attribute("data-status", "completed")
    chat.page.get_by_test_id("chat").screenshot(
        path=str(artifacts_dir / "front_delegation_real_light.png")
    )


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_a_failed_card_at_380px_names_its_agent_whole_and_says_the_error_in_its_body(
    chat, artifacts_dir: Path, theme: str
):
    """The header keeps the agent's name whole and a short status; the long error text
    reads in the body, under the task (not squeezed into the header row)."""
    chat.page.set_viewport_size({"width": 380, "height": 760})
    if theme == "dark":
        chat.page.evaluate("() => document.body.classList.add('host-dark')")
    chat.mount(theme=theme, session_id="orch_sess_79ea631d0227")
    chat.snapshot(recorded("o22_run_subagent_fail_500.rebuilt.sse"))
    card = chat.page.get_by_test_id("delegation-card")
    summary = card.locator("summary").first
    agent = card.get_by_test_id("delegation-agent")
    expect(agent).to_have_text("tools-agent")
    whole = agent.evaluate("el => el.scrollWidth <= el.clientWidth && el.clientWidth > 0")
    assert whole, "the agent's name is cut in the header"
    status = card.get_by_test_id("delegation-status")
    expect(status).to_have_text("failed")
    same_row = status.evaluate(  # the short status stays on the name's row
        """el => Math.abs(el.getBoundingClientRect().top - el.closest('summary')
          .querySelector('[data-testid=delegation-agent]').getBoundingClientRect().top) < 8"""
    )
    assert same_row, "the status wrapped under the name"
    expect(summary).not_to_contain_text("InternalServerError")
    summary.click()
    chat.settle()
    error = card.get_by_test_id("delegation-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text(
        "litellm.InternalServerError: InternalServerError: OpenAIException - Internal error (stub)"
    )
    below = card.evaluate(
        """el => {
          const task = el.querySelector('[data-testid=delegation-task]');
          const error = el.querySelector('[data-testid=delegation-error]');
          return task.getBoundingClientRect().bottom <= error.getBoundingClientRect().top;
        }"""
    )
    assert below, "the error reads under the task"
    fits = error.evaluate("el => el.scrollWidth <= el.clientWidth")
    assert fits, "the error text wraps inside the card"
    usage = chat.page.get_by_test_id("turn-usage")
    expect(usage).to_contain_text("total 301 tokens (260 in · 41 out)")
    inside = usage.evaluate(
        """el => el.getBoundingClientRect().right <=
          el.closest('[data-testid=turn]').getBoundingClientRect().right + 0.5"""
    )
    assert inside, "the turn's usage line wraps inside the panel"
    chat.page.get_by_test_id("chat").screenshot(
        path=str(artifacts_dir / f"front_delegation_failed_380_{theme}.png")
    )


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_a_delegation_stopped_mid_answer(chat, artifacts_dir: Path, theme: str):
    """Stopped while the sub-agent writes: the card says stopped (not failed), keeps every
    word received, and no spinner is left turning anywhere."""
    upto = next(
        n
        for n, f in enumerate(frames("o11_run_delegate_tool.sse"))
        if f.get("delta") == "Results: "
    )
    events = normalise(frames("o11_run_delegate_tool.sse")[: upto + 1])
    events = paced([user("Which cities are biggest?"), *events, client("stopped")], step_ms=60)
    shoot(chat, artifacts_dir, theme, events, f"front_delegation_stopped_{theme}.png")
    card = chat.page.get_by_test_id("delegation-card")
    expect(card).to_have_attribute("data-status", "stopped")
    status = card.get_by_test_id("delegation-status")
    expect(status).to_have_text("stopped")
    note = chat.page.get_by_test_id("stopped-note")
    amber = note.evaluate("el => getComputedStyle(el).color")
    assert status.evaluate("el => getComputedStyle(el).color") == amber  # not a failure's red
    border = card.evaluate("el => getComputedStyle(el).borderLeftColor")
    assert border == amber
    expect(card.get_by_test_id("delegation-error")).to_be_hidden()
    expect(card.get_by_test_id("assistant-text")).to_have_text("I looked it up. Results:")
    expect(chat.page.get_by_test_id("turn")).to_have_attribute("data-status", "stopped")


def test_a_long_agent_name_wraps_whole_at_380px_and_keeps_the_status_in_view(
    chat, artifacts_dir: Path
):
    name = "europe-population-research-agent-with-a-rather-long-name"
    raw = [
        {**f, "agent": name} if f.get("event", "").startswith("delegation_") else f
        for f in frames("o22_run_subagent_fail_500.rebuilt.sse")
    ]
    chat.page.set_viewport_size({"width": 380, "height": 760})
    chat.mount(session_id="orch_sess_79ea631d0227")
    chat.snapshot(paced([user("Which cities are biggest?"), *normalise(raw)], step_ms=60))
    card = chat.page.get_by_test_id("delegation-card")
    agent = card.get_by_test_id("delegation-agent")
    expect(agent).to_have_text(name)
    assert agent.evaluate("el => el.scrollWidth <= el.clientWidth"), "the name is cut"
    status = card.get_by_test_id("delegation-status")
    expect(status).to_have_text("failed")
    inside = status.evaluate(
        """el => el.getBoundingClientRect().right <=
          el.closest('[data-testid=delegation-card]').getBoundingClientRect().right"""
    )
    assert inside, "the status chip is pushed out of the card"
    chat.page.get_by_test_id("chat").screenshot(
        path=str(artifacts_dir / "front_delegation_long_name_380.png")
    )


def test_a_delegation_card_shows_pythons_duration_once_it_ended_as_a_tool_card_does(chat):
    """A running delegation shows no time of its own (its start is weeks old here), like the
    running tool card inside it; the run's one live clock is the status line's. Once ended
    it shows the duration Python decided, to the digit."""
    events = recorded("o11_run_delegate_tool.sse")
    done = next(n for n, e in enumerate(events) if e["event"] == "delegation_completed")
    chat.mount(status="streaming")
    chat.snapshot(events[:done])
    chat.settle()
    card = chat.page.get_by_test_id("delegation-card")
    expect(card).to_have_attribute("data-status", "running")
    expect(card.get_by_test_id("delegation-duration")).to_have_text("")
    chat.events(events[done:])
    chat.settle()
    expect(card).to_have_attribute("data-status", "completed")
    (ms,) = [
        item["durationMs"]
        for entry in entries(chat.conversation)
        for item in entry.get("items", [])
        if item.get("kind") == "delegation"
    ]
    assert ms is not None and ms < 10_000  # paced 60 ms apart: "199 ms" or "1.4 s"
    shown = f"{round(ms)} ms" if ms < 1000 else f"{ms / 1000:.1f} s"
    expect(card.get_by_test_id("delegation-duration")).to_have_text(shown)


def test_the_panel_derives_no_duration_from_timestamps():
    """Durations are Python's (docs/architecture.md): no render module reads a start time
    to compute one (the status line's clock counts from when the panel saw the run go busy)."""
    render = Path(__file__).parents[2] / "js" / "src" / "render"
    entry_times = re.compile(r"\bit\.(startedAt|endedAt)\b")  # an item's times, from Python
    readers = [p.name for p in sorted(render.glob("*.js")) if entry_times.search(p.read_text())]
    assert readers == [], readers
