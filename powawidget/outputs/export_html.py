"""The HTML handout of a conversation (`export.to_html`): self-contained and sanitised.

Every model and tool text is escaped; the assistant's markdown goes through
`powawidget.outputs.markdown` (a fixed set of tags). Inline CSS scoped to the transcript,
no scripts, no external resources, and a Content-Security-Policy that forbids scripts.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import TYPE_CHECKING, Any

from powawidget.model.conversation import Conversation, Turn
from powawidget.model.turns import Delegation
from powawidget.outputs.handout import (
    MAX_RESULT_CHARS,
    STATUS_LABEL,
    approval_verdict,
    context_summary,
    conversation_of,
    count_turns,
    cut,
    delegation_of,
    delegation_summary,
    in_order,
    pretty,
    tool_summary,
    turn_history_note,
    usage_line,
)
from powawidget.outputs.markdown import render_markdown
from powawidget.wire.canonical import CanonicalEvent

if TYPE_CHECKING:
    from powawidget.outputs.transcript import Transcript

# Scoped to the transcript (it also sits inside notebook outputs). Its own palette, never a
# host's variables (JupyterLab's --jp-brand-color3 and --jp-error-color3 stay light in its
# dark theme: white on light blue). Light or dark by the reader's system (GitHub, nbviewer,
# a page on its own), overridden by the host's theme where it says one: JupyterLab's
# `data-jp-theme-light` on <body>, VS Code's `vscode-light`/`vscode-dark` body classes.
# The copy paints its own background, so its text reads on any page.
_LIGHT = (
    "--bg:#ffffff;--fg:#1f2328;--muted:#59636e;--card:#f6f8fa;--line:#d1d9e0;"
    "--user:#ddf4ff;--err:#ffebe9;--errline:#cf222e;--accent:#0969da;color-scheme:light"
)
_DARK = (
    "--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--card:#1b222c;--line:#3d444d;"
    "--user:#132b48;--err:#3a1d22;--errline:#f85149;--accent:#58a6ff;color-scheme:dark"
)
_T = ".powawidget-transcript"
# The rules' scope: the ID in :not() outweighs JupyterLab's output rules (which reach
# 0,2,1: `.jp-ThemedContainer .jp-RenderedHTMLCommon pre`) wherever the copy sits.
_SCOPE = ".powawidget-transcript:not(#pw-none)"
_CSS = (
    f"{_T}{{{_LIGHT}}}"
    f"@media (prefers-color-scheme:dark){{{_T}{{{_DARK}}}}}"
    f"body[data-jp-theme-light=true] {_T},body.vscode-light {_T}{{{_LIGHT}}}"
    f"body[data-jp-theme-light=false] {_T},body.vscode-dark {_T}{{{_DARK}}}"
    f"{_T}{{color:var(--fg);background:var(--bg);border-radius:8px;padding:12px 16px;"
    "max-width:860px;margin:0 auto;box-sizing:border-box;"
    "font:15px/1.55 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}"
    + """
$ h1{font-size:1.5em;margin:0 0 4px;color:inherit}
$ :is(h2,h3,h4,h5,h6,strong,em){color:inherit}
$ .meta,$ .usage,$ .note{
color:var(--muted);font-size:.85em}
$ .turn{border-top:1px solid var(--line);padding:12px 0}
$ .who{font-weight:600;font-size:.8em;color:var(--muted);
text-transform:uppercase;margin:8px 0 2px}
$ .user .body{background:var(--user);color:var(--fg);border-radius:8px;
padding:8px 12px;white-space:pre-wrap}
$ .body{overflow-wrap:anywhere}
$ pre{background:var(--card);color:var(--fg);border:1px solid var(--line);
border-radius:6px;padding:8px 10px;margin:6px 0;overflow:auto;max-height:32em;
white-space:pre-wrap;overflow-wrap:anywhere;font-size:.85em}
$ code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
$ :not(pre)>code{background:var(--card);color:var(--fg);border-radius:4px;
padding:0 3px}
$ pre code{background:none;color:inherit;padding:0;font-size:inherit}
$ details{border:1px solid var(--line);border-radius:6px;margin:6px 0;
padding:4px 10px;background:var(--card)}
$ details pre{background:var(--bg)}
$ summary{cursor:pointer}
$ .state{font-size:.8em;border:1px solid var(--line);border-radius:10px;
padding:0 6px}
$ .state-error .state{border-color:var(--errline)}
$ .error{background:var(--err);color:var(--fg);
border:1px solid var(--errline);border-radius:6px;padding:8px 12px;margin:8px 0}
$ .label{font-size:.8em;color:var(--muted);margin-top:6px}
$ .body table{border-collapse:collapse;margin:8px 0;color:var(--fg);
font-size:.9em;table-layout:auto}
$ .body table :is(td,th){border:1px solid var(--line);padding:3px 8px;
text-align:left;vertical-align:top;white-space:normal}
$ .body table th{background:var(--card)}
$ .body table tbody tr:nth-child(n){background:transparent}
$ a{color:var(--accent)}
$ hr.session{border:0;border-top:3px double var(--line);margin:24px 0 4px}
$ blockquote{margin:0;padding-left:12px;border-left:3px solid var(--line);
color:var(--muted);background:none}
""".replace("$", _SCOPE)
)
_PAGE_CSS = (
    ":root{color-scheme:light dark}body{margin:0;padding:24px 16px 48px;background:#fff}"
    "@media (prefers-color-scheme:dark){body{background:#0d1117}}"
)
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def to_html(
    source: Transcript | Conversation | Iterable[CanonicalEvent],
    *,
    title: str = "Conversation",
    max_result_chars: int = MAX_RESULT_CHARS,
    full_page: bool = True,
) -> str:
    """Self-contained HTML of the conversation: inline CSS, no scripts, every model and tool
    text escaped (assistant markdown through a whitelist renderer), tool calls and reasoning
    as `<details>`. `full_page=False` gives just the `<main>` element (with its scoped
    `<style>`), for embedding in a notebook output."""
    conv = conversation_of(source)
    total = usage_line(conv.usage_total) if any(t.usage for t in conv.turns) else ""
    meta = count_turns(conv) + (f" · {total}" if total else "")
    parts = [
        f'<main class="powawidget-transcript"><style>{_CSS}</style>',
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta">{escape(meta)}</p>',
    ]
    session = 0
    for turn in conv.turns:
        if turn.session_index != session:
            session = turn.session_index
            parts.append('<hr class="session"><p class="note">New session</p>')
        parts.append(_html_turn(turn, max_result_chars, turn_history_note(conv, turn)))
    parts.append("</main>")
    main = "\n".join(parts)
    if not full_page:
        return main
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
        f"<title>{escape(title)}</title><style>{_PAGE_CSS}</style></head>\n"
        f"<body>\n{main}\n</body></html>\n"
    )


def _text(value: str) -> str:
    """`value` escaped for element content: `<`, `>` and `&` only. Quotes need no escape
    outside attributes, and JSON is full of them (`&quot;` made copies ~10% heavier)."""
    return escape(value, quote=False)


def _html_turn(turn: Turn, limit: int, note: str = "") -> str:
    """The <section> of one turn (under `note`, a history note, if given)."""
    out = [f'<section class="turn" id="turn-{turn.index + 1}">']
    if note:
        out.append(f'<p class="note">{escape(note)}</p>')
    if turn.user_text is not None:
        out.append(
            f'<div class="msg user"><div class="who">You</div>'
            f'<div class="body">{_text(turn.user_text)}</div></div>'
        )
    sent = context_summary(turn)
    if sent:
        out.append(f'<p class="note">{escape(sent)}</p>')
    if turn.reasoning:
        out.append(
            '<details class="reasoning"><summary>Thinking</summary>'
            f"<pre>{_text(turn.reasoning)}</pre></details>"
        )
    for call, approval in in_order(turn):
        if call is not None:
            out.append(_html_tool(call, limit))
            delegation = delegation_of(turn, call)
            if delegation is not None:
                out.append(_html_delegation(delegation, limit))
            continue
        assert approval is not None
        verdict = approval_verdict(approval, "waiting for approval")
        reason = f" ({approval.reason})" if approval.reason else ""
        message = f": {approval.message}" if approval.message else ""
        text = f"Approval for {approval.tool_name or 'tool'}{message} — {verdict}{reason}"
        out.append(f'<p class="note approval">{escape(text)}</p>')
    if turn.text:
        out.append(
            '<div class="msg assistant"><div class="who">Assistant</div>'
            f'<div class="body">{render_markdown(turn.text)}</div></div>'
        )
    if turn.error_message or turn.status in ("failed", "stopped"):
        label = STATUS_LABEL.get(turn.status, turn.status).capitalize()
        code = f" <code>{escape(turn.error_code)}</code>" if turn.error_code else ""
        message = escape(turn.error_message or "")
        heading = f"<strong>{escape(label)}</strong>{code}"
        out.append(f'<div class="error" role="alert">{heading} {message}</div>')
    usage = usage_line(turn.usage)
    if usage:
        out.append(f'<p class="usage">{escape(usage)}</p>')
    out.append("</section>")
    return "\n".join(out)


def _html_delegation(delegation: Delegation, limit: int) -> str:
    """A sub-agent's run as a <details> card: its tool calls, its answer or its error."""
    child = delegation.run
    body = [f'<p class="note">Task: {escape(delegation.task or "")}</p>']
    body += [_html_tool(call, limit) for call in child.tool_calls]
    if child.text:
        body.append(f'<div class="body">{render_markdown(cut(child.text, limit))}</div>')
    if child.error_message:
        body.append(f'<div class="error" role="alert">{escape(child.error_message)}</div>')
    return (
        f'<details class="tool delegation state-{escape(delegation.status)}"><summary>Agent '
        f"<code>{escape(delegation.agent or 'agent')}</code> "
        f'<span class="state">{escape(delegation_summary(delegation))}</span></summary>'
        f"{''.join(body)}</details>"
    )


def _html_tool(call: Any, limit: int) -> str:
    """A tool call as a <details> card: name, state and duration; arguments and result."""
    body = []
    if call.arguments is not None:
        body.append(f'<div class="label">Arguments</div><pre>{_text(pretty(call.arguments))}</pre>')
    if call.result is not None:
        result = cut(pretty(call.result), limit)
        body.append(f'<div class="label">Result</div><pre>{_text(result)}</pre>')
    return (
        f'<details class="tool state-{escape(call.state)}"><summary>Tool '
        f"<code>{escape(call.tool_name or 'tool')}</code> "
        f'<span class="state">{escape(tool_summary(call))}</span></summary>'
        f"{''.join(body)}</details>"
    )
