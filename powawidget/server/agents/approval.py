"""`agt_approval`: a refund desk whose one tool, issue_refund, waits for a human's approval.

Every message is read as a refund request (order id and amount taken from the text, else
ORD-1042 and $49). The run emits the tool call, then `approval_requested`, waits for
POST /approve, and either runs the tool or records the denial and says it did nothing.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from typing import Any

from powawidget.server.agents.answers import money
from powawidget.server.agents.loop import ServerRun, ToolRequest
from powawidget.server.protocol import RunContext
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


def refund_request(message: str) -> dict[str, Any]:
    """issue_refund arguments read from the message ("refund order 1234, $30 — damaged")."""
    order = re.search(
        r"(?:\border\s*(?:no\.?|number)?\s*#?\s*|\bORD-?|#)(\d{2,8})\b", message, re.I
    )
    amount = re.search(
        r"[$€£]\s*(\d+(?:[.,]\d{1,2})?)|(\d+(?:[.,]\d{1,2})?)\s*(?:usd|dollars?)\b",
        message,
        re.IGNORECASE,
    )
    reason = re.search(r"\b(?:because|reason:?|as)\s+(.+?)[.!?]?$", message, re.IGNORECASE)
    value = (amount.group(1) or amount.group(2)) if amount else None
    return {
        "order_id": f"ORD-{order.group(1)}" if order else DEFAULT_ORDER,
        "amount": float(value.replace(",", ".")) if value else DEFAULT_AMOUNT,
        "reason": reason.group(1) if reason else "customer request",
    }


class ApprovalAgent:
    """Refunds an order, but only after a human approves the tool call."""

    id = "agt_approval"
    name = "Refund desk (needs approval)"
    model = "powabase-demo-1"
    dialect = "server"
    description = (
        "Issues refunds with the issue_refund tool, which needs your approval first. "
        "Try: 'Refund order 1042, $49, because it arrived damaged'."
    )
    system_prompt = (
        "You are the Orbit Labs refund desk. Use issue_refund to refund orders; a human must "
        "approve every refund. If a refund is denied, say so and do nothing else."
    )

    async def run(self, ctx: RunContext, message: str) -> AsyncIterator[dict[str, Any]]:
        """Ask for approval, then refund (approved) or explain the refusal (denied)."""
        run = ServerRun(ctx, message, self.system_prompt, {ISSUE_REFUND.name: ISSUE_REFUND})
        yield run.start()
        arguments = refund_request(message)
        request = ToolRequest(ISSUE_REFUND.name, arguments)
        amount = money(arguments["amount"])
        yield run.begin_step()
        thinking = (
            f"The customer wants {amount} back for order {arguments['order_id']}. "
            "issue_refund needs a human's approval, so I'll request it and wait."
        )
        async for event in run.think(thinking):
            yield event
        call_id = run.call_id()
        yield run.tool_call_event(call_id, request)
        yield {
            "event": "approval_requested",
            "tool_name": request.name,
            "tool_input": arguments,
            "message": f"Approve a refund of {amount} for order {arguments['order_id']}?",
        }
        approved, reason = await ctx.wait_for_approval()
        if approved:
            record = await run.execute(call_id, request)
        else:
            why = reason or "no reason given"
            record = run.refuse(call_id, request, f"Blocked by hook — Denied by user: {why}")
        run.remember([record])
        yield run.result_event(record)
        yield run.end_step(has_tool_calls=True)
        if record.ok:
            refund = record.value
            text = (
                f"Done — I refunded **{amount}** for order **{refund['order_id']}** "
                f"(refund id `{refund['refund_id']}`). It will reach the original payment "
                f"method in {refund['arrives_in']}."
            )
        elif approved:
            text = f"I couldn't refund order {arguments['order_id']}: {record.error}."
        else:
            text = (
                f"I did **not** refund order **{arguments['order_id']}**: the refund of "
                f"{amount} was denied ({reason or 'no reason given'}). Nothing was charged "
                "or changed. Tell me if you'd like a different amount or order."
            )
        async for event in run.answer(text):
            yield event
