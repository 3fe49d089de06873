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

/** Render one JSON value as a foldable tree (objects/arrays below the top level folded). */
function jsonNode(value, depth) {
  if (value === null || typeof value !== "object") {
    const type = value === null ? "null" : typeof value;
    const text = typeof value === "string" ? JSON.stringify(value) : String(value);
    return h("span", { class: `pw-json-${type}`, text });
  }
  const isArray = Array.isArray(value);
  const keys = isArray ? value.map((_, i) => i) : Object.keys(value);
  const [open, close] = isArray ? ["[", "]"] : ["{", "}"];
  if (!keys.length) return h("span", { class: "pw-json-punct", text: open + close });
  const list = h("div", { class: "pw-json-children" });
  for (const k of keys) {
    const row = h("div", { class: "pw-json-row" });
    if (!isArray)
      row.append(h("span", { class: "pw-json-key", text: JSON.stringify(String(k)) }), ": ");
    row.append(jsonNode(value[k], depth + 1));
    list.append(row);
  }
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
  show(depth < 1);
  return node;
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
      return h("div", { class: "pw-json", dataset: { testid: "json" } }, [jsonNode(data, 0)]);
    }
    return textBlock(pretty, "pw-json-text");
  }
  if (value === undefined) return h("span", { class: "pw-muted", text: "—" });
  return textBlock(typeof value === "string" ? value : String(value));
}
