// Streaming Markdown repair: the growing tail of an answer, made presentable before it is
// finished. Unfinished constructs would otherwise show as raw syntax for a moment
// (`**12 seats of`, a lone bullet, table rows as pipes). Pure text → text; no DOM.
//
// Rules (each keeps what is shown a prefix-faithful picture of the final rendering, so the
// text does not jump when the construct completes):
// - an unfinished last line that is only a list marker, a heading marker or a fence opener
//   is held back until its line has content;
// - trailing table lines are held back until the header and its delimiter row arrived,
//   and a table's unfinished last row is held back until its line completes;
// - a link whose target is still arriving shows as its text;
// - open inline spans (`code`, **strong**, *em*, ~~strike~~) in the last paragraph are
//   closed (an opener with nothing after it yet is dropped).

const LIST_MARKER = /^\s{0,3}(?:[-*+]|\d{1,9}[.)])\s*$/;
const HEADING_MARKER = /^\s{0,3}#{1,6}\s*$/;
const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const TABLE_LINE = /^\s{0,3}\|/;
const TABLE_DELIMITER = /^\s{0,3}\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/;

/**
 * Whether `text` ends inside an open code fence (then nothing inline needs closing).
 * @param {string[]} lines
 */
function insideFence(lines) {
  let open = null;
  for (const line of lines) {
    const m = FENCE.exec(line);
    if (!m) continue;
    if (open === null) open = m[1];
    else if (m[1][0] === open[0] && m[1].length >= open.length && !line.slice(m[0].length).trim())
      open = null;
  }
  return open !== null;
}

/**
 * Hold back trailing table lines that would render as raw pipes.
 * @param {string[]} lines  complete lines (the unfinished one already split off)
 * @param {string} partial  the unfinished last line ("" when the text ends with a newline)
 * @returns {{lines: string[], partial: string}}
 */
function holdTable(lines, partial) {
  const all = partial ? [...lines, partial] : [...lines];
  let start = all.length;
  while (start > 0 && TABLE_LINE.test(all[start - 1])) start--;
  if (start === all.length) return { lines, partial };
  const block = all.slice(start);
  const completeRows = partial && TABLE_LINE.test(partial) ? block.length - 1 : block.length;
  const isTable = completeRows >= 2 && TABLE_DELIMITER.test(block[1]);
  if (!isTable) {
    // Header (and maybe a half delimiter) only: nothing to show yet.
    return { lines: all.slice(0, start), partial: "" };
  }
  if (partial && TABLE_LINE.test(partial)) return { lines, partial: "" };
  return { lines, partial };
}

/**
 * Close the inline spans left open at the end of the last paragraph.
 * @param {string} para
 */
function closeInline(para) {
  /** @type {string[]} */
  const stack = [];
  let code = 0; // length of the open backtick run, 0 when none
  let i = 0;
  while (i < para.length) {
    const c = para[i];
    if (c === "\\") {
      i += 2;
      continue;
    }
    if (c === "`") {
      let n = 1;
      while (para[i + n] === "`") n++;
      if (code === 0) code = n;
      else if (code === n) code = 0;
      i += n;
      continue;
    }
    if (code) {
      i++;
      continue;
    }
    if (c === "*" || c === "_" || c === "~") {
      let n = 1;
      while (para[i + n] === c) n++;
      const before = i === 0 ? "\n" : para[i - 1];
      const after = i + n >= para.length ? "" : para[i + n];
      const run = c.repeat(Math.min(n, c === "~" ? 2 : 3));
      const lineStart = /^\s*$/.test(para.slice(para.lastIndexOf("\n", i - 1) + 1, i));
      const canClose = !/\s/.test(before);
      const canOpen = after !== "" && !/\s/.test(after);
      // "* item" at a line start is a bullet, "2 * 3" is arithmetic: neither is emphasis.
      if (lineStart && c !== "~" && /\s/.test(after || " ") && n === 1) {
        i += n;
        continue;
      }
      // Underscores inside words (snake_case) never open or close emphasis.
      if (c === "_" && /\w/.test(before) && /\w/.test(after)) {
        i += n;
        continue;
      }
      if (c === "~" && n < 2) {
        i += n;
        continue;
      }
      const top = stack.length ? stack[stack.length - 1] : null;
      if (canClose && top !== null && top[0] === c) {
        // Close as much of the open run as this run covers.
        const open = top.length;
        if (run.length >= open) stack.pop();
        else stack[stack.length - 1] = top.slice(run.length);
        if (run.length > open && stack.length && stack[stack.length - 1][0] === c) stack.pop();
      } else if (canOpen) {
        stack.push(run);
      } else if (after === "" && !canClose) {
        // A bare opener at the very end ("text **"): hidden until its content arrives.
        return closeInline(para.slice(0, i).trimEnd());
      }
      i += n;
      continue;
    }
    i++;
  }
  let out = para;
  if (code) {
    // An empty open code span ("`" at the end) shows nothing until its content arrives.
    if (/`+$/.test(out)) return closeInline(out.replace(/`+$/, "").trimEnd());
    out += "`".repeat(code);
  }
  if (!stack.length) return out;
  out = out.replace(/\s+$/, "");
  // A dangling opener at the very end has no content to style: drop it instead.
  while (stack.length && out.endsWith(stack[stack.length - 1])) {
    const run = /** @type {string} */ (stack.pop());
    out = out.slice(0, -run.length).replace(/\s+$/, "");
  }
  for (let k = stack.length - 1; k >= 0; k--) out += stack[k];
  return out;
}

/**
 * The streaming tail of an answer made presentable: unfinished constructs hidden or
 * closed (see the rules at the top of this file). Text that is complete is unchanged.
 * @param {string} text
 */
export function repairStreaming(text) {
  if (!text) return text;
  const nl = text.lastIndexOf("\n");
  let lines = nl === -1 ? [] : text.slice(0, nl).split("\n");
  let partial = nl === -1 ? text : text.slice(nl + 1);
  if (insideFence(partial ? [...lines, partial] : lines)) {
    // Code streams as code; a fence opener alone ("```py") waits for its first line.
    if (FENCE.test(partial) && !insideFence(lines)) partial = "";
    return joinLines(lines, partial);
  }
  if (LIST_MARKER.test(partial) || HEADING_MARKER.test(partial)) partial = "";
  ({ lines, partial } = holdTable(lines, partial));
  // A lone list marker left on the last complete line (its item text not begun).
  if (!partial && lines.length && LIST_MARKER.test(lines[lines.length - 1]))
    lines = lines.slice(0, -1);
  const out = joinLines(lines, partial);
  if (!out.trim() || /\n\s*\n$/.test(out)) return out;
  // Inline repair applies to the last paragraph only; earlier ones are complete.
  const paraStart = Math.max(out.lastIndexOf("\n\n") + 2, 0);
  let para = out.slice(paraStart);
  // A link whose URL is still arriving: show its text for now.
  para = para.replace(/\[([^\]\n]*)\]\([^)\s]*$/, "$1");
  return out.slice(0, paraStart) + closeInline(para);
}

/** @param {string[]} lines @param {string} partial */
function joinLines(lines, partial) {
  if (!lines.length) return partial;
  return `${lines.join("\n")}\n${partial}`;
}
