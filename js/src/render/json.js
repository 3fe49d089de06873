// Pretty views of tool arguments and results: JSON pretty-printed and folded past the
// first level, long text truncated with a "Show all" button. Text only, never HTML.

import { h, formatCount } from "../dom.js";

/** Longest text shown before "Show all". */
export const PREVIEW_CHARS = 2000;
/** Results longer than this are not parsed as JSON (shown as text). */
const JSON_PARSE_LIMIT = 100_000;

/** Parse a string as JSON object/array, or undefined. @param {any} value */
export function asJson(value) {
  if (value !== null && typeof value === "object") return value;
  if (typeof value !== "string" || value.length > JSON_PARSE_LIMIT) return undefined;
  const s = value.trim();
  if (!(s.startsWith("{") || s.startsWith("["))) return undefined;
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

/** A block of preformatted text, cut at PREVIEW_CHARS with a "Show all" button. */
export function textBlock(text, cls = "") {
  const pre = h("pre", { class: `pw-pre ${cls}`.trim() });
  if (text.length <= PREVIEW_CHARS) {
    pre.textContent = text;
    return pre;
  }
  pre.textContent = text.slice(0, PREVIEW_CHARS);
  const more = h("button", {
    type: "button",
    class: "pw-show-all",
    dataset: { testid: "show-all" },
    text: `Show all (${formatCount(text.length)} characters)`,
  });
  more.addEventListener("click", () => {
    pre.textContent = text;
    more.remove();
  });
  return h("div", { class: "pw-truncated" }, [pre, more]);
}

/** Pretty JSON up to this many lines is shown fully unfolded. */
const OPEN_LINES = 24;
/** Containers whose one-line form is at most this long are shown inline, never folded. */
const INLINE_CHARS = 60;

/** A primitive JSON value as a coloured span. */
function leaf(value) {
  const type = value === null ? "null" : typeof value;
  const text = typeof value === "string" ? JSON.stringify(value) : String(value);
  return h("span", { class: `pw-json-${type}`, text });
}

/**
 * The one-line form of a small container of primitives (`["a", "b"]`, `{"q": 1}`), or null
 * when it is nested or longer than INLINE_CHARS: such values read best on one line.
 */
function inlineForm(value) {
  const entries = Array.isArray(value) ? value.map((v) => [null, v]) : Object.entries(value);
  if (entries.some(([, v]) => v !== null && typeof v === "object")) return null;
  const parts = entries.map(
    ([k, v]) => (k === null ? "" : `${JSON.stringify(k)}: `) + JSON.stringify(v),
  );
  const text = Array.isArray(value) ? `[${parts.join(", ")}]` : `{${parts.join(", ")}}`;
  return text.length <= INLINE_CHARS ? entries : null;
}

/** A small container on one line, with coloured values. */
function inlineNode(value, entries) {
  const isArray = Array.isArray(value);
  const node = h("span", { class: "pw-json-inline" }, [isArray ? "[" : "{"]);
  entries.forEach(([k, v], i) => {
    if (i) node.append(", ");
    if (k !== null) node.append(h("span", { class: "pw-json-key", text: JSON.stringify(k) }), ": ");
    node.append(leaf(v));
  });
  node.append(isArray ? "]" : "}");
  return node;
}

/**
 * Render one JSON value as a foldable tree: the top level open, small containers inline,
 * larger nested ones folded.
 */
function jsonNode(value, depth, unfold = false) {
  if (value === null || typeof value !== "object") return leaf(value);
  const small = depth > 0 ? inlineForm(value) : null;
  if (small) return inlineNode(value, small);
  const isArray = Array.isArray(value);
  const keys = isArray ? value.map((_, i) => i) : Object.keys(value);
  const [open, close] = isArray ? ["[", "]"] : ["{", "}"];
  if (!keys.length) return h("span", { class: "pw-json-punct", text: open + close });
  const list = h("div", { class: "pw-json-children" });
  keys.forEach((k, i) => {
    const row = h("div", { class: "pw-json-row" });
    if (!isArray)
      row.append(h("span", { class: "pw-json-key", text: JSON.stringify(String(k)) }), ": ");
    row.append(jsonNode(value[k], depth + 1, unfold));
    // The commas are text, so a copied selection of an unfolded tree is valid JSON.
    if (i < keys.length - 1) row.append(h("span", { class: "pw-json-punct", text: "," }));
    list.append(row);
  });
  const n = keys.length;
  const folded = `${open} ${n} ${isArray ? (n === 1 ? "item" : "items") : n === 1 ? "key" : "keys"} ${close}`;
  const toggle = h("button", { type: "button", class: "pw-json-toggle" });
  const closing = h("span", { class: "pw-json-punct", text: close });
  const node = h("span", { class: "pw-json-node" }, [toggle, list, closing]);
  /** @param {boolean} expanded */
  const show = (expanded) => {
    toggle.textContent = expanded ? open : folded;
    toggle.setAttribute("aria-expanded", String(expanded));
    toggle.setAttribute(
      "aria-label",
      `${expanded ? "Fold" : "Unfold"} ${isArray ? "list" : "object"} of ${n}`,
    );
    list.hidden = !expanded;
    closing.hidden = !expanded;
  };
  toggle.addEventListener("click", () => show(list.hidden));
  show(unfold || depth < 1);
  return node;
}

/**
 * A selection that takes in the whole tree copies the value as pretty JSON, folded parts
 * included (a folded node shows "{ 3 keys }", which is no JSON). A part of the tree copies
 * as selected.
 * @param {HTMLElement} tree @param {string} pretty @param {ClipboardEvent} event
 */
function copyWhole(tree, pretty, event) {
  const selection = tree.ownerDocument.getSelection();
  if (!selection || !selection.rangeCount || !event.clipboardData) return;
  const texts = tree.ownerDocument.createTreeWalker(tree, NodeFilter.SHOW_TEXT);
  const first = texts.nextNode();
  let last = first;
  for (let node = first; node; node = texts.nextNode()) last = node;
  if (!first || !last) return;
  const range = selection.getRangeAt(0);
  const whole = tree.ownerDocument.createRange();
  whole.setStart(first, 0);
  whole.setEnd(last, last.textContent?.length ?? 0);
  const covers =
    range.compareBoundaryPoints(Range.START_TO_START, whole) <= 0 &&
    range.compareBoundaryPoints(Range.END_TO_END, whole) >= 0;
  if (!covers) return;
  event.clipboardData.setData("text/plain", pretty);
  event.preventDefault();
}

/**
 * View of a tool argument/result value: JSON → folded tree (or pretty text when large),
 * anything else → text, truncated with "Show all".
 */
export function valueView(value) {
  const data = asJson(value);
  if (data !== undefined) {
    const pretty = JSON.stringify(data, null, 2);
    if (pretty.length <= PREVIEW_CHARS * 2) {
      // A value that fits in a screenful is shown whole; larger ones fold below the top.
      const open = pretty.split("\n").length <= OPEN_LINES;
      const tree = h("div", { class: "pw-json", dataset: { testid: "json" } }, [
        jsonNode(data, 0, open),
      ]);
      tree.addEventListener("copy", (event) => copyWhole(tree, pretty, event));
      return tree;
    }
    return textBlock(pretty, "pw-json-text");
  }
  if (value === undefined) return h("span", { class: "pw-muted", text: "—" });
  return textBlock(typeof value === "string" ? value : String(value));
}

/**
 * A tool's result: pretty JSON when it parses, else text; long results collapsed behind
 * "Show all"; a result that is only a preview or was cut says so where it ends.
 * @param {string} result @param {{truncated?: boolean, preview?: boolean}} [flags]
 */
export function resultView(result, flags = {}) {
  const cut = Boolean(flags.truncated || flags.preview);
  const data = cut ? undefined : asJson(result);
  const view = data !== undefined ? valueView(data) : textBlock(String(result));
  if (!cut) return view;
  const mark = h("div", {
    class: "pw-cut-mark",
    dataset: { testid: "result-cut" },
    text: flags.preview
      ? `Preview only (${formatCount(String(result).length)} characters): the agent server sent a shortened result.`
      : `Cut at ${formatCount(String(result).length)} characters for display; the full result is in the transcript.`,
  });
  // The text visibly stops: an ellipsis where it was cut, then the note.
  const pre = view.tagName === "PRE" ? view : view.querySelector("pre");
  if (pre) pre.dataset.cut = "true";
  return h("div", { class: "pw-result-cut" }, [view, mark]);
}
