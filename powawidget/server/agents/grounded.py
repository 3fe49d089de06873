"""Agents without tools, on the backend's standard streaming path (docs/protocol.md, "Two
server paths"): `agt_plain` answers from the knowledge base in one go, and
`agt_citations` does the same with numbered sources: `start.citation_candidates`, `[n]`
markers in the text and `complete.citations`.

Both retrieve before they answer (as a knowledge-base-linked agent's context handler does),
so their `start` and `complete` carry `context_handler_id` and `retrieved_items`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from powawidget.server import knowledge
from powawidget.server.agents.context import answer_reply, context_reply
from powawidget.server.agents.loop import ServerRun
from powawidget.server.protocol import Dialect, RunContext, readable

KB_ID = "6f1d2c3b-0a9e-4b8c-9d7e-5a4b3c2d1e0f"  # the demo knowledge base (a stable id)
KB_NAMESPACE = uuid.UUID(KB_ID)
MAX_SOURCES = 4
_MARKER = re.compile(r"\[(\d+)\]")


@dataclass(frozen=True)
class Source:
    """One retrievable item of the demo knowledge base: a policy point or a product."""

    key: str
    name: str  # the document it comes from, e.g. "policies/refund.md"
    text: str  # the excerpt, plain text
    meta: dict[str, Any]

    def candidate(self) -> dict[str, Any]:
        """The source as a citation candidate / citation: {key, item_id, source_id,
        source_name, text_excerpt, meta}."""
        return {
            "key": self.key,
            "item_id": str(uuid.uuid5(KB_NAMESPACE, f"{self.name}#{self.text}")),
            "source_id": str(uuid.uuid5(KB_NAMESPACE, self.name)),
            "source_name": self.name,
            "text_excerpt": self.text,
            "meta": self.meta,
        }


def _plain(text: str) -> str:
    """Markdown emphasis removed (an excerpt is plain text)."""
    return text.replace("**", "").replace("*", "")


def retrieve(message: str) -> list[Source]:
    """The knowledge items relevant to `message`, best first, numbered from 1."""
    message = readable(message)
    found: list[tuple[str, str, dict[str, Any]]] = []
    for policy in knowledge.mentioned_policies(message):
        name = f"policies/{policy.topic}.md"
        found.append((name, policy.summary, {"kind": "policy", "topic": policy.topic}))
        for point in policy.points[1:3]:
            found.append((name, _plain(point), {"kind": "policy", "topic": policy.topic}))
    products = knowledge.mentioned_products(message)
    if not products and not found and knowledge.search_terms(message):
        products = knowledge.search_products(message)[:2]
        if len(products) == len(knowledge.catalogue()):
            products = []
    for product in products:
        text = f"{product.name}: {product.price_label}. {product.summary}"
        if product.seats_phrase:
            text += f" For {product.seats_phrase}."
        found.append((f"catalogue/{product.id}.md", text, {"kind": product.kind}))
    return [
        Source(str(i), name, text, meta)
        for i, (name, text, meta) in enumerate(found[:MAX_SOURCES], start=1)
    ]


def grounded_answer(sources: list[Source], *, markers: bool = True) -> tuple[str, str]:
    """(thinking, the answer): one sentence per source, each ending with its [n] marker
    when `markers` is on."""
    if not sources:
        thinking = "Nothing in the knowledge base matches; I'll say so and suggest questions."
        text = (
            "I couldn't find that in the Orbit Labs knowledge base, and I only answer from it. "
            "Ask me about our plans and prices (*What does Orbit Team cost?*) or our policies "
            "(*What is the refund policy?*)."
        )
        return thinking, text
    names = sorted({s.name for s in sources})
    items = f"{len(sources)} relevant item{'s' if len(sources) != 1 else ''}"
    thinking = f"The knowledge base has {items} in {', '.join(names)}; I'll answer from them."
    sentences = [f"{s.text.rstrip('.')}{f' [{s.key}]' if markers else ''}." for s in sources]
    return thinking, " ".join(sentences)


def strip_invented_markers(text: str, keys: set[str]) -> str:
    """The text without `[n]` markers that name no candidate (what the backend's citation
    parser does to the final text)."""
    return _MARKER.sub(lambda m: m.group(0) if m.group(1) in keys else "", text).replace(" .", ".")


def cited(text: str, sources: list[Source]) -> list[dict[str, Any]]:
    """The citations of the markers in `text`, in order of first use."""
    by_key = {s.key: s for s in sources}
    keys = dict.fromkeys(m.group(1) for m in _MARKER.finditer(text) if m.group(1) in by_key)
    return [by_key[key].candidate() for key in keys]


class PlainAgent:
    """An agent without tools: one grounded answer, streamed on the standard path."""

    id = "agt_plain"
    name = "Orbit Labs FAQ (no tools)"
    model = "powabase-demo-1"
    dialect: Dialect = "server"
    description = (
        "Answers Orbit Labs questions from the knowledge base in one go, with no tools: "
        "the backend's standard streaming path (no steps, usage only on the stored run)."
    )
    system_prompt = "Answer from the Orbit Labs knowledge base only. Be brief."

    async def run(self, ctx: RunContext, message: str) -> AsyncIterator[dict[str, Any]]:
        """Retrieve, then stream the answer and its reasoning; a message with context is
        answered about it (response_format is ignored: no tools, as the real backend)."""
        reply = context_reply(ctx.options, honours_format=False)
        if reply is not None:
            run = ServerRun(ctx, message, self.system_prompt, {})
            yield run.start()
            async for event in answer_reply(run, reply):
                yield event
            return
        sources = retrieve(message)
        run = _grounded_run(ctx, message, self.system_prompt, sources)
        yield run.start()
        thinking, text = grounded_answer(sources, markers=False)
        async for event in run.answer(text, thinking=thinking):
            yield event


class CitationsAgent:
    """Like agt_plain, citing its sources: candidates on `start`, citations on `complete`."""

    id = "agt_citations"
    name = "Orbit Labs FAQ with citations"
    model = "powabase-demo-1"
    dialect: Dialect = "server"
    description = (
        "Answers from the Orbit Labs knowledge base with numbered citations [n] "
        "(citations_enabled is on unless the request turns it off). Try: 'What is the "
        "refund policy?'"
    )
    system_prompt = "Answer from the retrieved Orbit Labs sources only and cite each claim as [n]."

    async def run(self, ctx: RunContext, message: str) -> AsyncIterator[dict[str, Any]]:
        """Retrieve, stream an answer with [n] markers (one of them invented, as models do),
        then the final text without the invented marker and the citations it uses."""
        sources = retrieve(message)
        run = _grounded_run(ctx, message, self.system_prompt, sources)
        if ctx.options.get("citations_enabled") is False:
            yield run.start()
            thinking, text = grounded_answer(sources, markers=False)
            async for event in run.answer(text, thinking=thinking):
                yield event
            return
        yield run.start(citation_candidates=[s.candidate() for s in sources])
        thinking, text = grounded_answer(sources)
        if sources:  # the model cites a source that does not exist; the parser drops it
            text = text.replace(f"[{sources[0].key}]", f"[{sources[0].key}][{len(sources) + 1}]", 1)
        async for event in run.stream_only(text, thinking=thinking):
            yield event
        final = strip_invented_markers(text, {s.key for s in sources})
        async for event in run.finish(final, thinking=thinking, citations=cited(final, sources)):
            yield event


def _grounded_run(
    ctx: RunContext, message: str, system_prompt: str, sources: list[Source]
) -> ServerRun:
    """A tool-less run that retrieved `sources` through a context handler."""
    run = ServerRun(ctx, message, system_prompt, {})
    run.retrieved_items = len(sources)
    if sources:
        run.context_handler_id = str(uuid.uuid5(KB_NAMESPACE, ctx.run_id))
    return run
