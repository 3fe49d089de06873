"""evaluate() throughput, cost and crash safety against the local server (prints numbers).

Per-run latency is fixed by `agt_slow_tool`: one tool call that takes exactly 300 ms, then a
one-line answer (server token delay 0). Each configuration runs in its own process so its
CPU time and peak RSS are its own:

- local pool at concurrency 1, 16, 64: wall time against the ideal (prompts × latency /
  concurrency), CPU seconds and peak memory per 1,000 runs, bytes the live panel would
  send over the comm (every message its comm publishes, logged here);
- the same through a 2-worker Dask LocalCluster (processes);
- a named peer: a hand-written `ThreadPoolExecutor` loop over `client.stream_run` at 64
  (no fold, no checkpoint, no panel) — what the server allows on this machine;
- crash: the evaluating process is SIGKILLed once half the runs are in the checkpoint, a
  second process resumes from it; the server's run count must grow by exactly N.

Concurrency 1 with 1,000 × 300 ms would take 5 minutes here, so it runs `--serial` prompts
(default 100) and is scaled per 1,000. Run: python benchmarks/bench_evaluate.py [--prompts N]
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
    """The named peer: a hand-written ThreadPoolExecutor loop over `client.stream_run`."""
    from concurrent.futures import ThreadPoolExecutor

    from powawidget.wire.client import PowabaseClient

    client = PowabaseClient()
    start = time.perf_counter()
    with ThreadPoolExecutor(args.concurrency) as pool:
        done = sum(pool.map(lambda i: len(list(client.stream_run(AGENT, f"Peer {i}"))) > 0,
                            range(args.n)))  # fmt: skip
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
    from powawidget import evaluate
    from powawidget.evaluation.panel import EvaluationPanel

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
        checkpoint=args.checkpoint,
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
        "unfinished": ev.progress["unfinished"],
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


def report(label: str, n: int, concurrency: int, r: dict) -> None:
    ideal = n * LATENCY / concurrency
    per = 1000 / n
    print(
        f"{label:<22} n={n:<5} wall {r['wall']:6.1f} s  ideal {ideal:6.1f} s  "
        f"ratio {r['wall'] / ideal:4.2f}  CPU/1k {r['cpu'] * per:5.1f} s  "
        f"peak RSS {r['rss_mb']:5.0f} MB  panel comm/1k {r['comm'] * per / 1024:6.0f} KiB  "
        f"completed {r['completed']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--dask", action="store_true")
    parser.add_argument("--peer", action="store_true")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--checkpoint", default=None)
    parser.add_argument("--prompts", type=int, default=1000)
    parser.add_argument("--serial", type=int, default=100)
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
        print(f"{AGENT}: {LATENCY * 1000:.0f} ms per run (a 300 ms tool); {os.cpu_count()} cores")
        if not args.crash_only:
            report("local, concurrency 1", args.serial, 1, measure(env, args.serial, 1))
            for c in (16, 64):
                report(f"local, concurrency {c}", n, c, measure(env, n, c))
            report("dask 2 workers, c=64", n, 64, measure(env, n, 64, "--dask"))
            report("peer: ThreadPool c=64", n, 64, measure(env, n, 64, "--peer"))

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
            f"crash at 50 %: server had seen {at_kill} runs at the kill; after resuming "
            f"{total} in total for {n} prompts (goal {n}); {resumed['completed']} completed, "
            f"{resumed['unfinished']} reported unfinished (started before the kill, not resent)"
        )
        server.stop()


if __name__ == "__main__":
    main()
