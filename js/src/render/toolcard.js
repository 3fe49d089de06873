// Tool card: a <details> (keyboard reachable through its <summary>) with the tool name,
// its state in words, the duration, and the arguments and result pretty-printed.

import { h, formatDuration, elapsed } from "../dom.js";
import { valueView, resultView } from "./json.js";
import { denialOf, plainReason } from "./denial.js";

const STATE_LABEL = {
  pending: "pending",
  running: "running",
  done: "done",
  error: "error",
  denied: "denied",
  timed_out: "timed out",
};

/** Preview length in the summary row (the row cuts it with an ellipsis when narrower). */
const PREVIEW_CHARS = 120;

/**
 * A value as one readable line, `key: value, …` with spaces after commas (JSON.stringify
 * packs arrays as ["a","b"]). Stops early once `budget` characters are written, so a huge
 * argument costs no more than a short one.
 */
function inline(value, budget, top = false) {
  if (typeof value === "string") return JSON.stringify(value.slice(0, budget));
  if (value === null || typeof value !== "object") return String(value);
  const parts = [];
  let used = 0;
  const entries = Array.isArray(value) ? value.map((v) => [null, v]) : Object.entries(value);
  for (const [k, v] of entries) {
    if (used >= budget) break;
    const part = (k === null ? "" : `${k}: `) + inline(v, budget - used);
    parts.push(part);
    used += part.length + 2;
  }
  const body = parts.join(", ") + (parts.length < entries.length ? ", …" : "");
  if (top) return body;
  return Array.isArray(value) ? `[${body}]` : `{${body}}`;
}

/** A one-line preview of the arguments for the summary row. */
function argsPreview(args) {
  if (args === undefined || args === null) return "";
  const top = typeof args === "object" && !Array.isArray(args);
  const s = typeof args === "string" ? args : inline(args, PREVIEW_CHARS, top);
  return s.length > PREVIEW_CHARS ? `${s.slice(0, PREVIEW_CHARS - 1)}…` : s;
}

/** Build a tool card for a ToolItem. @returns {{el: HTMLElement, update: (item: any) => void}} */
export function toolCard(item) {
  const name = h("span", { class: "pw-tool-name", dataset: { testid: "tool-name" } });
  const state = h("span", { class: "pw-tool-state", dataset: { testid: "tool-state" } });
  const preview = h("span", { class: "pw-tool-args-preview" });
  const duration = h("span", { class: "pw-tool-duration", dataset: { testid: "tool-duration" } });
  const summary = h("summary", { class: "pw-tool-summary" }, [
    h("span", { class: "pw-tool-icon", "aria-hidden": "true" }),
    name,
    preview,
    h("span", { class: "pw-spacer" }),
    duration,
    state,
  ]);
  const body = h("div", { class: "pw-tool-body" });
  // The outcome of a denial is part of the summary row, so it shows while the card is shut.
  const outcome = h("span", { class: "pw-tool-outcome", dataset: { testid: "tool-outcome" } });
  summary.append(outcome);
  const el = h("details", { class: "pw-tool", dataset: { testid: "tool-card" } }, [summary, body]);
  let bodyFor = null;
  /** @type {{timedOut: boolean, reason: string|null}|null} */
  let denial = null;

  function renderBody(it) {
    const parts = [];
    parts.push(
      h("div", { class: "pw-tool-section" }, [
        h("div", { class: "pw-section-label", text: "Arguments" }),
        valueView(it.arguments),
      ]),
    );
    // A denied call's "result" is the server's refusal text: the outcome line says it.
    if (it.result !== null && it.result !== undefined && !denial) {
      const label = h("div", { class: "pw-section-label", text: "Result" });
      const section = h("div", { class: "pw-tool-section", dataset: { testid: "tool-result" } }, [
        label,
        resultView(it.result, { truncated: it.resultTruncated, preview: it.preview }),
      ]);
      parts.push(section);
    }
    if (it.note && !denial) parts.push(h("div", { class: "pw-note", text: plainReason(it.note) }));
    if (it.callId) parts.push(h("div", { class: "pw-tool-meta", text: `call_id ${it.callId}` }));
    body.replaceChildren(...parts);
  }

  /** @param {any} it @param {any} [turn] */
  function update(it, turn) {
    const was = denial ? `${denial.timedOut}${denial.reason}` : "";
    denial = denialOf(it, turn);
    const changed = was !== (denial ? `${denial.timedOut}${denial.reason}` : "");
    if (!changed && bodyFor === it.rev && current === it) return;
    const shown = denial ? (denial.timedOut ? "timed_out" : "denied") : it.state;
    el.dataset.state = shown;
    outcome.hidden = !denial;
    outcome.textContent = denial
      ? denial.timedOut
        ? "Approval timed out: the tool did not run."
        : `Denied by you${denial.reason ? `: ${denial.reason}` : ""}`
      : "";
    el.dataset.toolName = it.toolName;
    if (it.callId) el.dataset.callId = it.callId;
    name.textContent = it.toolName;
    name.title = it.toolName; // long names are cut with an ellipsis
    state.textContent = STATE_LABEL[shown] || shown;
    preview.textContent = argsPreview(it.arguments);
    const ms = it.durationMs ?? elapsed(it.calledAt, it.finishedAt);
    duration.textContent = ms !== null && it.state !== "running" ? formatDuration(ms) : "";

    // The body is built when first opened (cheap collapsed cards) and rebuilt on change.
    current = it;
    if (el.open) {
      renderBody(it);
      bodyFor = it.rev;
    } else bodyFor = null;
  }
  let current = null;
  el.addEventListener("toggle", () => {
    if (el.open && bodyFor !== current.rev) {
      renderBody(current);
      bodyFor = current.rev;
    }
  });
  update(item);
  return { el, update };
}
