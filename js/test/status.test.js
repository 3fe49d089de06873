// The status line's run clock: no "· 0 s", no clock while the user decides on an approval.
import { test } from "node:test";
import assert from "node:assert/strict";
import { runClock } from "../src/render/chrome.js";

const T0 = 1_000_000;
const at = (status, ms, sending = "no") => runClock({ status, startedAt: T0, sending }, T0 + ms);

test("the clock stays hidden for the first second of a run", () => {
  assert.equal(at("connecting", 0), "");
  assert.equal(at("streaming", 999), "");
  assert.equal(at("streaming", 1000), " · 1 s");
  assert.equal(at("streaming", 59_999), " · 59 s");
  assert.equal(at("streaming", 125_400), " · 2 min 5 s");
});

test("no clock while waiting for approval, when idle, or while a message is sending", () => {
  assert.equal(at("waiting_approval", 30_000), "");
  assert.equal(at("idle", 30_000), "");
  assert.equal(at("streaming", 30_000, "yes"), "");
  assert.equal(runClock({ status: "streaming", startedAt: null, sending: "no" }), "");
});
