"""Handouts from a transcript: Markdown and self-contained, sanitised HTML.

Everything a model or tool wrote is untrusted. The HTML page escapes all of it; the
assistant's markdown goes through `powawidget.outputs.markdown`, which escapes first and then emits
only a fixed set of tags (p, headings, lists, tables, blockquote, pre/code, strong, em,
del, a with an http(s)/mailto href). The page has inline CSS, no scripts, no external
resources and a Content-Security-Policy that forbids scripts anyway. Tool calls become
`<details>`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from html import escape
from typing import TYPE_CHECKING, Any

from powawidget.model.conversation import Approval, Conversation, ToolCall, Turn
from powawidget.model.turns import Delegation
from powawidget.model.view import history_group, history_note
from powawidget.outputs.markdown import render_markdown
from powawidget.wire.canonical import CanonicalEvent

if TYPE_CHECKING:
    from powawidget.outputs.transcript import Transcript

#: Tool results longer than this are cut in handouts (the transcript keeps them whole).
MAX_RESULT_CHARS = 20_000

_STATE_LABEL = {
    "pending": "waiting for approval",
    "running": "running",
    "done": "done",
    "denied": "not run",
}
_STATUS_LABEL = {
    "completed": "completed",
    "failed": "failed",
    "stopped": "stopped by the user",
    "streaming": "unfinished",
    "waiting_approval": "waiting for approval",
}


def _conversation(source: Transcript | Conversation | Iterable[CanonicalEvent]) -> Conversation:
    """The conversation of a Transcript, a Conversation, or a list of canonical events."""
    if isinstance(source, Conversation):
        return source
    inner = getattr(source, "conversation", None)
    if isinstance(inner, Conversation):
        return inner
    return Conversation(source)


def _pretty(value: Any) -> str:
    """Arguments or a result for reading: JSON pretty-printed, other text as it is."""
    if isinstance(value, str):
        stripped = value.strip()
        if stripped[:1] in ("{", "["):
            try:
                value = json.loads(stripped)
            except ValueError:
                return value
        else:
            return value
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def _cut(text: str, limit: int) -> str:
    """Text cut to `limit` characters with a note of how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n… ({len(text) - limit:,} more characters)"


def _duration(ms: float | None) -> str:
    """A duration for people: 12 ms, 1.25 s."""
    if ms is None:
        return ""
    return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.2f} s"


def _usage_line(usage: dict | None) -> str:
    """'12 prompt · 30 completion · 42 total tokens', or '' without usage."""
    if not isinstance(usage, dict):
        return ""
    parts = [
        f"{usage[key]:,} {label}"
        for key, label in (
            ("prompt_tokens", "prompt"),
            ("completion_tokens", "completion"),
            ("total_tokens", "total"),
        )
        if isinstance(usage.get(key), int)
    ]
    return " · ".join(parts) + " tokens" if parts else ""


def _count_turns(conv: Conversation) -> str:
    """'1 turn', '3 turns'."""
    return f"{len(conv.turns)} turn" + ("" if len(conv.turns) == 1 else "s")


def _tool_summary(call: Any) -> str:
    """'done · 12 ms' (the tool's own time), '… · waited 36 s for approval', or
    'error: …' for a tool call."""
    label = _STATE_LABEL.get(call.state) or (f"error: {call.error}" if call.error else "error")
    wait = call.approval_wait_ms
    waited = f"waited {_duration(wait)} for approval" if wait is not None else ""
    return " · ".join(part for part in (label, _duration(call.duration_ms), waited) if part)


def _verdict(approval: Approval, waiting: str) -> str:
    """How an approval ended, in words."""
    if approval.outcome == "timed_out":
        return "timed out"
    return {True: "approved", False: "denied", None: waiting}[approval.approved]


def _in_order(turn: Turn) -> list[tuple[ToolCall | None, Approval | None]]:
    """The turn's tool calls, each followed by the approval that gated it (time order:
    asked, then approved and run, or denied); an approval without a call comes last."""
    out: list[tuple[ToolCall | None, Approval | None]] = []
    for call in turn.tool_calls:
        out.append((call, None))
        if call.approval is not None:
            out.append((None, call.approval))
    gated = {id(call.approval) for call in turn.tool_calls}
    out += [(None, a) for a in turn.approvals if id(a) not in gated]
    return out


# ---------------------------------------------------------------- Markdown


def _fence(text: str, info: str = "", indent: str = "") -> str:
    """A fenced code block longer than any backtick run inside the text."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    body = "\n".join(indent + line for line in text.split("\n"))
    return f"{indent}{fence}{info}\n{body}\n{indent}{fence}"


def _code_span(text: str) -> str:
    """Inline code that survives backticks and line breaks in the text."""
    text = " ".join(text.split("\n"))
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _md_safe(text: str) -> str:
    """Markdown text with raw HTML neutralised (`<` escaped outside code), so no renderer
    that allows HTML turns model output into markup."""
    out, in_fence = [], ""
    for line in text.split("\n"):
        marker = re.match(r"\s{0,3}(`{3,}|~{3,})", line)
        if in_fence:
            if (
                marker
                and marker.group(1)[0] == in_fence[0]
                and len(marker.group(1)) >= len(in_fence)
            ):
                in_fence = ""
            out.append(line)
            continue
        if marker:
            in_fence = marker.group(1)
            out.append(line)
            continue
        parts = re.split(r"(`+[^`]*`+)", line)
        out.append("".join(p if p.startswith("`") else p.replace("<", "&lt;") for p in parts))
    return "\n".join(out)


def to_markdown(
    source: Transcript | Conversation | Iterable[CanonicalEvent],
    *,
    title: str = "Conversation",
    max_result_chars: int = MAX_RESULT_CHARS,
) -> str:
    """A Markdown handout: each turn's question, tool calls (nested lists with fenced JSON),
    reasoning, answer, errors and token usage."""
    conv = _conversation(source)
    lines = [f"# {_md_safe(title)}", ""]
    total = _usage_line(conv.usage_total) if any(t.usage for t in conv.turns) else ""
    lines += [f"_{_count_turns(conv)}" + (f" · {total}_" if total else "_"), ""]
    session = 0
    for turn in conv.turns:
        if turn.session_index != session:
            session = turn.session_index
            lines += ["---", "", "_New session_", ""]
        note = _history_note(conv, turn)
        lines += _markdown_turn(turn, max_result_chars, f"_{note}_" if note else "")
    return "\n".join(lines).rstrip() + "\n"


def _history_note(conv: Conversation, turn: Turn) -> str:
    """The history note that introduces `turn` (the first of a run of turns loaded from
    session history, as the panel places it), else ""."""
    if not turn.from_history:
        return ""
    previous = conv.turns[turn.index - 1] if turn.index else None
    if (
        previous is not None
        and previous.from_history
        and previous.session_index == turn.session_index
    ):
        return ""
    return history_note(history_group(conv, turn.index))


def context_summary(turn: Turn) -> str | None:
    """One line naming what the turn's message sent as context (from its records: kind,
    name and size; the content is never in a transcript), or None when it sent none."""
    parts = []
    for record in turn.context or []:
        if not isinstance(record, dict):
            continue
        facts = []
        if isinstance(record.get("rows"), int) and isinstance(record.get("columns"), int):
            facts.append(f"{record['rows']:,} rows × {record['columns']:,} columns")
        if isinstance(record.get("width"), int) and isinstance(record.get("height"), int):
            facts.append(f"{record['width']}×{record['height']} px")
        if isinstance(record.get("size"), int):
            facts.append(f"{record['size']:,} bytes")
        label = f"{record.get('kind') or 'item'} {record.get('name') or ''}".strip()
        parts.append(f"{label} ({', '.join(facts)})" if facts else label)
    return "Context sent: " + "; ".join(parts) if parts else None


def _markdown_turn(turn: Turn, limit: int, note: str = "") -> list[str]:
    """The Markdown lines of one turn (under `note`, a history note, if given)."""
    lines = [f"## Turn {turn.index + 1}", ""]
    if note:
        lines += [note, ""]
    if turn.user_text is not None:
        quoted = "\n".join("> " + line for line in _md_safe(turn.user_text).split("\n"))
        lines += ["**You:**", "", quoted, ""]
    sent = context_summary(turn)
    if sent:
        lines += [f"*{_md_safe(sent)}*", ""]
    if turn.reasoning:
        lines += [
            "<details><summary>Thinking</summary>",
            "",
            _fence(turn.reasoning),
            "",
            "</details>",
            "",
        ]
    for call, approval in _in_order(turn):
        if call is not None:
            name = _code_span(call.tool_name or "tool")
            lines.append(f"- Tool call {name} — {_md_safe(_tool_summary(call))}")
            if call.arguments is not None:
                lines += ["  - Arguments:", "", _fence(_pretty(call.arguments), "json", "    "), ""]
            if call.result is not None:
                result = _cut(_pretty(call.result), limit)
                lines += ["  - Result:", "", _fence(result, "", "    "), ""]
            delegation = _delegation_of(turn, call)
            if delegation is not None:
                lines += _markdown_delegation(delegation, limit)
            continue
        assert approval is not None
        verdict = _verdict(approval, "waiting")
        name = _code_span(approval.tool_name or "tool")
        message = f" “{_md_safe(approval.message)}”" if approval.message else ""
        reason = f" ({_md_safe(approval.reason)})" if approval.reason else ""
        lines += [f"- Approval for {name}{message}: **{verdict}**{reason}", ""]
    if turn.tool_calls and lines[-1] != "":
        lines.append("")
    if turn.text:
        lines += ["**Assistant:**", "", _md_safe(turn.text), ""]
    if turn.error_message or turn.status in ("failed", "stopped"):
        code = f" ({_code_span(turn.error_code)})" if turn.error_code else ""
        message = _md_safe(turn.error_message or _STATUS_LABEL.get(turn.status, turn.status))
        lines += [
            f"> **{_STATUS_LABEL.get(turn.status, turn.status).capitalize()}**{code}: {message}",
            "",
        ]
    usage = _usage_line(turn.usage)
    if usage:
        lines += [f"_Tokens: {usage}_", ""]
    return lines


def _delegation_of(run: Turn, call: ToolCall) -> Delegation | None:
    """The delegation an orchestrator's `delegate_to_…` call answers, if any."""
    return next((d for d in run.delegations if d.call is call), None)


def _delegation_summary(delegation: Delegation) -> str:
    """'completed · 2 steps · 301 tokens · 660 ms' for a delegation's line."""
    child = delegation.run
    tokens = _usage_line(child.usage)
    took = _duration(delegation.duration_ms)
    steps = f"{child.step_count} step" + ("" if child.step_count == 1 else "s")
    return " · ".join(part for part in (delegation.status, steps, tokens, took) if part)


def _markdown_delegation(delegation: Delegation, limit: int) -> list[str]:
    """A sub-agent's run under the delegate call: its tool calls, answer or error."""
    child = delegation.run
    agent = _code_span(delegation.agent or "agent")
    lines = [f"  - Delegated to {agent} — {_md_safe(_delegation_summary(delegation))}", ""]
    for call in child.tool_calls:
        name = _code_span(call.tool_name or "tool")
        lines.append(f"    - Tool call {name} — {_md_safe(_tool_summary(call))}")
    if child.tool_calls:
        lines.append("")
    if child.text:
        lines += ["    " + line for line in _md_safe(_cut(child.text, limit)).split("\n")]
        lines.append("")
    if child.error_message:
        lines += [f"    > **Failed**: {_md_safe(child.error_message)}", ""]
    return lines


# ---------------------------------------------------------------- HTML

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
    conv = _conversation(source)
    total = _usage_line(conv.usage_total) if any(t.usage for t in conv.turns) else ""
    meta = _count_turns(conv) + (f" · {total}" if total else "")
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
        parts.append(_html_turn(turn, max_result_chars, _history_note(conv, turn)))
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
    for call, approval in _in_order(turn):
        if call is not None:
            out.append(_html_tool(call, limit))
            delegation = _delegation_of(turn, call)
            if delegation is not None:
                out.append(_html_delegation(delegation, limit))
            continue
        assert approval is not None
        verdict = _verdict(approval, "waiting for approval")
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
        label = _STATUS_LABEL.get(turn.status, turn.status).capitalize()
        code = f" <code>{escape(turn.error_code)}</code>" if turn.error_code else ""
        message = escape(turn.error_message or "")
        heading = f"<strong>{escape(label)}</strong>{code}"
        out.append(f'<div class="error" role="alert">{heading} {message}</div>')
    usage = _usage_line(turn.usage)
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
        body.append(f'<div class="body">{render_markdown(_cut(child.text, limit))}</div>')
    if child.error_message:
        body.append(f'<div class="error" role="alert">{escape(child.error_message)}</div>')
    return (
        f'<details class="tool delegation state-{escape(delegation.status)}"><summary>Agent '
        f"<code>{escape(delegation.agent or 'agent')}</code> "
        f'<span class="state">{escape(_delegation_summary(delegation))}</span></summary>'
        f"{''.join(body)}</details>"
    )


def _html_tool(call: Any, limit: int) -> str:
    """A tool call as a <details> card: name, state and duration; arguments and result."""
    body = []
    if call.arguments is not None:
        body.append(
            f'<div class="label">Arguments</div><pre>{_text(_pretty(call.arguments))}</pre>'
        )
    if call.result is not None:
        result = _cut(_pretty(call.result), limit)
        body.append(f'<div class="label">Result</div><pre>{_text(result)}</pre>')
    return (
        f'<details class="tool state-{escape(call.state)}"><summary>Tool '
        f"<code>{escape(call.tool_name or 'tool')}</code> "
        f'<span class="state">{escape(_tool_summary(call))}</span></summary>'
        f"{''.join(body)}</details>"
    )
