"""Progress figures shared by the live panel and the terminal line."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from powawidget.evaluation.columns import (
    COMPLETED,
    FAILED,
    PENDING,
    RUNNING,
    STOPPED,
    UNFINISHED,
)


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0-100) by nearest rank; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100.0 * len(ordered)))
    return ordered[rank - 1]


def progress(rows: Iterable[dict[str, Any]], elapsed_s: float, finished_now: int) -> dict[str, Any]:
    """Counts, throughput (runs finished by this evaluation per second), TTFT p50/p95, ETA."""
    counts = dict.fromkeys((PENDING, RUNNING, COMPLETED, FAILED, STOPPED, UNFINISHED), 0)
    ttft: list[float] = []
    total = 0
    for row in rows:
        total += 1
        counts[row["status"]] = counts.get(row["status"], 0) + 1
        if row["status"] == COMPLETED and row.get("time_to_first_token_ms") is not None:
            ttft.append(float(row["time_to_first_token_ms"]))
    done = counts[COMPLETED] + counts[FAILED] + counts[STOPPED] + counts[UNFINISHED]
    rate = finished_now / elapsed_s if elapsed_s > 0 else 0.0
    left = counts[PENDING] + counts[RUNNING]
    eta = left / rate if rate > 0 else None
    return {
        "total": total,
        "done": done,
        "running": counts[RUNNING],
        "pending": counts[PENDING],
        "completed": counts[COMPLETED],
        "failed": counts[FAILED],
        "stopped": counts[STOPPED],
        "unfinished": counts[UNFINISHED],
        "elapsed_s": round(elapsed_s, 3),
        "throughput": round(rate, 3),
        "ttft_p50_ms": percentile(ttft, 50),
        "ttft_p95_ms": percentile(ttft, 95),
        "eta_s": round(eta, 1) if eta is not None else None,
    }


def progress_line(stats: dict[str, Any], state: str) -> str:
    """One terminal line: done/total, running, failed, the pass rate so far, runs/s, TTFT, ETA."""
    eta = f"ETA {stats['eta_s']:.0f}s" if stats["eta_s"] is not None else "ETA –"
    p50 = stats["ttft_p50_ms"]
    ttft = f"TTFT p50 {p50:.0f} ms" if p50 is not None else "TTFT –"
    rate = stats.get("pass_rate")
    passing = (
        f"pass {rate:.0%} ({stats['passed']}/{stats['scored']}) · " if rate is not None else ""
    )
    return (
        f"{stats['done']}/{stats['total']} done · {stats['running']} running · "
        f"{stats['failed']} failed · {passing}{stats['throughput']:.1f} runs/s · {ttft} · "
        f"{eta} [{state}]"
    )
