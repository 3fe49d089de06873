// Markdown to sanitised DOM: marked (GFM) → DOMPurify → fragment, with our own small
// highlighter (highlight.js) for fenced code. Streaming text is split into settled blocks, rendered
// once, and a growing tail, re-rendered at most once per frame (see MarkdownView).

import { Marked } from "marked";
import { highlight, languageOf } from "./highlight.js";
import { sanitize } from "./sanitize.js";
import { repairStreaming } from "./streaming.js";

/** Escape text for HTML. @param {string} s */
function escapeHtml(s) {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const marked = new Marked({ gfm: true, breaks: false, async: false });
marked.use({
  renderer: {
    code({ text, lang }) {
      const language = (lang || "").trim().split(/\s+/)[0].toLowerCase();
      const known = languageOf(language);
      const body = known ? highlight(text, known) : escapeHtml(text);
      const cls = known ? ` class="hljs language-${escapeHtml(language)}"` : "";
      const label = language ? ` data-lang="${escapeHtml(language)}"` : "";
      return `<pre${label}><code${cls}>${body}</code></pre>\n`;
    },
  },
});

/** How many blockquotes may nest; markers past it are text. marked recurses once per
 * level and runs out of stack near 1,000; the exports keep text past their own limit too
 * (powawidget/outputs/markdown.py). */
export const MAX_QUOTE_DEPTH = 32;
const DEEP_QUOTE = new RegExp(`^((?: {0,3}>){${MAX_QUOTE_DEPTH}})((?: {0,3}>)+)`, "gm");

/**
 * Quote markers past MAX_QUOTE_DEPTH become escaped text (`&gt;`), so the words after
 * them are still shown, never dropped and never a stack overflow.
 * @param {string} src
 */
export function flattenDeepQuotes(src) {
  if (src.split(">", MAX_QUOTE_DEPTH + 1).length <= MAX_QUOTE_DEPTH) return src; // too few
  return src.replace(DEEP_QUOTE, (_, keep, rest) => `${keep} ${rest.replace(/>/g, "&gt;")}`);
}

/** Render markdown source to a sanitised fragment. @param {string} src */
export function renderMarkdown(src) {
  const html = /** @type {string} */ (marked.parse(flattenDeepQuotes(src)));
  return sanitize(html);
}

const FENCE = /^ {0,3}(`{3,}|~{3,})/;

/**
 * Where settled markdown ends: the last blank line outside a code fence that is followed
 * by a non-indented line (so a split never turns a list continuation into code).
 * Scans from `from` with the fence state at that point; returns {cut, fence}.
 * @param {string} text @param {number} from @param {string|null} fence
 */
export function settledBoundary(text, from, fence) {
  let cut = from;
  let cutFence = fence;
  let pos = from;
  let open = fence;
  let prevBlank = false;
  while (pos < text.length) {
    const nl = text.indexOf("\n", pos);
    if (nl === -1) break; // the last line is still growing
    const line = text.slice(pos, nl);
    if (open === null) {
      if (prevBlank && line.length && !/^\s/.test(line)) {
        cut = pos;
        cutFence = null;
      }
      const m = FENCE.exec(line);
      if (m) open = m[1][0].repeat(m[1].length);
      prevBlank = line.trim() === "";
    } else {
      const m = FENCE.exec(line);
      if (
        m &&
        m[1][0] === open[0] &&
        m[1].length >= open.length &&
        !line.slice(m[0].length).trim()
      ) {
        open = null;
      }
      prevBlank = false;
    }
    pos = nl + 1;
  }
  return { cut, fence: cutFence };
}

/** Add a copy button to each code block of a rendered fragment. */
function decorateCode(root, makeCopy) {
  for (const pre of root.querySelectorAll("pre")) {
    const code = pre.querySelector("code");
    const btn = makeCopy(() => (code || pre).textContent || "", "Copy code");
    btn.classList.add("pw-code-copy");
    pre.classList.add("pw-code");
    pre.prepend(btn);
  }
}

/**
 * A view of markdown text that grows: settled blocks are rendered once and kept; only the
 * tail after the last settled block is re-rendered on each update.
 */
export class MarkdownView {
  /** @param {(get: () => string, label: string) => HTMLElement} makeCopy */
  constructor(makeCopy) {
    this.el = document.createElement("div");
    this.el.className = "pw-markdown";
    this.settled = document.createElement("div");
    this.settled.className = "pw-md-settled";
    this.tail = document.createElement("div");
    this.tail.className = "pw-md-tail";
    this.el.append(this.settled, this.tail);
    this.makeCopy = makeCopy;
    this.text = "";
    this.cut = 0;
    this.fence = null;
    this.tailText = null;
    this.streaming = false;
  }

  /**
   * Show `text` (which may extend or replace what is shown). While `streaming`, the tail's
   * unfinished constructs are hidden or closed (see streaming.js).
   * @param {string} text @param {boolean} [streaming]
   */
  update(text, streaming = false) {
    if (text === this.text && streaming === this.streaming) return;
    this.streaming = streaming;
    if (!text.startsWith(this.text.slice(0, this.cut))) {
      this.settled.replaceChildren();
      this.cut = 0;
      this.fence = null;
    }
    this.text = text;
    const { cut, fence } = settledBoundary(text, this.cut, this.fence);
    if (cut > this.cut) {
      const block = document.createElement("div");
      block.className = "pw-md-block";
      block.append(renderMarkdown(text.slice(this.cut, cut)));
      decorateCode(block, this.makeCopy);
      this.settled.append(block);
      this.cut = cut;
      this.fence = fence;
    }
    const raw = text.slice(this.cut);
    const tail = streaming ? repairStreaming(raw) : raw;
    if (tail !== this.tailText) {
      this.tailText = tail;
      const frag = renderMarkdown(tail);
      decorateCode(frag, this.makeCopy);
      this.tail.replaceChildren(frag);
    }
  }
}
