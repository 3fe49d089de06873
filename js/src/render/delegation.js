// @ts-check
// A delegation: the orchestrator handed a task to one of its agents. One card in the
// orchestrator's turn — the agent's name, the task, its live status and (once it ended,
// as a tool card) Python's duration — that
// opens on the sub-agent's own run, drawn with the same item views as a turn (steps, tool
// cards, thinking, its answer in Markdown), nested. Python decided all of it
// (powawidget/model/delegations.py); this only draws.

import { h, describeUsage, formatDuration } from "../dom.js";
import { ITEM_VIEWS } from "./turn.js";

const STATUS_LABEL = {
  running: "working",
  completed: "done",
  failed: "failed",
  stopped: "stopped",
};

/** The card's state, in the tool cards' words (their colours and spinner apply); a stop is
 * the user's decision, not a failure: amber, as the turn's "Stopped", never red. */
const CARD_STATE = { running: "running", completed: "done", failed: "error", stopped: "stopped" };

/** A sub-agent's run: its items in order, redrawn by position (the run comes whole). */
function runView(ctx) {
  const el = h("div", { class: "pw-items pw-delegation-items" });
  /** @type {{kind: string, view: any}[]} */
  const views = [];
  /** @param {any} run */
  function update(run) {
    const items = run.items || [];
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      let entry = views[i];
      if (entry && entry.kind !== item.kind) {
        for (const old of views.splice(i)) old.view.el.remove();
        entry = undefined;
      }
      if (!entry) {
        const make = ITEM_VIEWS[item.kind];
        if (!make) continue;
        const view = make(item, ctx);
        view.el.classList.add("pw-item");
        entry = { kind: item.kind, view };
        views[i] = entry;
        el.append(view.el);
      }
      entry.view.update(item, run);
    }
    for (const old of views.splice(items.length)) old.view.el.remove();
  }
  return { el, update };
}

/** The card of one delegation item. @param {any} item @param {any} ctx */
export function delegationCard(item, ctx) {
  const agent = h("span", {
    class: "pw-tool-name pw-delegation-agent",
    dataset: { testid: "delegation-agent" },
  });
  const task = h("span", { class: "pw-tool-args-preview pw-delegation-task" });
  const duration = h("span", {
    class: "pw-tool-duration",
    dataset: { testid: "delegation-duration" },
  });
  const state = h("span", { class: "pw-tool-state", dataset: { testid: "delegation-status" } });
  const summary = h("summary", { class: "pw-tool-summary" }, [
    h("span", { class: "pw-tool-icon", "aria-hidden": "true" }),
    h("span", { class: "pw-delegation-badge", text: "agent" }),
    agent,
    task,
    h("span", { class: "pw-spacer" }),
    duration,
    state,
  ]);
  const taskLine = h("div", {
    class: "pw-delegation-task-full",
    dataset: { testid: "delegation-task" },
  });
  const run = runView(ctx);
  // The failure's words read in the body, under the task: the header keeps the agent's
  // name whole and says only the short status.
  const errorText = h("span", { class: "pw-delegation-error-text" });
  const error = h(
    "div",
    { class: "pw-delegation-error", role: "alert", dataset: { testid: "delegation-error" } },
    [h("span", { class: "pw-section-label", text: "Error" }), errorText],
  );
  const footer = h("div", {
    class: "pw-delegation-footer",
    dataset: { testid: "delegation-usage" },
  });
  const body = h("div", { class: "pw-tool-body pw-delegation-body" }, [
    taskLine,
    error,
    run.el,
    footer,
  ]);
  const el = h("details", { class: "pw-delegation", dataset: { testid: "delegation-card" } }, [
    summary,
    body,
  ]);

  /** @param {any} it */
  function update(it) {
    const status = it.status || "running";
    el.dataset.state = CARD_STATE[status] || "running";
    el.dataset.status = status;
    if (it.childRunId) el.dataset.runId = it.childRunId;
    agent.textContent = it.agent || "agent";
    agent.title = it.agent || "";
    task.textContent = it.task || "";
    task.title = it.task || "";
    taskLine.replaceChildren(
      h("span", { class: "pw-section-label", text: "Task" }),
      h("span", { text: it.task || "" }),
    );
    state.textContent = STATUS_LABEL[status] || status;
    // Python's duration once the delegation ended, nothing while it runs: the rule of a
    // tool card (the run's live clock is the status line's).
    const ms = status === "running" ? null : it.durationMs;
    duration.textContent = ms !== null && ms !== undefined ? formatDuration(ms) : "";
    const runError = it.run && it.run.error ? it.run.error.message : null;
    error.hidden = status !== "failed";
    errorText.textContent =
      status === "failed" ? runError || `${it.agent || "The agent"} failed without a message.` : "";
    run.update(it.run || { items: [] });
    const parts = [];
    if (it.steps) parts.push(`${it.steps} step${it.steps === 1 ? "" : "s"}`);
    const used = describeUsage(it.usage);
    if (used) parts.push(used);
    footer.textContent = parts.join(" · ");
    footer.hidden = !parts.length;
  }
  update(item);
  return { el, update };
}
