"""Safe Markdown to HTML for the static copy and the handouts — the panel's rules, in Python.

markdown-it-py parses (CommonMark with GFM tables, strikethrough and bare-URL links, as
the panel's marked does) and nh3 sanitises, with the panel's policy (`js/src/sanitize.js`):
safe raw HTML is kept and the rest dropped; links keep only http(s) and mailto targets and
open in a new tab; remote images become links, so opening a handout fetches nothing;
inline raster data images stay. `tests/outputs/test_markdown_parity.py` holds both sides
to the same output on `tests/fixtures/markdown/`.
"""

from __future__ import annotations

import re
from html import escape, unescape
from typing import Any

import nh3
from markdown_it import MarkdownIt

_SAFE_LINK = re.compile(r"^(?:https?:|mailto:)", re.IGNORECASE)
_REMOTE_IMAGE = re.compile(r"^https?:", re.IGNORECASE)
_DATA_IMAGE = re.compile(r"^data:image/(?:png|gif|jpe?g|webp);base64,", re.IGNORECASE)
_LANGUAGE_CLASS = re.compile(r"^language-[\w+#.-]+$")

# What answers may use; the panel's DOMPurify keeps these too. Forms, media, frames,
# styles and scripts never survive (script and style lose their content as well).
_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "col", "colgroup",
    "dd", "del", "details", "dfn", "div", "dl", "dt", "em", "figcaption", "figure",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark",
    "ol", "p", "pre", "q", "rp", "rt", "ruby", "s", "samp", "small", "span", "strong",
    "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "time", "tr",
    "u", "ul", "var", "wbr",
}  # fmt: skip
_ATTRIBUTES = {
    "a": {"href", "title", "class"},
    "img": {"src", "alt", "title"},
    "code": {"class"},
    "span": {"class"},
    "ol": {"start"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "abbr": {"title"},
    "details": {"open"},
}


class _PanelMarkdown(MarkdownIt):
    """markdown-it that parses every link target as written: the sanitiser judges it once,
    as in the panel, so `[x](javascript:…)` shows as the text "x", not as raw syntax."""

    def validateLink(self, url: str) -> bool:
        """Every link target is kept for the sanitiser (`_keep_attribute`) to judge."""
        return True


_parser = _PanelMarkdown("commonmark", {"html": True, "linkify": True}).enable(
    ["table", "strikethrough", "linkify"]
)


def _image(renderer: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
    """A Markdown image: inline raster data stays an image; a remote one becomes a link."""
    token = tokens[idx]
    src = str(token.attrGet("src") or "").strip()
    alt = renderer.renderInlineAsText(token.children or [], options, env)
    if _DATA_IMAGE.match(src):
        return f'<img src="{escape(src)}" alt="{escape(alt)}">'
    return _image_link(src, alt)


def _image_link(src: str, alt: str) -> str:
    """What the panel shows instead of fetching an image: a link to it (or just its name)."""
    label = f"🖼 {escape(alt or 'image')}"
    if _REMOTE_IMAGE.match(src):
        return (
            f'<a class="pw-image-link" href="{escape(src)}" title="Open image: {escape(src)}"'
            f' target="_blank" rel="noopener noreferrer">{label}</a>'
        )
    return f'<span class="pw-image-link">{label}</span>'


def _deep_rest(state: Any, start: int, end: int, silent: bool) -> bool:
    """Past markdown-it's nesting limit it skips the rest of a block silently; one level
    before that, the rest of the block is kept as escaped text instead (never dropped)."""
    if silent or state.level < state.md.options["maxNesting"] - 2:  # a list adds two levels
        return False
    token = state.push("pw_deep_text", "", 0)
    token.content = state.getLines(start, end, state.blkIndent, False)
    token.map = [start, end]
    token.block = True
    state.line = end
    return True


def _deep_text(renderer: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
    """The text past the nesting limit, as it was written, escaped, its lines kept."""
    lines = escape(tokens[idx].content.strip("\n")).split("\n")
    return "<p>" + "<br>\n".join(lines) + "</p>\n"


_parser.block.ruler.before("table", "pw_deep_text", _deep_rest)
_parser.add_render_rule("pw_deep_text", _deep_text)
_parser.add_render_rule("image", _image)
# ~~struck~~ is <del> in the panel (marked) and in earlier handouts; markdown-it says <s>.
_parser.add_render_rule("s_open", lambda *_: "<del>")
_parser.add_render_rule("s_close", lambda *_: "</del>")


def _keep_attribute(tag: str, name: str, value: str) -> str | None:
    """nh3's per-attribute check: the panel's link, image and class rules."""
    if tag == "a" and name == "href":
        return value if _SAFE_LINK.match(value.strip()) else None
    if tag == "img" and name == "src":
        src = value.strip()
        return src if _DATA_IMAGE.match(src) or _REMOTE_IMAGE.match(src) else None
    if name == "class":
        if tag == "code":
            return value if _LANGUAGE_CLASS.match(value) else None
        return value if value == "pw-image-link" else None
    return value


_RAW_IMAGE = re.compile(r"<img\b([^>]*)>")
_ATTR = re.compile(r'([\w-]+)="([^"]*)"')


def _park_raw_images(html: str) -> str:
    """Raw `<img>` tags without an inline data source become image links, as in the panel.

    Runs on nh3's output, whose attributes are always double-quoted and escaped."""

    def park(match: re.Match[str]) -> str:
        attrs = {k: unescape(v) for k, v in _ATTR.findall(match.group(1))}
        src = attrs.get("src", "")
        if _DATA_IMAGE.match(src):
            return match.group(0)
        return _image_link(src, attrs.get("alt", ""))

    return _RAW_IMAGE.sub(park, html)


def render_markdown(text: str) -> str:
    """Markdown (model output) to sanitised HTML, following the panel's rules."""
    html = _parser.render(text.replace("\r\n", "\n").replace("\r", "\n"))
    clean = nh3.clean(
        html,
        tags=_TAGS,
        clean_content_tags={"script", "style"},
        attributes=_ATTRIBUTES,
        attribute_filter=_keep_attribute,
        url_schemes={"http", "https", "mailto", "data"},
        link_rel="noopener noreferrer",
        set_tag_attribute_values={"a": {"target": "_blank"}},
        strip_comments=True,
    )
    return _park_raw_images(clean)
