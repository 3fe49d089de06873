"""Client configuration: the project URL, the API key and the caps, from arguments or the
environment.

Checked once, up front, so a missing or mistyped setting fails with advice before any
request; the key travels as `KeyAuth`, in both headers Powabase checks. The caps (`Cap`,
`Limits`) bound what one answer may cost: each comes from a `PowabaseClient` argument, else
its `POWABASE_MAX_*` variable, else its default, and errors name the one the user set.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import requests
import requests.auth

__all__ = [
    "ENV_API_KEY",
    "ENV_API_KEY_ALIAS",
    "ENV_BASE_URL",
    "ENV_MAX_ANSWER_MB",
    "ENV_MAX_DECOMPRESSED_MB",
    "ENV_MAX_EVENT_MB",
    "ENV_MAX_RETRY_AFTER",
    "MB",
    "NOTEBOOK",
    "TERMINAL",
    "Audience",
    "Cap",
    "KeyAuth",
    "Limits",
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

ENV_MAX_EVENT_MB = "POWABASE_MAX_EVENT_MB"
ENV_MAX_ANSWER_MB = "POWABASE_MAX_ANSWER_MB"
ENV_MAX_DECOMPRESSED_MB = "POWABASE_MAX_DECOMPRESSED_MB"
ENV_MAX_RETRY_AFTER = "POWABASE_MAX_RETRY_AFTER"
"""The caps' variables: MB (1,000,000 bytes) for sizes, seconds for the Retry-After wait."""

MB = 1_000_000
DEFAULT_MAX_EVENT_MB = 64.0  # one event: a `complete` carries every tool's FULL result
DEFAULT_MAX_ANSWER_MB = 128.0  # one JSON answer: a page of 100 stored runs with results
DEFAULT_MAX_DECOMPRESSED_MB = 256.0  # all the bytes one compressed answer expands to
DEFAULT_MAX_RETRY_AFTER = 60.0  # seconds of Retry-After honoured before giving up at once


@dataclass(frozen=True)
class Cap:
    """One settable limit: its value (MB or seconds), and how the user raises it."""

    argument: str  # the PowabaseClient argument, e.g. "max_event_mb"
    env: str  # its environment variable
    value: float
    unit: str  # "MB" or "s"
    passed: bool  # given as an argument (else from the variable or the default)

    @property
    def bytes(self) -> int:
        """The cap in bytes (for sizes)."""
        return int(self.value * MB)

    def shown(self) -> str:
        """The value as the user would write it: "64 MB", "60 s"."""
        return f"{self.value:g} {self.unit}"

    def advice(self) -> str:
        """How to raise the cap, in the setting the user has: the argument they passed, else
        the variable (read when the widget, the client or the command starts)."""
        bigger = f"{self.value * 2:g}"
        if self.passed:
            return f"To allow more, pass a larger {self.argument}= (now {self.value:g})."
        return (
            f"To allow more, set the environment variable {self.env} (now {self.value:g} "
            f"{self.unit}; e.g. {self.env}={bigger}) before making the widget or running "
            "powawidget."
        )


@dataclass(frozen=True)
class Limits:
    """The caps one client applies: one event, one JSON answer, decompressed bytes, and the
    longest Retry-After it waits out (docs/protocol.md, "Caps")."""

    event: Cap
    answer: Cap
    decompressed: Cap
    retry_after: Cap

    @classmethod
    def resolve(
        cls,
        *,
        max_event_mb: float | None = None,
        max_answer_mb: float | None = None,
        max_decompressed_mb: float | None = None,
        max_retry_after: float | None = None,
    ) -> Limits:
        """Each cap from its argument, else its variable, else its default; checked."""
        return cls(
            event=_cap("max_event_mb", ENV_MAX_EVENT_MB, max_event_mb, DEFAULT_MAX_EVENT_MB),
            answer=_cap("max_answer_mb", ENV_MAX_ANSWER_MB, max_answer_mb, DEFAULT_MAX_ANSWER_MB),
            decompressed=_cap(
                "max_decompressed_mb",
                ENV_MAX_DECOMPRESSED_MB,
                max_decompressed_mb,
                DEFAULT_MAX_DECOMPRESSED_MB,
            ),
            retry_after=_cap(
                "max_retry_after",
                ENV_MAX_RETRY_AFTER,
                max_retry_after,
                DEFAULT_MAX_RETRY_AFTER,
                unit="s",
                zero_ok=True,
            ),
        )


def _cap(
    argument: str,
    env: str,
    passed: float | None,
    default: float,
    *,
    unit: str = "MB",
    zero_ok: bool = False,
) -> Cap:
    """One cap, refusing a value that is not a positive number (zero too, for a wait)."""
    raw: object = passed
    where = f"{argument}="
    if passed is None:
        text = os.environ.get(env, "").strip()
        if not text:
            return Cap(argument, env, default, unit, passed=False)
        raw, where = text, env
    try:
        value = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        value = math.nan
    if (
        isinstance(raw, bool)
        or not math.isfinite(value)
        or value < 0
        or (value == 0 and not zero_ok)
    ):
        least = "0 or more" if zero_ok else "more than 0"
        raise _configuration_error(
            f"{where} must be a number of {'seconds' if unit == 's' else 'MB'} ({least}), "
            f"not {raw!r}."
        )
    return Cap(argument, env, value, unit, passed=passed is not None)


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


@dataclass(frozen=True)
class Audience:
    """Who reads the client's advice, and how that person sets each thing: a notebook user
    passes Python arguments, a terminal user flags and environment variables (the GUIDE:
    advice in the user's own terms). The variables (POWABASE_*) are the same for both."""

    base_url: str  #: how to give the project URL
    api_key: str  #: how to give the key
    idle_timeout: str  #: how to wait longer for a silent agent
    agent_id: str  #: how to name the agent
    local: str  #: how to use the built-in local agents instead
    first_agent: str  #: what happens when no agent is named ("" when it cannot happen)
    orchestration_id: str  #: how to name an orchestration
    orchestrations: str  #: how to list the project's orchestrations ("" when it cannot)
    sessions: str = ""  #: how to list an agent's or orchestration's sessions ("" when it cannot)
    runs: str = ""  #: how to list a session's runs ("" when it cannot)

    @staticmethod
    def passed(setting: str) -> bool:
        """Whether a setting is an argument or a flag the user gave (not a variable)."""
        return setting.endswith("=") or setting.startswith("--")


NOTEBOOK = Audience(
    base_url="base_url=",
    api_key="api_key=",
    idle_timeout="idle_timeout=",
    agent_id="ChatWidget(agent_id=...)",
    local="leave out base_url= and api_key=",
    first_agent=" (a ChatWidget made without agent_id= picks the project's first agent)",
    orchestration_id="ChatWidget(orchestration_id=...)",
    orchestrations="ChatWidget.orchestrations() lists them",
    sessions="w.sessions()",
    runs="w.runs",
)
"""Advice for Python: the widget's and the client's arguments."""

TERMINAL = Audience(
    base_url="--base-url",
    api_key="--api-key",
    idle_timeout="--idle-timeout",
    agent_id="the AGENT_ID of powawidget chat",
    local="run powawidget chat with --local",
    first_agent="",
    orchestration_id="powawidget chat --orchestration ID",
    orchestrations="",
)
"""Advice for `powawidget` commands: their flags."""


def base_url_setting(base_url: str | None, audience: Audience = NOTEBOOK) -> str:
    """Where the URL comes from, as the user would fix it: the argument or flag, or the
    variable."""
    return audience.base_url if base_url is not None else ENV_BASE_URL


def api_key_setting(api_key: str | None, audience: Audience = NOTEBOOK) -> str:
    """Where the key comes from: the argument or flag, or the variable that holds it."""
    if api_key is not None:
        return audience.api_key
    return ENV_API_KEY if os.environ.get(ENV_API_KEY) else ENV_API_KEY_ALIAS


def resolve_base_url(base_url: str | None, audience: Audience = NOTEBOOK) -> str:
    """The base URL from the argument or the environment, checked; no trailing slash."""
    value = (base_url if base_url is not None else os.environ.get(ENV_BASE_URL, "")).strip()
    if not value:
        raise _configuration_error(
            f"No Powabase URL: set {ENV_BASE_URL} to your project URL "
            f"(https://<ref>.p.powabase.ai) or pass {audience.base_url}. To chat with the "
            f"built-in local agents instead, {audience.local}."
        )
    if not value.lower().startswith(("http://", "https://")):
        raise _configuration_error(
            f"The Powabase URL {value!r} must start with https:// (or http:// for a local "
            f"server): fix {base_url_setting(base_url, audience)}."
        )
    return value.rstrip("/")


def resolve_api_key(api_key: str | None, audience: Audience = NOTEBOOK) -> str:
    """The API key from the argument or the environment (with its alias), checked."""
    value = api_key
    if value is None:
        value = os.environ.get(ENV_API_KEY) or os.environ.get(ENV_API_KEY_ALIAS)
    value = (value or "").strip()
    if not value:
        raise _configuration_error(
            f"No Powabase API key: set {ENV_API_KEY} (or {ENV_API_KEY_ALIAS}) to the "
            f"project's service role key, or pass {audience.api_key}."
        )
    if any(ch in value for ch in "\r\n\0") or not value.isascii() or " " in value:
        raise _configuration_error(
            "The API key contains spaces, line breaks or non-ASCII characters: copy it again "
            f"into {api_key_setting(api_key, audience)}."
        )
    return value


def _configuration_error(message: str) -> Exception:
    """A `ConfigurationError` (imported here: `wire.errors` imports this module's names)."""
    from powawidget.wire.errors import ConfigurationError

    return ConfigurationError(message)
