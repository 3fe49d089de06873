"""Agents for timing tests: `agt_slow_tool` (a tool that takes exactly 300 ms) and
`agt_long` (a long answer to what it is asked, streamed at ≥ 0.05 s a token, ~20 s, for
stop tests)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from powawidget.server import knowledge
from powawidget.server.agents.loop import ServerRun, ToolRequest, tokens
from powawidget.server.protocol import Dialect, RunContext
from powawidget.server.tools import Tool

LONG_TOKEN_DELAY = 0.05
LONG_MIN_TOKENS = 320
"""The shortest long answer, in stream tokens: at LONG_TOKEN_DELAY, at least 16 s to stop."""
STREAMING_WORDS = frozenset({"stream", "streaming", "streams", "sse", "event", "events", "run",
                             "runs", "stop", "stopping", "wire", "protocol", "delta"})  # fmt: skip


def check_stock(product: str = "Orbit Hub") -> dict[str, Any]:
    """Units in stock at the warehouse (the slow-tool agent's tool: it takes 300 ms)."""
    found = knowledge.product_named(product) or knowledge.product_named("Orbit Hub")
    assert found is not None
    return {"product": found.name, "in_stock": 12, "warehouse": "Rotterdam"}


CHECK_STOCK = Tool(
    "check_stock",
    "Units of a product in stock at the warehouse (a slow backend: exactly 300 ms).",
    {"type": "object", "properties": {"product": {"type": "string"}}},
    check_stock,
    latency=0.3,
)


class SlowToolAgent:
    """Calls check_stock (exactly 300 ms of backend latency), then answers in one line."""

    id = "agt_slow_tool"
    name = "Stock checker (slow tool)"
    model = "powabase-demo-1"
    dialect: Dialect = "server"
    uses_tools = True
    description = "Checks warehouse stock with a tool that takes exactly 300 ms, then answers."
    system_prompt = "You check warehouse stock with check_stock and report the count."

    async def run(self, ctx: RunContext, message: str) -> AsyncIterator[dict[str, Any]]:
        """One tool step (300 ms), one short answer."""
        run = ServerRun(ctx, message, self.system_prompt, {CHECK_STOCK.name: CHECK_STOCK})
        yield run.start()
        request = ToolRequest(CHECK_STOCK.name, {"product": "Orbit Hub"})
        thinking = "I'll ask the warehouse system; it is slow but authoritative."
        async for event in run.call_tools([request], thinking=thinking):
            yield event
        stock = run.last[0].value
        text = (
            f"The {stock['warehouse']} warehouse has **{stock['in_stock']}** "
            f"{stock['product']} units in stock."
        )
        async for event in run.answer(text):
            yield event


LONG_ANSWER = """\
# A field guide to streaming agent runs

Streaming turns a long wait into a conversation. Instead of staring at a spinner for
thirty seconds, you watch the agent think, call its tools and write its answer as it goes.
This guide walks through what arrives on the wire and how a good client treats it.

## 1. The shape of a run

Every run opens with a `start` event that names the run and the session. Then come one or
more **steps**. In each step the model either calls tools or writes the final answer:

1. `step_started` opens the step.
2. `reasoning_delta` events carry a short summary of the model's thinking.
3. `tool_call` and `tool_result` events come in pairs, matched by `call_id`.
4. `content_delta` events stream the answer, a few characters at a time.
5. `step_completed` closes the step with a finish reason.

The run ends with one terminal `chunk` holding the whole answer and a `complete` event with
the usage numbers.

## 2. Things that go wrong

| Problem | What you see | What to do |
|---|---|---|
| Slow tool | a long pause after `tool_call` | show a running timer |
| Dropped connection | the stream ends early | keep what arrived, offer a retry |
| Idle proxy | no bytes for a minute | treat keepalives as signs of life |
| Rate limit | HTTP 429 | wait for `Retry-After`, then retry |

Never retry a run once any byte has arrived: runs are not idempotent, and the second
attempt would bill and act twice.

## 3. A minimal reader

```python
for event in client.stream_run("agt_demo", "What do you sell?"):
    if event["event"] == "content_delta":
        print(event["text"], end="", flush=True)
```

## 4. Stopping a run

A user who presses **Stop** expects the text to freeze at once. The client closes the
connection; the server finishes the run in the background and stores it, so the full
answer is still there in the run history later. Keep the partial text on screen, marked as
stopped.

That is all there is to it. Happy streaming!
"""


def _product_section(product: knowledge.Product) -> str:
    """One product at length: what it is, its price and seats, who it suits, its features."""
    seats = f" for {product.seats_phrase}" if product.seats_phrase else ""
    features = "\n".join(f"- {feature}" for feature in product.features)
    return (
        f"## {product.name}\n\n{product.summary}\n\n"
        f"It costs **{product.price_label}**{seats}, and it is best for {product.best_for}.\n\n"
        f"What you get:\n\n{features}\n"
    )


def _policy_section(policy: knowledge.Policy) -> str:
    """One policy at length: its summary and every point."""
    points = "\n".join(f"- {point}" for point in policy.points)
    return f"## {policy.title}\n\n{policy.summary}\n\n{points}\n"


def _catalogue_table() -> str:
    """The whole catalogue as a Markdown table."""
    rows = "\n".join(
        f"| {p.name} | {p.kind} | {p.price_label} | {p.seats_label} |"
        for p in knowledge.catalogue()
    )
    return (
        f"## Everything we sell\n\n| Product | Kind | Price | Seats |\n|---|---|---|---|\n{rows}\n"
    )


def long_answer(message: str) -> str:
    """A long, structured answer to `message`: the products and policies it names or finds
    (the streaming field guide when it asks about streaming runs), then the catalogue and
    policies as background until it is long enough (≥ LONG_MIN_TOKENS) to be worth stopping."""
    words = set(knowledge.search_terms(message))
    if words & STREAMING_WORDS and not knowledge.mentioned_products(message):
        return LONG_ANSWER
    named = knowledge.mentioned_products(message)
    products = named or knowledge.search_products(message)[:3]
    policies = knowledge.mentioned_policies(message)
    topic = ", ".join([p.name for p in products] + [p.title for p in policies])
    if named or policies:
        opening = f"You asked about {topic}. Here is all I know, section by section."
    elif products:
        opening = f"The closest I have in Orbit Labs' catalogue: {topic}. In detail:"
    else:
        opening = (
            "I have nothing on that in Orbit Labs' records, so here is the long tour of what "
            "I can tell you about: the catalogue and the customer policies."
        )
    parts = [f"# {' '.join(message.split())[:80]}\n\n{opening}\n"]
    parts += [_product_section(p) for p in products] + [_policy_section(p) for p in policies]
    background = [_catalogue_table()]
    background += [_policy_section(p) for p in knowledge.policies().values() if p not in policies]
    background += [_product_section(p) for p in knowledge.catalogue() if p not in products]
    for section in background:
        if len(tokens("\n".join(parts))) >= LONG_MIN_TOKENS:
            break
        parts.append(section)
    return "\n".join(parts)


class LongAgent:
    """Answers what it is asked at length, slowly (≥ 0.05 s a token, about 20 s in all)."""

    id = "agt_long"
    name = "Long answer (slow stream)"
    model = "powabase-demo-1"
    dialect: Dialect = "server"
    description = "Answers at length, streamed over about 20 seconds: try the Stop button."
    system_prompt = "You write long, well-structured explanations."

    async def run(self, ctx: RunContext, message: str) -> AsyncIterator[dict[str, Any]]:
        """One step: a long answer at a fixed slow pace, whatever the server delay."""
        run = ServerRun(ctx, message, self.system_prompt, {})
        yield run.start()
        thinking = "A long, structured explanation of what was asked: headings, lists, a table."
        text = long_answer(message)
        async for event in run.answer(text, thinking=thinking, min_delay=LONG_TOKEN_DELAY):
            yield event


def long_answer_seconds(message: str = "Explain streaming") -> float:
    """How long agt_long takes to stream its answer to `message` at the minimum pace."""
    return len(tokens(long_answer(message))) * LONG_TOKEN_DELAY
