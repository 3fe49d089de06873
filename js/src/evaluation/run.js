// @ts-check
// A clicked run, read-only: the turn as Python's `model.view.turn_view` folds it for the chat
// panel (items in arrival order: text, tool calls as cards, reasoning, approvals), then the
// error. Everything goes in as text (textContent), never HTML.

import { h } from "../dom.js";
import { formatMs } from "./format.js";

/** @param {any} value */
function asText(value) {
  if (value == null) return "";
  return typeof value === "string" ? value : JSON.stringify(value, null, 2);
}

/** One turn item, or null for the ones a reader does not need (step markers). @param {any} item */
function itemView(item) {
  switch (item.kind) {
    case "text":
      return h("div", { class: "pw-eval-answer", text: item.text });
    case "tool":
      return h("details", { class: "pw-eval-tool", dataset: { state: item.state || "" } }, [
        h("summary", {
          text: `🔧 ${item.toolName} · ${item.state}${item.durationMs != null ? ` · ${formatMs(item.durationMs)}` : ""}`,
        }),
        h("pre", { text: `arguments: ${asText(item.arguments)}` }),
        h("pre", { text: `result: ${asText(item.result)}${item.resultTruncated ? " …" : ""}` }),
        item.note ? h("pre", { text: item.note }) : null,
      ]);
    case "reasoning":
      return h("details", { class: "pw-eval-reasoning" }, [
        h("summary", { text: "Reasoning" }),
        h("pre", { text: item.text }),
      ]);
    case "approval":
      return h("div", {
        class: "pw-eval-approval",
        text: `Approval for ${item.toolName || "a tool"}: ${item.state}`,
      });
    case "reset":
      return h("div", { class: "pw-eval-reset", text: `Step ${item.step ?? ""} restarted` });
    default:
      return null;
  }
}

/**
 * @param {{index: number, prompt?: string, status?: string, error?: string, turn?: any}} run
 * @param {() => void} onClose
 */
export function runView(run, onClose) {
  const turn = run.turn || { items: [] };
  const items = (turn.items || []).map(itemView);
  if (turn.answer) items.push(h("div", { class: "pw-eval-answer", text: turn.answer }));
  const error = turn.error?.message || run.error || "";
  return h("div", { class: "pw-eval-run", role: "region", "aria-label": `Run ${run.index}` }, [
    h("div", { class: "pw-eval-run-head" }, [
      h("strong", { text: `Run ${run.index} · ${run.status || ""}` }),
      h("button", {
        type: "button",
        class: "pw-eval-close",
        text: "Close",
        on: { click: onClose },
      }),
    ]),
    h("div", { class: "pw-eval-user", text: turn.userText || run.prompt || "" }),
    ...items,
    error ? h("div", { class: "pw-eval-error", text: error }) : null,
  ]);
}
