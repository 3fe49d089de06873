"""evaluate() throughput, cost, memory and crash safety against the local server.

Per-run latency is fixed by `agt_slow_tool`: one tool call that takes exactly 300 ms, then a
one-line answer (server token delay 0). Each configuration runs in its own process so its
CPU time and peak RSS are its own:

- evaluate() (scored by one scorer, with the live panel's comm logged) at concurrency 16,
  64 and 256, each beside the named peer at the same concurrency in the same run: a plain
  `ThreadPoolExecutor` + `requests` loop reading every SSE line (no parser, no fold, no
  checkpoint, no panel) — what the server and this machine allow. Printed: wall time
  against the ideal (prompts × latency / concurrency), evaluate/peer, CPU seconds per
  1,000 runs, peak RSS;
- memory: peak RSS for `--big` prompts (default 10,000) at concurrency 256 against 1,000,
  as MB per 1,000 runs beyond the first thousand (the goal: flat, <= 10 MB);
- crash: the evaluating process is SIGKILLed once half the runs are in the checkpoint, a
  second process resumes from it: runs in flight are read back from the server (by run id,
  or found among the agent's sessions), so nothing is sent twice and only a prompt the
  server never got comes back unfinished.
`--dask` adds a 2-worker Dask LocalCluster at 64; `--serial N` adds concurrency 1.

The machine's load is printed first and last (the numbers are only comparable within a
run). Run: python benchmarks/bench_evaluate.py [--prompts N] [--big N]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LATENCY = 0.3
AGENT = "agt_slow_tool"


def peer(args: argparse.Namespace) -> None:
    """The named peer: a plain ThreadPoolExecutor + requests loop over the SSE endpoint."""
    from concurrent.futures import ThreadPoolExecutor

    import requests
    from requests.adapters import HTTPAdapter

    base, key = os.environ["POWABASE_BASE_URL"], os.environ["POWABASE_API_KEY"]
    session = requests.Session()
    session.mount("http://", HTTPAdapter(pool_maxsize=args.concurrency))
    session.headers.update({"apikey": key, "Authorization": f"Bearer {key}"})
    url = f"{base}/api/agents/{AGENT}/run/stream"

    def one(i: int) -> bool:
        with session.post(url, json={"message": f"Peer {i}"}, stream=True) as response:
            lines = [line for line in response.iter_lines() if line]
        return response.status_code == 200 and any(b'"complete"' in line for line in lines)

    start = time.perf_counter()
    with ThreadPoolExecutor(args.concurrency) as pool:
        done = sum(pool.map(one, range(args.n)))
    wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({
        "wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024,
        "comm": 0, "completed": done, "unfinished": 0,
    }), flush=True)  # fmt: skip


def log_comm_bytes() -> list[int]:
    """From now on, every widget comm (no kernel here) adds what it publishes to the total."""
    import comm

    total = [0]

    class LoggingComm(comm.DummyComm):
        def publish_msg(self, msg_type: str, data: object = None, *_: object, **__: object) -> None:
            total[0] += len(json.dumps(data, default=str))

    comm.create_comm = LoggingComm
    return total


def child(args: argparse.Namespace) -> None:
    """In a fresh process: one evaluation, then its numbers as one JSON line."""
    from powawidget import evaluate, scorers
    from powawidget.notebook.evaluation_panel import EvaluationPanel

    prompts = [f"Stock check {i}" for i in range(args.n)]
    executor = cluster = None
    if args.dask:
        from distributed import Client, LocalCluster

        cluster = LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None)
        executor = Client(cluster)
    comm_bytes = log_comm_bytes()
    start = time.perf_counter()
    ev = evaluate(
        AGENT, prompts, concurrency=args.concurrency, executor=executor, display=False,
        checkpoint=args.checkpoint, scorers=[scorers.regex("units in stock")],
    )  # fmt: skip
    panel = EvaluationPanel(ev)
    opened = comm_bytes[0]  # the panel's comm_open (the bundle) is not what a run costs
    ev.wait()
    panel.flush()
    wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({
        "wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024,
        "comm": comm_bytes[0] - opened, "completed": ev.progress["completed"],
        "unfinished": ev.progress["unfinished"], "passed": ev.progress["passed"],
    }), flush=True)  # fmt: skip
    if executor is not None:
        executor.close()
        cluster.close()


def spawn(env: dict, n: int, concurrency: int, *extra: str) -> subprocess.Popen:
    cmd = [sys.executable, __file__, "--child", "--n", str(n), "--concurrency", str(concurrency)]
    return subprocess.Popen([*cmd, *extra], env=env, stdout=subprocess.PIPE, text=True)


def measure(env: dict, n: int, concurrency: int, *extra: str) -> dict:
    out, _ = spawn(env, n, concurrency, *extra).communicate()
    return json.loads(out.strip().splitlines()[-1])


def runs_seen(server) -> int:
    from powawidget.wire.client import PowabaseClient

    with PowabaseClient(server.base_url, server.api_key) as client:
        return next(a["total_runs"] for a in client.list_agents() if a["id"] == AGENT)


def report(label: str, n: int, concurrency: int, r: dict, peer: dict | None = None) -> None:
    ideal = n * LATENCY / concurrency
    per = 1000 / n
    versus = f"  vs peer {r['wall'] / peer['wall']:4.2f}x" if peer else ""
    comm = f"  panel comm/1k {r['comm'] * per / 1024:5.0f} KiB" if r["comm"] else ""
    print(
        f"{label:<24} n={n:<6} wall {r['wall']:6.1f} s  ideal {ideal:6.1f} s  "
        f"wall/ideal {r['wall'] / ideal:4.2f}{versus}  CPU/1k {r['cpu'] * per:5.1f} s  "
        f"peak RSS {r['rss_mb']:5.0f} MB{comm}  completed {r['completed']}",
        flush=True,
    )


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--dask", action="store_true")
    parser.add_argument("--peer", action="store_true")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--checkpoint", default=None)
    parser.add_argument("--prompts", type=int, default=1000)
    parser.add_argument("--big", type=int, default=10000)
    parser.add_argument("--serial", type=int, default=0)
    parser.add_argument("--crash-only", action="store_true")
    args = parser.parse_args()
    if args.child:
        peer(args) if args.peer else child(args)
        return
    from powawidget.server import start_local_server

    with tempfile.TemporaryDirectory() as tmp:
        server = start_local_server(delay=0.0, db_path=str(Path(tmp) / "bench.sqlite3"))
        env = {k: v for k, v in os.environ.items() if not k.startswith("POWABASE_")}
        env.update(POWABASE_BASE_URL=server.base_url, POWABASE_API_KEY=server.api_key)
        n = args.prompts
        print(f"{AGENT}: {LATENCY * 1000:.0f} ms per run (a 300 ms tool); {load()}")
        if not args.crash_only:
            if args.serial:
                report("evaluate, c=1", args.serial, 1, measure(env, args.serial, 1))
            small = None
            for c in (16, 64, 256):
                other = measure(env, n, c, "--peer")
                ours = measure(env, n, c)
                small = ours if c == 256 else small
                report(f"evaluate, c={c}", n, c, ours, other)
                report(f"peer: pool+requests c={c}", n, c, other)
            if args.dask:
                report("dask 2 workers, c=64", n, 64, measure(env, n, 64, "--dask"))
            big = measure(env, args.big, 256)
            report("evaluate, c=256", args.big, 256, big)
            assert small is not None
            extra = (big["rss_mb"] - small["rss_mb"]) / ((args.big - n) / 1000)
            print(
                f"memory: peak RSS {small['rss_mb']:.0f} MB for {n} runs, {big['rss_mb']:.0f} MB "
                f"for {args.big}: {extra:.1f} MB per 1,000 runs beyond the first {n} (goal <= 10)"
            )

        checkpoint = str(Path(tmp) / "crash.jsonl")
        before = runs_seen(server)
        proc = spawn(env, n, 64, "--checkpoint", checkpoint)
        while True:
            time.sleep(0.05)
            text = Path(checkpoint).read_text() if Path(checkpoint).exists() else ""
            if text.count('"type": "finished"') >= n // 2:
                break
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        at_kill = runs_seen(server) - before
        resumed = measure(env, n, 64, "--checkpoint", checkpoint)
        total = runs_seen(server) - before
        print(
            f"crash at 50 %: the server had seen {at_kill} runs at the kill; after resuming "
            f"{total} in total for {n} prompts (goal {n}); {resumed['completed']} completed, "
            f"{resumed['unfinished']} unfinished (sent before the kill; the server never got them)"
        )
        print(f"end: {load()}")
        server.stop()


if __name__ == "__main__":
    main()
