// The conversation view model folds slim events into turns by the rules of PROTOCOL.md.
// Run: npm test (node's built-in test runner; no DOM needed).

import { test } from "node:test";
import assert from "node:assert/strict";
import { Conversation } from "../src/conversation.js";

const user = (text) => ({ event: "user_message", seq: -1, text });
const ev = (event, fields = {}) => ({ event, seq: 0, run_id: "run_1", ...fields });
const fold = (events) => {
  const c = new Conversation();
  c.extend(events);
  return c;
};
const texts = (turn) => turn.items.filter((i) => i.kind === "text").map((i) => i.text);

test("deltas append; a chunk after deltas replaces; complete.content is final", () => {
  const c = fold([
    user("q"),
    ev("start", { session_id: "sess_1" }),
    ev("content_delta", { text: "Hel", text_mode: "append" }),
    ev("content_delta", { text: "lo", text_mode: "append" }),
  ]);
  assert.equal(c.lastTurn.text, "Hello");
  c.apply(ev("chunk", { text: "Hello!", text_mode: "replace" }));
  assert.equal(c.lastTurn.text, "Hello!");
  assert.deepEqual(texts(c.lastTurn), ["Hello!"]);
  c.apply(ev("complete", { text: "Final.", text_mode: "replace", status: "completed" }));
  assert.equal(c.lastTurn.text, "Final.");
  assert.equal(c.lastTurn.status, "completed");
  assert.equal(c.lastTurn.sessionId, "sess_1");
});

test("documented chunks (no text_mode) append", () => {
  const c = fold([user("q"), ev("start"), ev("chunk", { text: "a" }), ev("chunk", { text: "b" })]);
  assert.equal(c.lastTurn.text, "ab");
});

test("text around tool calls stays in segments; a final text equal to the last one keeps them", () => {
  const c = fold([
    user("q"),
    ev("start"),
    ev("content_delta", { text: "Let me look.", text_mode: "append" }),
    ev("tool_call", { tool_name: "search", call_id: "c1", arguments: { q: 1 } }),
    ev("tool_result", { tool_name: "search", call_id: "c1", result: "r" }),
    ev("content_delta", { text: "Found it.", text_mode: "append" }),
    ev("complete", { text: "Found it.", text_mode: "replace", status: "completed" }),
  ]);
  assert.deepEqual(texts(c.lastTurn), ["Let me look.", "Found it."]);
  assert.equal(c.lastTurn.text, "Found it.");
});

test("an empty complete.content does not wipe streamed text", () => {
  const c = fold([
    user("q"),
    ev("start"),
    ev("content_delta", { text: "kept", text_mode: "append" }),
    ev("complete", { text: "", status: "completed" }),
  ]);
  assert.equal(c.lastTurn.text, "kept");
});

test("concurrent tool results pair by call_id, in any order", () => {
  const c = fold([
    user("q"),
    ev("start"),
    ev("tool_call", { tool_name: "a", call_id: "1" }),
    ev("tool_call", { tool_name: "a", call_id: "2" }),
    ev("tool_result", { tool_name: "a", call_id: "2", result: "two", duration_ms: 5 }),
  ]);
  const [one, two] = c.lastTurn.items.filter((i) => i.kind === "tool");
  assert.equal(one.state, "running");
  assert.equal(two.state, "done");
  assert.equal(two.result, "two");
  assert.equal(two.durationMs, 5);
});

test("without call_ids results pair first-in-first-out per tool name", () => {
  const c = fold([
    user("q"),
    ev("start"),
    ev("tool_call", { tool_name: "a" }),
    ev("tool_call", { tool_name: "b" }),
    ev("tool_call", { tool_name: "a" }),
    ev("tool_result", { tool_name: "a", result: "first a" }),
    ev("tool_result", { tool_name: "a", result: "second a" }),
    ev("tool_result", { result: "no name: oldest open" }),
  ]);
  const tools = c.lastTurn.items.filter((i) => i.kind === "tool");
  assert.deepEqual(
    tools.map((t) => t.result),
    ["first a", "no name: oldest open", "second a"],
  );
});

test("a result without its call becomes its own card", () => {
  const c = fold([
    user("q"),
    ev("start"),
    ev("tool_result", { tool_name: "x", call_id: "z", result: "r" }),
  ]);
  const [tool] = c.lastTurn.items.filter((i) => i.kind === "tool");
  assert.equal(tool.toolName, "x");
  assert.equal(tool.state, "done");
});

test("failed complete is an error with code run_failed; error and client_error fail the turn", () => {
  let c = fold([
    user("q"),
    ev("start"),
    ev("complete", { status: "failed", error_message: "boom", error_code: "run_failed", step: 2 }),
  ]);
  assert.equal(c.lastTurn.status, "failed");
  assert.deepEqual(c.lastTurn.error, { message: "boom", code: "run_failed", step: 2 });
  c = fold([
    user("q"),
    ev("start"),
    ev("tool_call", { tool_name: "t" }),
    ev("error", { error_message: "rate limited", error_code: "rate_limited" }),
  ]);
  assert.equal(c.lastTurn.error.code, "rate_limited");
  assert.equal(c.lastTurn.items.find((i) => i.kind === "tool").state, "error");
  c = fold([
    user("q"),
    { event: "client_error", seq: -1, error_message: "401", error_code: "unauthorized" },
  ]);
  assert.equal(c.lastTurn.status, "failed");
  assert.equal(c.lastTurn.userText, "q");
});

test("stopped stays stopped when a late error follows; open tools end in error", () => {
  const c = fold([
    user("q"),
    ev("start"),
    ev("tool_call", { tool_name: "t" }),
    { event: "stopped", seq: -1, run_id: "run_1" },
    ev("error", { error_message: "late" }),
  ]);
  assert.equal(c.lastTurn.status, "stopped");
  const tool = c.lastTurn.items.find((i) => i.kind === "tool");
  assert.equal(tool.state, "error");
});

test("approvals: the tool waits pending; approve → running, deny → error", () => {
  const c = fold([
    user("q"),
    ev("start"),
    ev("approval_requested", { tool_name: "refund", arguments: { id: 1 }, text: "OK?" }),
  ]);
  assert.equal(c.lastTurn.status, "waiting_approval");
  const tool = c.lastTurn.items.find((i) => i.kind === "tool");
  assert.equal(tool.state, "pending");
  c.apply(ev("tool_call", { tool_name: "refund", call_id: "c9", arguments: { id: 1 } }));
  assert.equal(c.lastTurn.items.filter((i) => i.kind === "tool").length, 1);
  c.apply({
    event: "approval_resolved",
    seq: -1,
    run_id: "run_1",
    arguments: { approved: false, reason: "no" },
  });
  assert.equal(tool.state, "error");
  assert.equal(c.lastTurn.status, "streaming");
  const approval = c.lastTurn.items.find((i) => i.kind === "approval");
  assert.equal(approval.state, "denied");
  assert.equal(approval.reason, "no");
});

test("a decision logged after the tool's result (or the run's end) never reopens the tool", () => {
  const resolved = (approved) => ({
    event: "approval_resolved",
    seq: -1,
    run_id: "run_1",
    arguments: { approved, reason: null },
  });
  const c = fold([
    user("q"),
    ev("start"),
    ev("tool_call", { tool_name: "refund", call_id: "c1", arguments: { id: 1 } }),
    ev("approval_requested", { tool_name: "refund", text: "OK?" }),
    ev("tool_result", { tool_name: "refund", call_id: "c1", result: "refunded" }),
  ]);
  const tool = c.lastTurn.items.find((i) => i.kind === "tool");
  assert.equal(tool.state, "done");
  c.apply(resolved(true));
  assert.equal(tool.state, "done");
  assert.equal(c.lastTurn.items.find((i) => i.kind === "approval").state, "approved");

  const ended = fold([
    user("q"),
    ev("start"),
    ev("approval_requested", { tool_name: "delete", text: "OK?" }),
    ev("tool_result", { tool_name: "delete", status: "error", result: "denied" }),
    ev("complete", { status: "completed", text: "Not deleted." }),
  ]);
  const denied = ended.lastTurn.items.find((i) => i.kind === "tool");
  assert.equal(denied.state, "error");
  ended.apply(resolved(false));
  assert.equal(denied.state, "error");
  assert.equal(denied.note, null);
  assert.equal(ended.lastTurn.status, "completed");
});

test("a new run without a user message (retry) opens a turn without a user bubble", () => {
  const c = fold([
    user("q"),
    ev("start"),
    ev("complete", { status: "completed", text: "a" }),
    ev("start", { run_id: "run_2" }),
    ev("chunk", { run_id: "run_2", text: "b" }),
  ]);
  assert.equal(c.turns.length, 2);
  assert.equal(c.lastTurn.userText, null);
  assert.equal(c.lastTurn.text, "b");
});

test("new_session is a divider and resets the session total", () => {
  const c = fold([
    user("q"),
    ev("start"),
    ev("complete", { status: "completed", usage: { total_tokens: 10 } }),
    user("r"),
    ev("start", { run_id: "run_2" }),
    ev("complete", { run_id: "run_2", status: "completed", usage: { total_tokens: 5 } }),
  ]);
  assert.deepEqual(c.sessionUsage, { total_tokens: 15 });
  c.apply({ event: "new_session", seq: -1 });
  assert.equal(c.entries.at(-1).kind, "divider");
  assert.equal(c.sessionUsage, null);
});

test("history messages become completed turns after one note", () => {
  const h = (role, text) => ({ event: "history", seq: -1, text, arguments: { role } });
  const c = fold([h("user", "a"), h("assistant", "A"), h("user", "b"), h("assistant", "B")]);
  assert.deepEqual(
    c.entries.map((e) => e.kind),
    ["history-note", "turn", "turn"],
  );
  assert.deepEqual(
    c.turns.map((t) => [t.userText, t.text, t.status, t.fromHistory]),
    [
      ["a", "A", "completed", true],
      ["b", "B", "completed", true],
    ],
  );
  c.apply(user("live"));
  assert.equal(c.lastTurn.fromHistory, false);
});

test("reasoning streams into one thinking block, done when the answer starts", () => {
  const c = fold([
    user("q"),
    ev("start"),
    ev("reasoning_delta", { step: 1, text: "a", text_mode: "append" }),
    ev("reasoning_delta", { step: 1, text: "b", text_mode: "append" }),
  ]);
  const r = c.lastTurn.items.find((i) => i.kind === "reasoning");
  assert.equal(r.text, "ab");
  assert.equal(r.done, false);
  c.apply(ev("content_delta", { text: "x", text_mode: "append" }));
  assert.equal(r.done, true);
});

test("malformed and unknown events change nothing visible", () => {
  const c = fold([
    user("q"),
    ev("start"),
    { event: "malformed", seq: 3, text: "{oops" },
    ev("model_fallback"),
    ev("compaction"),
  ]);
  assert.equal(c.lastTurn.items.length, 0);
  assert.equal(c.lastTurn.status, "streaming");
});

test("a tool call or an approval request ends the thinking before it", () => {
  const c = fold([
    user("q"),
    ev("start"),
    ev("reasoning_delta", { step: 1, text: "hmm", text_mode: "append" }),
    ev("approval_requested", { tool_name: "refund" }),
  ]);
  assert.equal(c.lastTurn.items.find((i) => i.kind === "reasoning").done, true);
});

test("a tool result while waiting for approval means the run resumed", () => {
  const c = fold([
    user("q"),
    ev("start"),
    ev("tool_call", { tool_name: "refund", call_id: "c1", arguments: { id: 1 } }),
    ev("approval_requested", { tool_name: "refund", arguments: { id: 1 }, text: "OK?" }),
  ]);
  assert.equal(c.lastTurn.status, "waiting_approval");
  c.apply(ev("tool_result", { tool_name: "refund", call_id: "c1", result: "done" }));
  assert.equal(c.lastTurn.status, "streaming");
});
