// Streaming Markdown repair: unfinished constructs hidden or closed, finished text untouched.
import { test } from "node:test";
import assert from "node:assert/strict";
import { repairStreaming as repair } from "../src/render/streaming.js";

test("an open strong or emphasis span is closed", () => {
  assert.equal(repair("Orbit Team has **12 seats of"), "Orbit Team has **12 seats of**");
  assert.equal(repair("it is *really"), "it is *really*");
  assert.equal(repair("it is ~~old"), "it is ~~old~~");
  assert.equal(repair("**bold** and *it"), "**bold** and *it*");
});

test("trailing spaces before the closer are trimmed so the closer still closes", () => {
  assert.equal(repair("has **12 seats "), "has **12 seats**");
});

test("a bare opener at the end waits for its content", () => {
  assert.equal(repair("The plan **"), "The plan");
  assert.equal(repair("Use `"), "Use");
});

test("an open code span is closed; emphasis inside code is not", () => {
  assert.equal(repair("call `client.ask(**kw"), "call `client.ask(**kw`");
  assert.equal(repair("snake_case_name and 2 * 3"), "snake_case_name and 2 * 3");
});

test("a lone list marker is held back until its item text begins", () => {
  assert.equal(repair("Options:\n\n- Orbit\n- "), "Options:\n\n- Orbit\n");
  assert.equal(repair("Options:\n\n1. Orbit\n2."), "Options:\n\n1. Orbit\n");
  assert.equal(repair("Options:\n\n- Orbit\n-\n"), "Options:\n\n- Orbit\n");
  assert.equal(repair("- Or"), "- Or");
});

test("a heading marker alone is held back", () => {
  assert.equal(repair("Intro\n\n## "), "Intro\n\n");
});

test("table lines wait for the delimiter row, then a partial row waits for its line", () => {
  assert.equal(repair("Plans:\n\n| Plan | Seats |"), "Plans:\n\n");
  assert.equal(repair("Plans:\n\n| Plan | Seats |\n|---|--"), "Plans:\n\n");
  const head = "| Plan | Seats |\n|---|---|\n";
  assert.equal(repair(head), head);
  assert.equal(repair(`${head}| Orbit | 3`), head);
  assert.equal(repair(`${head}| Orbit | 3–50 |\n`), `${head}| Orbit | 3–50 |\n`);
});

test("a link whose URL is still arriving shows as its text", () => {
  assert.equal(repair("See [the policy](https://exa"), "See the policy");
  assert.equal(
    repair("See [the policy](https://example.com)"),
    "See [the policy](https://example.com)",
  );
});

test("code fences stream as code; an opener alone waits for its first line", () => {
  assert.equal(repair("Run:\n\n```py"), "Run:\n\n");
  assert.equal(repair("Run:\n\n```py\nx = **2"), "Run:\n\n```py\nx = **2");
});

test("bullets and arithmetic are not emphasis", () => {
  assert.equal(repair("* one\n* tw"), "* one\n* tw");
  assert.equal(repair("5 * 3 = 15"), "5 * 3 = 15");
});

test("complete text is unchanged", () => {
  const done =
    "# Title\n\nSome **bold** and `code`.\n\n- a\n- b\n\n| x | y |\n|---|---|\n| 1 | 2 |\n";
  assert.equal(repair(done), done);
});
