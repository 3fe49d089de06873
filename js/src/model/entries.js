// @ts-check
// The entries the panel draws, exactly as Python folded them: a snapshot replaces them, a
// patch changes them in place. No fold here — the rules live once, in Python
// (docs/architecture.md). Objects keep their identity across patches and carry a `rev`
// that grows when they change, so the renderers redraw only what changed.

/**
 * @typedef {import("./types.js").EntryView} EntryView
 * @typedef {import("./types.js").TurnView} TurnView
 * @typedef {import("./types.js").Op} Op
 * @typedef {EntryView & {id: number, rev: number, text?: string, items?: any[]}} Entry
 */

/** Sum usage dictionaries key by key (numbers only): the footer's session total. */
export function addUsage(total, usage) {
  if (!usage || typeof usage !== "object") return total;
  const out = { ...(total || {}) };
  for (const [k, v] of Object.entries(usage)) {
    if (typeof v === "number" && Number.isFinite(v)) out[k] = (out[k] || 0) + v;
  }
  return out;
}

/** Keys the panel keeps on an object of its own (not from Python). */
const LOCAL = new Set(["id", "rev"]);

/** Replace an object's own keys with `next`'s, keeping its identity and local keys. */
function assignInPlace(target, next) {
  for (const key of Object.keys(target)) {
    if (!LOCAL.has(key) && !(key in next)) delete target[key];
  }
  Object.assign(target, next);
  target.rev = (target.rev || 0) + 1;
}

export class Entries {
  constructor() {
    /** @type {Entry[]} */
    this.entries = [];
    /** Entries changed since the last `takeDirty()`. @type {Set<Entry>} */
    this.dirty = new Set();
    this.resetCount = 0;
    this._ids = 0;
  }

  /** Turns only, in order. */
  get turns() {
    return this.entries.filter((e) => e.kind === "turn");
  }

  /** The last turn, if any (null after a new-session divider). */
  get lastTurn() {
    const last = this.entries[this.entries.length - 1];
    return last && last.kind === "turn" ? last : null;
  }

  /** Turns the user asked in this panel (the panel waits for its own to arrive). */
  get userMessages() {
    return this.entries.filter((e) => e.kind === "turn" && e.userText !== null && !e.fromHistory)
      .length;
  }

  /** Token usage summed over the turns since the last new session. */
  get sessionUsage() {
    let total = null;
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i];
      if (e.kind === "divider") break;
      // An orchestration's turn counts its sub-agents' runs too (usageTotal).
      if (e.kind === "turn" && (e.usageTotal || e.usage))
        total = addUsage(total, e.usageTotal || e.usage);
    }
    return total;
  }

  /** Hand the entries changed since the last call to the renderer. */
  takeDirty() {
    const d = this.dirty;
    this.dirty = new Set();
    return d;
  }

  /** The entries as plain data, without ids and revs (what the conformance tests compare). */
  toJSON() {
    return this.entries.map(({ id, rev, ...entry }) => {
      if (!entry.items) return entry; // a note's or divider's own fields, `text` included
      const { text, ...turn } = entry; // a turn's `text` is the panel's own (answerOf)
      return { ...turn, items: turn.items.map(({ id: _i, rev: _r, ...item }) => item) };
    });
  }

  /** Replace everything (a snapshot, or the saved history). @param {EntryView[]} entries */
  reset(entries) {
    this.entries = [];
    this.dirty = new Set();
    this.resetCount++;
    for (const view of entries) this.entries.push(this._adopt(view));
  }

  /** Apply a patch's ops in order. @param {Op[]} ops */
  apply(ops) {
    for (const op of ops) this._apply(op);
  }

  /** @param {Op} op */
  _apply(op) {
    if (op.op === "entry") {
      const entry = this._adopt(op.entry);
      const old = this.entries[op.at];
      if (old && old.kind === entry.kind) {
        assignInPlace(old, entry);
        if (entry.items) old.items = entry.items;
        this._touch(old);
      } else {
        this.entries[op.at] = entry;
        this.dirty.add(entry);
      }
      return;
    }
    const turn = this.entries[op.at];
    if (!turn || !turn.items) return;
    if (op.op === "turn") {
      Object.assign(turn, op.set);
    } else if (op.op === "trim") {
      turn.items.length = op.items;
    } else if (op.op === "item") {
      const old = turn.items[op.index];
      if (old && old.kind === op.item.kind) assignInPlace(old, op.item);
      else turn.items[op.index] = this._item(op.item);
    } else if (op.op === "run-text") {
      // A sub-agent streaming inside a delegation card: only its new characters come.
      const item = turn.items[op.index];
      const sub = item && item.run && item.run.items[op.sub];
      if (sub) {
        sub.text += op.append;
        item.rev++;
      }
    } else if (op.op === "text") {
      const item = turn.items[op.index];
      if (item) {
        item.text += op.append;
        item.rev++;
      }
    }
    this._touch(turn);
  }

  /** Give an entry (and its items) an id and rev. @param {EntryView} view @returns {Entry} */
  _adopt(view) {
    /** @type {any} */
    const entry = { ...view, id: ++this._ids, rev: 0 };
    if (Array.isArray(entry.items)) {
      entry.items = entry.items.map((item) => this._item(item));
      entry.text = answerOf(entry);
    }
    return entry;
  }

  _item(item) {
    return { ...item, id: ++this._ids, rev: 0 };
  }

  _touch(entry) {
    if (entry.items) entry.text = answerOf(entry);
    entry.rev++;
    this.dirty.add(entry);
  }
}

/** The turn's answer: Python's when it differs from what the items show, else theirs. */
function answerOf(turn) {
  if (typeof turn.answer === "string") return turn.answer;
  return turn.items
    .filter((i) => i.kind === "text")
    .map((i) => i.text)
    .join("");
}
