"""Handouts from a transcript: Markdown and self-contained, sanitised HTML.

Everything a model or tool wrote is untrusted. The HTML page escapes all of it; the
assistant's markdown goes through `powawidget.outputs.markdown`, which escapes first and then emits
only a fixed set of tags (p, headings, lists, tables, blockquote, pre/code, strong, em,
del, a with an http(s)/mailto href). The page has inline CSS, no scripts, no external
resources and a Content-Security-Policy that forbids scripts anyway. Tool calls become
`<details>`.

The handouts' entry point: Markdown in `export_markdown`, HTML in `export_html`, what
both say in words in `handout`.
"""

from __future__ import annotations

from powawidget.outputs.export_html import to_html
from powawidget.outputs.export_markdown import to_markdown
from powawidget.outputs.handout import MAX_RESULT_CHARS, context_summary

__all__ = ["MAX_RESULT_CHARS", "context_summary", "to_html", "to_markdown"]
