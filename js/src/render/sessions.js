// @ts-check
// The session picker in the panel's header: the agent's recent sessions (first message,
// last activity), asked from Python when opened; picking one loads it into the panel.

import { h } from "../dom.js";

/** "3 min ago", "2 h ago", or the date, for an ISO timestamp. @param {any} iso */
function ago(iso, now = Date.now()) {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return "";
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 60) return "just now";
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return new Date(t).toLocaleDateString();
}

/**
 * @param {any} model  the widget model (custom messages both ways)
 * @param {(msg: import("../model/types.js").PanelMessage) => void} send
 */
export function sessionPicker(model, send) {
  const button = h("button", {
    type: "button",
    class: "pw-btn pw-btn-ghost pw-btn-small",
    "aria-haspopup": "listbox",
    "aria-expanded": "false",
    dataset: { testid: "sessions" },
    title: "Open one of this agent's recent sessions",
    text: "Sessions",
  });
  const list = h("ul", {
    class: "pw-sessions",
    role: "listbox",
    "aria-label": "Recent sessions",
    dataset: { testid: "sessions-list" },
  });
  list.hidden = true;
  const el = h("div", { class: "pw-sessions-wrap" }, [button, list]);

  function close() {
    list.hidden = true;
    button.setAttribute("aria-expanded", "false");
  }
  function open() {
    list.hidden = false;
    button.setAttribute("aria-expanded", "true");
    list.replaceChildren(h("li", { class: "pw-sessions-note", text: "Loading…" }));
    send({ type: "sessions_request" });
  }
  button.addEventListener("click", () => (list.hidden ? open() : close()));
  el.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && !list.hidden) {
      e.stopPropagation();
      close();
      button.focus();
    }
  });

  /** @param {any} msg */
  const onMessage = (msg) => {
    if (!msg || msg.type !== "sessions" || list.hidden) return;
    if (msg.error) {
      list.replaceChildren(h("li", { class: "pw-sessions-note", text: String(msg.error) }));
      return;
    }
    const rows = Array.isArray(msg.sessions) ? msg.sessions : [];
    if (!rows.length) {
      list.replaceChildren(h("li", { class: "pw-sessions-note", text: "No sessions yet" }));
      return;
    }
    list.replaceChildren(
      ...rows.map((/** @type {any} */ s) => {
        // Python marks the session the panel shows (`current`); picking it again only closes.
        const current = s.current === true;
        const item = h(
          "li",
          {
            role: "option",
            "aria-selected": String(current),
            class: current ? "pw-session-current" : "",
          },
          [
            h(
              "button",
              {
                type: "button",
                class: "pw-session-pick",
                dataset: { sessionId: String(s.session_id) },
                title: current ? "The session this panel shows" : "Open this session",
              },
              [
                h("span", {
                  class: "pw-session-first",
                  text: String(s.first_message || s.session_id),
                }),
                current
                  ? h("span", {
                      class: "pw-session-mark",
                      dataset: { testid: "current-session" },
                      text: "Current",
                    })
                  : null,
                h("span", { class: "pw-session-when", text: ago(s.last_activity) }),
              ],
            ),
          ],
        );
        item.querySelector("button")?.addEventListener("click", () => {
          if (!current) send({ type: "load_session", session_id: s.session_id });
          close();
        });
        return item;
      }),
    );
  };
  model.on("msg:custom", onMessage);

  /** @param {{hidden: boolean, ready: boolean}} s */
  function update(s) {
    el.hidden = s.hidden;
    button.disabled = !s.ready;
    if (!s.ready) close();
  }
  return { el, update, destroy: () => model.off("msg:custom", onMessage) };
}
