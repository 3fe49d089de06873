// Error card: what went wrong (message, code, step) and a Retry button ({"type": "retry"}).

import { h } from "../dom.js";

/**
 * Text with `code spans` as <code> elements (text only, never HTML): error messages name
 * arguments and settings that way.
 * @param {HTMLElement} el @param {string} text
 */
export function setInlineCode(el, text) {
  const parts = String(text).split(/`([^`\n]+)`/);
  el.replaceChildren(
    ...parts.map((part, i) => (i % 2 ? h("code", { class: "pw-inline-code", text: part }) : part)),
  );
}

/** @param {{send: (msg: import("../model/types.js").PanelMessage) => void}} ctx */
export function errorCard(ctx) {
  const message = h("div", { class: "pw-error-message", dataset: { testid: "error-message" } });
  const meta = h("div", { class: "pw-error-meta", dataset: { testid: "error-meta" } });
  const retry = h("button", {
    type: "button",
    class: "pw-btn pw-btn-small",
    dataset: { testid: "retry" },
    text: "Retry",
  });
  retry.addEventListener("click", () => {
    retry.disabled = true;
    ctx.send({ type: "retry" });
  });
  const el = h("div", { class: "pw-error", role: "alert", dataset: { testid: "error-card" } }, [
    h("div", { class: "pw-error-icon", "aria-hidden": "true", text: "!" }),
    h("div", { class: "pw-error-main" }, [
      h("div", { class: "pw-error-title", text: "The run failed" }),
      message,
      meta,
    ]),
    retry,
  ]);
  /** @param {{message: string, code: string|null, step: number|null}} error @param {boolean} canRetry */
  function update(error, canRetry) {
    setInlineCode(message, error.message);
    const parts = [];
    if (error.code) parts.push(`code ${error.code}`);
    if (error.step !== null && error.step !== undefined) parts.push(`step ${error.step}`);
    meta.textContent = parts.join(" · ");
    meta.hidden = !parts.length;
    retry.hidden = !canRetry;
    if (canRetry) retry.disabled = false;
  }
  return { el, update };
}
