"""`agt_docs`: the demo assistant speaking the documented dialect of the public streaming guide.

Same brain as `agt_demo`; its server-dialect events are rewritten to the documented fields
only: `start` {session_id, run_id}, `step_started`/`step_completed` {step_number}, `chunk`
{content} as deltas (no content_delta, no terminal whole-text chunk), `tool_call`
{tool_name, arguments}, `tool_result` {result}, `complete` {usage}. A message containing
"fail" ends in `error` {message, code: "rate_limited"}.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

from powawidget.server.agents.demo import DemoAgent
from powawidget.server.agents.loop import ServerRun
from powawidget.server.protocol import Dialect, RunContext, readable
from powawidget.server.tools import TOOLS

RATE_LIMIT_MESSAGE = "Rate limit exceeded: too many requests for this project, retry in 20 s."


def documented(event: dict[str, Any], run: ServerRun) -> dict[str, Any] | None:
    """One server-dialect event in documented fields, or None when the guide has no such event."""
    name = event["event"]
    if name in ("step_started", "step_completed"):
        return {"event": name, "step_number": event["step"]}
    if name == "content_delta":
        return {"event": "chunk", "content": event["delta"]}
    if name == "tool_call":
        return {"event": name, "tool_name": event["tool_name"], "arguments": event["arguments"]}
    if name == "tool_result":
        return {"event": name, "result": run.finished[event["call_id"]].result}
    if name == "complete":
        return {"event": name, "usage": event["usage"]}
    return None  # reasoning, the terminal whole-text chunk: not in the guide


class DocsAgent:
    """The demo assistant, streamed exactly as the public docs describe."""

    id = "agt_docs"
    name = "Docs-dialect assistant"
    model = "powabase-demo-1"
    dialect: Dialect = "documented"
    uses_tools = True
    description = (
        "The demo assistant in the documented stream format (step_number, chunk deltas, "
        "result). Send a message containing 'fail' to get a rate_limited error event."
    )
    system_prompt = DemoAgent.system_prompt

    async def run(self, ctx: RunContext, message: str) -> AsyncIterator[dict[str, Any]]:
        """Answer like agt_demo, in documented fields; "fail" → a rate_limited error."""
        yield {"event": "start", "session_id": ctx.session_id, "run_id": ctx.run_id}
        if re.search(r"\bfail", readable(message), re.IGNORECASE):
            yield {"event": "step_started", "step_number": 1}
            yield {"event": "error", "message": RATE_LIMIT_MESSAGE, "code": "rate_limited"}
            return
        run = ServerRun(ctx, message, self.system_prompt, TOOLS)
        async for event in DemoAgent().respond(run, message):
            translated = documented(event, run)
            if translated is not None:
                yield translated
