"""The server's answers turned into typed errors that say what to do next.

Each function reads one kind of failed answer (a status code and its body, a redirect, a
body that is not an event stream or not JSON, a request that never got an answer) and
returns the `powawidget.wire.errors` error for it, with advice in the user's own terms: the
setting they used (an argument in a notebook, a flag in a terminal, else the variable;
`config.Audience`), never the key itself.

What an answer says (its body's detail, Retry-After) is read in `powawidget.wire.details`;
the advice's wording is `powawidget.wire.advice`'s. Both are re-exported here.
"""

from __future__ import annotations

from typing import Any

from powawidget.wire.advice import (
    AGENT_ID_ADVICE,
    agent_id_advice,
    agent_not_found_advice,
    run_resend_advice,
    the_key_in,
    the_url_in,
)
from powawidget.wire.config import (
    ENV_API_KEY,
    ENV_API_KEY_ALIAS,
    ENV_BASE_URL,
    NOTEBOOK,
    Audience,
    Cap,
)
from powawidget.wire.details import (
    DETAIL_LIMIT,
    UUID_SYNTAX,
    how_long,
    is_uuid,
    parse_retry_after,
    shorten,
    summarise_body,
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

__all__ = [
    "AGENT_ID_ADVICE",
    "DETAIL_LIMIT",
    "UUID_SYNTAX",
    "agent_id_advice",
    "agent_not_found_advice",
    "error_for_status",
    "how_long",
    "is_uuid",
    "long_wait_error",
    "not_a_listing_error",
    "not_event_stream_error",
    "not_json_error",
    "parse_retry_after",
    "redirect_error",
    "run_resend_advice",
    "send_failed_error",
    "summarise_body",
    "too_large_error",
]


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
            f"{the_key_in(key_setting)} is this project's key. powawidget sends it in both "
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


def not_a_listing_error(what: str, data: Any, key: str, url_setting: str) -> PowabaseError:
    """A listing endpoint (`what` = "METHOD /path") answered JSON without the list under
    `key` that Powabase sends (`{"<key>": [...], ...}`)."""
    if isinstance(data, dict):
        shape = "an object with " + (", ".join(map(repr, sorted(data)[:6])) or "no keys")
    else:
        shape = "a list" if isinstance(data, list) else f"a JSON {type(data).__name__}"
    return PowabaseError(
        f"The server answered {what} with {shape}, not an object with {key!r}: it does not "
        f"answer like Powabase. Check that {the_url_in(url_setting)} is the project's API URL.",
        code="unexpected_response",
    )


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
            f"{the_url_in(url_setting)} uses the right host; behind a proxy that inspects "
            "TLS, point REQUESTS_CA_BUNDLE at its certificate."
        )
    if exc_kind == "unreachable":
        return ConnectionFailedError(
            f"Could not reach {base_url} ({cause}) after {attempts} attempt(s). Check "
            f"{the_url_in(url_setting)} and your network; a local server started with "
            "powawidget serve must still be running."
        )
    if exc_kind == "timeout":
        return StreamError(
            f"{what}: no answer from {base_url} within {wait:g} s (idle timeout). The server "
            f"may still be working; raise {idle_setting} for slow agents.",
            code="idle_timeout",
        )
    return PowabaseError(
        f"{what} could not be sent: {cause}. Check {the_url_in(url_setting)}.",
        code="request_failed",
    )


def redirect_error(status: int, location: str, url_setting: str = ENV_BASE_URL) -> PowabaseError:
    """A 3xx answer: powawidget never follows redirects, so the key stays with one host.

    The caller masks the key in `location` (a portal may put it in the query string)."""
    location = shorten(location, 300) or "elsewhere"
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
        f"{the_url_in(url_setting)} is the project's API URL (https://<ref>.p.powabase.ai), "
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
        f"{summarise_body(body)!r}. Check that {the_url_in(url_setting)} is the project's "
        "API URL.",
        status_code=status,
        code="unexpected_response",
        body=body,
    )
