// The conversation view model: folds slim events (design.md §2, without `raw` and
// without None-valued keys) into turns, following the same rules as PROTOCOL.md and the
// Python conversation model. Pure: no DOM. Every mutated object gets a higher `rev` so the
// renderers update only what changed.

/**
 * @typedef {Record<string, any>} SlimEvent
 * @typedef {{kind: "step", id: number, rev: number, step: number, done: boolean}} StepItem
 * @typedef {{kind: "text", id: number, rev: number, text: string}} TextItem
 * @typedef {{kind: "reasoning", id: number, rev: number, step: number|null, text: string, done: boolean}} ReasoningItem
 * @typedef {{kind: "tool", id: number, rev: number, callId: string|null, toolName: string,
 *   arguments: any, result: string|null, resultTruncated: boolean,
 *   state: "pending"|"running"|"done"|"error", durationMs: number|null, step: number|null,
 *   calledAt: string|null, finishedAt: string|null, note: string|null, fromApproval: boolean}} ToolItem
 * @typedef {{kind: "approval", id: number, rev: number, toolName: string|null, arguments: any,
 *   message: string|null, state: "pending"|"approved"|"denied", reason: string|null,
 *   sent: boolean|null, call?: ToolItem}} ApprovalItem
 * @typedef {StepItem|TextItem|ReasoningItem|ToolItem|ApprovalItem} Item
 * @typedef {{message: string, code: string|null, step: number|null}} TurnError
 * @typedef {{kind: "turn", id: number, rev: number, runId: string|null, sessionId: string|null,
 *   userText: string|null, text: string, items: Item[], steps: number,
 *   status: "streaming"|"completed"|"failed"|"stopped"|"waiting_approval",
 *   usage: Record<string, number>|null, error: TurnError|null, fromHistory: boolean,
 *   citations: any[]|null, startedAt: string|null, endedAt: string|null, hasStart: boolean}} Turn
 * @typedef {{kind: "divider", id: number, rev: number, at: string|null}} Divider
 * @typedef {{kind: "history-note", id: number, rev: number}} HistoryNote
 * @typedef {Turn|Divider|HistoryNote} Entry
 */

import { findLast } from "./dom.js";
import { applyText, applyReasoning } from "./answer.js";
import { toolCall, toolResult, approvalRequested, approvalResolved } from "./tools.js";

/** Run states after which no more events belong to a turn's run. */
const ENDED = new Set(["completed", "failed", "stopped"]);

/** Sum usage dictionaries key by key (numbers only). */
export function addUsage(total, usage) {
  if (!usage || typeof usage !== "object") return total;
  const out = { ...(total || {}) };
  for (const [k, v] of Object.entries(usage)) {
    if (typeof v === "number" && Number.isFinite(v)) out[k] = (out[k] || 0) + v;
  }
  return out;
}

/** The conversation: an ordered list of entries (turns, session dividers, history notes). */
export class Conversation {
  constructor() {
    this.reset();
  }

  /** Forget everything (a snapshot replaces the log). */
  reset() {
    /** @type {Entry[]} */
    this.entries = [];
    /** Entries changed since the last `takeDirty()`. @type {Set<Entry>} */
    this.dirty = new Set();
    this.applied = 0;
    /** user_message events folded so far (the panel waits for its own to arrive). */
    this.userMessages = 0;
    this.resetCount = (this.resetCount || 0) + 1;
    this._ids = 0;
    /** @type {Turn|null} */
    this._turn = null;
    this._historyGroup = false;
  }

  /** Turns only, in order. @returns {Turn[]} */
  get turns() {
    return /** @type {Turn[]} */ (this.entries.filter((e) => e.kind === "turn"));
  }

  /** The last turn, if any. */
  get lastTurn() {
    return this._turn;
  }

  /** Token usage summed over the turns since the last new session. */
  get sessionUsage() {
    let total = null;
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i];
      if (e.kind === "divider") break;
      if (e.kind === "turn" && e.usage) total = addUsage(total, e.usage);
    }
    return total;
  }

  /** Hand the entries changed since the last call to the renderer. */
  takeDirty() {
    const d = this.dirty;
    this.dirty = new Set();
    return d;
  }

  /** Apply a list of events in order. @param {SlimEvent[]} events */
  extend(events) {
    for (const e of events) this.apply(e);
  }

  /** A fresh id for an entry or item. */
  id() {
    return ++this._ids;
  }

  /** Mark an entry (and one of its items) changed. */
  touch(entry, item) {
    if (item) item.rev++;
    entry.rev++;
    this.dirty.add(entry);
  }

  /** Start a new turn. @returns {Turn} */
  _newTurn(userText, ev, fromHistory = false) {
    /** @type {Turn} */
    const turn = {
      kind: "turn",
      id: this.id(),
      rev: 0,
      runId: null,
      sessionId: ev.session_id ?? null,
      userText,
      text: "",
      items: [],
      steps: 0,
      status: fromHistory ? "completed" : "streaming",
      usage: null,
      error: null,
      fromHistory,
      citations: null,
      startedAt: ev.received_at ?? null,
      endedAt: null,
      hasStart: false,
    };
    this.entries.push(turn);
    this._turn = turn;
    this.dirty.add(turn);
    return turn;
  }

  /** The turn a run event belongs to, creating one when the run is new. */
  _runTurn(ev) {
    const t = this._turn;
    const runId = ev.run_id ?? null;
    if (t && !t.fromHistory && !(ev.event === "start" && (t.hasStart || ENDED.has(t.status)))) {
      if (!t.runId || !runId || t.runId === runId) {
        if (runId && !t.runId) t.runId = runId;
        return t;
      }
      if (!ENDED.has(t.status) && ev.event !== "start") return t;
    }
    // A run with no user message of its own (e.g. a retry): a turn without a user bubble.
    const turn = this._newTurn(null, ev);
    turn.runId = runId;
    return turn;
  }

  /** Fold one slim event into the model. @param {SlimEvent} ev */
  apply(ev) {
    this.applied++;
    if (!ev || typeof ev !== "object") return;
    const name = ev.event;
    switch (name) {
      case "user_message": {
        this.userMessages++;
        this._historyGroup = false;
        this._newTurn(typeof ev.text === "string" ? ev.text : "", ev);
        return;
      }
      case "new_session": {
        this._historyGroup = false;
        this._turn = null;
        const d = { kind: "divider", id: this.id(), rev: 0, at: ev.received_at ?? null };
        this.entries.push(/** @type {Divider} */ (d));
        this.dirty.add(d);
        return;
      }
      case "history":
        this._history(ev);
        return;
      case "malformed":
        return;
      default:
        break;
    }
    const turn = this._runTurn(ev);
    if (ev.session_id && !turn.sessionId) turn.sessionId = ev.session_id;
    switch (name) {
      case "start":
        turn.hasStart = true;
        if (ev.run_id) turn.runId = ev.run_id;
        if (turn.status !== "streaming") turn.status = "streaming";
        this.touch(turn);
        return;
      case "step_started":
        this._step(turn, ev);
        return;
      case "step_completed": {
        const marker = findLast(turn.items, (i) => i.kind === "step");
        if (marker) {
          marker.done = true;
          this.touch(turn, marker);
        }
        for (const i of turn.items) {
          if (i.kind === "reasoning" && !i.done) {
            i.done = true;
            this.touch(turn, i);
          }
        }
        return;
      }
      case "chunk":
      case "content_delta":
        if (typeof ev.text === "string") applyText(this, turn, ev.text, ev.text_mode || "append");
        this._citations(turn, ev);
        return;
      case "reasoning_delta":
      case "reasoning":
        if (typeof ev.text === "string") {
          applyReasoning(
            this,
            turn,
            ev,
            ev.text_mode || (name === "reasoning" ? "replace" : "append"),
          );
        }
        return;
      case "tool_call":
        toolCall(this, turn, ev);
        return;
      case "tool_result":
        toolResult(this, turn, ev);
        // A result while waiting means the run resumed; the decision may be logged later.
        if (turn.status === "waiting_approval") turn.status = "streaming";
        return;
      case "approval_requested":
        approvalRequested(this, turn, ev);
        if (!ENDED.has(turn.status)) turn.status = "waiting_approval";
        this.touch(turn);
        return;
      case "approval_resolved":
        approvalResolved(this, turn, ev);
        if (turn.status === "waiting_approval") turn.status = "streaming";
        this.touch(turn);
        return;
      case "complete": {
        if (typeof ev.text === "string" && (ev.text || !turn.text))
          applyText(this, turn, ev.text, "replace");
        if (ev.usage) turn.usage = ev.usage;
        this._citations(turn, ev);
        const failed = ev.status === "failed";
        if (failed && !turn.error) {
          turn.error = {
            message: ev.error_message || "The run failed.",
            code: ev.error_code ?? "run_failed",
            step: ev.step ?? null,
          };
        }
        this._end(turn, failed ? "failed" : "completed", ev);
        return;
      }
      case "error":
      case "client_error":
        if (!turn.error)
          turn.error = {
            message: ev.error_message || ev.text || "Something went wrong.",
            code: ev.error_code ?? null,
            step: ev.step ?? null,
          };
        if (ev.usage) turn.usage = ev.usage;
        this._end(turn, "failed", ev);
        return;
      case "stopped":
        this._end(turn, "stopped", ev);
        return;
      default:
        // Unknown events are kept in the log (Python side) but have no view of their own.
        return;
    }
  }

  _step(turn, ev) {
    const step = typeof ev.step === "number" ? ev.step : turn.steps + 1;
    turn.steps += 1;
    /** @type {StepItem} */
    const item = { kind: "step", id: this.id(), rev: 0, step, done: false };
    turn.items.push(item);
    // Earlier markers show or hide depending on the step count: touch them all.
    for (const i of turn.items) if (i.kind === "step") i.rev++;
    this.touch(turn);
  }

  _citations(turn, ev) {
    if (Array.isArray(ev.citations) && ev.citations.length) {
      turn.citations = ev.citations;
      this.touch(turn);
    }
  }

  _end(turn, status, ev) {
    // The first end wins: a stopped run stays stopped when its error or complete follows.
    if (ENDED.has(turn.status)) {
      if (status === "failed" && turn.status === "completed") turn.status = "failed";
      this.touch(turn);
      return;
    }
    turn.status = status;
    turn.endedAt = ev.received_at ?? null;
    for (const i of turn.items) {
      if (i.kind === "tool" && (i.state === "running" || i.state === "pending")) {
        i.state = status === "completed" ? "done" : "error";
        i.note = status === "stopped" ? "No result: the run was stopped." : "No result received.";
        i.rev++;
      } else if (i.kind === "reasoning" && !i.done) {
        i.done = true;
        i.rev++;
      } else if (i.kind === "step" && !i.done) {
        i.done = true;
        i.rev++;
      }
    }
    this.touch(turn);
  }

  /** Messages loaded from /api/sessions/{id}/messages: plain text, no tool calls. */
  _history(ev) {
    const args = ev.arguments && typeof ev.arguments === "object" ? ev.arguments : {};
    const role = args.role;
    const text = typeof ev.text === "string" ? ev.text : "";
    if (!this._historyGroup) {
      this._historyGroup = true;
      const note = { kind: "history-note", id: this.id(), rev: 0 };
      this.entries.push(/** @type {HistoryNote} */ (note));
      this.dirty.add(note);
      this._turn = null;
    }
    if (role === "user" || !this._turn || !this._turn.fromHistory || this._turn.text) {
      const turn = this._newTurn(role === "user" ? text : null, ev, true);
      turn.runId = ev.run_id ?? null;
      turn.startedAt = args.timestamp ?? ev.received_at ?? null;
      if (role === "user") return;
    }
    const turn = /** @type {Turn} */ (this._turn);
    if (ev.run_id && !turn.runId) turn.runId = ev.run_id;
    applyText(this, turn, text, "replace");
    turn.endedAt = args.timestamp ?? null;
    this.touch(turn);
  }
}
