"""`agt_approval`: a refund desk whose one tool, issue_refund, waits for a human's approval.

Every message is read as a refund request (order id and amount taken from the text, else
ORD-1042 and $49). The run emits the tool call, then `approval_requested`, waits for
POST /approve, and either runs the tool or records the denial and says it did nothing.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import AsyncIterator
from typing import Any

from powawidget.server.agents.answers import money
from powawidget.server.agents.loop import ServerRun, ToolRequest
from powawidget.server.protocol import Dialect, RunContext, readable
from powawidget.server.tools import Tool, ToolError

DEFAULT_ORDER = "ORD-1042"
DEFAULT_AMOUNT = 49.0


def issue_refund(order_id: str, amount: float, reason: str = "") -> dict[str, Any]:
    """Record a refund (the approval agent's tool; it only runs once a human approved it)."""
    if isinstance(amount, bool) or not isinstance(amount, (int, float)) or amount <= 0:
        raise ToolError("amount must be a positive number")
    if amount > 10_000:
        raise ToolError("refunds above $10,000 need the finance team")
    digest = hashlib.sha256(f"{order_id}:{amount}".encode()).hexdigest()[:10]
    return {
        "refund_id": f"rf_{digest}",
        "order_id": order_id,
        "amount": amount,
        "currency": "USD",
        "status": "issued",
        "reason": reason,
        "arrives_in": "5–10 business days",
    }


ISSUE_REFUND = Tool(
    "issue_refund",
    "Refund an order to the original payment method. Needs a human's approval.",
    {
        "type": "object",
        "properties": {
            "order_id": {"type": "string"},
            "amount": {"type": "number"},
            "reason": {"type": "string"},
        },
        "required": ["order_id", "amount"],
    },
    issue_refund,
    latency=0.25,  # a payment provider round trip
)


_REASON_MARKER = re.compile(
    r"\b(?:because(?: of)?|since|as(?=\s+(?:it|they|the|my|i|we)\b)|due to|reason(?: is)?:?)"
    r"\s+(?P<why>[^.!?;]+)",
    re.IGNORECASE,
)
_STATEMENT = re.compile(
    r"\b(?P<why>(?:it|they|the (?:order|item|parcel|package|product)|my order)\s+"
    r"(?:arrived|came|was|is|were|are|broke|never|did|didn't|doesn't|does not|stopped)\b"
    r"[^.!?;]*)",
    re.IGNORECASE,
)
_REQUEST_WORDS = re.compile(
    r"refund|\border\b|ORD-?\d|#\d|[$€£]\s*\d|\d+(?:[.,]\d+)?\s*(?:usd|dollars?)|please",
    re.IGNORECASE,
)


def refund_reason(message: str) -> str:
    """Why the customer wants the refund, in their words ("it arrived late"), else
    "customer request" when the message gives no reason."""
    message = readable(message)
    for pattern in (_REASON_MARKER, _STATEMENT):
        found = pattern.search(message)
        if found:
            return found.group("why").strip(" ,—–-").rstrip()
    for clause in re.split(r"[,.;!?:—–]|\s-\s", message):
        words = clause.strip()
        if len(words.split()) >= 2 and not _REQUEST_WORDS.search(words):
            return words
    return "customer request"


def refund_request(message: str) -> dict[str, Any]:
    """issue_refund arguments read from the message ("refund order 1234, $30, it arrived late")."""
    order = re.search(
        r"(?:\border\s*(?:no\.?|number)?\s*#?\s*|\bORD-?|#)(\d{2,8})\b", message, re.I
    )
    amount = re.search(
        r"[$€£]\s*(\d+(?:[.,]\d{1,2})?)|(\d+(?:[.,]\d{1,2})?)\s*(?:usd|dollars?)\b",
        message,
        re.IGNORECASE,
    )
    value = (amount.group(1) or amount.group(2)) if amount else None
    return {
        "order_id": f"ORD-{order.group(1)}" if order else DEFAULT_ORDER,
        "amount": float(value.replace(",", ".")) if value else DEFAULT_AMOUNT,
        "reason": refund_reason(message),
    }


class ApprovalAgent:
    """Refunds an order, but only after a human approves the tool call (a PreToolUse hook)."""

    id = "agt_approval"
    name = "Refund desk (needs approval)"
    model = "powabase-demo-1"
    dialect: Dialect = "server"
    uses_tools = True
    description = (
        "Issues refunds with the issue_refund tool, which needs your approval first. "
        "Try: 'Refund order 1042, $49, because it arrived damaged'."
    )
    system_prompt = (
        "You are the Orbit Labs refund desk. Use issue_refund to refund orders; a human must "
        "approve every refund. If a refund is denied, say so and do nothing else."
    )
    hook_id = "9d1c5e2a-4b7f-4c3d-8e6a-1f2b3c4d5e6f"  # the approval hook on issue_refund

    async def run(self, ctx: RunContext, message: str) -> AsyncIterator[dict[str, Any]]:
        """Ask for approval, then refund (approved) or explain the refusal (denied, timed out).

        The wire follows the backend's PreToolUse approval hook: tool_call →
        approval_requested (no run_id, no call_id) → the wait → hook_result → tool_result
        (a blocked call: an "Error: Blocked by hook — …" result) → … → on_run_complete.
        """
        run = ServerRun(
            ctx, message, self.system_prompt, {ISSUE_REFUND.name: ISSUE_REFUND}, hooks=True
        )
        yield run.start()
        arguments = refund_request(message)
        request = ToolRequest(ISSUE_REFUND.name, arguments)
        amount = money(arguments["amount"])
        yield run.begin_step()
        thinking = (
            f"The customer wants {amount} back for order {arguments['order_id']} "
            f"(reason: {arguments['reason']}). issue_refund needs a human's approval, so "
            "I'll request it and wait."
        )
        async for event in run.think(thinking):
            yield event
        call_id = run.call_id()
        yield run.tool_call_event(call_id, request)
        wait = ctx.approval_timeout
        yield ctx.loop_frame(
            "approval_requested",
            tool_name=request.name,
            tool_input=arguments,
            message=(
                f"Approve a refund of {amount} for order {arguments['order_id']}? "
                f"The run waits up to {wait:g} s for an answer."
            ),
        )
        asked = time.perf_counter()
        approved, reason = await ctx.wait_for_approval()
        waited_ms = round((time.perf_counter() - asked) * 1000, 3)
        if approved is None:
            status, blocked, note = "timed_out", True, "Approval timed out"
        elif approved:
            status, blocked, note = "succeeded", False, None
        else:
            status, blocked = "succeeded", True
            note = f"Denied by user: {reason}" if reason else "Denied by user"
        yield ctx.loop_frame(
            "hook_result",
            hook_id=self.hook_id,
            position=0,
            hook_event="PreToolUse",
            status=status,
            modified=False,
            blocked=blocked,
            latency_ms=waited_ms,
            message=note,
        )
        if blocked:
            record = run.refuse(call_id, request, f"Blocked by hook — {note}")
            record.duration_ms = waited_ms
        else:
            record = await run.execute(call_id, request)
            record.duration_ms = round(record.duration_ms + waited_ms, 3)
        run.remember([record])
        yield run.result_event(record, early=blocked)
        yield run.end_step(has_tool_calls=True)
        order = arguments["order_id"]
        if record.ok:
            refund = record.value
            text = (
                f"Done — I refunded **{amount}** for order **{refund['order_id']}** "
                f"(refund id `{refund['refund_id']}`), reason recorded: *{refund['reason']}*. "
                f"It will reach the original payment method in {refund['arrives_in']}."
            )
        elif approved:
            text = f"I couldn't refund order {order}: {record.error}."
        elif approved is None:
            text = (
                f"I did **not** refund order **{order}**: nobody approved the refund of "
                f"{amount} within {wait:g} s, so the request timed out. Nothing was charged "
                "or changed. Ask again when someone can approve it."
            )
        else:
            text = (
                f"I did **not** refund order **{order}**: the refund of {amount} was denied "
                f"({reason or 'no reason given'}). Nothing was charged or changed. Tell me if "
                "you'd like a different amount or order."
            )
        async for event in run.answer(text):
            yield event
