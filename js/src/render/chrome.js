// The panel's chrome: header (agent, session, replay badge, New session), banner, the run
// status line and the composer (Enter sends, Shift+Enter new line, Send becomes Stop).

import { h, describeUsage, formatDuration, formatCount } from "../dom.js";

/** Statuses during which a run is in flight. */
export const BUSY = new Set(["connecting", "streaming", "waiting_approval"]);

/**
 * Header: agent name, short session id, replay badge, `extra` (the session picker) and the
 * New session button.
 * @param {(msg: import("../model/types.js").PanelMessage) => void} send @param {HTMLElement | null} [extra]
 */
export function header(send, extra = null) {
  const title = h("div", { class: "pw-title", dataset: { testid: "agent-name" } });
  const session = h("div", { class: "pw-session", dataset: { testid: "session-id" } });
  const badge = h("span", {
    class: "pw-badge",
    dataset: { testid: "replay-badge" },
    text: "Replay",
    title: "A recorded conversation played back; nothing is sent.",
  });
  const newSession = h("button", {
    type: "button",
    class: "pw-btn pw-btn-ghost pw-btn-small",
    dataset: { testid: "new-session" },
    title: "Start a new session (the agent forgets this conversation)",
    text: "New session",
  });
  newSession.addEventListener("click", () => send({ type: "new_session" }));
  const el = h("header", { class: "pw-header" }, [
    h("div", { class: "pw-logo", "aria-hidden": "true" }),
    h("div", { class: "pw-heading" }, [
      h("div", { class: "pw-title-row" }, [title, badge]),
      session,
    ]),
    h("span", { class: "pw-spacer" }),
    extra,
    newSession,
  ]);
  /** @param {{agentName: string, sessionId: string, replay: boolean, busy: boolean, ready: boolean}} s */
  function update(s) {
    title.textContent = s.agentName || "Powabase agent";
    title.title = title.textContent; // cut with an ellipsis when the panel is narrow
    session.textContent = s.sessionId ? `Session ${s.sessionId}` : "New conversation";
    session.title = s.sessionId || "";
    badge.hidden = !s.replay;
    newSession.disabled = !s.ready || s.busy;
    newSession.hidden = s.replay;
  }
  return { el, update };
}

/**
 * Banner (e.g. "not connected to Powabase"): the whole notice, wrapped over as many lines
 * as the width needs (a cut notice hid what to do next); × hides it until Python sends a
 * different banner.
 */
export function banner() {
  const text = h("span", { class: "pw-banner-text", dataset: { testid: "banner-text" } });
  const close = h("button", {
    type: "button",
    class: "pw-banner-close",
    "aria-label": "Dismiss this notice",
    title: "Dismiss",
    dataset: { testid: "banner-dismiss" },
    text: "×",
  });
  const el = h(
    "div",
    { class: "pw-banner", role: "note", "aria-label": "Notice", dataset: { testid: "banner" } },
    [h("span", { class: "pw-banner-icon", "aria-hidden": "true", text: "i" }), text, close],
  );
  let shown = "";
  let dismissed = null;
  close.addEventListener("click", () => {
    dismissed = shown;
    el.hidden = true;
  });
  function update(value) {
    shown = value || "";
    text.textContent = shown;
    el.hidden = !shown || dismissed === shown;
  }
  return { el, update };
}

/** An error as one short line: its first line, code spans' backticks dropped. */
export function plainError(text) {
  const first = String(text || "").split("\n")[0];
  return first.replace(/`([^`]*)`/g, "$1");
}

const STATUS_TEXT = {
  idle: "Ready",
  connecting: "Connecting…",
  streaming: "Answering",
  waiting_approval: "Waiting for your approval",
  error: "Error",
  stopped: "Stopped",
};

/**
 * The elapsed-time suffix of the status line (" · 12 s"), or "". The clock runs only while
 * the agent works (connecting, answering) and only from the first whole second, so it never
 * reads "· 0 s"; waiting for the user's approval shows no clock: that wait is the user's.
 * @param {{status: string, startedAt: number|null, sending: string}} s
 */
export function runClock(s, now = Date.now()) {
  if (!s.startedAt || s.sending !== "no") return "";
  if (s.status !== "connecting" && s.status !== "streaming") return "";
  const secs = Math.floor((now - s.startedAt) / 1000);
  if (secs < 1) return "";
  return ` · ${secs < 60 ? `${secs} s` : formatDuration(secs * 1000)}`;
}

/** The run status line under the messages, with the session token total. */
export function statusLine() {
  const dot = h("span", { class: "pw-status-dot", "aria-hidden": "true" });
  const text = h("span", { class: "pw-status-text", dataset: { testid: "status-text" } });
  const total = h("span", { class: "pw-session-usage", dataset: { testid: "session-usage" } });
  const el = h("div", { class: "pw-status", dataset: { testid: "status" } }, [
    dot,
    text,
    h("span", { class: "pw-spacer" }),
    total,
  ]);
  /**
   * @param {{status: string, error: string, connected: boolean, historyOnly: boolean,
   *   replay: boolean, step: number, tool: string|null, startedAt: number|null, usage: any,
   *   sending: "no"|"yes"|"late", errorShown?: boolean}} s
   */
  function update(s) {
    el.dataset.status = s.status;
    let label = STATUS_TEXT[s.status] || s.status;
    if (s.sending === "yes") label = "Sending…";
    if (s.sending === "late") label = "The kernel has not answered yet: is a cell still running?";
    if (s.status === "streaming" && s.tool && s.sending === "no") label = `Running ${s.tool}`;
    if (s.status === "streaming" && s.step > 1) label += ` · step ${s.step}`;
    label += runClock(s);
    // The error card below the answer tells the whole story; the status line only points
    // at it. With no card (an error before any turn) the line carries the error's first line.
    if (s.status === "error")
      label = s.errorShown || !s.error ? "Failed — see below" : `Failed: ${plainError(s.error)}`;
    if (s.replay) label = "Replay — read only";
    else if (!s.connected)
      label = s.historyOnly
        ? "Saved conversation — no kernel connected"
        : "Waiting for the kernel…";
    text.textContent = label;
    text.title = label; // the line is cut with an ellipsis when narrow
    const u = describeUsage(s.usage);
    total.textContent = u ? `Session: ${u.replace(/ \(.*\)$/, "")}` : "";
    total.title = u;
  }
  return { el, update };
}

/**
 * The composer: textarea + Send/Stop.
 * @param {(msg: import("../model/types.js").PanelMessage) => void} send  for Stop
 * @param {(text: string) => void} sendText  for a message
 */
export function composer(send, sendText) {
  const input = h("textarea", {
    class: "pw-input",
    rows: "1",
    "aria-label": "Message to the agent",
    dataset: { testid: "input" },
    "data-lm-suppress-shortcuts": "true",
  });
  const button = h("button", { type: "button", class: "pw-send", dataset: { testid: "send" } });
  const hint = h("div", {
    class: "pw-hint",
    id: undefined,
    text: "Enter to send · Shift+Enter for a new line",
  });
  const el = h("div", { class: "pw-composer" }, [
    h("div", { class: "pw-input-wrap" }, [input, button]),
    hint,
  ]);
  let state = { ready: false, busy: false, replay: false, placeholder: "" };

  function autosize() {
    input.style.height = "auto";
    input.style.height = `${Math.min(input.scrollHeight, 200)}px`;
  }
  function submit() {
    if (state.busy) {
      send({ type: "stop" });
      return;
    }
    const text = input.value;
    if (!state.ready || !text.trim()) return;
    sendText(text);
    input.value = "";
    autosize();
  }
  function onKey(e) {
    // Keep notebook shortcuts (a, b, d d, Shift+Enter…) away from typing in the chat.
    // Esc goes on to the panel, which stops a streaming run with it.
    if (e.key !== "Escape") e.stopPropagation();
    if (
      e.key === "Enter" &&
      !e.shiftKey &&
      !e.isComposing &&
      !e.altKey &&
      !e.ctrlKey &&
      !e.metaKey
    ) {
      e.preventDefault();
      if (!state.busy) submit();
    }
  }
  input.addEventListener("keydown", onKey);
  input.addEventListener("input", autosize);
  button.addEventListener("click", submit);

  function update(s) {
    state = s;
    // Typing stays possible while a run streams or a message is on its way (focus is kept);
    // only sending waits. No kernel (saved notebook) or a replay: nothing to type into.
    input.disabled = s.replay || !s.connected;
    input.placeholder = s.replay
      ? "Replay — read only"
      : !s.connected
        ? "Waiting for the kernel…"
        : s.placeholder || "Ask the agent…";
    button.dataset.action = s.busy ? "stop" : "send";
    button.textContent = s.busy ? "Stop" : "Send";
    button.setAttribute("aria-label", s.busy ? "Stop the run" : "Send message");
    button.classList.toggle("pw-stop", s.busy);
    button.disabled = s.busy ? !s.connected : !s.ready;
    el.hidden = s.replay;
  }
  return { el, input, update };
}

export { formatCount };
