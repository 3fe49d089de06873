// @ts-check
// A clicked run, read-only: the turn as Python folded it (`model.view.turn_view`), drawn by
// the chat panel's own turn renderer — tool cards, reasoning, approvals, Markdown and all —
// with every action switched off.

import { h } from "../dom.js";
import { copyButtonFactory } from "../host/copy.js";
import { turnView } from "../render/turn.js";

/** Give a folded turn from Python the ids and revs the renderer keys its views on. */
function adopt(turn) {
  let id = 0;
  const items = (turn.items || []).map((item) => ({ ...item, id: ++id, rev: 0 }));
  const text =
    typeof turn.answer === "string"
      ? turn.answer
      : items
          .filter((i) => i.kind === "text")
          .map((i) => i.text)
          .join("");
  return { ...turn, items, text, id: 0, rev: 0 };
}

/**
 * @param {{index: number, prompt?: string, status?: string, error?: string, turn?: any}} run
 * @param {() => void} onClose
 * @param {Set<number>} timers  the panel's timers (copy buttons), cleared on unmount
 */
export function runView(run, onClose, timers = new Set()) {
  const turn = adopt(run.turn || { userText: run.prompt || "", items: [], status: run.status });
  const noop = () => {};
  const view = turnView(turn, {
    send: noop,
    sendText: noop,
    makeCopy: copyButtonFactory(timers),
    canAct: () => false,
    isLast: () => false,
  });
  return h(
    "div",
    { class: "pw-eval-run pw-root", role: "region", "aria-label": `Run ${run.index}` },
    [
      h("div", { class: "pw-eval-run-head" }, [
        h("strong", { text: `Run ${run.index} · ${run.status || ""}` }),
        h("button", {
          type: "button",
          class: "pw-eval-close",
          text: "Close",
          on: { click: onClose },
        }),
      ]),
      view.el,
      !turn.error && run.error ? h("div", { class: "pw-eval-error", text: run.error }) : null,
    ],
  );
}
