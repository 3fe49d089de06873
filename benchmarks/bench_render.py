"""Front-end rendering benchmark: the built panel in headless Chromium with a fake model.

Measures, and prints:
- a 10,000-chunk run delivered as the kernel's patches (batches paced ~50 ms apart, as fast as the
  sync sends, and a flood with no pause; plus one 10,000-chunk code block, the worst case
  for streaming markdown): the longest main-thread long task (target: none over 50 ms)
  and total time;
- time from a batch delivered to its text in the DOM (median and p95; target ≤ 100 ms);
- a 200-turn conversation snapshot rendered (target < 1 s).

Run: /work/venv/bin/python benchmarks/bench_render.py   (builds js/ first when stale)
"""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, sync_playwright

from powawidget.model.conversation import Conversation
from powawidget.model.view import entries
from powawidget.notebook.sync import PanelSync
from powawidget.wire.events import EventNormaliser, make_event
from powawidget.wire.sse import ServerSentEvent

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "powawidget" / "static"
HARNESS = ROOT / "tests" / "browser" / "harness"
sys.path.insert(0, str(ROOT / "tests"))
from chromium import CHROMIUM_ARGS as ARGS  # noqa: E402


def build_if_stale() -> None:
    """Run `npm run build` in js/ when the bundle is missing or older than its sources."""
    bundle = STATIC / "widget.js"
    newest = max(p.stat().st_mtime for p in (ROOT / "js" / "src").rglob("*") if p.is_file())
    if not bundle.exists() or bundle.stat().st_mtime < newest:
        subprocess.run(["npm", "run", "build"], cwd=ROOT / "js", check=True, capture_output=True)


def slim(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Wire frames → canonical events (the real normaliser)."""
    n = EventNormaliser()
    return [n.normalise(ServerSentEvent(data=json.dumps(f))) for f in frames]


def many_chunk_run(count: int) -> list[dict[str, Any]]:
    """A server-dialect run of `count` content_delta chunks: words with markers, markdown."""
    frames: list[dict[str, Any]] = [
        {"event": "start", "run_id": "run_bench0000001", "session_id": "sess_bench000001"},
        {"event": "step_started", "step": 1},
    ]
    for i in range(count):
        if i % 400 == 399:
            delta = f"\n\n- item **w{i}**\n- item w{i}x\n\n"
        elif i % 60 == 59:
            delta = f" w{i}\n\n"
        else:
            delta = f" w{i}"
        frames.append({"event": "content_delta", "delta": delta})
    frames.append(
        {
            "event": "complete",
            "status": "completed",
            "run_id": "run_bench0000001",
            "usage": {"prompt_tokens": 10, "completion_tokens": count, "total_tokens": count + 10},
        }
    )
    return [make_event("user_message", text="Write a lot."), *slim(frames)]


def code_block_run(count: int) -> list[dict[str, Any]]:
    """The worst case for streaming markdown: one fenced code block that never settles."""
    frames: list[dict[str, Any]] = [
        {"event": "start", "run_id": "run_bench0000002", "session_id": "sess_bench000001"},
        {"event": "content_delta", "delta": "```python\n"},
    ]
    for i in range(count):
        delta = f"x{i} = w{i}\n" if i % 4 == 3 else f" w{i}"
        frames.append({"event": "content_delta", "delta": delta})
    frames.append({"event": "content_delta", "delta": "\n```\n"})
    frames.append({"event": "complete", "status": "completed", "run_id": "run_bench0000002"})
    return [make_event("user_message", text="Write code."), *slim(frames)]


def history_turns(turns: int) -> list[dict[str, Any]]:
    """A conversation of `turns` turns, each with a tool call and a markdown answer."""
    out: list[dict[str, Any]] = []
    answer = (
        "Here is what I found about **item {i}**:\n\n- price: 19.{i} EUR\n- stock: yes\n\n"
        "```python\nprint({i})\n```\n\nAnything else? " + "More words. " * 20
    )
    for i in range(turns):
        out.append(make_event("user_message", text=f"Question {i}?"))
        out += slim(
            [
                {"event": "start", "run_id": f"run_{i:012x}", "session_id": "sess_bench000001"},
                {"event": "step_started", "step": 1},
                {
                    "event": "tool_call",
                    "tool_name": "search_catalogue",
                    "call_id": f"c{i}",
                    "arguments": {"query": f"item {i}"},
                },
                {
                    "event": "tool_result",
                    "tool_name": "search_catalogue",
                    "call_id": f"c{i}",
                    "result_preview": json.dumps({"items": [{"sku": i}]}),
                    "duration_ms": 12.0,
                },
                {"event": "content_delta", "delta": answer.format(i=i)},
                {
                    "event": "complete",
                    "status": "completed",
                    "content": answer.format(i=i),
                    "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150},
                },
            ]
        )
    return out


# In-page driver: delivers batches on a timer, records long tasks and batch→DOM latency.
DRIVER = """
async ([batches, interval]) => {
  const longTasks = [];
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) longTasks.push(e.duration);
  });
  obs.observe({ type: "longtask", buffered: false });
  // Control: a deliberate 80 ms task must be seen, or the numbers below mean nothing.
  await new Promise((r) => setTimeout(r, 0));
  const spin = performance.now(); while (performance.now() - spin < 80) {}
  await new Promise((r) => setTimeout(r, 50));
  const seen = longTasks.splice(0).length;
  pw.mount({});
  pw.deliver({ type: "snapshot", seq: 0, entries: [] });
  await pw.frames(2);
  const latencies = [];
  const pending = [];   // [marker, t0]
  let md = null;
  const mo = new MutationObserver(() => {
    if (!pending.length) return;
    md = md || document.querySelector('#host [data-testid="assistant-text"]');
    if (!md) return;
    const text = md.textContent.trimEnd();
    const now = performance.now();
    while (pending.length && new RegExp(`\\\\b${pending[0][0]}\\\\b`).test(text)) {
      latencies.push(now - pending.shift()[1]);
    }
  });
  const watch = { childList: true, subtree: true, characterData: true };
  mo.observe(document.getElementById("host"), watch);
  const t0 = performance.now();
  for (const batch of batches) {
    const marker = batch.marker;
    pw.deliver(batch.message);
    if (marker) pending.push([marker, performance.now()]);
    await new Promise((r) => setTimeout(r, interval));
  }
  await new Promise((resolve) => {
    const check = () => {
      const turn = document.querySelector('#host [data-testid="turn"]');
      if (turn && turn.dataset.status === "completed" && !pending.length) resolve();
      else requestAnimationFrame(check);
    };
    check();
  });
  const total = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 100));
  obs.disconnect();
  mo.disconnect();
  return { total, longTasks, latencies, missed: pending.length, seen };
}
"""

SNAPSHOT = """
async (entries) => {
  pw.mount({});
  await pw.frames(2);
  const t0 = performance.now();
  pw.deliver({ type: "snapshot", seq: 0, entries });
  await new Promise((r) => requestAnimationFrame(() => { document.body.offsetHeight; r(); }));
  await new Promise((r) => setTimeout(r, 0));
  const t1 = performance.now();
  return { ms: t1 - t0, turns: document.querySelectorAll('#host [data-testid="turn"]').length };
}
"""


def batches_of(events: list[dict[str, Any]], size: int) -> list[dict[str, Any]]:
    """The kernel's patches for `size` events at a time (the real fold and sync), each
    with the marker word its last delta ends with."""
    conversation, sent = Conversation(), []
    sync = PanelSync(conversation, threading.RLock(), sent.append)
    out = []
    for i in range(0, len(events), size):
        chunk = events[i : i + size]
        conversation.extend(chunk)
        sync.flush()
        words = [w for e in chunk if e.get("event") == "content_delta" for w in e["text"].split()]
        markers = [w.strip("*") for w in words if w.strip("*").startswith("w")]
        marker = markers[-1] if markers else None
        if sent:
            out.append({"message": json.loads(json.dumps(sent.pop())), "marker": marker})
    return out


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of values (nearest rank)."""
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))] if s else float("nan")


def run_case(page: Page, url: str, label: str, events: list, size: int, interval: int) -> None:
    """Deliver one run and print its numbers."""
    page.goto(url)
    page.wait_for_function("() => window.pwReady === true")
    r = page.evaluate(DRIVER, [batches_of(events, size), interval])
    worst = max(r["longTasks"], default=0.0)
    over = sum(1 for d in r["longTasks"] if d > 50)
    print(
        f"{label}: {len(events):,} events in {len(events) // size + 1} batches of {size}, "
        f"every {interval} ms"
    )
    if not r["seen"]:
        print("  WARNING: the long-task observer did not see the 80 ms control task")
    print(f"  total time to the final text in the DOM: {r['total']:.0f} ms")
    print(f"  long tasks: {len(r['longTasks'])} (over 50 ms: {over}); longest {worst:.0f} ms")
    print(
        f"  batch → text in DOM: median {percentile(r['latencies'], 0.5):.1f} ms, "
        f"p95 {percentile(r['latencies'], 0.95):.1f} ms, max {max(r['latencies']):.1f} ms "
        f"({len(r['latencies'])} batches)"
    )


def main() -> int:
    """Run the measurements in headless Chromium and print them."""
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[attr-defined]
    build_if_stale()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        print("chromium not found (apt-get install -y chromium)", file=sys.stderr)
        return 1
    handler_cls = type(
        "H",
        (http.server.SimpleHTTPRequestHandler,),
        {
            "translate_path": lambda self, p: str(
                STATIC / p.split("?")[0].removeprefix("/static/")
                if p.startswith("/static/")
                else HARNESS / (p.split("?")[0].lstrip("/") or "index.html")
            ),
            "log_message": lambda self, *a: None,
        },
    )
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler_cls, directory=str(HARNESS))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    events = many_chunk_run(10_000)
    try:
        with tempfile.TemporaryDirectory() as profile, sync_playwright() as p:
            ctx = p.chromium.launch_persistent_context(
                profile, executable_path=chromium, headless=True, args=ARGS
            )
            page = ctx.new_page()
            run_case(page, url, "paced (like the sync, ~50 ms apart)", events, 100, 50)
            run_case(page, url, "as fast as possible (33 ms batches of 1,000)", events, 1000, 33)
            run_case(page, url, "flood (batches of 250, no pause)", events, 250, 0)
            run_case(page, url, "one code block (never settles)", code_block_run(10_000), 100, 50)
            page.goto(url)
            page.wait_for_function("() => window.pwReady === true")
            history = history_turns(200)
            r = page.evaluate(SNAPSHOT, json.loads(json.dumps(entries(Conversation(history)))))
            print(
                f"200-turn snapshot ({len(history):,} events): {r['turns']} turns rendered "
                f"in {r['ms']:.0f} ms (target < 1000 ms)"
            )
            ctx.close()
    finally:
        server.shutdown()
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
