// @ts-check
// The evaluation panel: counts, throughput, time to first token, a progress bar with an ETA,
// the runs table (rows arrive as custom messages holding only what changed), a Stop button
// and a read-only view of a clicked run's conversation. Text always goes in as text.

import "./evaluation.css";
import { h } from "../dom.js";
import { runView } from "./run.js";
import { formatMs, formatEta } from "./format.js";

/** @typedef {{prompt: string, answer: string, status: string, ttft: number|null,
 *   duration: number|null, tokens: number|null, tools: number, error: string,
 *   passed?: boolean|null}} Row */

const COLUMNS = ["#", "status", "pass", "prompt", "answer", "TTFT", "duration", "tokens", "tools"];

/**
 * Mount the evaluation panel into `el`; returns the cleanup function anywidget calls.
 * @param {any} model @param {HTMLElement} el
 */
export function mountEvaluation(model, el) {
  /** @type {Map<number, HTMLTableRowElement>} */
  const rowEls = new Map();
  /** @type {Map<number, Row>} */
  const rows = new Map();
  /** @type {Set<number>} */
  const dirty = new Set();
  let frame = 0;
  let selected = -1;

  const title = h("span", { class: "pw-eval-title" });
  const badge = h("span", { class: "pw-eval-state" });
  const stop = h("button", {
    class: "pw-eval-stop",
    type: "button",
    text: "Stop",
    on: { click: () => model.send({ type: "stop" }) },
  });
  const banner = h("div", { class: "pw-eval-banner" });
  const counts = h("div", { class: "pw-eval-counts", "aria-live": "polite" });
  const fill = h("div", { class: "pw-eval-fill" });
  const bar = h("div", { class: "pw-eval-bar", role: "progressbar", "aria-valuemin": "0" }, [fill]);
  const eta = h("span", { class: "pw-eval-eta" });
  const reason = h("div", { class: "pw-eval-reason" });
  const tbody = h("tbody");
  const table = h("table", { class: "pw-eval-table" }, [
    h("thead", {}, [
      h(
        "tr",
        {},
        COLUMNS.map((c) => h("th", { text: c })),
      ),
    ]),
    tbody,
  ]);
  const detail = h("div", { class: "pw-eval-detail", hidden: true });
  const root = h("div", { class: "pw-eval" }, [
    h("div", { class: "pw-eval-head" }, [title, badge, stop]),
    banner,
    counts,
    h("div", { class: "pw-eval-progress" }, [bar, eta]),
    reason,
    h("div", { class: "pw-eval-scroll" }, [table]),
    detail,
  ]);
  el.append(root);

  function renderHead() {
    const s = model.get("stats") || {};
    const state = model.get("state") || "running";
    title.textContent = `Evaluating ${model.get("agent_id") || "agent"}`;
    badge.textContent = state;
    badge.dataset.state = state;
    stop.toggleAttribute("disabled", state !== "running");
    const text = model.get("banner") || "";
    banner.textContent = text;
    banner.hidden = !text;
    const total = s.total || 0;
    const done = s.done || 0;
    counts.textContent =
      `${done}/${total} done · ${s.running || 0} running · ${s.failed || 0} failed · ` +
      (s.pass_rate == null
        ? ""
        : `pass ${Math.round(100 * s.pass_rate)}% (${s.passed}/${s.scored}) · `) +
      `${(s.throughput || 0).toFixed(1)} runs/s · TTFT p50 ${formatMs(s.ttft_p50_ms)} · ` +
      `p95 ${formatMs(s.ttft_p95_ms)}`;
    const pct = total ? Math.round((100 * done) / total) : 0;
    fill.style.width = `${pct}%`;
    bar.setAttribute("aria-valuemax", String(total));
    bar.setAttribute("aria-valuenow", String(done));
    eta.textContent = state === "running" ? `${pct}% · ETA ${formatEta(s.eta_s)}` : `${pct}%`;
    const why = model.get("stop_reason") || "";
    reason.textContent = why ? `Stopped: ${why}` : "";
    reason.hidden = !why;
  }

  /** @param {number} index */
  function rowElement(index) {
    let tr = rowEls.get(index);
    if (!tr) {
      const open = () => {
        selected = index;
        model.send({ type: "open", index });
      };
      tr = /** @type {HTMLTableRowElement} */ (
        h("tr", {
          tabindex: "0",
          dataset: { index: String(index) },
          on: {
            click: open,
            keydown: (/** @type {KeyboardEvent} */ e) => e.key === "Enter" && open(),
          },
        })
      );
      let before = null;
      for (const [i, other] of rowEls)
        if (i > index && (!before || i < Number(before.dataset.index))) before = other;
      tbody.insertBefore(tr, before);
      rowEls.set(index, tr);
    }
    return tr;
  }

  function renderRows() {
    for (const index of dirty) {
      const row = rows.get(index);
      if (!row) continue;
      const tr = rowElement(index);
      tr.dataset.status = row.status;
      tr.title = row.error || "";
      tr.replaceChildren(
        ...[
          String(index),
          row.status,
          row.passed == null ? "–" : row.passed ? "✓" : "✗",
          row.prompt,
          row.error && !row.answer ? row.error : row.answer,
          formatMs(row.ttft),
          formatMs(row.duration),
          row.tokens == null ? "–" : String(row.tokens),
          String(row.tools ?? 0),
        ].map((text) => h("td", { text })),
      );
    }
    dirty.clear();
  }

  function schedule() {
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      renderHead();
      renderRows();
    });
  }

  /** @param {any} msg */
  function onMessage(msg) {
    if (!msg || typeof msg !== "object") return;
    if (msg.type === "rows") {
      if (msg.reset) {
        rows.clear();
        for (const tr of rowEls.values()) tr.remove();
        rowEls.clear();
      }
      for (const [index, row] of msg.rows) {
        rows.set(index, row);
        dirty.add(index);
      }
      schedule();
    } else if (msg.type === "run" && msg.index === selected) {
      detail.replaceChildren(
        runView(msg, () => {
          detail.hidden = true;
          selected = -1;
        }),
      );
      detail.hidden = false;
    }
  }

  const TRAITS = ["stats", "state", "stop_reason", "banner", "agent_id"];
  for (const name of TRAITS) model.on(`change:${name}`, schedule);
  model.on("msg:custom", onMessage);
  renderHead();
  model.send({ type: "ready" });

  return () => {
    if (frame) cancelAnimationFrame(frame);
    for (const name of TRAITS) model.off(`change:${name}`, schedule);
    model.off("msg:custom", onMessage);
    root.remove();
  };
}
