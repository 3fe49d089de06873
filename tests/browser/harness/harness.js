// A fake anywidget model for the built bundle: traits, custom messages both ways, and
// counters the tests read (listeners left after cleanup, messages sent to "Python").
import widget from "/static/widget.js";

class FakeModel {
  constructor(state, models = {}) {
    this.state = { ...state };
    this.listeners = new Map();
    this.sent = [];
    // Other widget models by id (a saved notebook's entries), as a widget manager has them.
    this.widget_manager = {
      get_model: async (id) => (id in models ? new FakeModel(models[id]) : Promise.reject(
        new Error(`no model ${id}`))),
    };
  }
  get(name) { return this.state[name]; }
  set(name, value) { this.state[name] = value; this.emit(`change:${name}`, value); }
  save_changes() {}
  on(name, cb) {
    if (!this.listeners.has(name)) this.listeners.set(name, new Set());
    this.listeners.get(name).add(cb);
  }
  off(name, cb) { this.listeners.get(name)?.delete(cb); }
  send(msg) { this.sent.push(JSON.parse(JSON.stringify(msg))); }
  emit(name, ...args) { for (const cb of [...(this.listeners.get(name) || [])]) cb(...args); }
  listenerCount() { let n = 0; for (const s of this.listeners.values()) n += s.size; return n; }
}

const DEFAULTS = {
  agent_id: "agt_demo", agent_name: "Catalogue assistant", session_id: "", status: "idle",
  error: "", banner: "", mode: "live", placeholder: "Ask about products, policies…",
  history: null, theme: "auto",
};

let model = null;
let cleanup = null;

window.pw = {
  mount(state = {}, models = {}) {
    model = new FakeModel({ ...DEFAULTS, ...state }, models);
    const el = document.getElementById("host");
    cleanup = widget.render({ model, el });
    return true;
  },
  unmount() { cleanup?.(); cleanup = null; return model.listenerCount(); },
  deliver(msg) { model.emit("msg:custom", msg, []); },
  set(name, value) { model.set(name, value); },
  sent() { return model.sent; },
  clearSent() { model.sent = []; },
  frames(n = 2) {
    return new Promise((resolve) => {
      const step = (k) => (k <= 0 ? resolve(true) : requestAnimationFrame(() => step(k - 1)));
      step(n);
    });
  },
};
window.pwReady = true;
