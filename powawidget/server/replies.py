"""The local server's plain HTTP answers: Powabase-style JSON errors, the real backend's
HTML error page for a non-UUID agent id, and the request-reading helpers the routes share."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

DEFAULT_MAX_BODY = 32_000_000
"""Bytes a request body may have by default (`powawidget serve --max-body-mb`)."""


def error(status: int, message: str, **extra: Any) -> JSONResponse:
    """A Powabase-style error body: {"error": message, ...}."""
    return JSONResponse({"error": message, **extra}, status_code=status)


FLASK_500_PAGE = (
    "<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n"
    "<h1>Internal Server Error</h1>\n<p>The server encountered an internal error and was "
    "unable to complete your request. Either the server is overloaded or there is an error "
    "in the application.</p>\n"
)
"""Flask's generic 500 page, byte for byte as the real backend sends it for a non-UUID
agent id: no detail (Postgres's "invalid input syntax for type uuid" goes to its log)."""


def uuid_error_page(agent_id: str) -> Response:
    """The real backend's answer to a non-UUID agent id (`agent_id` is not in it)."""
    return Response(FLASK_500_PAGE, status_code=500, media_type="text/html; charset=utf-8")


MAX_DEPTH = 100
"""Nesting a request body may have: deeper is refused (Python's own parser gives up near
1,000 levels with a RecursionError, which would be a 500)."""


class BodyRefused(Exception):
    """A request body the server will not read: carries the error answer (400 or 413)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def _refuse_constant(name: str) -> Any:
    """json.loads' hook for NaN, Infinity and -Infinity: refused (JSON has none of them)."""
    raise BodyRefused(
        error(
            400,
            f"The body holds {name}, which JSON does not allow: send a number or null.",
            code="invalid_json",
        )
    )


async def json_body(request: Request) -> Any:
    """The request's JSON body, or None when it is not JSON.

    Refused with `BodyRefused` (the route answers the error, see app.Guarded): a body past
    the server's limit (413, announced or streamed), bytes that are not UTF-8, NaN or
    Infinity, text with a lone surrogate (`"\\ud83d"`), or nesting deeper than
    `MAX_DEPTH` (400, each a JSON error saying what was wrong). Large bodies are parsed off
    the event loop.
    """
    limit = getattr(getattr(request.app, "state", None), "max_body", DEFAULT_MAX_BODY)
    announced = request.headers.get("content-length", "")
    if announced.isdigit() and int(announced) > limit:
        raise BodyRefused(_too_large(limit))
    pieces: list[bytes] = []
    size = 0
    async for piece in request.stream():
        size += len(piece)
        if size > limit:
            raise BodyRefused(_too_large(limit))
        pieces.append(piece)
    raw = b"".join(pieces)
    if not raw:
        return None
    if len(raw) > 65536:
        return await asyncio.to_thread(_parse, raw)
    return _parse(raw)


def _too_large(limit: int) -> Response:
    """The 413 answer for a body past `limit` bytes."""
    return error(
        413,
        f"The request body is larger than the server accepts ({limit / 1_000_000:g} MB): "
        "send less (powawidget serve --max-body-mb raises the limit).",
        code="body_too_large",
    )


def _parse(raw: bytes) -> Any:
    """Decode and parse a body (see `json_body`); None for text that is not JSON at all."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyRefused(
            error(
                400,
                f"The body is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at position "
                f"{exc.start}): send JSON encoded as UTF-8.",
                code="invalid_unicode",
            )
        ) from None
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise BodyRefused(_too_deep()) from None
    except ValueError:
        return None
    _check_tree(value)
    return value


def _too_deep() -> Response:
    """The 400 answer for nesting past `MAX_DEPTH`."""
    return error(
        400,
        f"The body is nested deeper than {MAX_DEPTH} levels: send flatter JSON.",
        code="too_deep",
    )


def _check_tree(value: Any) -> None:
    """Refuse nesting past `MAX_DEPTH` and strings (keys too) that are not valid Unicode."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            _check_text(item)
        elif isinstance(item, (dict, list)):
            if depth >= MAX_DEPTH:
                raise BodyRefused(_too_deep())
            if isinstance(item, dict):
                for key, inner in item.items():
                    _check_text(key)
                    stack.append((inner, depth + 1))
            else:
                stack.extend((inner, depth + 1) for inner in item)


def _check_text(text: str) -> None:
    """Refuse a string with a lone surrogate (valid JSON, but not Unicode text)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        bad = f"\\u{ord(text[exc.start]):04x}"
        raise BodyRefused(
            error(
                400,
                f"The body holds invalid Unicode: a lone surrogate ({bad}) at character "
                f"{exc.start} of a string. Send whole characters (a surrogate pair, or the "
                "character itself).",
                code="invalid_unicode",
            )
        ) from None


def int_param(request: Request, name: str, default: int) -> int | None:
    """An integer query parameter (None when not an integer)."""
    value = request.query_params.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        return None
