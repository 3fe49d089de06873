// The answer's text and the "thinking" of a turn: append/replace rules (PROTOCOL.md) over
// text segments that sit between tool cards, and reasoning blocks per step.

import { findLast } from "./dom.js";

/**
 * @typedef {{id: () => number, touch: (entry: any, item?: any) => void}} Fold
 * @typedef {import("./conversation.js").Turn} Turn
 * @typedef {import("./conversation.js").TextItem} TextItem
 * @typedef {import("./conversation.js").ReasoningItem} ReasoningItem
 */

/** Append or replace the turn's text; text shown between tool cards stays in segments. */
export function applyText(fold, turn, text, mode) {
  const segs = /** @type {TextItem[]} */ (turn.items.filter((i) => i.kind === "text"));
  const last = turn.items[turn.items.length - 1];
  if (mode === "append") {
    turn.text += text;
    if (last && last.kind === "text") {
      last.text += text;
      fold.touch(turn, last);
    } else if (text) {
      endThinking(turn); // the answer has started
      turn.items.push({ kind: "text", id: fold.id(), rev: 0, text });
      fold.touch(turn);
    }
    return;
  }
  // replace: the whole answer. Keep the segments when they already say the same thing.
  turn.text = text;
  const joined = segs.map((s) => s.text).join("");
  if (joined === text) return fold.touch(turn);
  const lastSeg = segs[segs.length - 1];
  if (lastSeg && lastSeg.text === text) return fold.touch(turn);
  const before = segs
    .slice(0, -1)
    .map((s) => s.text)
    .join("");
  if (lastSeg && before && text.startsWith(before)) {
    lastSeg.text = text.slice(before.length);
    return fold.touch(turn, lastSeg);
  }
  for (const s of segs.slice(0, -1)) {
    if (s.text) {
      s.text = "";
      s.rev++;
    }
  }
  if (lastSeg) {
    lastSeg.text = text;
    fold.touch(turn, lastSeg);
  } else if (text) {
    turn.items.push({ kind: "text", id: fold.id(), rev: 0, text });
    fold.touch(turn);
  }
}

export function applyReasoning(fold, turn, ev, mode) {
  const step = ev.step ?? null;
  const last = turn.items[turn.items.length - 1];
  let item = last && last.kind === "reasoning" && last.step === step && !last.done ? last : null;
  if (!item && mode === "replace") {
    item = /** @type {ReasoningItem|undefined} */ (
      findLast(turn.items, (i) => i.kind === "reasoning" && i.step === step)
    );
  }
  if (!item) {
    item = { kind: "reasoning", id: fold.id(), rev: 0, step, text: "", done: false };
    turn.items.push(item);
  }
  item.text = mode === "replace" ? ev.text : item.text + ev.text;
  if (mode === "replace") item.done = true;
  fold.touch(turn, item);
}

/** Close any reasoning block still open: the agent has moved on (text, a tool, a question). */
export function endThinking(turn) {
  for (const i of turn.items) {
    if (i.kind === "reasoning" && !i.done) {
      i.done = true;
      i.rev++;
    }
  }
}
