// Syntax colouring for fenced code in answers: a small tokenizer per language (comments,
// strings, numbers, keywords, built-ins, literals, function/class names, JSON keys) that
// emits highlight.js's class names, so the styles stay the same. It replaces highlight.js
// (~40 KB of the bundle for five grammars): answers need colour, not a parser. Text in,
// escaped HTML out; unknown languages are not coloured.

/** @param {string} s */
function escapeHtml(s) {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** @param {string} words */
const set = (words) => new Set(words.split(" "));

/**
 * @typedef {{comment: RegExp, string: RegExp, keywords: Set<string>, builtins?: Set<string>,
 *   literals?: Set<string>, titleAfter?: Set<string>, variable?: RegExp, keys?: boolean}} Grammar
 */

const NUMBER = /0[xobXOB][\da-fA-F_]+|(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d+)?[jJn]?/;

/** @type {Record<string, Grammar>} */
const GRAMMARS = {
  python: {
    comment: /#[^\n]*/,
    string:
      /(?:[rbufRBUF]{1,2})?(?:"""[\s\S]*?(?:"""|$)|'''[\s\S]*?(?:'''|$)|"(?:\\.|[^"\\\n])*"?|'(?:\\.|[^'\\\n])*'?)/,
    keywords: set(
      "and as assert async await break class continue def del elif else except finally for from global if import in is lambda match case nonlocal not or pass raise return try while with yield",
    ),
    builtins: set(
      "print len range dict list set tuple str int float bool open sum min max sorted enumerate zip map filter isinstance type super object any all abs round repr self cls",
    ),
    literals: set("True False None"),
    titleAfter: set("def class"),
  },
  javascript: {
    comment: /\/\/[^\n]*|\/\*[\s\S]*?(?:\*\/|$)/,
    string: /"(?:\\.|[^"\\\n])*"?|'(?:\\.|[^'\\\n])*'?|`(?:\\[\s\S]|[^`\\])*`?/,
    keywords: set(
      "async await break case catch class const continue debugger default delete do else export extends finally for from function if import in instanceof let new of return static super switch this throw try typeof var void while with yield interface type enum implements",
    ),
    builtins: set(
      "console window document Math JSON Object Array String Number Promise Map Set Error fetch require module",
    ),
    literals: set("true false null undefined NaN Infinity"),
    titleAfter: set("function class"),
  },
  json: {
    comment: /(?!)/,
    string: /"(?:\\.|[^"\\\n])*"?/,
    keywords: set(""),
    literals: set("true false null"),
    keys: true,
  },
  bash: {
    comment: /(?<![^\s;|&(])#[^\n]*/,
    string: /"(?:\\.|[^"\\])*"?|'[^']*'?/,
    keywords: set(
      "if then else elif fi for while until do done case esac in function return export local set unset source alias",
    ),
    builtins: set(
      "echo cd ls cat grep sed awk curl pip python python3 npm npx node git jupyter uv conda cp mv rm mkdir sudo apt-get make docker",
    ),
    literals: set("true false"),
    variable: /\$(?:\{[^}\n]*\}?|\w+|[@*#?$!0-9])/,
  },
  sql: {
    comment: /--[^\n]*|\/\*[\s\S]*?(?:\*\/|$)/,
    string: /'(?:''|[^'])*'?|"(?:[^"])*"?/,
    keywords: set(
      "select from where and or not insert into values update set delete create table drop alter add join left right inner outer full on as group by order having limit offset distinct union all case when then else end is in like between exists primary key foreign references index view with returning asc desc",
    ),
    builtins: set("count sum avg min max coalesce cast now lower upper length round"),
    literals: set("null true false"),
  },
};

const ALIASES = {
  py: "python",
  python3: "python",
  js: "javascript",
  jsx: "javascript",
  ts: "javascript",
  typescript: "javascript",
  mjs: "javascript",
  sh: "bash",
  shell: "bash",
  console: "bash",
  zsh: "bash",
  postgresql: "sql",
  sqlite: "sql",
};

/** The grammar name for a fence's language label, or null. @param {string} lang */
export function languageOf(lang) {
  const name = (lang || "").trim().split(/\s+/)[0].toLowerCase();
  const key = ALIASES[name] || name;
  return Object.hasOwn(GRAMMARS, key) ? key : null;
}

/** @type {Map<string, RegExp>} */
const compiled = new Map();

/** One sticky alternation per grammar: comment | string | variable | number | word. */
function scanner(name) {
  let re = compiled.get(name);
  if (re) return re;
  const g = GRAMMARS[name];
  const parts = [g.comment, g.string, g.variable || /(?!)/, NUMBER, /[A-Za-z_$][\w$]*/];
  re = new RegExp(parts.map((p) => `(${p.source})`).join("|"), name === "sql" ? "giy" : "gy");
  compiled.set(name, re);
  return re;
}

/** @param {string} cls @param {string} text */
const span = (cls, text) => `<span class="hljs-${cls}">${escapeHtml(text)}</span>`;

/**
 * Colour `code` as `language` (a name from languageOf). Returns escaped HTML.
 * @param {string} code @param {string} language
 */
export function highlight(code, language) {
  const g = GRAMMARS[language];
  if (!g) return escapeHtml(code);
  const re = scanner(language);
  const ci = language === "sql";
  let out = "";
  let plain = "";
  let pos = 0;
  let title = false;
  const flush = () => {
    out += escapeHtml(plain);
    plain = "";
  };
  while (pos < code.length) {
    re.lastIndex = pos;
    const m = re.exec(code);
    if (!m || m[0] === "") {
      plain += code[pos];
      pos += 1;
      continue;
    }
    const [text, comment, string, variable, number, word] = m;
    // A match inside a word (e.g. "x1" or "a#b") is not a token of its own.
    const prev = pos > 0 ? code[pos - 1] : "";
    if ((number !== undefined || word !== undefined) && /[\w$]/.test(prev)) {
      plain += text;
      pos += text.length;
      continue;
    }
    flush();
    if (comment !== undefined) out += span("comment", text);
    else if (string !== undefined) {
      const isKey = g.keys && /^\s*:/.test(code.slice(pos + text.length));
      out += span(isKey ? "attr" : "string", text);
    } else if (variable !== undefined) out += span("variable", text);
    else if (number !== undefined) out += span("number", text);
    else {
      const w = ci ? text.toLowerCase() : text;
      if (title) out += span("title", text);
      else if (g.keywords.has(w)) out += span("keyword", text);
      else if (g.literals?.has(w)) out += span("literal", text);
      else if (g.builtins?.has(w)) out += span("built_in", text);
      else out += escapeHtml(text);
      title = Boolean(g.titleAfter?.has(w));
      pos += text.length;
      continue;
    }
    title = false;
    pos += text.length;
  }
  flush();
  return out;
}
