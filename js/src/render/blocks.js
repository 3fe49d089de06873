// Small blocks inside an assistant turn: step markers, step resets and the "thinking"
// (reasoning) block.

import { h, formatDuration } from "../dom.js";

/** Why the server restarted a step, in words. */
const RESET_REASONS = {
  rate_limit: "the model was rate-limited",
  model_error: "the model failed",
  prompt_too_long: "the prompt was too long",
  output_recovery: "the output was cut off",
};

/** A step marker; shown only once a turn has more than one step. */
export function stepMarker(item) {
  const label = h("span", { class: "pw-step-label" });
  const el = h("div", { class: "pw-step", role: "separator", dataset: { testid: "step-marker" } }, [
    label,
  ]);
  function update(it, turn) {
    label.textContent = `Step ${it.step}`;
    el.dataset.step = String(it.step);
    el.hidden = turn.steps < 2;
  }
  return { el, update };
}

/** The reasoning block: a folded <details> labelled "Thinking" (open while it streams). */
export function reasoningBlock(item) {
  const label = h("span", { class: "pw-thinking-label" });
  const text = h("div", { class: "pw-thinking-text" });
  const el = h("details", { class: "pw-thinking", dataset: { testid: "thinking" } }, [
    h("summary", {}, [h("span", { class: "pw-thinking-icon", "aria-hidden": "true" }), label]),
    text,
  ]);
  let wasDone = null;
  function update(it) {
    // "Thought for 3 s"; a blink (under a second) is just "Thought".
    const ms = it.durationMs;
    const took = typeof ms === "number" && ms >= 1000 ? ` for ${formatDuration(ms)}` : "";
    label.textContent = it.done ? `Thought${took}` : "Thinking…";
    el.dataset.state = it.done ? "done" : "streaming";
    text.textContent = it.text;
    if (wasDone !== it.done) {
      // Open while streaming so the user sees it think; fold once done.
      if (wasDone === null || !it.done) el.open = !it.done;
      else if (it.done) el.open = false;
      wasDone = it.done;
    }
  }
  return { el, update };
}

/** A step the server restarted (`kind: "reset"`): what was shown of it is superseded. */
export function resetNote(item) {
  const el = h("div", { class: "pw-reset-note", role: "note", dataset: { testid: "step-reset" } });
  function update(it) {
    const step = it.step ? `Step ${it.step} restarted` : "The step restarted";
    const why = RESET_REASONS[it.reason] || it.reason;
    el.textContent = why ? `${step}: ${why}` : step;
  }
  update(item);
  return { el, update };
}
