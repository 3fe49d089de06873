// A turn: the user's bubble, then the assistant's answer built from its items in order
// (text segments as markdown, tool cards with their approvals, steps, thinking), citations (chips, and
// the text's [n] markers as buttons), the error card and a footer with usage and a copy
// button. Only changed items re-render.

import { h, describeUsage, formatDuration } from "../dom.js";
import { MarkdownView } from "./markdown.js";
import { citationsView } from "./citations.js";
import { toolCard } from "./toolcard.js";
import { errorCard } from "./errorcard.js";
import { stepMarker, reasoningBlock, resetNote } from "./blocks.js";
import { delegationCard } from "./delegation.js";
import { contextView, answerJsonView } from "./context.js";

/**
 * @typedef {{send: (msg: import("../model/types.js").PanelMessage) => void, sendText: (text: string) => void, makeCopy: (get: () => string, label: string) => HTMLElement,
 *   canAct: () => boolean, isLast: (turn: any) => boolean}} TurnContext
 */

/** A text segment of the answer, rendered as streaming markdown. */
function textSegment(item, ctx) {
  const view = new MarkdownView(ctx.makeCopy);
  view.el.dataset.testid = "assistant-text";
  return { el: view.el, update };
  /** @param {any} it @param {any} turn */
  function update(it, turn) {
    view.update(it.text, turn?.status === "streaming");
    view.el.hidden = !it.text;
  }
}

/** How each kind of item is drawn (a delegation card draws its sub-agent's run with these). */
export const ITEM_VIEWS = {
  text: textSegment,
  tool: (item, ctx) => toolCard(item, ctx),
  step: (item) => stepMarker(item),
  reasoning: (item) => reasoningBlock(item),
  reset: (item) => resetNote(item),
  delegation: (item, ctx) => delegationCard(item, ctx),
};

/** The view of one turn. @param {any} turn @param {TurnContext} ctx */
export function turnView(turn, ctx) {
  const el = h("article", { class: "pw-turn", dataset: { testid: "turn" } });
  let userEl = null;
  const body = h("div", { class: "pw-assistant-body" });
  const typing = h(
    "div",
    { class: "pw-typing", "aria-label": "The assistant is responding", role: "status" },
    [h("span"), h("span"), h("span")],
  );
  const footer = h("div", { class: "pw-turn-footer" });
  const usage = h("span", { class: "pw-usage", dataset: { testid: "turn-usage" } });
  const timing = h("span", { class: "pw-turn-time" });
  const stopped = h("span", {
    class: "pw-turn-stopped",
    dataset: { testid: "stopped-note" },
    text: "Stopped",
  });
  const copy = ctx.makeCopy(() => current.text ?? current.answer ?? "", "Copy answer");
  // A stopped answer can be asked again (Retry) or picked up where it stopped (Continue).
  const retry = h("button", {
    type: "button",
    class: "pw-btn pw-btn-small",
    dataset: { testid: "stopped-retry" },
    title: "Ask the last question again",
    text: "Retry",
  });
  const resume = h("button", {
    type: "button",
    class: "pw-btn pw-btn-small",
    dataset: { testid: "stopped-continue" },
    title: "Ask the agent to continue where it stopped",
    text: "Continue",
  });
  retry.addEventListener("click", () => {
    retry.disabled = resume.disabled = true;
    ctx.send({ type: "retry" });
  });
  resume.addEventListener("click", () => {
    retry.disabled = resume.disabled = true;
    ctx.sendText("Continue");
  });
  const stoppedActions = h("span", { class: "pw-stopped-actions" }, [retry, resume]);
  footer.append(stopped, stoppedActions, usage, timing, h("span", { class: "pw-spacer" }), copy);
  const items = h("div", { class: "pw-items" });
  body.append(items, typing);
  const assistant = h("div", { class: "pw-msg pw-msg-assistant", dataset: { role: "assistant" } }, [
    body,
    footer,
  ]);
  el.append(assistant);
  /** @type {Map<any, {view: any, rev: number}>} */
  const views = new Map();
  /** @type {ReturnType<typeof citationsView>|null} */
  let citations = null;
  let error = null;
  let current = turn;
  /** @type {HTMLElement|null} */
  let contextEl = null;
  let contextShown = null;
  /** @type {HTMLElement|null} */
  let answerEl = null;
  let answerShown = null;

  let streamingBefore = false;

  function update(t) {
    current = t;
    el.dataset.status = t.status;
    if (t.runId) el.dataset.runId = t.runId;
    if (t.userText !== null && !userEl) {
      const bubble = h("div", {
        class: "pw-bubble",
        dataset: { testid: "user-message" },
        text: t.userText,
      });
      userEl = h("div", { class: "pw-msg pw-msg-user", dataset: { role: "user" } }, [
        bubble,
        h("div", { class: "pw-user-actions" }, [
          ctx.makeCopy(() => t.userText || "", "Copy message"),
        ]),
      ]);
      el.prepend(userEl);
    }
    if (userEl && (t.context ?? null) !== contextShown) {
      contextShown = t.context ?? null;
      contextEl?.remove();
      contextEl = contextView(contextShown);
      if (contextEl) userEl.after(contextEl);
    }
    if ((t.answerJson ?? null) !== answerShown) {
      answerShown = t.answerJson ?? null;
      answerEl?.remove();
      answerEl = answerShown !== null ? answerJsonView(answerShown) : null;
      if (answerEl) items.after(answerEl);
    }
    if (views.size > t.items.length) {
      // A step reset dropped items: their views go too.
      const kept = new Set(t.items);
      for (const [item, entry] of views) {
        if (!kept.has(item)) {
          entry.view.el.remove();
          views.delete(item);
        }
      }
    }
    for (const item of t.items) {
      let entry = views.get(item);
      if (!entry) {
        const make = ITEM_VIEWS[item.kind];
        if (!make) continue; // a kind this panel does not know yet: nothing to draw
        const view = make(item, ctx);
        entry = { view, rev: -1 };
        views.set(item, entry);
        view.el.classList.add("pw-item");
        items.append(view.el);
      }
      const settledNow = item.kind === "text" && streamingBefore && t.status !== "streaming";
      if (
        entry.rev !== item.rev ||
        settledNow ||
        item.kind === "step" ||
        item.kind === "tool" ||
        item.kind === "delegation"
      ) {
        entry.view.update(item, t);
        entry.rev = item.rev;
      }
    }
    // A structured answer shows as its table: its JSON text would say the same twice.
    items.classList.toggle("pw-json-answered", (t.answerJson ?? null) !== null);
    if (t.citations?.length) {
      if (!citations) {
        citations = citationsView();
        body.append(citations.el);
      }
      citations.update(t.citations);
      for (const seg of items.children) {
        if (seg instanceof HTMLElement && seg.dataset.testid === "assistant-text") {
          citations.linkMarkers(seg);
        }
      }
    }
    if (t.error) {
      if (!error) {
        error = errorCard(ctx);
        body.append(error.el);
      }
      error.update(t.error, ctx.isLast(t) && ctx.canAct());
    }
    streamingBefore = t.status === "streaming";
    const active = t.status === "streaming" || t.status === "waiting_approval";
    const hasText = t.items.some((i) => i.kind === "text" && i.text);
    typing.hidden = !(
      t.status === "streaming" &&
      !hasText &&
      !t.items.some((i) => i.kind === "tool" && i.state === "running")
    );
    assistant.hidden = !t.items.length && !t.error && !active && t.status !== "stopped";
    stopped.hidden = t.status !== "stopped";
    const canResume = t.status === "stopped" && ctx.isLast(t) && ctx.canAct();
    stoppedActions.hidden = !canResume;
    if (!canResume) retry.disabled = resume.disabled = false;
    usage.textContent = t.runUsage
      ? describeRunUsage(t.runUsage, t.usageTotal)
      : describeUsage(t.usage);
    // The run's time as Python measured it (`runMs`, model/view.py): drawn, never computed.
    const ms = t.runMs ?? null;
    timing.textContent = ms !== null ? formatDuration(ms) : "";
    timing.title = ms !== null ? "Run time, from the message to the end of the run" : "";
    copy.hidden = !t.text;
    footer.hidden = active || (!t.text && !usage.textContent && t.status !== "stopped");
    el.classList.toggle("pw-from-history", t.fromHistory);
  }
  update(turn);
  return { el, update };
}

/** An orchestration's footer: the orchestrator's tokens, each sub-agent's, and the total. */
function describeRunUsage(runs, total) {
  const parts = runs
    .filter((r) => r.usage && describeUsage(r.usage))
    .map((r) => `${r.agent || "agent"} ${describeUsage({ total_tokens: r.usage.total_tokens })}`);
  const sum = describeUsage(total);
  return sum ? `${parts.join(" · ")}${parts.length ? " · " : ""}total ${sum}` : parts.join(" · ");
}

/** A divider where the user started a new session. */
export function dividerView() {
  const el = h(
    "div",
    { class: "pw-divider", role: "separator", dataset: { testid: "new-session-divider" } },
    [h("span", { text: "New session" })],
  );
  return { el, update() {} };
}

/** The note above runs loaded from session history; Python words it (model/view.py). */
export function historyNoteView(entry) {
  const el = h("div", {
    class: "pw-history-note",
    dataset: { testid: "history-note" },
    text: entry?.text ?? "Loaded from session history.",
  });
  return { el, update() {} };
}
