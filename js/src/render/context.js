// @ts-check
// What a message sent besides its text: a chip per context item under the user's bubble
// that opens to exactly what was sent (the text, or the image), and a structured answer as
// a collapsible table. Python decides what each holds (powawidget/model/view.py); this
// file only draws it.

import { h, formatCount } from "../dom.js";
import { textBlock, valueView } from "./json.js";

/** "1.2 KB" style sizes. @param {number} n */
function bytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** The one-line label of a context item. @param {Record<string, any>} item */
function label(item) {
  const facts = [];
  if (item.rows != null && item.columns != null) {
    facts.push(`${formatCount(item.rows)} × ${formatCount(item.columns)}`);
  } else if (item.width != null && item.height != null) {
    facts.push(`${item.width}×${item.height} px`);
  }
  facts.push(bytes(Number(item.size) || 0));
  const name = String(item.name).startsWith(item.kind) ? item.name : `${item.kind} ${item.name}`;
  return `${name} · ${facts.join(" · ")}`;
}

/** One chip: a <details> whose summary names the item and whose body is what was sent. */
function chip(item) {
  const summary = h("summary", { class: "pw-context-label" }, [
    h("span", { class: "pw-context-icon", "aria-hidden": "true", text: item.image ? "▣" : "≡" }),
    h("span", { text: label(item) }),
  ]);
  if (item.kept) {
    summary.append(
      h("span", {
        class: "pw-context-kept",
        dataset: { testid: "context-kept" },
        title: "w.context: sent with every message until you clear it (w.context = None)",
        text: "kept",
      }),
    );
  }
  const body = h("div", { class: "pw-context-body" });
  if (typeof item.image === "string" && item.image.startsWith("data:image/")) {
    body.append(
      h("img", {
        class: "pw-context-image",
        src: item.image,
        alt: `${item.name}: the image sent, ${item.width}×${item.height} px`,
        dataset: { testid: "context-image" },
      }),
    );
  } else if (typeof item.text === "string") {
    const text = textBlock(item.text, "pw-context-text");
    text.dataset.testid = "context-text";
    body.append(text);
  } else {
    body.append(
      h("div", {
        class: "pw-muted",
        text: `Only a record was kept (kind, size, hash ${item.sha256 || "—"}): the content is not stored.`,
      }),
    );
  }
  if (item.note) body.append(h("div", { class: "pw-context-note", text: item.note }));
  return h("details", { class: "pw-context-chip", dataset: { testid: "context-chip" } }, [
    summary,
    body,
  ]);
}

/** The chips of a turn's context (null when the message sent none). @param {any[]|null} items */
export function contextView(items) {
  if (!items || !items.length) return null;
  return h(
    "div",
    { class: "pw-context", dataset: { testid: "context" }, "aria-label": "Context sent" },
    items.map(chip),
  );
}

/** A cell of the answer table: primitives as text, containers as a folded JSON tree. */
function cell(value) {
  if (value === null || typeof value !== "object") {
    return h("td", { text: value === null ? "null" : String(value) });
  }
  return h("td", {}, [valueView(value)]);
}

/** Columns of a list of objects (their keys, in first-seen order), or null. */
function columnsOf(rows) {
  if (!rows.length || !rows.every((r) => r !== null && typeof r === "object" && !Array.isArray(r)))
    return null;
  const seen = new Set();
  for (const r of rows) for (const k of Object.keys(r)) seen.add(k);
  return [...seen];
}

/** A table of an object (key | value) or of a list of objects (one row each). */
function table(value) {
  const list = Array.isArray(value) ? value : null;
  const columns = list ? columnsOf(list) : null;
  if (list && columns) {
    const head = h(
      "tr",
      {},
      columns.map((c) => h("th", { scope: "col", text: c })),
    );
    const rows = list.map((r) =>
      h(
        "tr",
        {},
        columns.map((c) => cell(r[c] ?? null)),
      ),
    );
    return h("table", { class: "pw-answer-table" }, [h("thead", {}, [head]), h("tbody", {}, rows)]);
  }
  if (list) return valueView(list);
  const rows = Object.entries(value).map(([k, v]) =>
    h("tr", {}, [h("th", { scope: "row", text: k }), cell(v)]),
  );
  return h("table", { class: "pw-answer-table" }, [h("tbody", {}, rows)]);
}

/** A structured answer (its JSON) as a collapsible table, open by default. */
export function answerJsonView(value) {
  const n = Array.isArray(value) ? value.length : Object.keys(value).length;
  const what = Array.isArray(value) ? (n === 1 ? "item" : "items") : n === 1 ? "field" : "fields";
  return h("details", { class: "pw-answer-json", open: true, dataset: { testid: "answer-json" } }, [
    h("summary", { text: `Structured answer · ${n} ${what}` }),
    table(value),
  ]);
}
