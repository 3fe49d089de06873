"""Safe Markdown to HTML: model-written markdown rendered without ever emitting its markup.

The text is escaped first; only a fixed set of tags is then added (p, headings, lists,
tables, blockquote, pre/code, strong, em, del, a with an http(s)/mailto href), so no
input can inject a script, an event-handler attribute or a `javascript:` link. Blockquote
nesting is capped. Used by the HTML handout (`powawidget.outputs.export`).
"""

from __future__ import annotations

import re
from html import escape

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*([\w+#.-]*)")
_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_ITEM = re.compile(r"^\s*([-*+]|\d{1,9}[.)])\s+(.*)$")
_RULE = re.compile(r"^ {0,3}([-*_])(\s*\1){2,}\s*$")
_TABLE_SEP = re.compile(r"^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")
_INLINE = re.compile(
    r"(`+)([^`]+)\1(?!`)|\[([^\]\n]+)\]\(\s*<?((?:[^()\s>]|\([^()\s]*\))*)>?(?:\s+\"[^\"]*\")?\s*\)"
)
_SAFE_SCHEME = re.compile(r"^(https?:|mailto:)", re.IGNORECASE)
_MAX_QUOTE_DEPTH = 4
_EMPHASIS = [
    (re.compile(r"\*\*([^*\s](?:[^*]*[^*\s])?)\*\*"), "strong"),
    (re.compile(r"__([^_\s](?:[^_]*[^_\s])?)__"), "strong"),
    (re.compile(r"(?<![\w*])\*([^*\s](?:[^*]*[^*\s])?)\*(?![\w*])"), "em"),
    (re.compile(r"(?<![\w_])_([^_\s](?:[^_]*[^_\s])?)_(?![\w_])"), "em"),
    (re.compile(r"~~([^~\s](?:[^~]*[^~\s])?)~~"), "del"),
]


def render_markdown(text: str, _depth: int = 0) -> str:
    """Markdown to HTML that is safe by construction: the text is escaped first, then only
    whitelisted tags are added; links keep only http(s) and mailto targets."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        fence = _FENCE.match(line)
        if fence:
            marker, lang = fence.group(1), fence.group(2)
            body = []
            i += 1
            while i < len(lines) and not re.match(
                rf"^ {{0,3}}{re.escape(marker[0])}{{{len(marker)},}}\s*$", lines[i]
            ):
                body.append(lines[i])
                i += 1
            cls = f' class="language-{escape(lang)}"' if lang else ""
            out.append(f"<pre><code{cls}>{escape(chr(10).join(body))}</code></pre>")
            i += 1
            continue
        if not line.strip():
            i += 1
            continue
        heading = _HEADING.match(line)
        if heading:
            level = min(6, len(heading.group(1)) + 1)
            out.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
            i += 1
            continue
        if _RULE.match(line):
            out.append("<hr>")
            i += 1
            continue
        if (
            "|" in line
            and i + 1 < len(lines)
            and _TABLE_SEP.match(lines[i + 1])
            and "-" in lines[i + 1]
        ):
            i = _table(lines, i, out)
            continue
        if _ITEM.match(line):
            ordered = _ITEM.match(line).group(1)[0].isdigit()  # type: ignore[union-attr]
            items = []
            while (
                i < len(lines)
                and (m := _ITEM.match(lines[i]))
                and m.group(1)[0].isdigit() == ordered
            ):
                items.append(f"<li>{_inline(m.group(2))}</li>")
                i += 1
            tag = "ol" if ordered else "ul"
            out.append(f"<{tag}>{''.join(items)}</{tag}>")
            continue
        if line.lstrip().startswith(">") and _depth < _MAX_QUOTE_DEPTH:
            quoted = []
            while i < len(lines) and lines[i].lstrip().startswith(">"):
                quoted.append(re.sub(r"^\s*>\s?", "", lines[i]))
                i += 1
            inner = render_markdown("\n".join(quoted), _depth + 1)
            out.append(f"<blockquote>{inner}</blockquote>")
            continue
        para = []
        while i < len(lines) and lines[i].strip() and not _starts_block(lines[i]):
            para.append(_inline(lines[i].strip()))
            i += 1
        if not para:  # a line that looked like a block start but was not one
            para.append(_inline(lines[i].strip()))
            i += 1
        out.append(f"<p>{'<br>'.join(para)}</p>")
    return "\n".join(out)


def _starts_block(line: str) -> bool:
    """Whether a line begins a block other than a paragraph."""
    return bool(
        _FENCE.match(line)
        or _HEADING.match(line)
        or _ITEM.match(line)
        or _RULE.match(line)
        or line.lstrip().startswith(">")
    )


def _table(lines: list[str], i: int, out: list[str]) -> int:
    """A GFM pipe table starting at line i; returns the index after it."""

    def cells(row: str) -> list[str]:
        row = row.strip().removeprefix("|").removesuffix("|")
        return [cell.strip() for cell in row.split("|")]

    head = "".join(f"<th>{_inline(c)}</th>" for c in cells(lines[i]))
    rows = []
    i += 2
    while i < len(lines) and "|" in lines[i] and lines[i].strip():
        rows.append("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in cells(lines[i])) + "</tr>")
        i += 1
    out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")
    return i


def _inline(text: str) -> str:
    """Inline markdown (code, links, bold, italic, strikethrough, bare URLs), escaped."""
    out, pos = [], 0
    for match in _INLINE.finditer(text):
        out.append(_emphasis(escape(text[pos : match.start()])))
        if match.group(1):
            out.append(f"<code>{escape(match.group(2).strip())}</code>")
        else:
            out.append(_link(match.group(3), match.group(4)))
        pos = match.end()
    out.append(_emphasis(escape(text[pos:])))
    return "".join(out)


def _link(label: str, url: str) -> str:
    """A link when its target is http(s)/mailto; otherwise just its label as text."""
    target = re.sub(r"[\x00-\x20\x7f]", "", url)
    if not _SAFE_SCHEME.match(target):
        return _emphasis(escape(label))
    attributes = f'href="{escape(target)}" rel="noopener noreferrer nofollow"'
    return f"<a {attributes}>{_emphasis(escape(label))}</a>"


def _emphasis(escaped: str) -> str:
    """Bold, italic, strikethrough and bare http(s) URLs in already-escaped text.

    A span never contains its own delimiter, which keeps every pattern linear in time.
    """
    for pattern, tag in _EMPHASIS:
        escaped = pattern.sub(rf"<{tag}>\1</{tag}>", escaped)
    return re.sub(
        r"(?<![\"=/\w])(https?://[^\s<]+[^\s<.,;:!?)'\]])",
        r'<a href="\1" rel="noopener noreferrer nofollow">\1</a>',
        escaped,
    )
