"""One Markdown story: the panel (marked + DOMPurify, in Chromium) and the static copy and
handouts (`powawidget.outputs.markdown`: markdown-it-py + nh3) render every fixture in
`tests/fixtures/markdown/` to the same HTML, once normalised (whitespace between blocks,
attribute order, highlighting spans, classes and link-opening attributes set aside)."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from harness_bundle import bundle_module

from powawidget.outputs.markdown import render_markdown

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = sorted((ROOT / "tests" / "fixtures" / "markdown").glob("*.md"))
ENTRY = """
import { renderMarkdown } from "./src/render/markdown.js";
window.pwMarkdown = (src) => {
  const box = document.createElement("div");
  box.append(renderMarkdown(src));
  return box.innerHTML;
};
"""
VOID = {"br", "hr", "img", "wbr", "col"}
# Attributes that carry meaning for a reader; the rest (classes, data-*, target, rel,
# title, alignment) are presentation that each side may set its own way.
KEPT = {"href", "src", "alt", "start", "colspan", "rowspan", "open"}


class _Normaliser(HTMLParser):
    """HTML as a flat list of tags (meaningful attributes only) and whitespace-collapsed text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "pre":
            self.pre += 1
        if tag == "span":  # syntax-highlighting spans (panel only)
            return
        kept = " ".join(f'{k}="{v or ""}"' for k, v in sorted(attrs) if k in KEPT)
        self.out.append(f"<{tag}{' ' + kept if kept else ''}>")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "pre":
            self.pre -= 1
        if self.pre and tag == "code" and self.out and not self.out[-1].startswith("<"):
            self.out[-1] = self.out[-1].rstrip("\n")
        if tag == "span" or tag in VOID:
            return
        self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        # Code keeps its whitespace (one trailing newline aside); prose collapses it.
        text = data if self.pre else " ".join(data.split())
        if not text or (not self.pre and not text.strip()):
            return
        if self.out and not self.out[-1].startswith("<"):
            self.out[-1] += text
        else:
            self.out.append(text)


def normalise(html: str) -> str:
    """One tag or text run a line, so a failure shows where the two sides differ."""
    parser = _Normaliser()
    parser.feed(html)
    parser.close()
    return "\n".join(parser.out)


@pytest.fixture(scope="module")
def panel_markdown(browser) -> Iterator:
    """The panel's own markdown module (js/src/render/markdown.js), bundled for a blank page."""
    bundle = bundle_module(ENTRY)
    page = browser.new_page()
    page.set_content("<!doctype html><html><body></body></html>")
    page.evaluate("() => { window.__xss = false; }")
    page.add_script_tag(content=bundle)
    try:
        yield page
    finally:
        page.close()


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.stem for f in FIXTURES])
def test_the_panel_and_the_export_render_markdown_alike(panel_markdown, fixture: Path):
    source = fixture.read_text(encoding="utf-8")
    panel = panel_markdown.evaluate("(s) => pwMarkdown(s)", source)
    python = render_markdown(source)
    assert normalise(python) == normalise(panel)
    assert not panel_markdown.evaluate("() => window.__xss")


def test_there_are_fixtures_for_each_construct():
    names = {f.stem for f in FIXTURES}
    assert {"headings", "lists", "tables", "code", "links", "images", "raw_html", "xss"} <= names


DEEP = {
    "quotes 30": "\n".join("> " * d + f"quote {d} <b>&" for d in range(1, 31)),
    "list 40": "\n".join("  " * d + f"- item {d} <script>x</script>" for d in range(40)),
    "list 200": "\n".join("  " * d + f"- item {d}" for d in range(200)),
    "quotes 5000": ">" * 5_000 + " the deepest words",
    "spaced quotes 2000": "> " * 2_000 + "spaced words",
    "list 1000": "\n".join("  " * d + f"- item {d}" for d in range(1_000)),
}


@pytest.mark.parametrize("name", list(DEEP))
def test_the_panel_keeps_all_text_past_any_nesting(panel_markdown, name: str):
    # Issue 15: past a parser's nesting limit the rest is shown as escaped text, not dropped.
    source = DEEP[name]
    text = panel_markdown.evaluate(
        "(s) => { const box = document.createElement('div'); box.innerHTML = pwMarkdown(s);"
        " return box.textContent; }",
        source,
    )
    words = [line.lstrip(" >-") for line in source.splitlines()]
    missing = [w for w in words if w.strip() and w.split(" <")[0] not in text]
    assert not missing, missing[:3]
    assert not panel_markdown.evaluate("() => window.__xss")
    python = render_markdown(source)
    assert all(w.split(" <")[0] in python for w in words if w.strip())
