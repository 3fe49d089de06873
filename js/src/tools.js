// Tool calls and approvals of a turn: results pair with calls by call_id, else first in,
// first out per tool name (PROTOCOL.md); an approval holds its tool card at "pending".

import { findLast } from "./dom.js";
import { endThinking } from "./answer.js";

/**
 * @typedef {{id: () => number, touch: (entry: any, item?: any) => void}} Fold
 * @typedef {import("./conversation.js").Turn} Turn
 * @typedef {import("./conversation.js").ToolItem} ToolItem
 * @typedef {import("./conversation.js").ApprovalItem} ApprovalItem
 */

/** Append a new tool card item for a tool_call/tool_result/approval event. @returns {ToolItem} */
export function toolItem(fold, turn, ev) {
  endThinking(turn);
  /** @type {ToolItem} */
  const item = {
    kind: "tool",
    id: fold.id(),
    rev: 0,
    callId: ev.call_id ?? null,
    toolName: ev.tool_name ?? "tool",
    arguments: ev.arguments,
    result: null,
    resultTruncated: false,
    state: "running",
    durationMs: null,
    step: ev.step ?? null,
    calledAt: ev.received_at ?? null,
    finishedAt: null,
    note: null,
    fromApproval: false,
  };
  turn.items.push(item);
  return item;
}

export function toolCall(fold, turn, ev) {
  const named = /** @type {ToolItem|undefined} */ (
    turn.items.find(
      (i) => i.kind === "tool" && i.fromApproval && !i.callId && i.toolName === ev.tool_name,
    )
  );
  if (named) {
    named.fromApproval = false;
    named.callId = ev.call_id ?? null;
    if (ev.arguments !== undefined) named.arguments = ev.arguments;
    return fold.touch(turn, named);
  }
  if (ev.call_id) {
    const known = /** @type {ToolItem|undefined} */ (
      turn.items.find((i) => i.kind === "tool" && i.callId === ev.call_id)
    );
    if (known) {
      if (ev.arguments !== undefined) known.arguments = ev.arguments;
      return fold.touch(turn, known);
    }
  }
  toolItem(fold, turn, ev);
  fold.touch(turn);
}

export function toolResult(fold, turn, ev) {
  const open = /** @type {ToolItem[]} */ (
    turn.items.filter((i) => i.kind === "tool" && (i.state === "running" || i.state === "pending"))
  );
  /** @type {ToolItem|undefined} */
  let item;
  if (ev.call_id) item = open.find((i) => i.callId === ev.call_id);
  if (!item && ev.tool_name) item = open.find((i) => i.toolName === ev.tool_name && !i.callId);
  if (!item && ev.tool_name) item = open.find((i) => i.toolName === ev.tool_name);
  if (!item && !ev.tool_name && !ev.call_id) item = open[0];
  if (!item) {
    item = toolItem(fold, turn, ev);
    item.calledAt = null;
  }
  item.result = ev.result ?? null;
  item.resultTruncated = Boolean(ev.result_truncated);
  item.durationMs = typeof ev.duration_ms === "number" ? ev.duration_ms : item.durationMs;
  item.finishedAt = ev.received_at ?? null;
  item.state = ev.error_message || ev.status === "error" ? "error" : "done";
  if (ev.error_message) item.note = ev.error_message;
  fold.touch(turn, item);
}

/** approval_requested: an approval card, and the tool it asks about waits as "pending". */
export function approvalRequested(fold, turn, ev) {
  /** @type {ApprovalItem} */
  const item = {
    kind: "approval",
    id: fold.id(),
    rev: 0,
    toolName: ev.tool_name ?? null,
    arguments: ev.arguments,
    message: ev.text ?? null,
    state: "pending",
    reason: null,
    sent: null,
  };
  endThinking(turn);
  let call = /** @type {ToolItem|undefined} */ (
    findLast(
      turn.items,
      (i) =>
        i.kind === "tool" &&
        i.toolName === ev.tool_name &&
        (i.state === "running" || i.state === "pending"),
    )
  );
  if (call) {
    call.state = "pending";
    fold.touch(turn, call);
  } else {
    // The tool_call may come later: the card exists now and waits for the answer.
    call = toolItem(fold, turn, ev);
    call.state = "pending";
    call.fromApproval = true;
  }
  item.call = call;
  turn.items.push(item);
}

/** approval_resolved: the decision on the last pending approval, and its tool's new state. */
export function approvalResolved(fold, turn, ev) {
  const item = /** @type {ApprovalItem|undefined} */ (
    findLast(turn.items, (i) => i.kind === "approval" && i.state === "pending")
  );
  if (!item) return;
  const args = ev.arguments && typeof ev.arguments === "object" ? ev.arguments : {};
  item.state = args.approved ? "approved" : "denied";
  item.reason = args.reason ?? null;
  fold.touch(turn, item);
  const call = item.call;
  // Python logs the decision once the server accepted it, so the tool's result (or the
  // run's end) may come first: only a call still pending changes, never done/error.
  if (call && call.state === "pending") {
    call.state = args.approved ? "running" : "error";
    if (!args.approved) call.note = `Denied${args.reason ? `: ${args.reason}` : ""}`;
    fold.touch(turn, call);
  }
}
