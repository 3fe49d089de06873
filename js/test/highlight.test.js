// The small highlighter: tokens get highlight.js class names; text is always escaped.
import { test } from "node:test";
import assert from "node:assert/strict";
import { highlight, languageOf } from "../src/render/highlight.js";

test("python keywords, names, strings, numbers and comments", () => {
  const html = highlight(
    'def in_stock(sku: str) -> bool:\n    # ask\n    return n > 0 and "x"',
    "python",
  );
  assert.match(
    html,
    /<span class="hljs-keyword">def<\/span> <span class="hljs-title">in_stock<\/span>/,
  );
  assert.match(html, /<span class="hljs-comment"># ask<\/span>/);
  assert.match(html, /<span class="hljs-number">0<\/span>/);
  assert.match(html, /<span class="hljs-string">&#34;x&#34;<\/span>/);
  assert.match(html, /<span class="hljs-built_in">str<\/span>/);
});

test("words containing keywords or digits are not split", () => {
  const html = highlight("format_x1 = classify(x2)", "python");
  assert.doesNotMatch(html, /hljs-keyword/);
  assert.doesNotMatch(html, /hljs-number/);
});

test("json keys and values differ", () => {
  const html = highlight('{"sku": "A-1", "n": 2, "ok": true}', "json");
  assert.match(html, /<span class="hljs-attr">&#34;sku&#34;<\/span>/);
  assert.match(html, /<span class="hljs-string">&#34;A-1&#34;<\/span>/);
  assert.match(html, /<span class="hljs-literal">true<\/span>/);
});

test("html in code is escaped, never markup", () => {
  const html = highlight('x = "<img src=x onerror=alert(1)>"  # <b>', "python");
  assert.doesNotMatch(html, /<img|<b>/);
});

test("aliases and unknown languages", () => {
  assert.equal(languageOf("py"), "python");
  assert.equal(languageOf("Shell"), "bash");
  assert.equal(languageOf("ts"), "javascript");
  assert.equal(languageOf("cobol"), null);
  assert.equal(languageOf("constructor"), null);
  assert.equal(highlight("<a>", "cobol"), "&#60;a&#62;");
});

test("bash variables and comments, sql case-insensitive keywords", () => {
  assert.match(highlight('echo "$HOME" # home', "bash"), /hljs-comment">/);
  assert.match(highlight("echo $HOME", "bash"), /<span class="hljs-variable">\$HOME<\/span>/);
  assert.match(highlight("SELECT name FROM t", "sql"), /<span class="hljs-keyword">SELECT<\/span>/);
});
