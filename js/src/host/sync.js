// @ts-check
// The panel's sync with the kernel: a snapshot of the folded entries, then numbered patches
// (powawidget/notebook/sync.py). A view that sees a patch out of order asks for a snapshot
// again. Until a kernel answers (a saved notebook, an HTML export) the `history` trait is
// shown; while one does, the finished conversation is kept in `history` here, in the
// browser, so JupyterLab saves it with the notebook without the kernel re-sending it.

/** Ask again for a snapshot after this long without one (ms). */
const SNAPSHOT_RETRY_MS = 2000;

const LIVE = new Set(["streaming", "waiting_approval"]);

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
   *   save_changes: Function}} model
   * @param {import("../model/entries.js").Entries} entries
   * @param {() => void} changed  called after entries changed
   * @param {boolean} [echo]  tell the kernel when a run settled (marimo), instead of keeping
   *   the history for a saved notebook
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

  /** Show the saved `history` trait while no kernel has answered. */
  renderHistory() {
    if (this.connected) return;
    const history = this.model.get("history");
    if (!Array.isArray(history)) return;
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
      this.keep();
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
    this.keep();
  }

  /** Once a run is over, keep the conversation in `history` for the saved notebook (or,
   * in marimo, count the settled turns in `settled` so cells reading `.value` re-run). */
  keep() {
    const last = this.entries.lastTurn;
    if ((last && LIVE.has(last.status)) || this.seq === this.savedSeq) return;
    this.savedSeq = this.seq ?? -1;
    try {
      if (this.echo) {
        const settled = this.entries.turns.length;
        if (settled !== this.model.get("settled")) {
          this.model.set("settled", settled);
          this.model.save_changes();
        }
        return;
      }
      this.model.set("history", this.entries.toJSON());
    } catch (err) {
      console.warn("powawidget: could not keep the history for saving", err);
    }
  }

  destroy() {
    this.model.off("msg:custom", this.onMessage);
    this.model.off("change:history", this.onHistory);
  }
}
