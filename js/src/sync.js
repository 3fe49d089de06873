// The sync: applies the kernel's append-only `events` batches by `start`, asks for a
// snapshot on render and on a gap, and shows the `history` trait until a kernel answers
// (saved notebooks and HTML exports have no kernel). A snapshot is the log compacted (text
// deltas merged), so its `next` field, not its length, is the log position it reaches.

/** Ask again for a snapshot after this long without one (ms). */
const SNAPSHOT_RETRY_MS = 2000;

export class EventSync {
  /**
   * @param {{get: Function, on: Function, off: Function, send: Function}} model
   * @param {import("./conversation.js").Conversation} conversation
   * @param {() => void} changed  called after events were applied
   */
  constructor(model, conversation, changed) {
    this.model = model;
    this.conv = conversation;
    this.changed = changed;
    /** Log position reached (the next `start` we expect): a snapshot's `next`, plus batches. */
    this.next = 0;
    /** Whether a kernel has answered (a snapshot or batch arrived). */
    this.connected = false;
    this.showingHistory = false;
    this.awaitingSince = null;
    this.onMessage = (msg) => this.receive(msg);
    this.onHistory = () => this.renderHistory();
    model.on("msg:custom", this.onMessage);
    model.on("change:history", this.onHistory);
    this.renderHistory();
    this.requestSnapshot();
  }

  /** Ask the kernel for the whole log. */
  requestSnapshot() {
    this.awaitingSince = Date.now();
    try {
      this.model.send({ type: "snapshot_request" });
    } catch {
      // No kernel (static page): the history trait stays on screen.
    }
  }

  /** Show the saved `history` trait while no kernel has answered. */
  renderHistory() {
    if (this.connected) return;
    const history = this.model.get("history");
    if (!Array.isArray(history)) return;
    this.conv.reset();
    this.conv.extend(history);
    this.showingHistory = history.length > 0;
    this.changed();
  }

  /** Handle one custom message from the kernel. @param {any} msg */
  receive(msg) {
    if (!msg || typeof msg !== "object") return;
    if (msg.type === "snapshot" && Array.isArray(msg.events)) {
      this.connected = true;
      this.showingHistory = false;
      this.awaitingSince = null;
      this.conv.reset();
      this.conv.extend(msg.events);
      // A compacted snapshot merges text deltas: it covers `next` log events in fewer.
      const { next } = msg;
      this.next = Number.isInteger(next) && next >= 0 ? next : msg.events.length;
      this.changed();
      return;
    }
    if (msg.type !== "events" || !Array.isArray(msg.events)) return;
    const start = Number(msg.start);
    if (!Number.isInteger(start) || start < 0) return;
    if (start > this.next) {
      // A gap: events were missed. Ask once; batches until the snapshot are in it anyway.
      if (this.awaitingSince === null || Date.now() - this.awaitingSince > SNAPSHOT_RETRY_MS) {
        this.requestSnapshot();
      }
      return;
    }
    if (!this.connected) {
      // Live events replace the saved history: the log starts from 0.
      this.connected = true;
      if (this.showingHistory || this.next === 0) {
        this.conv.reset();
        this.showingHistory = false;
      }
    }
    const fresh = msg.events.slice(this.next - start);
    if (!fresh.length) return;
    this.conv.extend(fresh);
    this.next += fresh.length;
    this.changed();
  }

  destroy() {
    this.model.off("msg:custom", this.onMessage);
    this.model.off("change:history", this.onHistory);
  }
}
