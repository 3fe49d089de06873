"""The server as a process: start, reuse, stop, restart on the same database, die with its parent,
and the `powawidget serve` command."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest
from server_http import api

from powawidget.server import start_local_server
from powawidget.server.process import LOG_PREFIX, STALE_LOG_SECONDS, _remove_stale_logs
from powawidget.server.views import session_uuid


def gone(pid: int, timeout: float = 15.0) -> bool:
    """Whether the process exits (or is only a zombie) within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except FileNotFoundError:
            return True
        if "State:\tZ" in status:
            return True
        time.sleep(0.05)
    return False


def test_a_second_call_reuses_the_running_server(tmp_path):
    first = start_local_server(delay=0.0, db_path=str(tmp_path / "a.sqlite3"))
    try:
        again = start_local_server(delay=0.0, db_path=str(tmp_path / "a.sqlite3"))
        other = start_local_server(delay=0.01, db_path=str(tmp_path / "a.sqlite3"))
        try:
            assert again is first
            assert other.process.pid != first.process.pid
            assert first.base_url.startswith("http://127.0.0.1:")
            assert first.api_key != other.api_key, "a random key per start"
            assert first.start_seconds > 0
            assert first.api_key not in repr(first)
            # Its own session: a kernel interrupt (SIGINT to our group) does not reach it.
            assert os.getpgid(first.process.pid) != os.getpgid(0)
        finally:
            other.stop()
    finally:
        first.stop()
    assert first.process.poll() is not None
    assert not first.running()


def test_history_survives_a_restart_on_the_same_database(tmp_path):
    db = str(tmp_path / "history.sqlite3")
    server = start_local_server(delay=0.0, db_path=db, faults=True)
    with api(server) as client:
        response = client.post("/api/agents/fault_malformed/run", json={"message": "remember"})
        run = response.json()
    server.stop()

    restarted = start_local_server(delay=0.0, db_path=db, faults=True)
    try:
        assert restarted.process.pid != server.process.pid
        with api(restarted) as client:
            stored = client.get(f"/api/agents/runs/{run['run_id']}").json()
            messages = client.get(f"/api/sessions/{run['session_id']}/messages").json()["messages"]
            sessions = client.get("/api/agents/fault_malformed/sessions").json()["sessions"]
            agent = client.get("/api/agents/fault_malformed").json()
    finally:
        restarted.stop()
    assert stored == {**run, "session_id": session_uuid(run["session_id"])}
    assert [m["content"] for m in messages] == ["remember", "Before after."]
    assert [s["session_id"] for s in sessions] == [run["session_id"]]
    assert agent["total_runs"] == 1 and agent["session_count"] == 1


def test_a_run_cut_short_by_a_crash_is_failed_after_restart(tmp_path):
    db = str(tmp_path / "crash.sqlite3")
    server = start_local_server(delay=0.0, db_path=db, faults=True)
    with (
        api(server) as client,
        client.stream(
            "POST", "/api/agents/fault_stall/run/stream", json={"message": "stall 60"}
        ) as response,
    ):
        run_id = json.loads(next(response.iter_lines())[6:])["run_id"]
        server.process.kill()
        server.process.wait()
    server.stop()
    restarted = start_local_server(delay=0.0, db_path=db)
    try:
        with api(restarted) as client:
            run = client.get(f"/api/agents/runs/{run_id}").json()
    finally:
        restarted.stop()
    assert run["status"] == "failed"
    assert "stopped" in run["error"]


PARENT = textwrap.dedent(
    """
    import json, os, sys
    from powawidget.server import start_local_server
    server = start_local_server(delay=0.0, db_path=sys.argv[1])
    print(json.dumps({"pid": server.process.pid, "url": server.base_url,
                      "log": server.log_path}), flush=True)
    if sys.argv[2] == "crash":
        os._exit(0)  # no atexit: the child must notice its stdin closing
    if sys.argv[2] == "killed":
        os.kill(os.getpid(), 9)
    """
)


@pytest.mark.parametrize("ending", ["exit", "crash", "killed"])
def test_the_server_stops_when_its_parent_ends_and_leaves_no_log_file(tmp_path, ending):
    parent = subprocess.run(
        [sys.executable, "-c", PARENT, str(tmp_path / "p.sqlite3"), ending],
        capture_output=True,
        text=True,
        timeout=60,
    )
    child = json.loads(parent.stdout)
    assert gone(child["pid"]), "the server outlived its parent"
    with pytest.raises(httpx.TransportError):
        httpx.get(child["url"] + "/api/agents", timeout=2)
    assert child["log"] and not Path(child["log"]).exists(), "the empty log is cleaned up"


def test_a_stopped_server_leaves_no_log_file(tmp_path):
    server = start_local_server(delay=0.0, db_path=str(tmp_path / "l.sqlite3"))
    log = server.log_path
    assert log is not None and Path(log).exists()
    server.stop()
    assert not Path(log).exists()


def test_empty_logs_of_killed_servers_are_swept_on_the_next_start(tmp_path):
    old_empty = tmp_path / f"{LOG_PREFIX}old.log"
    old_full = tmp_path / f"{LOG_PREFIX}full.log"
    fresh = tmp_path / f"{LOG_PREFIX}fresh.log"
    other = tmp_path / "someone-else.log"
    for path in (old_empty, old_full, fresh, other):
        path.write_text("Traceback ...\n" if path is old_full else "")
    long_ago = time.time() - STALE_LOG_SECONDS - 60
    for path in (old_empty, old_full, other):
        os.utime(path, (long_ago, long_ago))
    assert _remove_stale_logs(str(tmp_path)) == 1
    assert not old_empty.exists()
    assert old_full.exists() and fresh.exists() and other.exists()


SERVE = (
    "import argparse, sys\n"
    "from powawidget.server import cli\n"
    "parser = argparse.ArgumentParser()\n"
    "cli.add_arguments(parser)\n"
    "sys.exit(cli.serve_main(parser.parse_args(sys.argv[1:])))\n"
)


def test_serve_prints_url_key_and_exports_serves_faults_on_request_and_stops_on_ctrl_c(
    tmp_path,
):
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            SERVE,
            "--port",
            "0",
            "--db",
            str(tmp_path / "s.sqlite3"),
            "--key",
            "sekrit",
            "--delay",
            "0",
            "--faults",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = []
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("Press Ctrl-C"):
                break
        text = "\n".join(lines)
        url = text.split("export POWABASE_BASE_URL=")[1].split()[0]
        assert "API key: sekrit" in text
        assert "export POWABASE_API_KEY=sekrit" in text
        assert url.startswith("http://127.0.0.1:") and not url.endswith(":0")
        answer = httpx.get(
            url + "/api/agents", headers={"apikey": "sekrit", "Authorization": "Bearer sekrit"}
        )
        assert answer.status_code == 200
        assert "fault_stall" in [agent["id"] for agent in answer.json()["agents"]], "--faults"
        process.send_signal(signal.SIGINT)
        assert process.wait(15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        assert process.stdout is not None and process.stderr is not None
        process.stdout.close()
        process.stderr.close()


def test_serve_refuses_a_port_in_use(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-c", SERVE, "--port", str(port), "--db", str(tmp_path / "t.sqlite3")],
            capture_output=True,
            text=True,
            timeout=30,
            env={**os.environ},
        )
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
