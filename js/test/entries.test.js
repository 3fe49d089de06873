// The panel's entries follow Python's snapshot and patches exactly; identity and revs let
// the renderers redraw only what changed. Run: npm test.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Entries } from "../src/model/entries.js";

const turn = (fields = {}) => ({
  kind: "turn",
  runId: "run_1",
  sessionId: "sess_1",
  userText: "q",
  answer: null,
  items: [],
  steps: 0,
  status: "streaming",
  usage: null,
  error: null,
  fromHistory: false,
  citations: null,
  startedAt: null,
  endedAt: null,
  ...fields,
});

test("a text op appends to the same item object and bumps its rev", () => {
  const e = new Entries();
  e.reset([turn({ items: [{ kind: "text", text: "Hel" }] })]);
  const item = e.lastTurn.items[0];
  e.apply([{ op: "text", at: 0, index: 0, append: "lo" }]);
  assert.equal(e.lastTurn.items[0], item);
  assert.equal(item.text, "Hello");
  assert.equal(item.rev, 1);
  assert.equal(e.lastTurn.text, "Hello");
  assert.deepEqual([...e.takeDirty()], [e.lastTurn]);
});

test("item ops replace in place, trim drops items, turn ops set fields", () => {
  const e = new Entries();
  e.reset([turn({ items: [{ kind: "tool", toolName: "t", state: "running" }] })]);
  const tool = e.lastTurn.items[0];
  e.apply([
    { op: "item", at: 0, index: 0, item: { kind: "tool", toolName: "t", state: "done" } },
    { op: "item", at: 0, index: 1, item: { kind: "text", text: "ok" } },
    { op: "turn", at: 0, set: { status: "completed", usage: { total_tokens: 3 } } },
  ]);
  assert.equal(e.lastTurn.items[0], tool);
  assert.equal(tool.state, "done");
  assert.equal(e.lastTurn.status, "completed");
  assert.deepEqual(e.sessionUsage, { total_tokens: 3 });
  e.apply([{ op: "trim", at: 0, items: 1 }]);
  assert.equal(e.lastTurn.items.length, 1);
});

test("the saved form drops ids and revs and round-trips through reset", () => {
  const e = new Entries();
  const saved = [turn({ items: [{ kind: "text", text: "a" }] }), { kind: "divider", at: null }];
  e.reset(saved);
  assert.deepEqual(e.toJSON(), saved);
  assert.equal(e.lastTurn, null); // a divider last: no current turn
  assert.equal(e.userMessages, 1);
});
