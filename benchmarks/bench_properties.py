"""What issue 15's one door costs: the normaliser's speed on odd and plain frames, and how
long the property tests of every sink take.

Run: .venv/bin/python benchmarks/bench_properties.py [--streams N]

1. The normaliser on a 10,000-delta stream (server dialect, as Python's json.dumps writes
   it), events per second, best CPU time of several rounds: plain ASCII deltas, deltas with
   emoji (surrogate-pair escapes: the frame is checked for a lone half), and the same
   stream with every frame odd (a lone surrogate, NaN usage, a 400-digit step): the rare
   path. Peer: `json.loads` of each payload, the floor no JSON reader beats.
2. The property tests (tests/outputs/test_every_sink.py): generated streams and wall time,
   run as pytest runs them (goal: ≥ 2,000 streams, under a minute).
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
sys.path.insert(0, str(ROOT))

from powawidget.wire.events import EventNormaliser  # noqa: E402
from powawidget.wire.sse import ServerSentEvent  # noqa: E402

DELTAS = 10_000
ROUNDS = 15


def stream(delta: str, odd: bool = False) -> list[ServerSentEvent]:
    """A start and 10,000 content deltas, as the server frames them."""
    frames = [json.dumps({"event": "start", "run_id": "run_1", "session_id": "sess_1"})]
    for seq in range(DELTAS):
        body: dict[str, object] = {"event": "content_delta", "delta": delta, "type": "x"}
        body.update(seq=seq, ts="2026-11-24T08:00:00.123456+00:00")
        if odd:
            body.update(step=10**400, usage={"prompt_tokens": float("nan")})
        frames.append(json.dumps(body))
    return [ServerSentEvent(data=f) for f in frames]


def best(run: object, events: list[ServerSentEvent]) -> float:
    """Best CPU seconds of ROUNDS runs of `run(events)`."""
    times = []
    for _ in range(ROUNDS):
        started = time.process_time()
        run(events)  # type: ignore[operator]
        times.append(time.process_time() - started)
    return min(times)


def normalise_all(events: list[ServerSentEvent]) -> None:
    normalise = EventNormaliser(clock=lambda: 1.0).normalise
    for sse in events:
        normalise(sse)


def loads_all(events: list[ServerSentEvent]) -> None:
    loads = json.loads
    for sse in events:
        loads(sse.data)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=2_000)
    args = parser.parse_args()

    print(f"1. The normaliser on {DELTAS:,} deltas (best CPU time of {ROUNDS} rounds)")
    print(f"{'':40}{'events/s':>12}{'µs/event':>10}{'× json.loads':>14}")
    for label, delta, odd in (
        ("plain ASCII deltas", "the ", False),
        ("emoji deltas (pair escapes)", "café 😀 ", False),
        ("every frame odd (\\ud83d, NaN, 10**400)", "x\ud83dy", True),
    ):
        events = stream(delta, odd)
        ours, floor = best(normalise_all, events), best(loads_all, events)
        rate = len(events) / ours
        print(f"{label:40}{rate:>12,.0f}{ours / len(events) * 1e6:>10.2f}{ours / floor:>14.2f}")

    print(f"2. Property tests of every sink ({args.streams:,} streams)")
    env = {**os.environ, "POWAWIDGET_SINK_STREAMS": str(args.streams), "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "tests/outputs/test_every_sink.py"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    ok = done.returncode == 0
    print(
        f"property tests: {args.streams:,} streams in {seconds:.1f} s "
        f"({seconds / args.streams * 1000:.1f} ms a stream, pytest start included) "
        f"-> {'PASS' if ok and seconds < 60 and args.streams >= 2_000 else 'FAIL'}"
    )
    if not ok:
        print(done.stdout[-2000:])
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
