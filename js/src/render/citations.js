// Citations of an answer (docs/protocol.md, "Citations"): numbered chips under the answer,
// each opening its source name and excerpt in one shared detail, and the answer's `[n]`
// markers turned into buttons that open the same entry. Everything is text: source names
// and excerpts are set with textContent, and markers are found in rendered text nodes only.

import { h } from "../dom.js";
import { isSafeLink } from "./sanitize.js";

const MARKER = /\[(\d+)\]/g;
const SKIP = new Set(["CODE", "PRE", "A", "BUTTON", "KBD", "SAMP"]);
let ids = 0;

/** A citation's fields as strings (a server may send numbers or nothing). */
function field(c, name) {
  const v = c?.[name];
  return v === null || v === undefined ? "" : String(v);
}

/** The source's http(s) link from `meta`, when it has a safe one. */
function sourceLink(c) {
  const meta = c?.meta && typeof c.meta === "object" ? c.meta : {};
  const url = [meta.url, meta.source_url, meta.href].find((u) => typeof u === "string");
  return url && /^https?:/i.test(url.trim()) && isSafeLink(url) ? url.trim() : null;
}

/**
 * The citations block of a turn: chips, one detail shown at a time, Esc closes it and gives
 * focus back to what opened it. `linkMarkers(root)` turns `[n]` in `root`'s text into buttons.
 */
export function citationsView() {
  const detailId = `pw-cite-${++ids}`;
  const chips = h("div", { class: "pw-cite-chips", role: "group", "aria-label": "Sources" });
  const detail = h("div", {
    class: "pw-cite-detail",
    id: detailId,
    role: "region",
    dataset: { testid: "citation-detail" },
    hidden: true,
  });
  const el = h("div", { class: "pw-citations", dataset: { testid: "citations" } }, [
    h("span", { class: "pw-section-label", text: "Sources" }),
    chips,
    detail,
  ]);
  /** @type {Map<string, any>} */
  let byKey = new Map();
  /** Buttons this view made (chips and markers): only they open entries. */
  const openers = new WeakSet();
  /** @type {HTMLElement[]} */
  let markers = [];
  let openKey = null;
  let opener = null;
  let shown = null;

  function sync() {
    for (const b of [...chips.children, ...markers]) {
      if (b instanceof HTMLElement) {
        b.setAttribute("aria-expanded", String(b.dataset.key === openKey));
      }
    }
  }

  function open(key, from) {
    const c = byKey.get(key);
    if (!c || openKey === key) return close(false);
    openKey = key;
    opener = from;
    const name = field(c, "source_name") || "Source";
    const url = sourceLink(c);
    const title = url
      ? h("a", { href: url, target: "_blank", rel: "noopener noreferrer", text: name })
      : h("span", { text: name });
    detail.replaceChildren(
      h("div", { class: "pw-cite-title" }, [h("span", { class: "pw-cite-num", text: key }), title]),
      h("p", {
        class: "pw-cite-excerpt",
        dataset: { testid: "citation-excerpt" },
        text: field(c, "text_excerpt") || "No excerpt was sent for this source.",
      }),
    );
    detail.setAttribute("aria-label", `Source ${key}: ${name}`);
    detail.hidden = false;
    sync();
    detail.scrollIntoView?.({ block: "nearest" });
  }

  function close(refocus = true) {
    const back = opener;
    openKey = null;
    opener = null;
    detail.hidden = true;
    detail.replaceChildren();
    sync();
    if (refocus && back?.isConnected) back.focus();
  }

  function onClick(e) {
    const b = e.target instanceof Element ? e.target.closest("button") : null;
    if (b && openers.has(b)) open(b.dataset.key, b);
  }
  function onKey(e) {
    if (e.key === "Escape" && openKey !== null) {
      e.stopPropagation();
      close();
    }
  }
  el.addEventListener("click", onClick);
  el.addEventListener("keydown", onKey);

  function makeOpener(key, c, cls, testid, text) {
    const name = field(c, "source_name") || "Source";
    const b = h("button", {
      type: "button",
      class: cls,
      "aria-expanded": "false",
      "aria-controls": detailId,
      "aria-label": `Source ${key}: ${name}`,
      title: name,
      dataset: { testid, key },
      text,
    });
    openers.add(b);
    return b;
  }

  /** Show `citations` (the turn's, once it completes). */
  function update(citations) {
    if (shown === citations) return;
    shown = citations;
    byKey = new Map();
    chips.replaceChildren();
    for (const c of Array.isArray(citations) ? citations : []) {
      const key = field(c, "key");
      if (!key || byKey.has(key)) continue;
      byKey.set(key, c);
      const chip = makeOpener(key, c, "pw-cite-chip", "citation-chip", "");
      chip.append(
        h("span", { class: "pw-cite-num", text: key }),
        h("span", { class: "pw-cite-name", text: field(c, "source_name") || "Source" }),
      );
      chips.append(chip);
    }
    el.hidden = byKey.size === 0;
    if (openKey !== null && !byKey.has(openKey)) close(false);
  }

  /** Turn `[n]` markers naming a citation into buttons, in `root`'s text nodes only. */
  function linkMarkers(root) {
    if (!byKey.size) return;
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
      acceptNode(node) {
        for (let p = node.parentElement; p && p !== root; p = p.parentElement) {
          if (SKIP.has(p.tagName)) return NodeFilter.FILTER_REJECT;
        }
        return node.nodeValue?.includes("[") ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_SKIP;
      },
    });
    /** @type {Text[]} */
    const found = [];
    const made = [];
    for (let n = walker.nextNode(); n; n = walker.nextNode()) found.push(/** @type {Text} */ (n));
    for (const node of found) {
      const text = node.nodeValue || "";
      const parts = [];
      let last = 0;
      for (const m of text.matchAll(MARKER)) {
        const c = byKey.get(m[1]);
        if (!c) continue;
        parts.push(text.slice(last, m.index));
        const ref = makeOpener(m[1], c, "pw-cite-ref", "citation-ref", `[${m[1]}]`);
        ref.addEventListener("click", onClick);
        ref.addEventListener("keydown", onKey);
        made.push(ref);
        parts.push(ref);
        last = (m.index ?? 0) + m[0].length;
      }
      if (!parts.length) continue;
      parts.push(text.slice(last));
      node.replaceWith(...parts.filter((p) => p !== ""));
    }
    if (!made.length) return;
    markers = [...markers.filter((b) => b.isConnected), ...made];
    sync();
  }

  return { el, update, linkMarkers, open };
}
