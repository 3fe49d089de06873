"""The safe markdown renderer: model text becomes HTML with only whitelisted tags, fast."""

from __future__ import annotations

import time

import pytest

from powawidget.outputs.markdown import render_markdown

A = 'rel="noopener noreferrer nofollow"'
TABLE = "<table><thead><tr><th>a</th><th>b</th></tr></thead><tbody><tr><td>&lt;i&gt;</td>"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("a *b* _c_ ~~d~~", "<p>a <em>b</em> <em>c</em> <del>d</del></p>"),
        ("`<e>` **f**", "<p><code>&lt;e&gt;</code> <strong>f</strong></p>"),
        ("[w](https://x.org/A_(b))", f'<p><a href="https://x.org/A_(b)" {A}>w</a></p>'),
        ("[x](javascript:alert(1))", "<p>x</p>"),
        ("[x](&#106;avascript:1)", "<p>x</p>"),
        ("[x]( java\tscript:alert(1))", "<p>[x]( java\tscript:alert(1))</p>"),
        ("see https://x.org/?b=1&c=2.", f'<p>see <a href="https://x.org/?b=1&amp;c=2" {A}>'
         "https://x.org/?b=1&amp;c=2</a>.</p>"),
        ("1. one\n2. two", "<ol><li>one</li><li>two</li></ol>"),
        ("| a | b |\n|---|:-:|\n| <i> | 2 |", f"{TABLE}<td>2</td></tr></tbody></table>"),
        ('```js" onload="x\n<b>\n```', '<pre><code class="language-js">&lt;b&gt;</code></pre>'),
        ("> quoted <b>", "<blockquote><p>quoted &lt;b&gt;</p></blockquote>"),
        ("line one\nline two", "<p>line one<br>line two</p>"),
        ("## Head <i>", "<h3>Head &lt;i&gt;</h3>"),
    ],
)  # fmt: skip
def test_safe_markdown_renderer(source: str, expected: str) -> None:
    assert render_markdown(source) == expected


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
    assert html.count("<blockquote>") == 4 and "deep" in html
