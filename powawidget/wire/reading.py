"""Reading Powabase's answers: whole bodies under the size caps, JSON, paged listings, and
error answers turned into typed errors (the key masked in all they quote).

`AnswerReading` is `Transport`'s half that reads what came back (powawidget.wire.transport
sends and retries); it has no state of its own.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import requests
import urllib3.exceptions

from powawidget.wire.answers import (
    error_for_status,
    not_a_listing_error,
    not_json_error,
    parse_retry_after,
    redirect_error,
    send_failed_error,
    too_large_error,
)
from powawidget.wire.errors import PowabaseError, scrub, scrub_error

if TYPE_CHECKING:
    from powawidget.wire.config import Limits

__all__ = ["PAGE_SIZE", "AnswerReading", "items_of", "read_start"]

ERROR_BODY_LIMIT = 64 * 1024
READ_CHUNK = 64 * 1024
PAGE_SIZE = 100
"""Rows asked for per page of a listing (the server's own maximum)."""


class AnswerReading:
    """The reading of answers, over the transport's `_request` (a `Transport` mixin)."""

    if TYPE_CHECKING:
        limits: Limits
        _base_url: str
        _key: str
        _key_setting: str
        _url_setting: str

        def _request(
            self, method: str, path: str, *args: Any, **kwargs: Any
        ) -> requests.Response: ...

        def _reason(self, exc: BaseException) -> str: ...

        def redact(self, text: str) -> str: ...

    def _pages(self, path: str, key: str, **kwargs: Any) -> list[dict[str, Any]]:
        """Every item of a paged listing (limit/offset), page after page until a short one.

        The page size is the server's `limit` when it names one (it may cap ours); a server
        that ignores `offset` (the same first item again) or `limit` is read once.
        """
        items: list[dict[str, Any]] = []
        first: Any = None
        while True:
            request = f"{path}?limit={PAGE_SIZE}&offset={len(items)}"
            data = self._json("GET", request, **kwargs)
            page = self._items(data, key, f"GET {path}")
            if not page or (items and page[0] == first):
                return items
            first = page[0]
            items.extend(page)
            size, total = data.get("limit"), data.get("total")
            size = size if isinstance(size, int) and 0 < size <= PAGE_SIZE else PAGE_SIZE
            if len(page) != size or (isinstance(total, int) and len(items) >= total):
                return items

    def _items(self, data: Any, key: str, what: str) -> list[dict[str, Any]]:
        """The list under `key` of the answer to `what`; any other shape is an error that
        says so, never an empty list that hides it."""
        items = items_of(data, key)
        if items is None:
            raise not_a_listing_error(what, data, key, self._url_setting)
        return items

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send a request and decode its JSON answer (read up to the caps, see `_body`)."""
        response = self._request(method, path, **kwargs)
        data = self._body(response, f"{method} {path}")
        try:
            return json.loads(data)
        except (ValueError, RecursionError):
            start = self.redact(data[:500].decode("utf-8", errors="replace"))
            raise not_json_error(
                f"{method} {path}", response.status_code, start, self._url_setting
            ) from None

    def _body(self, response: requests.Response, what: str) -> bytes:
        """A whole answer's decoded bytes, refused past the answer cap (and, for a compressed
        answer, the decompressed cap) as a `TooLargeError`; the response is closed."""
        limits = self.limits
        encoded = response.headers.get("Content-Encoding", "").strip().lower()
        compressed = encoded not in ("", "identity")
        kind, cap = "answer", limits.answer
        if compressed and limits.decompressed.bytes < cap.bytes:
            kind, cap = "decompressed", limits.decompressed
        try:
            size = int(response.headers.get("Content-Length", ""))
        except ValueError:
            size = -1
        pieces: list[bytes] = []
        total = 0
        try:
            if not compressed and size > cap.bytes:
                raise too_large_error(kind, what, cap)
            while True:
                piece = response.raw.read(READ_CHUNK, decode_content=True)
                if not piece:
                    break
                total += len(piece)
                if total > cap.bytes:
                    raise too_large_error(kind, what, cap)
                pieces.append(piece)
        except requests.RequestException as exc:  # a body cut or broken mid-answer
            raise send_failed_error(
                "no_answer",
                base_url=self._base_url,
                cause=self._reason(exc),
                what=what,
                url_setting=self._url_setting,
            ) from None
        except (OSError, ValueError, urllib3.exceptions.HTTPError) as exc:
            raise send_failed_error(
                "no_answer",
                base_url=self._base_url,
                cause=self._reason(exc),
                what=what,
                advice="The answer was cut short: try again.",
                url_setting=self._url_setting,
            ) from None
        finally:
            response.close()
        return b"".join(pieces)

    def _error(
        self,
        response: requests.Response,
        subject: str,
        not_found_advice: str,
        bad_id_advice: str,
        bad_request_advice: str = "",
        bad_id: str | None = None,
    ) -> PowabaseError:
        """The typed error for an error answer (body read, closed; the key masked in all it
        quotes: body, headers, the URL of a redirect)."""
        status = response.status_code
        if 300 <= status < 400:
            response.close()
            location = self.redact(response.headers.get("Location", ""))
            return scrub_error(redirect_error(status, location, self._url_setting), self._key)
        body = read_start(response, self._key, ERROR_BODY_LIMIT)
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        error = error_for_status(
            status,
            body=body,
            content_type=self.redact(response.headers.get("Content-Type", "")).lower(),
            retry_after=retry_after,
            subject=subject,
            not_found_advice=not_found_advice,
            bad_id_advice=bad_id_advice,
            key_setting=self._key_setting,
            bad_id=bad_id,
        )
        if status == 400 and bad_request_advice:
            error.message = f"{error.message} {bad_request_advice}"
        return scrub_error(error, self._key)


def read_start(response: requests.Response, secret: str, limit: int = 500) -> str:
    """The first `limit` bytes of a body as text (decoded, key masked); closes the response."""
    try:
        data = response.raw.read(limit, decode_content=True) or b""
    except Exception:
        data = b""
    finally:
        response.close()
    return scrub(data.decode("utf-8", errors="replace"), secret)


def items_of(data: Any, key: str) -> list[dict[str, Any]] | None:
    """The list under `key` of a listing answer (`{"<key>": [...], ...}`, the only shape
    Powabase answers; docs/protocol.md "Other endpoints"), else None."""
    if isinstance(data, dict) and isinstance(data.get(key), list):
        return data[key]
    return None
