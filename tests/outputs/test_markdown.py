"""The safe markdown renderer (markdown-it-py + nh3): model text becomes sanitised HTML, fast."""

from __future__ import annotations

import time

import pytest

from powawidget.outputs.markdown import render_markdown

LINK = 'target="_blank" rel="noopener noreferrer"'


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("a *b* _c_ ~~d~~", "<p>a <em>b</em> <em>c</em> <del>d</del></p>"),
        ("`<e>` **f**", "<p><code>&lt;e&gt;</code> <strong>f</strong></p>"),
        ("[w](https://x.org/A_(b))", f'<p><a href="https://x.org/A_(b)" {LINK}>w</a></p>'),
        ("[x](javascript:alert(1))", f"<p><a {LINK}>x</a></p>"),
        ("[x](&#106;avascript:1)", f"<p><a {LINK}>x</a></p>"),
        ("[x](./relative)", '<p><a rel="noopener noreferrer" target="_blank">x</a></p>'),
        ("see https://x.org/?b=1&c=2.", f'<p>see <a href="https://x.org/?b=1&amp;c=2" {LINK}>'
         "https://x.org/?b=1&amp;c=2</a>.</p>"),
        ("1. one\n2. two", "<ol>\n<li>one</li>\n<li>two</li>\n</ol>"),
        ("## Head <i>x</i>", "<h2>Head <i>x</i></h2>"),
        ("line one\nline two", "<p>line one\nline two</p>"),
        ("<b onclick=alert(1) style=color:red>b</b>", "<p><b>b</b></p>"),
        ("<script>alert(1)</script>", ""),
        ("```python\nx = 1\n```", '<pre><code class="language-python">x = 1\n</code></pre>'),
        ('```js" onload="x\n<b>\n```', "<pre><code>&lt;b&gt;\n</code></pre>"),
        ("![cat](http://x.org/c.png)", '<p><a class="pw-image-link" href="http://x.org/c.png" '
         f'title="Open image: http://x.org/c.png" {LINK}>🖼 cat</a></p>'),
        ('<img src="https://x.org/t.png" alt="t" onload="x()">', '<a class="pw-image-link" '
         f'href="https://x.org/t.png" title="Open image: https://x.org/t.png" {LINK}>🖼 t</a>'),
    ],
)  # fmt: skip
def test_safe_markdown_renderer(source: str, expected: str) -> None:
    """The panel's rules: safe HTML kept, links to http(s)/mailto only, remote images as links."""
    assert render_markdown(source).strip() == expected


def test_a_table_renders_with_header_and_body() -> None:
    html = render_markdown("| a | b |\n|---|:-:|\n| <i>x</i> | 2 |")
    assert "<thead>" in html and "<th>a</th>" in html and "<td><i>x</i></td>" in html


@pytest.mark.parametrize(
    "hostile",
    [
        "*a " * 20_000,
        "_a " * 20_000,
        "**a " * 15_000,
        "~~a " * 15_000,
        "`a` " * 10_000 + "`" * 9_000,
    ],
    ids=["stars", "underscores", "bold", "tildes", "backticks"],
)
def test_markdown_rendering_stays_linear_on_pathological_text(hostile: str) -> None:
    started = time.perf_counter()
    html = render_markdown(hostile)
    assert html.startswith("<p>")
    assert time.perf_counter() - started < 3.0  # a quadratic pattern takes ~40 s here


def test_deeply_nested_quotes_do_not_exhaust_the_stack() -> None:
    html = render_markdown(">" * 5_000 + " deep")
    assert 1 <= html.count("<blockquote>") <= 20  # markdown-it's nesting limit
    assert "deep" in html  # past it, the rest is kept as text


def test_text_past_the_nesting_limit_is_kept_as_escaped_text() -> None:
    # Issue 15: 30 nested blockquotes or a list nested 40 deep lost their text.
    quotes = "\n".join("> " * depth + f"quote {depth} <b>&" for depth in range(1, 31))
    html = render_markdown(quotes)
    assert all(f"quote {depth} <b>&amp;" in html for depth in range(1, 8))  # as Markdown
    assert all(f"quote {depth} &lt;b&gt;&amp;" in html for depth in range(20, 31))  # as text
    items = "\n".join("  " * depth + f"- item {depth} <script>x</script>" for depth in range(40))
    html = render_markdown(items)
    assert all(f"item {depth} " in html for depth in range(40))
    assert "<script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
