// @ts-check
// The panel's sync with the kernel: a snapshot of the folded entries, then numbered patches
// (powawidget/notebook/sync.py). A view that sees a patch out of order asks for a snapshot
// again. Until a kernel answers (a saved notebook, an HTML export) the saved conversation
// is shown: the kernel alone writes it, one widget model per entry, each referencing the one
// before, the `history` trait referencing the last (powawidget/notebook/saved.py).

/** Ask again for a snapshot after this long without one (ms). */
const SNAPSHOT_RETRY_MS = 2000;

const LIVE = new Set(["streaming", "waiting_approval"]);

/** How ipywidgets writes a reference to another widget model. */
const REF = "IPY_MODEL_";

/**
 * The saved entries, oldest first: walk back from the model `history` references.
 * @param {{get: Function, widget_manager?: {get_model: (id: string) => Promise<any>}}} model
 * @returns {Promise<import("../model/types.js").EntryView[]>}
 */
export async function savedEntries(model) {
  /** @type {import("../model/types.js").EntryView[]} */
  const entries = [];
  const manager = model.widget_manager;
  const seen = new Set();
  let ref = model.get("history");
  while (manager && typeof ref === "string" && ref.startsWith(REF) && !seen.has(ref)) {
    seen.add(ref);
    let saved;
    try {
      saved = await manager.get_model(ref.slice(REF.length));
    } catch {
      break; // a model the saved state lacks: show what was found
    }
    if (!saved) break;
    const entry = saved.get("entry");
    if (entry && typeof entry === "object" && typeof entry.kind === "string") entries.push(entry);
    ref = saved.get("previous");
  }
  return entries.reverse();
}

/**
 * Whether the panel renders inside marimo, which saves no widget state in its notebooks but
 * re-runs the cells that read a widget's `.value` only when the page sends an update.
 * @param {Node|null} node
 */
export function inMarimo(node) {
  while (node) {
    if (node.nodeName && node.nodeName.toLowerCase() === "marimo-anywidget") return true;
    node = node.parentNode || /** @type {any} */ (node).host || null;
  }
  return false;
}

export class PanelSync {
  /**
   * @param {{get: Function, set: Function, on: Function, off: Function, send: Function,
   *   save_changes: Function, widget_manager?: {get_model: (id: string) => Promise<any>}}} model
   * @param {import("../model/entries.js").Entries} entries
   * @param {() => void} changed  called after entries changed
   * @param {boolean} [echo]  tell the kernel when a run settled (marimo, which saves no
   *   widget state but re-runs the cells reading `.value` when the page sends an update)
   */
  constructor(model, entries, changed, echo = false) {
    this.model = model;
    this.echo = echo;
    this.entries = entries;
    this.changed = changed;
    /** The number of the last message applied (null before a snapshot or patch). */
    this.seq = null;
    /** Whether a kernel has answered (a snapshot or patch arrived). */
    this.connected = false;
    this.showingHistory = false;
    /** @type {number|null} */
    this.awaitingSince = null;
    this.savedSeq = -1;
    /** Bumped by each saved-history render and by `destroy`: a stale walk is dropped. */
    this.historyRun = 0;
    this.onMessage = (/** @type {any} */ msg) => this.receive(msg);
    this.onHistory = () => this.renderHistory();
    model.on("msg:custom", this.onMessage);
    model.on("change:history", this.onHistory);
    this.renderHistory();
    this.requestSnapshot();
  }

  /** Ask the kernel for every entry. */
  requestSnapshot() {
    this.awaitingSince = Date.now();
    try {
      this.model.send({ type: "snapshot_request" });
    } catch {
      // No kernel (static page): the saved history stays on screen.
    }
  }

  /** Show the saved conversation while no kernel has answered. */
  async renderHistory() {
    if (this.connected) return;
    const run = ++this.historyRun;
    const history = await savedEntries(this.model);
    if (this.connected || run !== this.historyRun) return;
    this.entries.reset(history);
    this.showingHistory = history.length > 0;
    this.changed();
  }

  /** Handle one custom message from the kernel. @param {any} msg */
  receive(msg) {
    if (!msg || typeof msg !== "object" || !Number.isInteger(msg.seq)) return;
    if (msg.type === "snapshot" && Array.isArray(msg.entries)) {
      this.connected = true;
      this.showingHistory = false;
      this.awaitingSince = null;
      this.entries.reset(msg.entries);
      this.seq = msg.seq;
      this.changed();
      this.settle();
      return;
    }
    if (msg.type !== "patch" || !Array.isArray(msg.ops)) return;
    const expected = (this.seq ?? 0) + 1;
    if (this.seq !== null && msg.seq <= this.seq) return; // already in a snapshot
    if (msg.seq !== expected || (!this.connected && msg.seq !== 1)) {
      // A gap: a patch was missed. Ask once; patches until the snapshot are in it anyway.
      if (this.awaitingSince === null || Date.now() - this.awaitingSince > SNAPSHOT_RETRY_MS) {
        this.requestSnapshot();
      }
      return;
    }
    if (!this.connected) {
      // Live patches replace the saved history: they start from an empty conversation.
      this.connected = true;
      if (this.showingHistory) this.entries.reset([]);
      this.showingHistory = false;
    }
    this.entries.apply(msg.ops);
    this.seq = msg.seq;
    this.changed();
    this.settle();
  }

  /** In marimo, once a run is over, count the settled turns in `settled` so the cells
   * reading `.value` re-run. (The saved conversation is the kernel's: see the top.) */
  settle() {
    const last = this.entries.lastTurn;
    if (!this.echo || (last && LIVE.has(last.status)) || this.seq === this.savedSeq) return;
    this.savedSeq = this.seq ?? -1;
    try {
      const settled = this.entries.turns.length;
      if (settled !== this.model.get("settled")) {
        this.model.set("settled", settled);
        this.model.save_changes();
      }
    } catch (err) {
      console.warn("powawidget: could not tell the kernel a run settled", err);
    }
  }

  destroy() {
    this.historyRun += 1;
    this.model.off("msg:custom", this.onMessage);
    this.model.off("change:history", this.onHistory);
  }
}
