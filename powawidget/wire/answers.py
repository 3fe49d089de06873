"""The server's answers turned into typed errors that say what to do next.

Each function reads one kind of failed answer (a status code and its body, a redirect, a
body that is not an event stream or not JSON, a request that never got an answer) and
returns the `powawidget.wire.errors` error for it, with advice in the notebook user's terms
(the setting they used, never the key itself).
"""

from __future__ import annotations

import email.utils
import html
import json
import re
import time
from typing import Any

from powawidget.wire.config import ENV_API_KEY, ENV_API_KEY_ALIAS, ENV_BASE_URL
from powawidget.wire.errors import (
    AuthenticationError,
    ConnectionFailedError,
    InsufficientCreditsError,
    InvalidIdError,
    NotFoundError,
    PowabaseError,
    RateLimitedError,
    ServerError,
    StreamError,
)

UUID_SYNTAX = "invalid input syntax for type uuid"
"""What the real backend's 500 page says when an agent id is not a UUID (Postgres' words)."""
AGENT_ID_ADVICE = (
    "Agent ids on Powabase are UUIDs such as 3f2b6c1e-8d4a-4b7e-9f00-2c5d8e1a7b3c: copy the "
    "agent's id from Powabase Studio and pass it as ChatWidget(agent_id=...) (or as the "
    "AGENT_ID of powawidget chat)."
)
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
                    return _shorten(value)
                if isinstance(value, dict):
                    inner = value.get("message") or value.get("error")
                    if isinstance(inner, str) and inner.strip():
                        return _shorten(inner)
    if "html" in content_type or text[:1] == "<":
        return _shorten(_html_text(text))
    return _shorten(text)


def _html_text(page: str) -> str:
    """The <title> of an HTML page, else its visible text, whitespace collapsed."""
    title = re.search(r"<title[^>]*>(.*?)</title>", page, re.IGNORECASE | re.DOTALL)
    if title and title.group(1).strip():
        return html.unescape(" ".join(title.group(1).split()))
    page = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", page, flags=re.IGNORECASE | re.DOTALL)
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", page).split()))


def _shorten(text: str, limit: int = DETAIL_LIMIT) -> str:
    """One line, at most `limit` characters, with an ellipsis when cut."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), else None."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def error_for_status(
    status: int,
    *,
    body: str = "",
    content_type: str = "",
    retry_after: float | None = None,
    subject: str = "The resource",
    not_found_advice: str = "Check the id.",
    bad_id_advice: str = "Check the ids you passed.",
    key_setting: str = ENV_API_KEY,
) -> PowabaseError:
    """The typed error for an HTTP error answer; `subject` names what was asked for (for 404).

    `bad_id_advice` says what a valid id looks like (a 500 saying an id is not a UUID);
    `key_setting` is where the key came from ("api_key=" or the variable that held it).
    """
    detail = summarise_body(body, content_type)
    said = f": {detail}" if detail else ""
    kwargs: dict[str, Any] = {"status_code": status, "body": body}
    if status == 401:
        return AuthenticationError(
            f"Powabase rejected the API key (HTTP 401{said}). Check that "
            f"{_the_key_in(key_setting)} is this project's key. powawidget sends it in both "
            "the apikey and Authorization headers; a proxy that strips either one also causes "
            "this.",
            code="unauthorized",
            **kwargs,
        )
    if status == 403:
        where = (
            "pass it as api_key="
            if key_setting == "api_key="
            else f"set {ENV_API_KEY} (or {ENV_API_KEY_ALIAS}) to it"
        )
        return AuthenticationError(
            f"The API key is not allowed to do this (HTTP 403{said}). Agent runs need the "
            f"project's service role key: {where}.",
            code="forbidden",
            **kwargs,
        )
    if status == 402:
        return InsufficientCreditsError(
            f"The Powabase project is out of credits (HTTP 402{said}). Add credits in the "
            "project's billing settings, then run again (powawidget never retries this).",
            **kwargs,
        )
    if status == 404:
        return NotFoundError(
            f"{subject} was not found (HTTP 404{said}). {not_found_advice}", **kwargs
        )
    if status == 429:
        wait = f"wait {retry_after:g} s" if retry_after is not None else "wait a moment"
        return RateLimitedError(
            f"Powabase is rate limiting requests (HTTP 429{said}); the retries ran out. "
            f"{wait.capitalize()} and try again, or send fewer requests at once.",
            retry_after=retry_after,
            **kwargs,
        )
    if status >= 500 and UUID_SYNTAX in body.lower():
        return InvalidIdError(
            f"{subject}: Powabase cannot read this id (HTTP {status}: {UUID_SYNTAX}). "
            f"{bad_id_advice} Trying again will not help: the id itself is wrong.",
            **kwargs,
        )
    if status >= 500:
        return ServerError(
            f"The Powabase server failed (HTTP {status}{said}). This is usually temporary: "
            "try again in a moment; if it persists, check the service status.",
            **kwargs,
        )
    code = "bad_request" if status in (400, 422) else f"http_{status}"
    return PowabaseError(
        f"Powabase refused the request (HTTP {status}{said}). Check the message and the "
        "options you passed.",
        code=code,
        **kwargs,
    )


def _the_key_in(key_setting: str) -> str:
    """The key as the user gave it: "the api_key= you passed", "the key in VARIABLE", or
    the key of whatever chose it ("the built-in local server's key")."""
    if key_setting == "api_key=":
        return "the api_key= you passed"
    if key_setting.startswith("POWABASE_"):
        return f"the key in {key_setting}"
    return f"{key_setting}'s key"


def _the_url_in(url_setting: str) -> str:
    """The URL as the user gave it: "the base_url= you passed", the variable's name, or the
    address of whatever chose it ("the built-in local server's address")."""
    if url_setting == "base_url=":
        return "the base_url= you passed"
    if url_setting.startswith("POWABASE_"):
        return url_setting
    return f"{url_setting}'s address"


def send_failed_error(
    exc_kind: str,
    *,
    base_url: str,
    cause: str,
    attempts: int = 1,
    what: str = "",
    wait: float = 0,
    advice: str = "",
    url_setting: str = ENV_BASE_URL,
) -> PowabaseError:
    """The error for a request that got no answer; `what` is "METHOD /path".

    `url_setting` is where the URL came from ("base_url=" or the variable), named in advice.

    `exc_kind`: "tls", "unreachable" (never connected), "no_answer" (sent, then the server
    hung up; `advice` says what to check before sending it again), "timeout" (no headers
    within `wait` s), else not sent.
    """
    if exc_kind == "no_answer":
        tries = f" (after {attempts} attempts)" if attempts > 1 else ""
        return StreamError(
            f"{what}: the server at {base_url} closed the connection before answering{tries}."
            f" {advice or 'Check the server before sending the request again.'}",
            code="stream_lost",
        )
    if exc_kind == "tls":
        return ConnectionFailedError(
            f"The TLS handshake with {base_url} failed ({cause}). Check that "
            f"{_the_url_in(url_setting)} uses the right host; behind a proxy that inspects "
            "TLS, point REQUESTS_CA_BUNDLE at its certificate."
        )
    if exc_kind == "unreachable":
        return ConnectionFailedError(
            f"Could not reach {base_url} ({cause}) after {attempts} attempt(s). Check "
            f"{_the_url_in(url_setting)} and your network; a local server started with "
            "powawidget serve must still be running."
        )
    if exc_kind == "timeout":
        return StreamError(
            f"{what}: no answer from {base_url} within {wait:g} s (idle timeout). The server "
            "may still be working; raise idle_timeout= for slow agents.",
            code="idle_timeout",
        )
    return PowabaseError(
        f"{what} could not be sent: {cause}. Check {_the_url_in(url_setting)}.",
        code="request_failed",
    )


def redirect_error(status: int, location: str, url_setting: str = ENV_BASE_URL) -> PowabaseError:
    """A 3xx answer: powawidget never follows redirects, so the key stays with one host."""
    return PowabaseError(
        f"The server redirected the request to {location} (HTTP {status}). Set "
        f"{url_setting} to the URL it moved to; powawidget does not follow redirects so the "
        "key is never sent to another address.",
        status_code=status,
        code="redirected",
    )


def not_event_stream_error(
    status: int, content_type: str, body: str, url_setting: str = ENV_BASE_URL
) -> StreamError:
    """A run answered with something other than an event stream (a web page, a portal…)."""
    return StreamError(
        f"Expected an event stream, but the server answered HTTP {status} with Content-Type "
        f"{content_type or 'none'!r}: {summarise_body(body) or '(empty)'!r}. Check that "
        f"{_the_url_in(url_setting)} is the project's API URL (https://<ref>.p.powabase.ai), "
        "not a web page, a login portal or a proxy.",
        status_code=status,
        code="not_event_stream",
        body=body,
    )


def not_json_error(
    what: str, status: int, body: str, url_setting: str = ENV_BASE_URL
) -> PowabaseError:
    """A JSON endpoint (`what` = "METHOD /path") answered with something else."""
    return PowabaseError(
        f"The server answered {what} with something that is not JSON: "
        f"{summarise_body(body)!r}. Check that {_the_url_in(url_setting)} is the project's "
        "API URL.",
        status_code=status,
        code="unexpected_response",
        body=body,
    )
