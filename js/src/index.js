// powawidget's front end, an anywidget module: `render` mounts the chat panel and returns
// its cleanup function.

import "./styles/theme.css";
import "./styles/messages.css";
import "./styles/cards.css";
import "./styles/chrome.css";
import { mount } from "./app.js";

/** @param {{model: any, el: HTMLElement}} props */
function render({ model, el }) {
  return mount(model, el);
}

export default { render };
