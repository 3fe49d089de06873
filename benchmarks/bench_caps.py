"""Benchmark: what a hostile server costs the client in memory, with the caps and without.

Run as a script: `python benchmarks/bench_caps.py [--bomb-mb 300] [--line-mb 100]`.
Each case runs in a fresh subprocess (peak RSS is per process) with a raw-socket peer in
a thread of that process, and prints the child's peak RSS and what it added over an idle
client (`baseline`: powawidget imported, a client made, no request):

  line default    a 100 MB event line that never ends, default caps (cut at 64 MB)
  line 1 MB       the same, POWABASE_MAX_EVENT_MB=1
  line uncapped   the same, a cap past the line (what the reader did before the cap)
  bomb default    a gzip bomb (300 MB of JSON whitespace) as list_agents(), default caps
                  (cut at the 128 MB answer cap)
  bomb 16 MB      the same, POWABASE_MAX_DECOMPRESSED_MB=16
  bomb requests   the same bomb read with requests' Response.json() (the first version)
  small events    10,000 small events through RunStream, default caps
  fairness        the local server: first byte of a small run while a 1 MB and a 10 MB
                  message are being read (the agent runs off the server's loop)

Exits 1 when a capped case ends without its TooLargeError, or adds more than 3x its cap.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MB = 1_000_000


def child(case: str, size_mb: int) -> None:
    """One case in this process; prints a JSON line with its outcome and peak RSS."""
    sys.path.insert(0, str(ROOT))
    import contextlib
    import resource
    import socket
    import threading
    import zlib

    from powawidget.wire.client import PowabaseClient
    from powawidget.wire.errors import TooLargeError

    def rss_mb() -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux

    def serve(answer: bytes, body: object) -> str:
        """A peer answering every request with `answer` headers, then `body` (bytes, or an
        iterator of chunks)."""
        listener = socket.create_server(("127.0.0.1", 0))

        def run() -> None:
            while True:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                with conn, contextlib.suppress(OSError):
                    data = b""
                    while b"\r\n\r\n" not in data:
                        data += conn.recv(65536)
                    conn.sendall(answer)
                    if isinstance(body, bytes):
                        conn.sendall(body)
                    else:
                        for chunk in body():  # type: ignore[operator]
                            conn.sendall(chunk)

        threading.Thread(target=run, daemon=True).start()
        return f"http://127.0.0.1:{listener.getsockname()[1]}"

    outcome = "ok"
    started = time.perf_counter()
    if case == "baseline":
        PowabaseClient("http://127.0.0.1:1", "key").close()
    elif case.startswith("line"):
        head = (
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
            b'data: {"event": "start"}\n\ndata: {"event": "content_delta", "delta": "'
        )

        def line() -> object:
            block = b"x" * 65536
            for _ in range(size_mb * MB // len(block)):
                yield block

        url = serve(head, line)
        with PowabaseClient(url, "key") as client:
            try:
                events = list(client.stream_run("agt_demo", "hi"))
                outcome = f"read to the end: {len(events)} events"
            except TooLargeError as error:
                outcome = f"TooLargeError {error.code} at {error.limit / MB:g} MB"
            except Exception as error:  # the uncapped reader: the line never ends
                outcome = f"{type(error).__name__}"
    elif case.startswith("bomb"):
        packer = zlib.compressobj(9, zlib.DEFLATED, 31)
        block = b" " * MB
        bomb = packer.compress(b'{"agents": [') + b"".join(
            packer.compress(block) for _ in range(size_mb)
        )
        bomb += packer.compress(b"]}") + packer.flush()
        head = (
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
            f"Content-Length: {len(bomb)}\r\nConnection: close\r\n\r\n"
        ).encode()
        url = serve(head, bomb)
        base = rss_mb()
        if case == "bomb requests":
            import requests

            answer = requests.get(url + "/api/agents", timeout=60)
            outcome = f"read {len(answer.json()['agents'])} agents"
        else:
            with PowabaseClient(url, "key") as client:
                try:
                    outcome = f"read {len(client.list_agents())} agents"
                except TooLargeError as error:
                    outcome = f"TooLargeError {error.code} at {error.limit / MB:g} MB"
        del base
    elif case == "small events":
        frames = [b'data: {"event": "start", "run_id": "run_1", "session_id": "sess_1"}\n\n']
        frames += [
            f'data: {{"event": "content_delta", "delta": "word {i} "}}\n\n'.encode()
            for i in range(10_000)
        ]
        frames.append(b'data: {"event": "complete", "status": "completed"}\n\n')
        body = b"".join(frames)
        head = (
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode()
        url = serve(head, body)
        with PowabaseClient(url, "key") as client:
            outcome = f"{len(list(client.stream_run('agt_demo', 'hi')))} events"
    seconds = time.perf_counter() - started
    print(json.dumps({"case": case, "outcome": outcome, "rss_mb": rss_mb(), "s": seconds}))


def fairness(sizes: list[int]) -> list[tuple[int, float]]:
    """Seconds to a small run's first byte while a message of each size is being read."""
    sys.path.insert(0, str(ROOT))
    import contextlib
    import tempfile
    import threading

    import httpx

    from powawidget.server import start_local_server

    results = []
    for size in sizes:
        with tempfile.TemporaryDirectory() as folder:
            server = start_local_server(delay=0.0, db_path=f"{folder}/fair.sqlite3")
            key = server.api_key
            headers = {"apikey": key, "Authorization": f"Bearer {key}"}
            url = f"{server.base_url}/api/agents/agt_demo/run/stream"

            def big(url: str = url, size: int = size, headers: dict = headers) -> None:
                with contextlib.suppress(httpx.HTTPError):
                    httpx.post(url, json={"message": "x" * size}, headers=headers, timeout=300)

            threading.Thread(target=big, daemon=True).start()
            time.sleep(0.5 + size / 20e6)  # the big body is in and being read
            started = time.monotonic()
            with httpx.stream("POST", url, json={"message": "hi"}, headers=headers) as answer:
                next(answer.iter_bytes())
                results.append((size, time.monotonic() - started))
            server.stop(timeout=1.0)
    return results


CASES = [
    ("baseline", {}, None),
    ("line default", {}, 64),
    ("line 1 MB", {"POWABASE_MAX_EVENT_MB": "1"}, 1),
    ("line uncapped", {"POWABASE_MAX_EVENT_MB": "100000"}, None),
    ("bomb default", {}, 128),
    ("bomb 16 MB", {"POWABASE_MAX_DECOMPRESSED_MB": "16"}, 16),
    ("bomb requests", {}, None),
    ("small events", {}, None),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--line-mb", type=int, default=100)
    parser.add_argument("--bomb-mb", type=int, default=300)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--no-fairness", action="store_true")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.size)
        return 0
    env = {k: v for k, v in os.environ.items() if not k.startswith("POWABASE_MAX_")}
    baseline = 0.0
    failed = False
    print(f"{'case':<15} {'peak RSS':>10} {'added':>9} {'time':>7}  outcome")
    for case, extra, cap in CASES:
        size = args.line_mb if case.startswith("line") else args.bomb_mb
        done = subprocess.run(
            [sys.executable, __file__, "--child", case, "--size", str(size)],
            env={**env, **extra},
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0:
            print(f"{case:<15} failed: {done.stderr.strip().splitlines()[-1:]}")
            failed = True
            continue
        result = json.loads(done.stdout.strip().splitlines()[-1])
        rss = result["rss_mb"]
        if case == "baseline":
            baseline = rss
        added = rss - baseline
        print(
            f"{case:<15} {rss:>7.0f} MB {added:>6.0f} MB {result['s']:>6.1f}s  {result['outcome']}"
        )
        if cap is not None and ("TooLargeError" not in result["outcome"] or added > 3 * cap + 10):
            print(f"  ^ missed: expected a TooLargeError adding at most ~3x {cap} MB")
            failed = True
    if not args.no_fairness:
        for size, seconds in fairness([1_000_000, 10_000_000]):
            print(f"fairness: first byte of a small run while {size / MB:g} MB is read: "
                  f"{seconds:.2f} s (target < 1 s)")  # fmt: skip
            failed |= seconds >= 1.0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
