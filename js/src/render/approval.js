// @ts-check
// The approval part of a tool card: what the agent asks, Approve / Deny while it waits,
// then the outcome in the same place (approved, denied with the reason, timed out) and how
// long it waited. Python decides every state (ToolView.approval, docs/protocol.md); this
// only draws it. A click sends {"type": "approve", "approved": …}, which Python posts.

import { h, formatDuration } from "../dom.js";

/**
 * @typedef {import("../model/types.js").ToolView} ToolView
 * @typedef {{send: (msg: import("../model/types.js").PanelMessage) => void, canAct: () => boolean}} ApprovalContext
 */

const OUTCOME = {
  approved: "Approved",
  denied: "Denied by you",
  timed_out: "Approval timed out: the tool did not run",
};

/** @param {ApprovalContext} ctx */
export function approvalSection(ctx) {
  const message = h("div", {
    class: "pw-approval-message",
    dataset: { testid: "approval-message" },
  });
  const approve = /** @type {HTMLButtonElement} */ (
    h("button", {
      type: "button",
      class: "pw-btn pw-btn-primary",
      dataset: { testid: "approve" },
      text: "Approve",
    })
  );
  const deny = /** @type {HTMLButtonElement} */ (
    h("button", {
      type: "button",
      class: "pw-btn",
      dataset: { testid: "deny" },
      text: "Deny",
    })
  );
  const actions = h("div", { class: "pw-approval-actions" }, [approve, deny]);
  const outcomeText = h("span", { class: "pw-approval-verdict" });
  const wait = h("span", { class: "pw-approval-wait", dataset: { testid: "approval-wait" } });
  const outcome = h(
    "div",
    {
      class: "pw-approval-outcome",
      dataset: { testid: "approval-outcome" },
      "aria-live": "polite",
    },
    [outcomeText, wait],
  );
  const el = h(
    "div",
    { class: "pw-approval", role: "group", dataset: { testid: "approval-card" } },
    [message, actions, outcome],
  );
  /** @type {ToolView|null} */
  let current = null;
  /** The user's click while the server has not answered: this card's own state, not
   * Python's (patches replace the view). @type {boolean|null} */
  let sent = null;

  /** @param {boolean} approved */
  function decide(approved) {
    if (current?.approval?.state !== "pending" || sent !== null) return;
    sent = approved;
    ctx.send({ type: "approve", approved });
    update(current);
  }
  approve.addEventListener("click", () => decide(true));
  deny.addEventListener("click", () => decide(false));

  /** Draw the approval of `tool` (hidden when no one was asked). @param {ToolView} tool */
  function update(tool) {
    current = tool;
    const approval = tool.approval;
    el.hidden = !approval && tool.state !== "denied";
    if (el.hidden) return;
    const state = approval ? approval.state : "blocked";
    el.dataset.state = state;
    el.setAttribute("aria-label", `Approval for ${tool.toolName}`);
    message.textContent =
      approval?.message || (approval ? "The agent wants to run this tool." : "");
    message.hidden = !message.textContent;
    const pending = state === "pending";
    actions.hidden = !pending;
    if (!pending) sent = null;
    approve.disabled = deny.disabled = !pending || sent !== null || !ctx.canAct();
    if (pending) {
      outcomeText.textContent =
        sent === null ? "Waiting for your answer." : sent ? "Approving…" : "Denying…";
    } else if (state === "blocked") {
      outcomeText.textContent = `Blocked${tool.note ? `: ${tool.note}` : ""}`;
    } else {
      const reason = state === "denied" && approval?.reason ? `: ${approval.reason}` : "";
      outcomeText.textContent = OUTCOME[state] + reason;
    }
    const waited = tool.approvalWaitMs;
    // A notebook saved before the wait was folded has none: nothing is said then.
    const known = typeof waited === "number" && Number.isFinite(waited);
    wait.textContent = !pending && known ? ` · waited ${formatDuration(waited)}` : "";
    wait.title = wait.textContent ? "How long the tool waited for your answer" : "";
  }
  return { el, update };
}
