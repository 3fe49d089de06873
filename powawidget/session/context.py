"""Notebook objects as a run's context: what `w.send(text, context=…)` puts in the request.

Powabase takes the context from the client, per request (docs/protocol.md, "Context from
the client"): `context_override` as a string is appended to the agent's system prompt; as
a list of OpenAI content blocks it becomes the user message's content, before the message
(the server adds the message itself as the last text block), so images reach a vision
model. This module turns user objects into that value:

- a `str` as it is; a dict or a JSON list as indented JSON;
- a pandas/polars DataFrame or Series as its shape, schema, a summary of its numeric
  columns over all rows and a bounded sample as a Markdown table (`frames`);
- a matplotlib Figure, a PIL image, PNG/JPEG bytes as an `image_url` block with a data URL,
  downscaled past `ContextLimits.max_image_side` (`images`);
- a `pathlib.Path` to a text, CSV or image file (a plain `str` is always text, never a path);
- a list or tuple of these.

Text only → one string; any image → blocks (each text as a text block, each image after a
caption naming its size). Sizes are capped by `ContextLimits` (settable: `w.context_limits`)
and a context over a cap is refused with `ContextTooLargeError`, never cut silently. The
transcript keeps a `record()` of each part (kind, name, size, hash: never the image).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from powawidget.session import images
from powawidget.session.frames import describe_frame, frame_library

__all__ = [
    "CONTEXT_SOURCES",
    "Context",
    "ContextError",
    "ContextLimits",
    "ContextPart",
    "ContextTooLargeError",
    "build_context",
    "check_sources",
]

CONTEXT_SOURCES = ("knowledge_bases", "context_handler_id", "context_override", "context_items")
"""The run options of which the server takes at most one per request (else a 400)."""

IMAGE_SUFFIXES = {".png": "image", ".jpg": "image", ".jpeg": "image"}
TABLE_SUFFIXES = {".csv": ",", ".tsv": "\t"}


class ContextError(ValueError):
    """A context object that cannot be sent; the message says what to pass instead."""


class ContextTooLargeError(ContextError):
    """A context over one of `ContextLimits`; the message names the limit to raise."""


@dataclass
class ContextLimits:
    """Caps on what one message sends as context (change them on `w.context_limits`)."""

    max_chars: int = 20_000
    """Characters of text context per message (all parts together)."""
    max_rows: int = 20
    """Rows of a DataFrame's sample (the shape and numeric summary cover all rows)."""
    max_columns: int = 30
    """Columns of a DataFrame's sample and summary."""
    max_cell_chars: int = 80
    """Characters of one cell of the sample."""
    max_image_side: int = 1024
    """Pixels of an image's longest side; larger images are downscaled (figures always;
    PNG/JPEG bytes and files when Pillow is installed)."""
    max_image_bytes: int = 2_000_000
    """Bytes of one image after downscaling."""
    max_images: int = 4
    """Images per message."""


@dataclass(frozen=True)
class ContextPart:
    """One object of the context as it is sent: its text, or its image."""

    kind: str  # text, json, dataframe, series, file, image
    name: str
    text: str | None = None
    picture: images.Picture | None = None
    kept: bool = False  # from `w.context`: sent with every message until cleared
    facts: Mapping[str, Any] = field(default_factory=dict)

    @property
    def payload(self) -> bytes:
        """The bytes this part sends (text as UTF-8, an image's own bytes)."""
        if self.picture is not None:
            return self.picture.data
        return (self.text or "").encode("utf-8")

    def record(self) -> dict[str, Any]:
        """What the transcript keeps of it: kind, name, size, hash and facts, no content."""
        out: dict[str, Any] = {
            "kind": self.kind,
            "name": self.name,
            "size": len(self.payload),
            "sha256": hashlib.sha256(self.payload).hexdigest()[:16],
            "kept": self.kept,
        }
        if self.picture is not None:
            out.update(
                media_type=self.picture.media_type,
                width=self.picture.width,
                height=self.picture.height,
            )
            if self.picture.note:
                out["note"] = self.picture.note
        else:
            out["chars"] = len(self.text or "")
        out.update(self.facts)
        return out

    def shown(self) -> dict[str, Any]:
        """The record plus exactly what was sent (the text, or the image's data URL), for
        the chip on the user's bubble."""
        out = self.record()
        if self.picture is not None:
            out["image"] = self.picture.data_url
        else:
            out["text"] = self.text or ""
        return out

    def caption(self) -> str:
        """The text block before an image: its name and size."""
        assert self.picture is not None
        kind = self.picture.media_type.split("/")[-1].upper()
        return f"Image `{self.name}`: {self.picture.width}×{self.picture.height} px {kind}."


@dataclass(frozen=True)
class Context:
    """The context of one message: its parts, in the order given."""

    parts: tuple[ContextPart, ...]

    @property
    def has_images(self) -> bool:
        """True when a part is an image (then the context is sent as content blocks)."""
        return any(p.picture is not None for p in self.parts)

    @property
    def override(self) -> str | list[dict[str, Any]]:
        """The request's `context_override`: a string, or content blocks with any image."""
        if not self.has_images:
            return "\n\n".join(p.text or "" for p in self.parts)
        blocks: list[dict[str, Any]] = []
        for part in self.parts:
            if part.picture is None:
                blocks.append({"type": "text", "text": part.text or ""})
            else:
                blocks.append({"type": "text", "text": part.caption()})
                blocks.append({"type": "image_url", "image_url": {"url": part.picture.data_url}})
        return blocks

    def records(self) -> list[dict[str, Any]]:
        """Each part's transcript record (no content)."""
        return [p.record() for p in self.parts]

    def shown(self) -> list[dict[str, Any]]:
        """Each part as the chip shows it (content included)."""
        return [p.shown() for p in self.parts]

    def __add__(self, other: Context) -> Context:
        return Context(self.parts + other.parts)


def build_context(
    value: Any,
    *,
    name: str | None = None,
    limits: ContextLimits | None = None,
    kept: bool = False,
) -> Context:
    """The context of `value` (see the module's docstring), checked against `limits`.

    `name` names a single object (the magic passes the variable's name); a list's items are
    named by kind. `kept` marks parts of the widget's persistent `w.context`.
    """
    limits = limits or ContextLimits()
    values = _items(value)
    if not values:
        raise ContextError("The context is empty: pass an object, or context=None for none.")
    single = len(values) == 1
    parts = tuple(
        _part(v, name if single else None, limits, kept, position=i + 1 if not single else 0)
        for i, v in enumerate(values)
    )
    context = Context(parts)
    check_limits(context, limits)
    return context


def check_limits(context: Context, limits: ContextLimits) -> None:
    """Refuse a context over the caps, saying which limit to raise."""
    pictures = [p for p in context.parts if p.picture is not None]
    if len(pictures) > limits.max_images:
        raise ContextTooLargeError(
            f"The context has {len(pictures)} images; at most {limits.max_images} are sent "
            f"per message. Send fewer, or raise w.context_limits.max_images."
        )
    for part in pictures:
        assert part.picture is not None
        size = len(part.picture.data)
        if size > limits.max_image_bytes:
            raise ContextTooLargeError(
                f"The image {part.name!r} is {size:,} bytes "
                f"({part.picture.width}×{part.picture.height} px); the limit is "
                f"{limits.max_image_bytes:,} bytes. Send a smaller image "
                "(install Pillow to have large ones downscaled), or raise "
                "w.context_limits.max_image_bytes."
            )
    chars = sum(len(p.text or "") for p in context.parts if p.picture is None)
    if chars > limits.max_chars:
        detail = ", ".join(
            f"{p.name}: {len(p.text or ''):,}" for p in context.parts if p.picture is None
        )
        raise ContextTooLargeError(
            f"The context is {chars:,} characters of text ({detail}); the limit is "
            f"{limits.max_chars:,} per message. Send less (a slice, df.head(100), a shorter "
            f"file) or raise w.context_limits.max_chars."
        )


def check_sources(options: Mapping[str, Any]) -> None:
    """Refuse a request with more than one context source (the server answers 400)."""
    given = [key for key in CONTEXT_SOURCES if options.get(key) is not None]
    if len(given) > 1:
        raise ContextError(
            f"A message can carry one context source, not {' and '.join(given)}: the server "
            "refuses two. Drop one of them for this message (for example "
            f"options={{{given[0]!r}: None}})."
        )


def _is_json_value(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool, dict, list))


def _items(value: Any) -> list[Any]:
    """The objects a context value holds: a list or tuple of objects is several (unless it
    is a JSON list: dicts, lists and numbers with no other objects), anything else one."""
    if isinstance(value, (list, tuple)):
        if (
            value
            and all(_is_json_value(v) for v in value)
            and not all(isinstance(v, str) for v in value)
        ):
            return [list(value)]  # one JSON document
        return list(value)
    return [value]


def _part(
    value: Any, name: str | None, limits: ContextLimits, kept: bool, position: int
) -> ContextPart:
    """One object as a context part."""

    def named(default: str) -> str:
        if name:
            return name
        return f"{default} {position}" if position else default

    if isinstance(value, str):
        return ContextPart("text", named("text"), text=value, kept=kept)
    if frame_library(value) is not None:
        series = type(value).__name__ == "Series"
        label = getattr(value, "name", None) if series else None
        title = named(str(label) if label else ("series" if series else "dataframe"))
        text, facts = describe_frame(
            value,
            title,
            max_rows=limits.max_rows,
            max_columns=limits.max_columns,
            cell_chars=limits.max_cell_chars,
        )
        return ContextPart(
            "series" if series else "dataframe", title, text=text, kept=kept, facts=facts
        )
    if images.is_figure(value):
        figure = value if hasattr(value, "savefig") else value.figure
        picture = images.from_figure(figure, limits.max_image_side)
        return ContextPart("image", named("figure"), picture=picture, kept=kept)
    if images.is_pil_image(value):
        picture = images.from_pil(value, limits.max_image_side)
        return ContextPart("image", named("image"), picture=picture, kept=kept)
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        if images.sniff(data) is None:
            raise ContextError(
                "Bytes are sent as context only when they are a PNG or JPEG image; for text, "
                "pass a str (data.decode())."
            )
        return ContextPart(
            "image",
            named("image"),
            picture=images.from_bytes(data, limits.max_image_side),
            kept=kept,
        )
    if isinstance(value, os.PathLike):
        return _file(Path(os.fspath(value)), name, limits, kept)
    if isinstance(value, (dict, list, int, float, bool)) or value is None:
        try:
            text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
        except (TypeError, ValueError) as error:
            raise ContextError(f"This dict or list cannot be sent as JSON: {error}.") from None
        return ContextPart("json", named("json"), text=text, kept=kept)
    raise ContextError(
        f"A {type(value).__name__} cannot be sent as context. Pass a str, a dict or list, a "
        "pandas/polars DataFrame or Series, a matplotlib Figure, a PIL image, PNG/JPEG "
        "bytes, a pathlib.Path to a text, CSV or image file, or a list of these "
        "(str(obj) sends its text)."
    )


def _file(path: Path, name: str | None, limits: ContextLimits, kept: bool) -> ContextPart:
    """A file as context: an image, a CSV/TSV table (with pandas), or UTF-8 text."""
    if not path.is_file():
        raise ContextError(f"No file at {str(path)!r}: check the path (relative to {os.getcwd()}).")
    title = name or path.name
    suffix = path.suffix.lower()
    size = path.stat().st_size
    if suffix in IMAGE_SUFFIXES:
        data = path.read_bytes()
        if images.sniff(data) is None:
            raise ContextError(f"{path.name} is not a PNG or JPEG image.")
        picture = images.from_bytes(data, limits.max_image_side)
        return ContextPart("image", title, picture=picture, kept=kept, facts={"file": path.name})
    if suffix in TABLE_SUFFIXES:
        try:
            import pandas as pd
        except ImportError:
            pass
        else:
            frame = pd.read_csv(path, sep=TABLE_SUFFIXES[suffix])
            text, facts = describe_frame(
                frame,
                title,
                max_rows=limits.max_rows,
                max_columns=limits.max_columns,
                cell_chars=limits.max_cell_chars,
            )
            return ContextPart(
                "file", title, text=text, kept=kept, facts={**facts, "file": path.name}
            )
    if size > 4 * limits.max_chars + 4:  # surely over the cap: do not read it all
        raise ContextTooLargeError(
            f"{path.name} is {size:,} bytes; text context is limited to {limits.max_chars:,} "
            "characters per message. Send part of it (path.read_text()[:n]) or raise "
            "w.context_limits.max_chars."
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ContextError(
            f"{path.name} is not UTF-8 text, a CSV or a PNG/JPEG image, so it cannot be sent "
            "as context."
        ) from None
    return ContextPart("file", title, text=text, kept=kept, facts={"file": path.name})
