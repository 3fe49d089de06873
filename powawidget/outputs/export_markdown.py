"""The Markdown handout of a conversation (`export.to_markdown`).

Model and tool text stays text: raw HTML is neutralised outside code, and code is fenced
longer than any backtick run inside it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

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
from powawidget.wire.canonical import CanonicalEvent

if TYPE_CHECKING:
    from powawidget.outputs.transcript import Transcript


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
    conv = conversation_of(source)
    lines = [f"# {_md_safe(title)}", ""]
    total = usage_line(conv.usage_total) if any(t.usage for t in conv.turns) else ""
    lines += [f"_{count_turns(conv)}" + (f" · {total}_" if total else "_"), ""]
    session = 0
    for turn in conv.turns:
        if turn.session_index != session:
            session = turn.session_index
            lines += ["---", "", "_New session_", ""]
        note = turn_history_note(conv, turn)
        lines += _markdown_turn(turn, max_result_chars, f"_{note}_" if note else "")
    return "\n".join(lines).rstrip() + "\n"


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
    for call, approval in in_order(turn):
        if call is not None:
            name = _code_span(call.tool_name or "tool")
            lines.append(f"- Tool call {name} — {_md_safe(tool_summary(call))}")
            if call.arguments is not None:
                lines += ["  - Arguments:", "", _fence(pretty(call.arguments), "json", "    "), ""]
            if call.result is not None:
                result = cut(pretty(call.result), limit)
                lines += ["  - Result:", "", _fence(result, "", "    "), ""]
            delegation = delegation_of(turn, call)
            if delegation is not None:
                lines += _markdown_delegation(delegation, limit)
            continue
        assert approval is not None
        verdict = approval_verdict(approval, "waiting")
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
        message = _md_safe(turn.error_message or STATUS_LABEL.get(turn.status, turn.status))
        lines += [
            f"> **{STATUS_LABEL.get(turn.status, turn.status).capitalize()}**{code}: {message}",
            "",
        ]
    usage = usage_line(turn.usage)
    if usage:
        lines += [f"_Tokens: {usage}_", ""]
    return lines


def _markdown_delegation(delegation: Delegation, limit: int) -> list[str]:
    """A sub-agent's run under the delegate call: its tool calls, answer or error."""
    child = delegation.run
    agent = _code_span(delegation.agent or "agent")
    lines = [f"  - Delegated to {agent} — {_md_safe(delegation_summary(delegation))}", ""]
    for call in child.tool_calls:
        name = _code_span(call.tool_name or "tool")
        lines.append(f"    - Tool call {name} — {_md_safe(tool_summary(call))}")
    if child.tool_calls:
        lines.append("")
    if child.text:
        lines += ["    " + line for line in _md_safe(cut(child.text, limit)).split("\n")]
        lines.append("")
    if child.error_message:
        lines += [f"    > **Failed**: {_md_safe(child.error_message)}", ""]
    return lines
