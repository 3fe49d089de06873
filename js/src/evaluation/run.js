// @ts-check
// A clicked run, read-only: the prompt, each tool call as a card (arguments, result), the
// answer or the error. Everything is text (textContent), never HTML.

import { h } from "../dom.js";

/**
 * @param {{index: number, prompt?: string, answer?: string, status?: string, error?: string,
 *   tool_calls?: {tool_name: string, arguments: string, result: string, state: string}[]}} run
 * @param {() => void} onClose
 */
export function runView(run, onClose) {
  const cards = (run.tool_calls || []).map((call) =>
    h("details", { class: "pw-eval-tool", dataset: { state: call.state || "" } }, [
      h("summary", { text: `🔧 ${call.tool_name} (${call.state})` }),
      h("pre", { text: `arguments: ${call.arguments}` }),
      h("pre", { text: `result: ${call.result}` }),
    ]),
  );
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
    h("div", { class: "pw-eval-user", text: run.prompt || "" }),
    ...cards,
    run.answer ? h("div", { class: "pw-eval-answer", text: run.answer }) : null,
    run.error ? h("div", { class: "pw-eval-error", text: run.error }) : null,
  ]);
}
