"""Images as context: read a PNG/JPEG's size from its header, render a matplotlib figure,
downscale past a pixel cap, and make the data URL an OpenAI `image_url` block carries.

Pillow is optional (the `demo` extra has matplotlib but not Pillow): a figure is rendered
at a dpi that fits the cap, so it never needs Pillow; PNG/JPEG bytes and files over the cap
are downscaled with Pillow when it is installed and sent as they are otherwise (vision
models resize large images themselves), unless they pass the byte cap. The header readers
are our own because they are a few lines and must work without Pillow.
"""

from __future__ import annotations

import base64
import io
import struct
from dataclasses import dataclass
from typing import Any

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SIGNATURE = b"\xff\xd8\xff"


@dataclass(frozen=True)
class Picture:
    """An image ready to send: its bytes, media type and size in pixels."""

    data: bytes
    media_type: str
    width: int
    height: int
    note: str | None = None  # what was done to it (downscaled, or why not)

    @property
    def data_url(self) -> str:
        """The `data:` URL of an `image_url` block."""
        return f"data:{self.media_type};base64,{base64.b64encode(self.data).decode('ascii')}"


def sniff(data: bytes) -> tuple[str, int, int] | None:
    """(media type, width, height) of PNG or JPEG bytes, or None for anything else."""
    if data.startswith(PNG_SIGNATURE) and len(data) >= 24 and data[12:16] == b"IHDR":
        width, height = struct.unpack(">II", data[16:24])
        return "image/png", width, height
    if data.startswith(JPEG_SIGNATURE):
        size = _jpeg_size(data)
        if size is not None:
            return ("image/jpeg", *size)
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from a JPEG's first start-of-frame marker."""
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            i += 1
            continue
        marker = data[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
            i += 1 if marker == 0xFF else 2
            continue
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return width, height
        i += 2 + length
    return None


def from_bytes(data: bytes, max_side: int) -> Picture:
    """PNG/JPEG bytes as a picture, downscaled to `max_side` pixels when Pillow is there."""
    sniffed = sniff(data)
    if sniffed is None:
        raise ValueError("not PNG or JPEG bytes")
    media_type, width, height = sniffed
    if max(width, height) <= max_side:
        return Picture(data, media_type, width, height)
    try:
        from PIL import Image
    except ImportError:
        note = f"{width}×{height} px sent as it is (install Pillow to downscale it)"
        return Picture(data, media_type, width, height, note)
    with Image.open(io.BytesIO(data)) as image:
        return from_pil(image, max_side)


def from_pil(image: Any, max_side: int) -> Picture:
    """A PIL image as PNG (JPEG for a large photo), downscaled to `max_side` pixels."""
    width, height = image.size
    note = None
    if max(width, height) > max_side:
        image = image.copy()
        image.thumbnail((max_side, max_side))
        note = f"downscaled from {width}×{height} px"
    if image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
        image = image.convert("RGBA")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return Picture(buffer.getvalue(), "image/png", image.size[0], image.size[1], note)


def from_figure(figure: Any, max_side: int) -> Picture:
    """A matplotlib figure as PNG, rendered at a dpi whose longest side fits `max_side`
    (no Pillow needed: matplotlib draws it at that size directly)."""
    inches = max(float(v) for v in figure.get_size_inches())
    natural = float(figure.dpi)
    dpi = min(natural, max_side / inches) if inches > 0 else natural
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    data = buffer.getvalue()
    sniffed = sniff(data)
    assert sniffed is not None  # matplotlib wrote a PNG
    note = f"drawn at {dpi:.0f} dpi (natural {natural:.0f})" if dpi < natural else None
    return Picture(data, "image/png", sniffed[1], sniffed[2], note)


def is_figure(value: Any) -> bool:
    """A matplotlib Figure (or something with a figure: Axes), without importing matplotlib."""
    module = type(value).__module__ or ""
    return module.startswith("matplotlib.") and (
        hasattr(value, "savefig") or hasattr(getattr(value, "figure", None), "savefig")
    )


def is_pil_image(value: Any) -> bool:
    """A PIL image, without importing Pillow."""
    module = type(value).__module__ or ""
    return module.startswith("PIL.") and hasattr(value, "save") and hasattr(value, "size")
