// Where streaming markdown may be cut into settled blocks (pure text logic).
import { test } from "node:test";
import assert from "node:assert/strict";
import { settledBoundary, flattenDeepQuotes, MAX_QUOTE_DEPTH } from "../src/render/markdown.js";

test("cuts at the last blank line before a non-indented line", () => {
  const text = "para one\n\npara two\n\npara thr";
  assert.equal(settledBoundary(text, 0, null).cut, text.indexOf("para two"));
});

test("never cuts inside a code fence, even at blank lines", () => {
  const text = "intro\n\n```python\nx = 1\n\ny = 2\n";
  assert.equal(settledBoundary(text, 0, null).cut, text.indexOf("```"));
  const closed = `${text}\`\`\`\n\nafter\n`;
  assert.equal(settledBoundary(closed, 0, null).cut, closed.indexOf("after"));
});

test("an indented continuation after a blank line is not a cut point", () => {
  const text = "- item\n\n    continued\n";
  assert.equal(settledBoundary(text, 0, null).cut, 0);
});

test("scans on from an earlier cut with its fence state", () => {
  const text = "a\n\n~~~\ncode\n\nmore\n~~~\n\nb\n";
  const first = settledBoundary(text.slice(0, 12), 0, null);
  const next = settledBoundary(text, first.cut, first.fence);
  assert.equal(next.cut, text.indexOf("b\n"));
});

test("quote markers past MAX_QUOTE_DEPTH become text: the words stay, the stack holds", () => {
  const deep = ">".repeat(5000) + " the deepest words";
  const flat = flattenDeepQuotes(deep);
  assert.ok(flat.startsWith(">".repeat(MAX_QUOTE_DEPTH) + " &gt;"));
  assert.ok(flat.endsWith("&gt; the deepest words"));
  assert.equal(flat.split("&gt;").length - 1 + MAX_QUOTE_DEPTH, 5000); // every marker kept
  const shallow = "> a\n> > b\n" + "> ".repeat(MAX_QUOTE_DEPTH) + "c";
  assert.equal(flattenDeepQuotes(shallow), shallow);
});
