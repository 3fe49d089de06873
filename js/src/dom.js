// Small DOM, list and formatting helpers shared by the view model and the renderers. Text always goes in as text
// (textContent), never as HTML.

/**
 * Create an element. `attrs` keys: class, text, dataset (object), on (object of listeners),
 * anything else → setAttribute (skipped when null/false). Children: nodes or strings (text).
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag @param {Record<string, any>} [attrs] @param {(Node|string|null|undefined)[]} [children]
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs = {}, children = []) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = String(v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "on") for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    el.append(typeof c === "string" ? document.createTextNode(c) : c);
  }
  return el;
}

/** Format a token count with thousands separators. @param {number} n */
export function formatCount(n) {
  return Math.round(n).toLocaleString("en-US");
}

/** Format a duration in ms as "320 ms", "1.4 s", "2 min 5 s". @param {number} ms */
export function formatDuration(ms) {
  if (!Number.isFinite(ms) || ms < 0) return "";
  if (ms < 1) return "<1 ms";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - m * 60)} s`;
}

/** Describe token usage briefly: "1,234 tokens (800 in · 434 out)" (model/view.py sends
 * `total_tokens` whenever it can be known: the panel never derives it). */
export function describeUsage(usage) {
  if (!usage) return "";
  const total = usage.total_tokens; // filled in by Python when the server left it out
  if (!total) return "";
  const parts = [];
  if (usage.prompt_tokens != null) parts.push(`${formatCount(usage.prompt_tokens)} in`);
  if (usage.completion_tokens != null) parts.push(`${formatCount(usage.completion_tokens)} out`);
  if (usage.reasoning_tokens) parts.push(`${formatCount(usage.reasoning_tokens)} reasoning`);
  if (usage.cached_tokens) parts.push(`${formatCount(usage.cached_tokens)} cached`);
  const tail = parts.length ? ` (${parts.join(" · ")})` : "";
  return `${formatCount(total)} tokens${tail}`;
}

/** The last element of a list matching a predicate. @template T @param {T[]} list @param {(x: T) => boolean} pred */
export function findLast(list, pred) {
  for (let i = list.length - 1; i >= 0; i--) if (pred(list[i])) return list[i];
  return undefined;
}
