"""The local server answers every REST endpoint in the real backend's shapes: its keys and
their JSON types (not values), held to the real server's recorded answers
(tests/fixtures/powabase_rest/, copied from the Powabase evidence; see its README)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests

from powawidget.server import start_local_server
from powawidget.wire.client import PowabaseClient

REST = Path(__file__).resolve().parent.parent / "fixtures" / "powabase_rest"

LOCAL_EXTRAS = {
    "$.agents[].uuid": "agents also have readable ids here (agt_demo): this is the UUID",
    "$.agents[].slug": "the readable id itself, which the local server also accepts",
    "$.agents[].description": "the demo agents say what each one shows",
    # The recorded runs cannot show these either way (a model with no prompt caching, no
    # thinking); the local server keeps the stream's fields (docs/protocol.md).
    "$.usage.cache_creation_tokens": "the stream's usage count, kept as the stream sends it",
    "$.runs[].usage.cache_creation_tokens": "the same, in a listed run",
    "$.reasoning_steps[].source": "a thinking step says so, as the stream's `reasoning` does",
    "$.runs[].reasoning_steps[].source": "the same, in a listed run",
}
"""Keys only the local server sends, each with why; anything else extra is a failure."""

FREE_FORM = ("settings", "arguments", "tool_input")
"""Objects whose keys are an agent's configuration or a tool's arguments, not the API's."""


def kind(value: Any) -> str:
    """The JSON type of a value (int and float are both numbers)."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return {str: "string", list: "array", dict: "object"}.get(type(value), "null")


def mismatches(real: Any, ours: Any, path: str = "$") -> list[str]:
    """Where `ours` differs from `real` in keys or types (null matches any type: one recording
    cannot show every type a nullable field takes)."""
    if real is None or ours is None:
        return []
    if kind(real) != kind(ours):
        return [f"{path}: {kind(ours)}, the real server sends {kind(real)}"]
    if isinstance(real, dict):
        if path.rsplit(".", 1)[-1] in FREE_FORM:
            return []
        found = [f"{path}.{k}: missing" for k in real if k not in ours]
        found += [f"{path}.{k}: extra" for k in ours if k not in real]
        found = [f for f in found if f.rsplit(":", 1)[0] not in LOCAL_EXTRAS]
        for key in real.keys() & ours.keys():
            found += mismatches(real[key], ours[key], f"{path}.{key}")
        return found
    if isinstance(real, list) and real and ours:
        return list_mismatches(real, ours, f"{path}[]")
    return []


def list_mismatches(real: list[Any], ours: list[Any], path: str) -> list[str]:
    """Stored events are compared type by type; other lists of objects element by element
    against the keys every real element has (required) and any has (allowed)."""
    if not all(isinstance(x, dict) for x in real + ours):
        return mismatches(real[0], ours[0], path)
    if all("type" in x for x in real + ours):
        found = []
        for name in sorted({x["type"] for x in real} & {x["type"] for x in ours}):
            first_real = next(x for x in real if x["type"] == name)
            first_ours = next(x for x in ours if x["type"] == name)
            found += mismatches(first_real, first_ours, f"{path}<{name}>")
        return found
    required = set.intersection(*(set(x) for x in real))
    allowed = set.union(*(set(x) for x in real))
    found = []
    for element in ours:
        found += [f"{path}.{k}: missing" for k in sorted(required - set(element))]
        found += [
            f"{path}.{k}: extra"
            for k in sorted(set(element) - allowed)
            if f"{path}.{k}" not in LOCAL_EXTRAS
        ]
        for key in element.keys() & allowed:
            sample = next(x[key] for x in real if key in x)
            found += mismatches(sample, element[key], f"{path}.{key}")
    return sorted(set(found))


@pytest.fixture(scope="module")
def answers() -> dict[str, Any]:
    """The local server's answers to the recorded requests, after two tool runs in a session
    and a denied approval."""
    server = start_local_server()
    client = PowabaseClient(server.base_url, server.api_key)
    headers = {"Authorization": f"Bearer {server.api_key}", "apikey": server.api_key}

    def get(path: str) -> Any:
        answer = requests.get(server.base_url + path, headers=headers, timeout=30)
        assert answer.status_code == 200, (path, answer.text)
        return answer.json()

    try:
        events = list(client.stream_run("agt_demo", "How much is the cheapest kettle?"))
        session = next(e["session_id"] for e in events if e.get("session_id"))
        list(client.stream_run("agt_demo", "and the most expensive one?", session_id=session))
        denied = None
        for event in client.stream_run("agt_approval", "Please refund order ORD-1042"):
            if event["event"] == "approval_requested":
                denied = event["run_id"]
                client.approve(denied, False, reason="not today")
        assert denied, "agt_approval asked for no approval"
        return {
            "agents_list.json": get("/api/agents"),
            "agent_sessions.json": get("/api/agents/agt_demo/sessions"),
            "session_messages.json": get(f"/api/sessions/{session}/messages"),
            "session_messages_unknown.json": get("/api/sessions/sess_000000000000/messages"),
            "session_runs.json": get(f"/api/sessions/{session}/runs"),
            "run_denied_approval.json": get(f"/api/agents/runs/{denied}"),
        }
    finally:
        client.close()
        server.stop()


@pytest.mark.parametrize("name", sorted(p.name for p in REST.glob("*.json")))
def test_the_local_server_answers_in_the_real_shape(name: str, answers: dict[str, Any]) -> None:
    real = json.loads((REST / name).read_text("utf-8"))
    assert mismatches(real, answers[name]) == []


def test_the_contract_notices_a_bare_list_and_a_missing_key() -> None:
    real = json.loads((REST / "session_runs.json").read_text("utf-8"))
    assert mismatches(real, real["runs"]) == ["$: array, the real server sends object"]
    run = {k: v for k, v in real["runs"][0].items() if k != "started_at"}
    found = mismatches(real, {**real, "runs": [run]})
    assert found == ["$.runs[].started_at: missing"]
