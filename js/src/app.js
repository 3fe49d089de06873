// The chat panel: wires the model (traits + custom messages) to the entries Python folded
// (model/entries.js) and the renderers. Renders at most once per animation frame, only what changed.

import { h } from "./dom.js";
import { Entries } from "./model/entries.js";
import { PanelSync, inMarimo } from "./host/sync.js";
import { StickyScroll } from "./host/scroll.js";
import { ThemeWatcher } from "./host/theme.js";
import { copyButtonFactory } from "./host/copy.js";
import { turnView, dividerView, historyNoteView } from "./render/turn.js";
import { sessionPicker } from "./render/sessions.js";
import { header, banner, statusLine, composer, BUSY } from "./render/chrome.js";

/** How long a sent message may go unanswered before the status line says so (ms). */
const SEND_PATIENCE_MS = 8000;

const TRAITS = [
  "status",
  "error",
  "banner",
  "mode",
  "placeholder",
  "agent_name",
  "agent_id",
  "session_id",
  "theme",
];

/** The name of the tool the turn is running now (the latest one), or null. */
function runningTool(turn) {
  for (let i = turn.items.length - 1; i >= 0; i--) {
    const item = turn.items[i];
    if (item.kind === "tool" && item.state === "running") return item.toolName;
  }
  return null;
}

/**
 * Mount the panel into `el`; returns the cleanup function anywidget calls on removal.
 * @param {any} model @param {HTMLElement} el
 */
export function mount(model, el) {
  const conv = new Entries();
  /** @type {Set<number>} */
  const timers = new Set();
  const makeCopy = copyButtonFactory(timers);
  const get = (name, fallback = "") => {
    const v = model.get(name);
    return v === undefined || v === null ? fallback : v;
  };
  /** One message to the kernel (notebook/messages.py). @param {import("./model/types.js").PanelMessage} msg */
  const send = (msg) => {
    try {
      model.send(msg);
    } catch (err) {
      console.warn("powawidget: could not reach the kernel", err);
    }
  };

  // data-lm-suppress-shortcuts: JupyterLab/Notebook 7 (Lumino) then ignore keys typed in
  // the panel, so "a", "b", "d d" or Shift+Enter never edit or run notebook cells.
  const root = h("div", {
    class: "pw-root",
    dataset: { testid: "chat" },
    "data-lm-suppress-shortcuts": "true",
  });
  const picker = sessionPicker(model, send);
  const head = header((msg) => {
    send(msg);
    scroll.toBottom(false);
  }, picker.el);
  const note = banner();
  const list = h("div", { class: "pw-list" });
  const empty = h("div", { class: "pw-empty", dataset: { testid: "empty" } }, [
    h("div", { class: "pw-empty-title", text: "Ask the agent anything" }),
    h("div", {
      class: "pw-empty-text",
      text: "Answers stream in here, with the tools it uses along the way.",
    }),
  ]);
  const scroller = h(
    "div",
    { class: "pw-scroller", tabindex: "0", role: "region", "aria-label": "Conversation" },
    [empty, list],
  );
  const jump = h("button", {
    type: "button",
    class: "pw-jump",
    dataset: { testid: "jump-to-latest" },
    text: "↓ Jump to latest",
  });
  jump.hidden = true;
  const live = h("div", {
    class: "pw-offscreen",
    "aria-live": "polite",
    dataset: { testid: "live-region" },
  });
  const status = statusLine();
  /** A message sent and not yet seen coming back as a user_message. */
  let pending = null;
  const sendText = (text) => {
    send({ type: "send", text });
    pending = { since: Date.now(), users: conv.userMessages };
    // The user's own message is followed to the bottom, wherever they had scrolled.
    scroll.toBottom(false);
    chrome();
  };
  const input = composer(send, sendText);
  root.append(
    head.el,
    note.el,
    h("div", { class: "pw-body" }, [scroller, jump]),
    status.el,
    input.el,
    live,
  );
  el.classList.add("powawidget");
  el.replaceChildren(root);

  const scroll = new StickyScroll(scroller, jump);
  // Esc stops a streaming run while focus is in the panel (an open <details> or menu
  // still gets Esc first: only an Esc nobody used stops the run).
  const onKeyDown = (e) => {
    if (e.key !== "Escape" || e.defaultPrevented || e.isComposing) return;
    if (!busy() || !live_() || !sync.connected) return;
    e.preventDefault();
    e.stopPropagation();
    send({ type: "stop" });
  };
  root.addEventListener("keydown", onKeyDown);
  const theme = new ThemeWatcher(root, () => get("theme", "auto"));

  /** @type {Map<any, {el: HTMLElement, update: Function}>} */
  const views = new Map();
  let rendered = 0;
  let resetSeen = -1;
  const lastStatus = new Map();
  let raf = 0;
  let runStartedAt = null;

  const live_ = () => get("mode", "live") !== "replay";
  const busy = () => BUSY.has(get("status", "idle"));
  const ctx = {
    send,
    sendText,
    makeCopy,
    canAct: () => live_() && sync.connected,
    isLast: (t) => t === conv.lastTurn && !busy(),
  };

  function viewFor(entry) {
    if (entry.kind === "turn") return turnView(entry, ctx);
    if (entry.kind === "divider") return dividerView();
    return historyNoteView(entry);
  }

  function announce(turn) {
    const prev = lastStatus.get(turn);
    lastStatus.set(turn, turn.status);
    if (prev === undefined || !(prev === "streaming" || prev === "waiting_approval")) return;
    if (turn.status === "completed" && turn.text) {
      const t = turn.text.length > 400 ? `${turn.text.slice(0, 400)}…` : turn.text;
      live.textContent = `Assistant: ${t}`;
    } else if (turn.status === "failed" && turn.error) {
      live.textContent = `The run failed: ${turn.error.message}`;
    }
  }

  function flush() {
    raf = 0;
    const dirty = conv.takeDirty();
    if (resetSeen !== conv.resetCount) {
      resetSeen = conv.resetCount;
      views.clear();
      lastStatus.clear();
      list.replaceChildren();
      rendered = 0;
    }
    for (const entry of dirty) {
      const v = views.get(entry);
      if (v) v.update(entry);
    }
    const prevLast = conv.entries[rendered - 1];
    if (rendered < conv.entries.length) {
      const frag = document.createDocumentFragment();
      for (; rendered < conv.entries.length; rendered++) {
        const entry = conv.entries[rendered];
        const v = viewFor(entry);
        v.el.dataset.entry = entry.kind;
        views.set(entry, v);
        frag.append(v.el);
        if (entry.kind === "turn") lastStatus.set(entry, entry.status);
      }
      list.append(frag);
      // The previous last turn loses its Retry button.
      if (prevLast && prevLast.kind === "turn" && !dirty.has(prevLast))
        views.get(prevLast)?.update(prevLast);
    }
    for (const entry of dirty) if (entry.kind === "turn") announce(entry);
    empty.hidden = conv.entries.length > 0;
    chrome();
    scroll.contentChanged();
  }

  function schedule() {
    if (!raf) raf = requestAnimationFrame(flush);
  }

  function chrome() {
    const st = get("status", "idle");
    const isBusy = BUSY.has(st);
    const replay = !live_();
    if (pending && (isBusy || conv.userMessages > pending.users)) pending = null;
    const late = pending !== null && Date.now() - pending.since > SEND_PATIENCE_MS;
    const idle = live_() && sync.connected && !isBusy;
    const ready = idle && (pending === null || late);
    const last = conv.lastTurn;
    if (isBusy && runStartedAt === null) runStartedAt = Date.now();
    if (!isBusy) runStartedAt = null;
    picker.update({ hidden: replay, ready: idle });
    head.update({
      agentName: get("agent_name") || get("agent_id"),
      sessionId: get("session_id"),
      replay,
      busy: isBusy,
      ready: idle,
    });
    note.update(get("banner"));
    status.update({
      status: st,
      error: get("error"),
      connected: sync.connected,
      historyOnly: sync.showingHistory,
      replay,
      step: last && !last.fromHistory ? last.steps : 0,
      tool: last && !last.fromHistory ? runningTool(last) : null,
      startedAt: runStartedAt,
      usage: conv.sessionUsage,
      errorShown: Boolean(last && last.error),
      sending: pending === null ? "no" : late ? "late" : "yes",
    });
    input.update({
      ready,
      busy: isBusy && !replay,
      replay,
      connected: sync.connected,
      placeholder: get("placeholder"),
    });
    root.dataset.status = st;
    root.dataset.mode = replay ? "replay" : "live";
    root.dataset.connected = String(sync.connected);
  }

  const sync = new PanelSync(model, conv, schedule, inMarimo(el));

  const onTrait = () => {
    chrome();
    // Retry/approve availability depends on status and mode.
    const last = conv.lastTurn;
    if (last) views.get(last)?.update(last);
  };
  const onTheme = () => theme.apply();
  for (const t of TRAITS) model.on(`change:${t}`, t === "theme" ? onTheme : onTrait);
  const ticker = window.setInterval(() => {
    if (runStartedAt !== null || pending !== null) chrome();
  }, 1000);

  flush();

  return () => {
    if (raf) cancelAnimationFrame(raf);
    window.clearInterval(ticker);
    for (const t of timers) window.clearTimeout(t);
    timers.clear();
    for (const t of TRAITS) model.off(`change:${t}`, t === "theme" ? onTheme : onTrait);
    sync.destroy();
    picker.destroy();
    root.removeEventListener("keydown", onKeyDown);
    scroll.destroy();
    theme.destroy();
    el.replaceChildren();
    el.classList.remove("powawidget");
  };
}
