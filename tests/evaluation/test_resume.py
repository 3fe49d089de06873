"""Resume loses nothing: runs in flight when the client was killed are read back from the
server (never sent again); unsent ones, failed ones and damaged checkpoints."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from powawidget import evaluate, scorers
from powawidget.wire.config import ENV_API_KEY, ENV_BASE_URL

CLIENT = """
import json, sys
from powawidget import evaluate
prompts = json.loads(sys.argv[1])
ev = evaluate("agt_slow_tool", prompts, concurrency=4, checkpoint=sys.argv[2], display=False)
ev.wait()
"""


def questions(n: int) -> list[str]:
    tag = uuid.uuid4().hex[:6]
    return [f"How many Orbit Hubs are in stock? ({tag} {i})" for i in range(n)]


def records(path: Path) -> list[dict[str, Any]]:
    lines = path.read_bytes().split(b"\n") if path.exists() else []
    out = []
    for line in lines:
        try:
            out.append(json.loads(line))
        except ValueError:
            continue  # empty, or being written
    return out


def in_flight(path: Path) -> tuple[set[str], set[str], set[str]]:
    """Keys in the checkpoint: (started with a run id, not finished), finished, and sent
    with no run id back yet (the kill came between the request and its `start` event)."""
    started, sent, finished = set(), set(), set()
    for record in records(path):
        if record["type"] == "started":
            (started if record.get("run_id") else sent).add(record["key"])
        elif record["type"] == "finished":
            finished.add(record["key"])
    return started - finished, finished, sent - started - finished


def test_runs_in_flight_at_a_kill_are_recovered_from_the_server_not_resent(
    local_server: Any, tmp_path: Path, runs_seen: Any
) -> None:
    prompts = questions(12)
    checkpoint = tmp_path / "eval.jsonl"
    before = runs_seen(local_server, "agt_slow_tool")
    env = {
        **os.environ,
        ENV_BASE_URL: local_server.base_url,
        ENV_API_KEY: local_server.api_key,
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    client = subprocess.Popen(
        [sys.executable, "-c", CLIENT, json.dumps(prompts), str(checkpoint)], env=env
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            flying, finished, _ = in_flight(checkpoint)
            if len(flying) >= 2 and finished:
                break
            assert client.poll() is None, "the client ended before it could be killed"
            time.sleep(0.01)
        else:
            pytest.fail("no run was in flight within 60 s")
        client.send_signal(signal.SIGKILL)
        client.wait(10)
    finally:
        if client.poll() is None:
            client.kill()
    flying, finished, no_id = in_flight(checkpoint)
    run_ids = {r["key"]: r["run_id"] for r in records(checkpoint) if r.get("run_id")}
    time.sleep(0.3)  # a request that left just before the kill reaches the server
    sent_before = runs_seen(local_server, "agt_slow_tool") - before
    never_sent = 12 - len(flying) - len(finished) - len(no_id)

    ev = evaluate(
        "agt_slow_tool",
        prompts,
        concurrency=4,
        checkpoint=checkpoint,
        scorers=[scorers.regex("units in stock", name="counted")],
        display=False,
        base_url=local_server.base_url,
        api_key=local_server.api_key,
    )
    assert ev.wait(60)
    rows = ev.runs
    keys = [p.key for p in ev._prompts]
    # sent with no run id known: found among the agent's sessions if it reached the server,
    # else reported unfinished; never sent again
    statuses = [r["status"] for r in rows]
    assert all(s == "completed" for s, k in zip(statuses, keys, strict=True) if k not in no_id)
    assert all(s in ("completed", "unfinished") for s, k in zip(statuses, keys, strict=True))
    expected = statuses
    assert all(r["counted"] for r in rows if r["status"] == "completed")  # scored alike
    for key, row in zip(keys, rows, strict=True):
        if key in flying:  # recovered: the very run that was in flight, with its answer
            assert row["run_id"] == run_ids[key]
            assert "units in stock" in row["answer"] and row["tokens"]
            assert row["tool_names"] == ["check_stock"]
    recovered = [i for i, key in enumerate(keys) if key in flying]
    assert ev.run_events(recovered[0])  # the stored events came back too
    # nothing was sent twice: only the prompts never sent went out after the kill
    assert sent_before >= len(flying) + len(finished)
    assert runs_seen(local_server, "agt_slow_tool") - before == sent_before + never_sent
    assert statuses.count("completed") == sent_before + never_sent  # every run came back
    # and the checkpoint now holds every outcome: a third evaluation sends nothing
    again = evaluate(
        "agt_slow_tool", prompts, checkpoint=checkpoint, display=False,
        base_url=local_server.base_url, api_key=local_server.api_key,
    )  # fmt: skip
    assert again.wait(30) and [r["status"] for r in again.runs] == expected
    assert runs_seen(local_server, "agt_slow_tool") - before == sent_before + never_sent


def test_unsent_without_run_id_and_failed_are_resent_only_when_asked(
    connection: dict, local_server: Any, tmp_path: Path, runs_seen: Any
) -> None:
    prompts = questions(3)
    checkpoint = tmp_path / "eval.jsonl"
    first = evaluate("agt_demo", prompts[:1], checkpoint=checkpoint, display=False, **connection)
    assert first.wait(30)
    failed_row = {"prompt": prompts[1], "status": "failed", "error": "boom", "answer": ""}
    with checkpoint.open("a") as handle:  # #1 failed; #2 was sent, no run id came back
        handle.write(json.dumps({"type": "finished", "key": "#1", "row": failed_row}) + "\n")
        handle.write(json.dumps({"type": "started", "key": "#2", "prompt": prompts[2],
                                 "run_id": None, "session_id": None}) + "\n")  # fmt: skip
    before = runs_seen(local_server, "agt_demo")

    kept = evaluate("agt_demo", prompts, checkpoint=checkpoint, display=False, **connection)
    assert kept.wait(30)
    assert [r["status"] for r in kept.runs] == ["completed", "failed", "unfinished"]
    assert "retry_unfinished=True" in kept.runs[2]["error"]
    assert runs_seen(local_server, "agt_demo") == before

    failed = evaluate(
        "agt_demo", prompts, checkpoint=checkpoint, retry_failed=True, display=False,
        **connection,
    )  # fmt: skip
    assert failed.wait(30)
    assert [r["status"] for r in failed.runs] == ["completed", "completed", "unfinished"]
    assert runs_seen(local_server, "agt_demo") == before + 1

    unfinished = evaluate(
        "agt_demo", prompts, checkpoint=checkpoint, retry_unfinished=True, display=False,
        **connection,
    )  # fmt: skip
    assert unfinished.wait(30)
    assert [r["status"] for r in unfinished.runs] == ["completed"] * 3
    assert runs_seen(local_server, "agt_demo") == before + 2


def test_a_prompt_sent_with_no_run_id_back_is_found_among_the_agents_sessions(
    connection: dict, local_server: Any, tmp_path: Path, runs_seen: Any
) -> None:
    from powawidget.wire.client import PowabaseClient

    prompts = questions(2)  # both sent before the "crash"; only the first reached the server
    checkpoint = tmp_path / "eval.jsonl"
    sent_at = time.time()
    with PowabaseClient(**connection) as client:
        events = list(client.stream_run("agt_demo", prompts[0]))
    run_id = events[0]["run_id"]
    with checkpoint.open("w") as handle:
        for i, prompt in enumerate(prompts):
            handle.write(json.dumps({"type": "started", "key": f"#{i}", "prompt": prompt,
                                     "run_id": None, "session_id": None,
                                     "sent_at": sent_at}) + "\n")  # fmt: skip
    before = runs_seen(local_server, "agt_demo")
    ev = evaluate("agt_demo", prompts, checkpoint=checkpoint, display=False, **connection)
    assert ev.wait(30)
    first, second = ev.runs
    assert first["status"] == "completed" and first["run_id"] == run_id
    assert first["answer"] and first["tool_names"]  # read back from the stored run
    assert second["status"] == "unfinished" and "retry_unfinished=True" in second["error"]
    assert runs_seen(local_server, "agt_demo") == before  # nothing sent
    retried = evaluate(
        "agt_demo", prompts, checkpoint=checkpoint, retry_unfinished=True, display=False,
        **connection,
    )  # fmt: skip
    assert retried.wait(30)
    assert [r["status"] for r in retried.runs] == ["completed", "completed"]
    assert retried.runs[0]["run_id"] == run_id
    assert runs_seen(local_server, "agt_demo") == before + 1  # only the one that never left


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("[1, 2]", "[1, 2] is a JSON list, not a record object"),
        (
            '{"type": "finished", "key": "#0", "events": []}',
            "a 'finished' record of '#0' without 'row'",
        ),
        (
            '{"type": "finished", "key": "#0", "row": {"status": "completed"}, "events": "oops"}',
            "a 'finished' record of '#0' whose 'events' is \"oops\", not a list of events",
        ),
        ('{"type": "started", "key": 7, "prompt": "q"}', "without a prompt key"),
        ('{"type": "done", "key": "#0"}', "unknown record type 'done'"),
    ],
)
def test_a_damaged_checkpoint_line_is_reported_with_its_number(
    line: str, problem: str, tmp_path: Path
) -> None:
    checkpoint = tmp_path / "eval.jsonl"
    started = {"type": "started", "key": "#0", "prompt": "q", "run_id": None, "session_id": None}
    checkpoint.write_text(json.dumps(started) + "\n" + line + "\n")
    with pytest.raises(ValueError) as caught:
        evaluate("agt_demo", ["q"], checkpoint=checkpoint, display=False)
    message = str(caught.value)
    assert "eval.jsonl, line 2: " in message and problem in message
    assert "fix or delete that line" in message
