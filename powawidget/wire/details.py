"""What a failed answer says: a short detail of its body, its Retry-After, and whether an
id is one the server reads as a UUID.

Pure reading, no wording: `powawidget.wire.answers` turns these into typed errors with advice.
"""

from __future__ import annotations

import email.utils
import html
import json
import math
import re
import time

__all__ = [
    "DETAIL_LIMIT",
    "UUID_SYNTAX",
    "how_long",
    "is_uuid",
    "parse_retry_after",
    "shorten",
    "summarise_body",
]

UUID_SYNTAX = "invalid input syntax for type uuid"
"""What Postgres says about a non-UUID id (the real backend's page does not: its log does)."""
_UUID = re.compile(r"^[0-9a-fA-F]{8}-?(?:[0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}$")
_UUID_BRACED = re.compile(r"^\{[0-9a-fA-F-]{32,36}\}$")

DETAIL_LIMIT = 200


def summarise_body(body: str, content_type: str = "") -> str:
    """A short human-readable detail from an error body: JSON error field, HTML title, or text."""
    text = body.strip()
    if not text:
        return ""
    if "json" in content_type or text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if isinstance(data, dict):
            for key in ("message", "error_description", "detail", "error", "msg"):
                value = data.get(key)
                if isinstance(value, str) and value.strip():
                    return shorten(value)
                if isinstance(value, dict):
                    inner = value.get("message") or value.get("error")
                    if isinstance(inner, str) and inner.strip():
                        return shorten(inner)
    if "html" in content_type or text[:1] == "<":
        return shorten(_html_text(text))
    return shorten(text)


def _html_text(page: str) -> str:
    """The <title> of an HTML page, else its visible text, whitespace collapsed."""
    title = re.search(r"<title[^>]*>(.*?)</title>", page, re.IGNORECASE | re.DOTALL)
    if title and title.group(1).strip():
        return html.unescape(" ".join(title.group(1).split()))
    page = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", page, flags=re.IGNORECASE | re.DOTALL)
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", page).split()))


def shorten(text: str, limit: int = DETAIL_LIMIT) -> str:
    """One line, at most `limit` characters, with an ellipsis when cut."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def is_uuid(text: str) -> bool:
    """True for an id Postgres reads as a UUID (hex digits 8-4-4-4-12, hyphens optional)."""
    return bool(_UUID.match(text) or (_UUID_BRACED.match(text) and _UUID.match(text[1:-1])))


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), else None.

    A date in the past is 0; garbage (words, a negative, NaN, infinity, a date that does
    not parse) is None: the client's own backoff applies.
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if re.fullmatch(r"\d+(?:\.\d+)?|\d*\.\d+|\d+(?:\.\d*)?[eE][+-]?\d+", value):
        seconds = float(value)
        return seconds if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:
        return None
    current = time.time() if now is None else now
    try:
        return max(0.0, when.timestamp() - current)
    except (OverflowError, ValueError, OSError):
        return None


def how_long(seconds: float) -> str:
    """A wait in words: "90 s", "25 min", "3 h", "12 days", "31.7 years"."""
    if seconds < 120:
        return f"{seconds:g} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.0f} h"
    if seconds < 2 * 365 * 86400:
        return f"{seconds / 86400:.0f} days"
    return f"{seconds / (365.25 * 86400):.3g} years"
