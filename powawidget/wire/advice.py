"""Advice in the user's own terms: what a valid agent id looks like, what to do about an
unknown one or a run that may have started, and how to name the key or URL a user gave.

Each function takes the `config.Audience` reading it (an argument in a notebook, a flag in
a terminal, else the variable), never the key itself; `powawidget.wire.answers` puts this
wording into its errors.
"""

from __future__ import annotations

from powawidget.wire.config import NOTEBOOK, Audience

__all__ = [
    "AGENT_ID_ADVICE",
    "agent_id_advice",
    "agent_not_found_advice",
    "run_resend_advice",
    "the_key_in",
    "the_url_in",
]


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


def the_key_in(key_setting: str) -> str:
    """The key as the user gave it: "the api_key= you passed" (or "--api-key"), "the key in
    VARIABLE", or the key of whatever chose it ("the built-in local server's key")."""
    if Audience.passed(key_setting):
        return f"the {key_setting} you passed"
    if key_setting.startswith("POWABASE_"):
        return f"the key in {key_setting}"
    return f"{key_setting}'s key"


def the_url_in(url_setting: str) -> str:
    """The URL as the user gave it: "the base_url= you passed" (or "--base-url"), the
    variable's name, or the address of whatever chose it ("the built-in local server's
    address")."""
    if Audience.passed(url_setting):
        return f"the {url_setting} you passed"
    if url_setting.startswith("POWABASE_"):
        return url_setting
    return f"{url_setting}'s address"
