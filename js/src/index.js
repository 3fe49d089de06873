// powawidget's front end, an anywidget module: `render` mounts the chat panel (or, for a
// model whose `_view` is "evaluation", the evaluation panel) and returns its cleanup.

import "./styles/theme.css";
import "./styles/messages.css";
import "./styles/cards.css";
import "./styles/delegation.css";
import "./styles/chrome.css";
import { mount } from "./app.js";
import { mountEvaluation } from "./evaluation/panel.js";

/** @param {{model: any, el: HTMLElement}} props */
function render({ model, el }) {
  if (model.get("_view") === "evaluation") return mountEvaluation(model, el);
  return mount(model, el);
}

const widget = { render };

// Other powawidget panels of this notebook carry a stub that renders with this module
// (powawidget/notebook/bundle.py): the bundle is saved once, not once per widget.
/** @type {any} */ (globalThis)[Symbol.for("powawidget.module")] = widget;

export default widget;
