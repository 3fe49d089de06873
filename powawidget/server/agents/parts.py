"""Multi-part questions: a message cut into its questions, answered together in one reply.

Each step calls every part's tools at once (a call two parts share is made once).

"What's the time in Tokyo, and how much is Team for 5 seats?" is two questions; each part
is read on its own (reading.py), "it" in a part meaning what the part before named.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from typing import Any

from powawidget.server import knowledge
from powawidget.server.agents.loop import ServerRun, ToolRecord, ToolRequest
from powawidget.server.agents.reading import Intent, read, recognise
from powawidget.server.protocol import RunContext

Events = AsyncGenerator[dict[str, Any], None]
# The agent's method answering one kind of intent, as `handler(intent)(run, intent)`.
Handler = Callable[[Intent], Callable[[Any, Intent], Events]]

_ASKS = r"(?:what|what's|whats|how|which|is|are|can|could|do|does|when|where|who|will|should)\b"
# Where one question ends and the next begins: after ?/!, at ";", at ", and …", and before a
# new question word after a comma or "and" ("…, how much is Team", "… and is support open").
PART_BREAK = re.compile(
    rf"(?<=[?!])\s+|;\s*|,?\s+and also\s+|,\s*(?:and|also|plus|then)\s+|"
    rf",\s*(?={_ASKS})|\s+and\s+(?={_ASKS})",
    re.IGNORECASE,
)
# Intents that need no tools: never one part of a multi-part question on their own.
_CHATTER = frozenset({"capabilities", "about", "thanks"})


def _is_question(intent: Intent) -> bool:
    """Whether a part stands as a question of its own (not chatter, not a stray phrase).

    "For 5 people" matches a free-text search, but only a search with a catalogue cue
    ("do you sell …", "which plans have …") is a question in its own right.
    """
    if intent.kind in _CHATTER:
        return False
    return intent.kind != "search" or intent.catalogue_question


def _context(history: list[dict], before: list[str]) -> list[dict]:
    """The history a part is read against: "it" in a part means what the part before named."""
    if before and knowledge.mentioned_products(before[-1]):
        return [*history, {"role": "assistant", "content": before[-1]}]
    return history


def split_parts(message: str) -> list[str]:
    """The message cut where a new question starts (no cut: one part, the whole message)."""
    text = " ".join(message.split())
    return [part.strip(" ,.") for part in PART_BREAK.split(text) if part.strip(" ,.?!")]


def read_all(message: str, history: list[dict]) -> list[Intent]:
    """Every question in the message: one intent, or one per part of a multi-part question.

    A message counts as several questions only when at least two of its parts are each
    recognised as something needing tools ("Hi, what can you do?" stays one question).
    """
    parts = split_parts(message)
    if len(parts) > 1:
        found = [recognise(part, _context(history, parts[:k])) for k, part in enumerate(parts)]
        intents = [i for i in found if i is not None and _is_question(i)]
        if len(intents) > 1:
            return intents
    return [read(message, history)]


@dataclass
class _Calls:
    """A part of a multi-part question asking for tools (collected into one shared step)."""

    requests: list[ToolRequest]
    thinking: str | None


@dataclass
class _Text:
    """A part of a multi-part question with its answer written."""

    text: str


@dataclass
class _PartRun:
    """Stands in for `ServerRun` while one part of a multi-part question is answered.

    The part's handler runs unchanged; its tool requests and its answer are handed to the
    driver (`answer_parts`), which runs every part's requests of a step at once.
    """

    ctx: RunContext
    last: list[ToolRecord] = field(default_factory=list)

    async def call_tools(
        self, requests: list[ToolRequest], *, thinking: str | None = None
    ) -> Events:
        """Hand the requests to the driver; `last` holds their records when resumed."""
        yield {"event": "_calls", "item": _Calls(requests, thinking)}

    async def answer(self, text: str, *, thinking: str | None = None, **_: Any) -> Events:
        """Hand the finished answer to the driver."""
        yield {"event": "_text", "item": _Text(text)}


def _key(request: ToolRequest) -> str:
    """What makes two tool requests the same call: the tool and its arguments."""
    return json.dumps([request.name, request.arguments], sort_keys=True)


def join_answers(texts: list[str]) -> str:
    """One reply from the answers to each part: in order, ruled apart, one closing question."""
    closing = "Is there anything else I can check for you?"
    body = [text.removesuffix(closing).rstrip() for text in texts]
    ends_with_closing = any(text.endswith(closing) for text in texts)
    return "\n\n---\n\n".join(body) + (f"\n\n{closing}" if ends_with_closing else "")


async def answer_parts(run: ServerRun, intents: list[Intent], handler: Handler) -> Events:
    """A multi-part question: each step runs every part's tools at once; one answer.

    `handler(intent)` is the agent's method answering that kind of intent; it runs unchanged
    against a `_PartRun` per part.
    """
    parts = [_PartRun(run.ctx) for _ in intents]
    flows = [handler(i)(p, i) for i, p in zip(intents, parts, strict=True)]
    pending: list[Any] = [(await anext(flow))["item"] for flow in flows]
    first = True
    try:
        while asking := [k for k, item in enumerate(pending) if isinstance(item, _Calls)]:
            # The same call asked for by two parts is made once; both read its record.
            keys = {k: [_key(r) for r in pending[k].requests] for k in asking}
            unique: dict[str, ToolRequest] = {}
            for k in asking:
                for key, request in zip(keys[k], pending[k].requests, strict=True):
                    unique.setdefault(key, request)
            requests = list(unique.values())
            thinking = None
            if first:
                plans = " ".join(filter(None, (pending[k].thinking for k in asking)))
                thinking = (
                    f"This message asks {len(intents)} things; I'll answer each one, "
                    f"calling the tools they need together. {plans}"
                )
            first = False
            async for event in run.call_tools(requests, thinking=thinking):
                yield event
            records = dict(zip(unique, run.last, strict=True))
            for k in asking:
                parts[k].last = [records[key] for key in keys[k]]
                pending[k] = (await anext(flows[k]))["item"]
    finally:
        for flow in flows:
            await flow.aclose()
    text = join_answers([item.text for item in pending])
    async for event in run.answer(text):
        yield event
