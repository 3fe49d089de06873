// Copy-to-clipboard buttons. Clipboard API first, a hidden-textarea fallback for hosts
// that deny it; the "Copied" feedback timer is registered with the view for cleanup.

import { h } from "../dom.js";

/** Put text on the clipboard; resolves to whether it worked. @param {string} text */
export async function copyText(text) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // fall through to the textarea route
  }
  const ta = h("textarea", { "aria-hidden": "true", class: "pw-offscreen" });
  ta.value = text;
  document.body.append(ta);
  ta.select();
  let ok = false;
  try {
    ok = document.execCommand("copy");
  } catch {
    ok = false;
  }
  ta.remove();
  return ok;
}

/**
 * A factory of copy buttons whose feedback timers the caller can cancel at teardown.
 * @param {Set<number>} timers
 */
export function copyButtonFactory(timers) {
  /** @param {() => string} getText @param {string} label */
  return function makeCopy(getText, label) {
    const btn = h("button", {
      type: "button",
      class: "pw-copy",
      title: label,
      "aria-label": label,
      dataset: { testid: "copy" },
    });
    const span = h("span", { class: "pw-copy-label", text: "Copy" });
    btn.append(span);
    btn.addEventListener("click", async (e) => {
      e.stopPropagation();
      const ok = await copyText(getText());
      span.textContent = ok ? "Copied" : "Copy failed";
      btn.dataset.copied = ok ? "true" : "false";
      const t = window.setTimeout(() => {
        timers.delete(t);
        span.textContent = "Copy";
        delete btn.dataset.copied;
      }, 1500);
      timers.add(t);
    });
    return btn;
  };
}
