// Approval card: the agent asks before running a tool; Approve / Deny send
// {"type": "approve", "approved": …} to Python, which calls the approve endpoint.

import { h } from "../dom.js";
import { valueView } from "./json.js";
import { plainReason } from "./denial.js";

/** @param {any} item @param {{send: (msg: object) => void, canAct: () => boolean}} ctx */
export function approvalCard(item, ctx) {
  const title = h("div", { class: "pw-approval-title" });
  const message = h("div", {
    class: "pw-approval-message",
    dataset: { testid: "approval-message" },
  });
  const args = h("div", { class: "pw-approval-args" });
  const outcome = h("div", {
    class: "pw-approval-outcome",
    dataset: { testid: "approval-outcome" },
  });
  const approve = h("button", {
    type: "button",
    class: "pw-btn pw-btn-primary",
    dataset: { testid: "approve" },
    text: "Approve",
  });
  const deny = h("button", {
    type: "button",
    class: "pw-btn",
    dataset: { testid: "deny" },
    text: "Deny",
  });
  const actions = h("div", { class: "pw-approval-actions" }, [approve, deny]);
  const el = h(
    "div",
    { class: "pw-approval", role: "group", dataset: { testid: "approval-card" } },
    [
      h("div", { class: "pw-approval-icon", "aria-hidden": "true" }),
      h("div", { class: "pw-approval-main" }, [title, message, args, actions, outcome]),
    ],
  );
  let current = item;
  /** The user's click, while the server has not answered: this card's own state, not
   * Python's (the item is Python's and patches replace it). @type {boolean|null} */
  let sent = null;

  function decide(approved) {
    if (current.state !== "pending" || sent !== null) return;
    sent = approved;
    ctx.send({ type: "approve", approved });
    update(current);
  }
  approve.addEventListener("click", () => decide(true));
  deny.addEventListener("click", () => decide(false));

  function update(it) {
    current = it;
    el.dataset.state = it.state;
    el.setAttribute("aria-label", `Approval needed for ${it.toolName || "a tool"}`);
    title.textContent = it.toolName ? `Run ${it.toolName}?` : "Approval needed";
    message.textContent =
      it.message || "The agent wants to run a tool and is waiting for your answer.";
    if (it.arguments !== undefined && !args.firstChild) args.append(valueView(it.arguments));
    const pending = it.state === "pending";
    actions.hidden = !pending;
    const waiting = pending && sent !== null;
    approve.disabled = deny.disabled = waiting || !ctx.canAct();
    if (pending) {
      outcome.textContent = waiting
        ? sent
          ? "Approving…"
          : "Denying…"
        : "Waiting for your answer.";
    } else {
      const reason = plainReason(it.reason);
      const late =
        it.state === "timed_out" ||
        it.outcome === "timed_out" ||
        (/\btimed?[ _-]?out\b/i.test(reason) && it.state !== "approved");
      outcome.textContent = late
        ? "Approval timed out"
        : (it.state === "approved" ? "Approved" : "Denied by you") + (reason ? `: ${reason}` : "");
      el.dataset.state = late ? "timed_out" : it.state;
    }
  }
  update(item);
  return { el, update };
}
