"""Faults answered with an HTTP status (or a non-stream body) instead of an event stream."""

from __future__ import annotations

from powawidget.server.faults.agent import FaultAgent, Rejection


class Unauthorized(FaultAgent):
    """401, whatever the key."""

    def reject(self, message: str) -> Rejection | None:
        return Rejection.json(401, {"error": "Invalid API key"})


class InsufficientCredits(FaultAgent):
    """402: the project ran out of credits (never worth a retry)."""

    def reject(self, message: str) -> Rejection | None:
        return Rejection.json(
            402,
            {
                "error": "insufficient_credits",
                "message": "Your project has no credits left. Add credits to continue.",
            },
        )


class AgentMissing(FaultAgent):
    """404 on run, as for an agent deleted after it was listed."""

    def reject(self, message: str) -> Rejection | None:
        return Rejection.json(404, {"error": "Agent not found"})


class RateLimited(FaultAgent):
    """429 with Retry-After: 1 the first time a message is sent, then a normal run."""

    def reject(self, message: str) -> Rejection | None:
        if self.first_time(message):
            return Rejection.json(
                429,
                {"error": "rate_limited", "message": "Too many requests, retry later."},
                Retry_After="1",
            )
        return None


class Unavailable(FaultAgent):
    """503 the first time a message is sent, then a normal run."""

    def reject(self, message: str) -> Rejection | None:
        if self.first_time(message):
            return Rejection.json(503, {"error": "billing service unreachable, please retry"})
        return None


class NotEventStream(FaultAgent):
    """200 with an HTML page, as a captive portal or a misrouted proxy answers."""

    def reject(self, message: str) -> Rejection | None:
        page = b"<!doctype html><html><body><h1>Welcome</h1><p>Sign in first.</p></body></html>"
        return Rejection(200, page, content_type="text/html; charset=utf-8")
