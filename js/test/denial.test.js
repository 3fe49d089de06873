// Denials in the user's words: server jargon cut, timeouts told apart, one card per call.
import { test } from "node:test";
import assert from "node:assert/strict";
import { plainReason, denialOf, toldByToolCard } from "../src/render/denial.js";

test("server jargon before a refusal reason is cut", () => {
  assert.equal(plainReason("Error: Blocked by hook — Denied by user: too much"), "too much");
  assert.equal(plainReason("Blocked by hook - too much"), "too much");
  assert.equal(plainReason("Denied: too much"), "too much");
  assert.equal(plainReason(null), "");
  assert.equal(plainReason("A plain reason"), "A plain reason");
});

test("a refusal with no reason of its own leaves none (no 'Denied by you: Denied by user')", () => {
  assert.equal(plainReason("Denied by user"), "");
  assert.equal(plainReason("Error: Blocked by hook — Denied by user"), "");
  assert.equal(plainReason("denied."), "");
  assert.equal(plainReason("Denied by user: too much"), "too much");
});

const tool = (extra = {}) => ({ kind: "tool", toolName: "issue_refund", callId: "c9", ...extra });
const approval = (extra = {}) => ({ kind: "approval", toolName: "issue_refund", ...extra });

test("a denied tool item (the lead's shape) reads as denied by you", () => {
  const t = tool({ state: "denied", note: "Blocked by hook — Denied by user: not today" });
  assert.deepEqual(denialOf(t, { items: [t] }), { timedOut: false, reason: "not today" });
});

test("a denied approval for the same tool marks the call, by reference or tool name", () => {
  const t = tool({ state: "error", note: "Error: Blocked by hook — Denied by user: x" });
  const a = approval({ state: "denied", reason: "amount too high", call: t });
  assert.deepEqual(denialOf(t, { items: [t, a] }), { timedOut: false, reason: "amount too high" });
  const b = approval({ state: "denied", reason: "no" });
  assert.equal(denialOf(t, { items: [t, b] }).reason, "no");
  assert.equal(toldByToolCard(b, { items: [t, b] }), true);
});

test("a timed-out approval says so, with no reason", () => {
  const t = tool({ state: "denied" });
  const a = approval({ state: "timed_out", reason: "approval timed out after 300 s" });
  assert.deepEqual(denialOf(t, { items: [t, a] }), { timedOut: true, reason: null });
});

test("approved or pending calls are not denials; their approval cards stay", () => {
  const t = tool({ state: "done" });
  const a = approval({ state: "approved" });
  assert.equal(denialOf(t, { items: [t, a] }), null);
  assert.equal(toldByToolCard(a, { items: [t, a] }), false);
  const p = approval({ state: "pending" });
  assert.equal(toldByToolCard(p, { items: [t, p] }), false);
});
