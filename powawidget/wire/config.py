"""Client configuration: the project URL and API key from arguments or the environment.

Checked once, up front, so a missing or mistyped setting fails with advice before any
request; the key travels as `KeyAuth`, in both headers Powabase checks.
"""

from __future__ import annotations

import os

import requests
import requests.auth

__all__ = [
    "ENV_API_KEY",
    "ENV_API_KEY_ALIAS",
    "ENV_BASE_URL",
    "KeyAuth",
    "api_key_setting",
    "base_url_setting",
    "resolve_api_key",
    "resolve_base_url",
]

ENV_BASE_URL = "POWABASE_BASE_URL"
ENV_API_KEY = "POWABASE_API_KEY"
ENV_API_KEY_ALIAS = "POWABASE_SERVICE_ROLE_KEY"
"""The environment variables users keep their project's URL and key in (errors' advice
names them too, so `wire.errors` imports them from here, not the other way round)."""


class KeyAuth(requests.auth.AuthBase):
    """Puts the key in both headers Powabase checks (as auth, so ~/.netrc cannot replace it)."""

    def __init__(self, key: str) -> None:
        self._key = key

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["apikey"] = self._key
        request.headers["Authorization"] = f"Bearer {self._key}"
        return request

    def __repr__(self) -> str:
        return "<Powabase key auth>"


def base_url_setting(base_url: str | None) -> str:
    """Where the URL comes from, as the user would fix it: "base_url=" or the variable."""
    return "base_url=" if base_url is not None else ENV_BASE_URL


def api_key_setting(api_key: str | None) -> str:
    """Where the key comes from: "api_key=", or the variable that holds it."""
    if api_key is not None:
        return "api_key="
    return ENV_API_KEY if os.environ.get(ENV_API_KEY) else ENV_API_KEY_ALIAS


def resolve_base_url(base_url: str | None) -> str:
    """The base URL from the argument or the environment, checked; no trailing slash."""
    value = (base_url if base_url is not None else os.environ.get(ENV_BASE_URL, "")).strip()
    if not value:
        raise _configuration_error(
            f"No Powabase URL: set {ENV_BASE_URL} to your project URL "
            "(https://<ref>.p.powabase.ai) or pass base_url=. To chat with the built-in local "
            "agents instead, leave out base_url= and api_key= (in a terminal: powawidget chat "
            "--local)."
        )
    if not value.lower().startswith(("http://", "https://")):
        raise _configuration_error(
            f"The Powabase URL {value!r} must start with https:// (or http:// for a local "
            f"server): fix {base_url_setting(base_url)}."
        )
    return value.rstrip("/")


def resolve_api_key(api_key: str | None) -> str:
    """The API key from the argument or the environment (with its alias), checked."""
    value = api_key
    if value is None:
        value = os.environ.get(ENV_API_KEY) or os.environ.get(ENV_API_KEY_ALIAS)
    value = (value or "").strip()
    if not value:
        raise _configuration_error(
            f"No Powabase API key: set {ENV_API_KEY} (or {ENV_API_KEY_ALIAS}) to the "
            "project's service role key, or pass api_key=."
        )
    if any(ch in value for ch in "\r\n\0") or not value.isascii() or " " in value:
        raise _configuration_error(
            "The API key contains spaces, line breaks or non-ASCII characters: copy it again "
            f"into {api_key_setting(api_key)}."
        )
    return value


def _configuration_error(message: str) -> Exception:
    """A `ConfigurationError` (imported here: `wire.errors` imports this module's names)."""
    from powawidget.wire.errors import ConfigurationError

    return ConfigurationError(message)
