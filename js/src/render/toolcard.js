// Tool card: one card per call, read top to bottom in time order. A <details> summary row
// (keyboard reachable) with the tool name, its state in words and its own duration; under
// it the approval when someone was asked (asked → Approve/Deny → the outcome, in the same
// place, so the buttons stay in view when the card is open); then the arguments and the
// result. Every state and time is Python's (ToolView, powawidget/model/view.py).

import { h, formatDuration } from "../dom.js";
import { valueView, resultView } from "./json.js";
import { approvalSection } from "./approval.js";

const STATE_LABEL = {
  pending: "waiting for approval",
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

/**
 * Build a tool card for a ToolView.
 * @param {any} item @param {import("./approval.js").ApprovalContext} ctx
 * @returns {{el: HTMLElement, update: (item: any) => void}}
 */
export function toolCard(item, ctx) {
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
  // The <details> only opens and shuts the body, which sits after the approval: opening a
  // card that waits for an answer never pushes Approve / Deny down.
  const disclosure = h("details", { class: "pw-tool-disclosure" }, [summary]);
  const approval = approvalSection(ctx);
  const body = h("div", { class: "pw-tool-body", role: "region" });
  body.id = `pw-tool-body-${++cards}`;
  summary.setAttribute("aria-controls", body.id);
  body.hidden = true;
  const el = h("div", { class: "pw-tool", dataset: { testid: "tool-card" } }, [
    disclosure,
    approval.el,
    body,
  ]);
  let bodyFor = null;
  let current = item;
  let openedForApproval = false;

  function renderBody(it) {
    const parts = [];
    parts.push(
      h("div", { class: "pw-tool-section" }, [
        h("div", { class: "pw-section-label", text: "Arguments" }),
        valueView(it.arguments),
      ]),
    );
    // A refused call's "result" is the server's refusal text: the approval line says it.
    if (it.result !== null && it.result !== undefined && it.state !== "denied") {
      const label = h("div", { class: "pw-section-label", text: "Result" });
      const section = h("div", { class: "pw-tool-section", dataset: { testid: "tool-result" } }, [
        label,
        resultView(it.result, { truncated: it.resultTruncated, preview: it.preview }),
      ]);
      parts.push(section);
    }
    if (it.note && it.state !== "denied") parts.push(h("div", { class: "pw-note", text: it.note }));
    if (it.callId) parts.push(h("div", { class: "pw-tool-meta", text: `call_id ${it.callId}` }));
    body.replaceChildren(...parts);
    bodyFor = it.rev;
  }

  /** @param {any} it */
  function update(it) {
    const refused = it.approval?.state === "timed_out" ? "timed_out" : it.state;
    el.dataset.state = refused;
    el.dataset.toolName = it.toolName;
    if (it.callId) el.dataset.callId = it.callId;
    name.textContent = it.toolName;
    name.title = it.toolName; // long names are cut with an ellipsis
    state.textContent = STATE_LABEL[refused] || refused;
    preview.textContent = argsPreview(it.arguments);
    const ms = it.durationMs;
    duration.textContent = ms !== null && ms !== undefined ? formatDuration(ms) : "";
    duration.title = duration.textContent
      ? it.approval
        ? "The tool's own time (without the wait for your approval)"
        : "The tool's time"
      : "";
    approval.update(it);
    current = it;
    // A call that waits for the user opens once, so its arguments show under the buttons.
    if (it.approval?.state === "pending" && !openedForApproval) {
      openedForApproval = true;
      disclosure.open = true;
    }
    // The body is built when first opened (cheap collapsed cards) and rebuilt on change.
    if (disclosure.open) {
      if (bodyFor !== it.rev) renderBody(it);
    } else bodyFor = null;
    shown(disclosure.open);
  }
  /** Show or hide the body as the summary says. @param {boolean} open */
  function shown(open) {
    body.hidden = !open;
    summary.setAttribute("aria-expanded", String(open));
    el.classList.toggle("pw-tool-open", open);
  }
  disclosure.addEventListener("toggle", () => {
    shown(disclosure.open);
    if (disclosure.open && bodyFor !== current.rev) renderBody(current);
  });
  update(item);
  return { el, update };
}

let cards = 0;
