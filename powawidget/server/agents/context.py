"""What the demo agents make of a client's context and response_format, offline.

A real model reads `context_override` (a string in the system prompt, or content blocks
in the user message) and answers about it; these rules do the same for what powawidget
sends: a DataFrame's shape, columns and numeric summary (the text `session.frames`
writes), an image's size (read from its PNG/JPEG bytes), any other text's length. With a
`response_format` the tools agent answers JSON shaped by the schema, filled from what it
read. Deterministic, so tests and notebook 05 can rely on the answers. The PNG/JPEG size
reader is the server's own: it stands apart from the client layers (it reads an image as a
model would, from the bytes it was sent) and may import none of them.
"""

from __future__ import annotations

import base64
import re
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

_FRAME = re.compile(
    r"^(?:pandas|polars) (DataFrame|Series) `(.+?)`: ([\d,]+) rows × ([\d,]+) columns\.", re.M
)
_COLUMNS = re.compile(r"^Columns \(dtype\): (.*)$", re.M)
_SUMMARY = re.compile(r"^- (.+?): min (\S+), mean (\S+), max ([^,\s]+)", re.M)
_CAPTION = re.compile(r"^Image `(.+?)`: ")


@dataclass
class Frame:
    """A DataFrame as the context described it."""

    name: str
    rows: int
    columns: list[str]
    summary: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass
class Image:
    name: str
    width: int | None
    height: int | None
    media_type: str


@dataclass
class Seen:
    """Everything the agent read in the context."""

    frames: list[Frame] = field(default_factory=list)
    images: list[Image] = field(default_factory=list)
    text_chars: int = 0

    def __bool__(self) -> bool:
        return bool(self.frames or self.images or self.text_chars)


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def _read_text(text: str, seen: Seen) -> None:
    frames = list(_FRAME.finditer(text))
    if not frames:
        seen.text_chars += len(text)
        return
    for i, match in enumerate(frames):
        end = frames[i + 1].start() if i + 1 < len(frames) else len(text)
        body = text[match.start() : end]
        columns_line = _COLUMNS.search(body)
        columns = (
            [c.rsplit(" (", 1)[0] for c in columns_line.group(1).split(", ")]
            if columns_line
            else []
        )
        summary = {}
        for row in _SUMMARY.finditer(body):
            try:
                summary[row.group(1)] = {
                    "min": _number(row.group(2)),
                    "mean": _number(row.group(3)),
                    "max": _number(row.group(4)),
                }
            except ValueError:
                continue
        seen.frames.append(
            Frame(match.group(2), int(match.group(3).replace(",", "")), columns, summary)
        )


def _image_size(url: str) -> tuple[str, int | None, int | None]:
    """Media type and pixel size of a data URL's PNG or JPEG."""
    head, _, data = url.partition(",")
    media = head.removeprefix("data:").split(";")[0] or "image"
    try:
        raw = base64.b64decode(data[:200_000] + "=" * (-len(data[:200_000]) % 4), validate=False)
    except ValueError:
        return media, None, None
    if raw.startswith(b"\x89PNG") and len(raw) >= 24:
        width, height = struct.unpack(">II", raw[16:24])
        return media, width, height
    if raw.startswith(b"\xff\xd8"):
        i = 2
        while i + 9 < len(raw):
            if raw[i] != 0xFF:
                i += 1
                continue
            marker = raw[i + 1]
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", raw[i + 5 : i + 9])
                return media, width, height
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                i += 2
                continue
            i += 2 + struct.unpack(">H", raw[i + 2 : i + 4])[0]
    return media, None, None


def read_context(override: Any) -> Seen:
    """What a `context_override` holds (a string or content blocks; anything else is the
    Python repr the real server pastes, read as text)."""
    seen = Seen()
    if isinstance(override, str):
        _read_text(override, seen)
    elif isinstance(override, list):
        caption = None
        for block in override:
            if not isinstance(block, dict):
                continue
            if block.get("type") == "text" and isinstance(block.get("text"), str):
                found = _CAPTION.match(block["text"])
                if found:
                    caption = found.group(1)
                else:
                    _read_text(block["text"], seen)
            elif block.get("type") == "image_url":
                url = (block.get("image_url") or {}).get("url")
                if isinstance(url, str) and url.startswith("data:"):
                    media, width, height = _image_size(url)
                    name = caption or f"image {len(seen.images) + 1}"
                    seen.images.append(Image(name, width, height, media))
                caption = None
    elif override is not None:
        _read_text(repr(override), seen)
    return seen


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.4g}"


def describe(seen: Seen) -> str:
    """A Markdown answer about what the context holds: shapes, columns, one computed fact
    per frame (the first numeric column's mean and max), image sizes."""
    lines: list[str] = []
    for frame in seen.frames:
        cols = ", ".join(f"`{c}`" for c in frame.columns) or "no columns"
        lines.append(
            f"**{frame.name}** has {frame.rows:,} rows and {len(frame.columns)} columns: {cols}."
        )
        if frame.summary:
            column, stats = next(iter(frame.summary.items()))
            lines.append(
                f"The mean of `{column}` is {_fmt(stats['mean'])} and its max is "
                f"{_fmt(stats['max'])} (min {_fmt(stats['min'])})."
            )
    for image in seen.images:
        size = f"{image.width}×{image.height} pixels" if image.width else "of unknown size"
        lines.append(f"The image **{image.name}** is {size} ({image.media_type}).")
    if seen.text_chars:
        lines.append(f"I also read {seen.text_chars:,} characters of text context.")
    return "\n\n".join(lines) if lines else "The context you sent was empty."


def _facts(seen: Seen) -> dict[str, Any]:
    """Named facts a schema's fields may ask for."""
    facts: dict[str, Any] = {}
    if seen.frames:
        frame = seen.frames[0]
        facts.update(rows=frame.rows, columns=len(frame.columns), name=frame.name)
        if frame.summary:
            column, stats = next(iter(frame.summary.items()))
            facts.update(column=column, **stats)
    if seen.images:
        facts.update(width=seen.images[0].width, height=seen.images[0].height)
    return facts


def _fill(schema: Any, key: str, seen: Seen, facts: dict[str, Any], prose: str) -> Any:
    """A value for `schema` (named `key`), from the facts where a name matches."""
    if not isinstance(schema, dict):
        return None
    if schema.get("enum"):
        return schema["enum"][0]
    if "anyOf" in schema:
        options = [s for s in schema["anyOf"] if isinstance(s, dict) and s.get("type") != "null"]
        return _fill(options[0], key, seen, facts, prose) if options else None
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    lowered = key.lower()
    fact = next((v for name, v in facts.items() if name in lowered and v is not None), None)
    if kind == "object":
        props = schema.get("properties") or {}
        return {name: _fill(sub, name, seen, facts, prose) for name, sub in props.items()}
    if kind == "array":
        items = schema.get("items") or {}
        frame = seen.frames[0] if seen.frames else None
        if frame and frame.summary and isinstance(items, dict) and items.get("type") == "object":
            out = []
            for column, stats in frame.summary.items():
                row_facts = {**facts, **stats, "column": column, "name": column}
                out.append(_fill(items, key, seen, row_facts, prose))
            return out
        if frame and isinstance(items, dict) and items.get("type") == "string":
            return list(frame.columns)
        return [_fill(items, key, seen, facts, prose)]
    if kind in ("integer", "number"):
        value = fact if isinstance(fact, (int, float)) else 0
        return round(value) if kind == "integer" else value
    if kind == "boolean":
        return bool(seen)
    if kind == "string" or kind is None:
        if isinstance(fact, str):
            return fact
        if any(w in lowered for w in ("summary", "answer", "description", "text")):
            return prose
        return "" if fact is None else str(fact)
    return None


def structured_answer(response_format: Any, seen: Seen, prose: str) -> str | None:
    """The JSON text a model would answer for `response_format`, or None when the value is
    not a response format this agent understands."""
    import json

    if not isinstance(response_format, dict):
        return None
    if response_format.get("type") == "json_object":
        return json.dumps({"answer": prose, **_facts(seen)})
    inner = response_format.get("json_schema")
    if response_format.get("type") != "json_schema" or not isinstance(inner, dict):
        return None
    schema = inner.get("schema")
    if not isinstance(schema, dict):
        return None
    return json.dumps(_fill(schema, str(inner.get("name") or ""), seen, _facts(seen), prose))


@dataclass
class Reply:
    """What an agent answers to a message with context or a response format."""

    text: str = ""
    thinking: str | None = None
    error: str | None = None  # a malformed response_format: the run fails


def context_reply(options: dict[str, Any], *, honours_format: bool) -> Reply | None:
    """The reply to a run whose options carry context or (for an agent with tools,
    `honours_format`) a response_format; None when they carry neither, so the agent
    answers as usual. An agent without tools ignores response_format, as the real one."""
    override = options.get("context_override")
    wanted = options.get("response_format") if honours_format else None
    if override is None and wanted is None:
        return None
    seen = read_context(override)
    prose = describe(seen) if override is not None else "Here is the answer as JSON."
    thinking = "I'll read the context I was given and report what it holds."
    if wanted is None:
        return Reply(prose, thinking)
    structured = structured_answer(wanted, seen, prose)
    if structured is None:
        kind = wanted.get("type") if isinstance(wanted, dict) else wanted
        return Reply(
            error=(
                "litellm.APIConnectionError: APIConnectionError: OpenAIException - "
                f"Unsupported response_format type - {kind}"
            )
        )
    return Reply(structured, "The user wants JSON in the given schema; I'll fill it in.")


async def answer_reply(run: Any, reply: Reply) -> AsyncIterator[dict[str, Any]]:
    """Stream `reply` on `run` (a `loop.ServerRun` after its `start`); a malformed
    response_format fails the run as the real backend does: a step, an empty chunk, a
    failed complete, and no model call."""
    if reply.error is None:
        async for event in run.answer(reply.text, thinking=reply.thinking):
            yield event
        return
    yield run.begin_step()
    yield {"event": "chunk", "content": ""}
    failed = run.complete("")
    failed.update(status="failed", error=reply.error, steps=0, usage=None)
    yield failed
