"""The server's answers turned into typed errors that say what to do next.

Each function reads one kind of failed answer (a status code and its body, a redirect, a
body that is not an event stream or not JSON, a request that never got an answer) and
returns the `powawidget.wire.errors` error for it, with advice in the user's own terms: the
setting they used (an argument in a notebook, a flag in a terminal, else the variable;
`config.Audience`), never the key itself.
"""

from __future__ import annotations

import email.utils
import html
import json
import math
import re
import time
from typing import Any

from powawidget.wire.config import (
    ENV_API_KEY,
    ENV_API_KEY_ALIAS,
    ENV_BASE_URL,
    NOTEBOOK,
    Audience,
    Cap,
)
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
    TooLargeError,
)

UUID_SYNTAX = "invalid input syntax for type uuid"
"""What Postgres says about a non-UUID id (the real backend's page does not: its log does)."""
_UUID = re.compile(r"^[0-9a-fA-F]{8}-?(?:[0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}$")
_UUID_BRACED = re.compile(r"^\{[0-9a-fA-F-]{32,36}\}$")


def agent_id_advice(audience: Audience = NOTEBOOK) -> str:
    """What a valid agent id looks like and where to put it."""
    return (
        "Agent ids on Powabase are UUIDs such as 3f2b6c1e-8d4a-4b7e-9f00-2c5d8e1a7b3c: copy "
        f"the agent's id from Powabase Studio and pass it as {audience.agent_id}."
    )


def agent_not_found_advice(audience: Audience = NOTEBOOK) -> str:
    """What to do when the server knows no such agent."""
    return (
        "Check the agent id: copy it from the agent's page in Powabase Studio"
        f"{audience.first_agent}."
    )


def run_resend_advice(audience: Audience = NOTEBOOK) -> str:
    """What to check before sending a message again when a run's request may have arrived."""
    lister = f" ({audience.sessions} lists them)" if audience.sessions else ""
    return (
        f"The run may have started on the server: look for it in the agent's sessions{lister} "
        "before sending the message again. Not retried automatically, because a run is not "
        "idempotent."
    )


AGENT_ID_ADVICE = agent_id_advice()
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


def long_wait_error(error: PowabaseError, cap: Cap) -> PowabaseError:
    """`error` (a 429 or a 5xx) told the client to wait longer than `cap`: say so, at once.

    Its message names the wait the server asked for and how to raise the cap; nothing was
    retried.
    """
    wait = how_long(error.retry_after or 0.0)
    detail = summarise_body(error.body or "")
    said = f": {detail}" if detail else ""
    if error.status_code == 429:
        what = f"Powabase is rate limiting requests (HTTP 429{said})"
    else:
        what = f"The Powabase server is unavailable (HTTP {error.status_code}{said})"
    error.message = (
        f"{what} and asked to wait {wait} before trying again (Retry-After), longer than "
        f"powawidget waits ({cap.shown()}), so it did not retry. Try again after that. "
        f"{cap.advice()}"
    )
    error.args = (error.message,)
    return error


def too_large_error(kind: str, what: str, cap: Cap, advice: str = "") -> TooLargeError:
    """An answer past a cap (`kind`: "event", "answer" or "decompressed"); `what` names
    the request ("the run's stream", "GET /api/agents"); `advice` says what was kept."""
    if kind == "event":
        text = (
            f"One event of {what} was larger than {cap.shown()} (the cap on one event), so "
            "powawidget stopped reading it."
        )
    elif kind == "answer":
        text = (
            f"The server's answer to {what} was larger than {cap.shown()} (the cap on one "
            "answer), so powawidget stopped reading it."
        )
    else:
        text = (
            f"The server's compressed answer to {what} expanded past {cap.shown()} (the cap "
            "on decompressed bytes: that much is usually a broken or hostile server), so "
            "powawidget stopped reading it."
        )
    kept = f" {advice}" if advice else ""
    return TooLargeError(
        f"{text}{kept} {cap.advice()}",
        limit=cap.bytes,
        setting=f"{cap.argument}=" if cap.passed else cap.env,
        code=f"{kind}_too_large",
    )


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
    bad_id: str | None = None,
) -> PowabaseError:
    """The typed error for an HTTP error answer; `subject` names what was asked for (for 404).

    `bad_id` is the request's id that is not a UUID where the server wants one: a 500 is
    then the invalid-id error (the real backend's page says nothing about it), permanent;
    `bad_id_advice` says what a valid id looks like. `key_setting` is where the key came
    from ("api_key=" or the variable that held it).
    """
    detail = summarise_body(body, content_type)
    said = f": {detail}" if detail else ""
    kwargs: dict[str, Any] = {"status_code": status, "body": body, "retry_after": retry_after}
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
            f"pass it as {key_setting}"
            if Audience.passed(key_setting)
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
            **kwargs,
        )
    if (status == 500 and bad_id is not None) or (status >= 500 and UUID_SYNTAX in body.lower()):
        why = f"{bad_id!r} is not a UUID" if bad_id is not None else UUID_SYNTAX
        return InvalidIdError(
            f"{subject}: Powabase cannot read this id (HTTP {status}: {why}). "
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
    """The key as the user gave it: "the api_key= you passed" (or "--api-key"), "the key in
    VARIABLE", or the key of whatever chose it ("the built-in local server's key")."""
    if Audience.passed(key_setting):
        return f"the {key_setting} you passed"
    if key_setting.startswith("POWABASE_"):
        return f"the key in {key_setting}"
    return f"{key_setting}'s key"


def not_a_listing_error(what: str, data: Any, key: str, url_setting: str) -> PowabaseError:
    """A listing endpoint (`what` = "METHOD /path") answered JSON without the list under
    `key` that Powabase sends (`{"<key>": [...], ...}`)."""
    if isinstance(data, dict):
        shape = "an object with " + (", ".join(map(repr, sorted(data)[:6])) or "no keys")
    else:
        shape = "a list" if isinstance(data, list) else f"a JSON {type(data).__name__}"
    return PowabaseError(
        f"The server answered {what} with {shape}, not an object with {key!r}: it does not "
        f"answer like Powabase. Check that {_the_url_in(url_setting)} is the project's API URL.",
        code="unexpected_response",
    )


def _the_url_in(url_setting: str) -> str:
    """The URL as the user gave it: "the base_url= you passed" (or "--base-url"), the
    variable's name, or the address of whatever chose it ("the built-in local server's
    address")."""
    if Audience.passed(url_setting):
        return f"the {url_setting} you passed"
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
    idle_setting: str = NOTEBOOK.idle_timeout,
) -> PowabaseError:
    """The error for a request that got no answer; `what` is "METHOD /path".

    `url_setting` is where the URL came from ("base_url=", "--base-url" or the variable),
    `idle_setting` how the user raises the idle timeout; both are named in advice.

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
            f"may still be working; raise {idle_setting} for slow agents.",
            code="idle_timeout",
        )
    return PowabaseError(
        f"{what} could not be sent: {cause}. Check {_the_url_in(url_setting)}.",
        code="request_failed",
    )


def redirect_error(status: int, location: str, url_setting: str = ENV_BASE_URL) -> PowabaseError:
    """A 3xx answer: powawidget never follows redirects, so the key stays with one host.

    The caller masks the key in `location` (a portal may put it in the query string)."""
    location = _shorten(location, 300) or "elsewhere"
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
