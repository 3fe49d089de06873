"""The local server's plain HTTP answers: Powabase-style JSON errors, the real backend's
HTML error page for a non-UUID agent id, and the request-reading helpers the routes share."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response


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


async def json_body(request: Request) -> Any:
    """The request's JSON body, or None when it is not JSON."""
    try:
        return json.loads(await request.body() or b"null")
    except (ValueError, UnicodeDecodeError):
        return None


def int_param(request: Request, name: str, default: int) -> int | None:
    """An integer query parameter (None when not an integer)."""
    value = request.query_params.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        return None
