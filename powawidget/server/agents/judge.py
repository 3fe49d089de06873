"""`agt_judge`: a grading agent for `scorers.judge`, so an evaluation's judge works offline.

It reads the grading request `scorers.judge` sends (`Rubric:`, `Question:`, `Expected:`,
`Answer:` lines) and replies in the fixed format asked for: `VERDICT: PASS|FAIL` then
`REASON: ...`. Its rule is plain: with an expected answer, the answer must contain it
(case and spacing aside); without one, the answer must say something other than "I
couldn't find that". A real judge is a Powabase agent with a rubric in its instructions.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

from powawidget.server.agents.loop import ServerRun
from powawidget.server.protocol import Dialect, RunContext

_FIELD = re.compile(r"^(Rubric|Question|Expected|Answer):[ \t]?(.*)$", re.MULTILINE)
_REFUSALS = ("couldn't find", "could not find", "i don't know")


def fields(message: str) -> dict[str, str]:
    """The labelled lines of a grading request. The first `Answer:` runs to the closing
    "Reply with ..." instructions, so labels inside the answer are the answer's text."""
    head, _, answer = message.partition("\nAnswer:")
    found = {m.group(1).lower(): m.group(2).strip() for m in reversed(list(_FIELD.finditer(head)))}
    if answer or message.startswith("Answer:"):
        answer = answer if answer else message[len("Answer:") :]
        found["answer"] = answer.rsplit("\n\nReply with", 1)[0].strip()
    return found


def verdict(message: str) -> tuple[bool, str]:
    """(passed, reason) for one grading request."""
    asked = fields(message)
    answer = " ".join(asked.get("answer", "").split()).casefold()
    expected = " ".join(asked.get("expected", "").split()).casefold()
    if not answer:
        return False, "the answer is empty."
    if expected:
        if expected in answer:
            return True, f"the answer states the expected {asked['expected']!r}."
        return False, f"the answer does not state the expected {asked['expected']!r}."
    if any(phrase in answer for phrase in _REFUSALS):
        return False, "the answer declines instead of answering."
    return True, "the answer addresses the question."


class JudgeAgent:
    """Grades an answer and replies `VERDICT: PASS|FAIL` and `REASON: ...`."""

    id = "agt_judge"
    name = "Answer judge"
    model = "powabase-demo-1"
    dialect: Dialect = "server"
    description = (
        "Grades an answer against a rubric for scorers.judge: replies 'VERDICT: PASS' or "
        "'VERDICT: FAIL' and a one-line reason (offline: the answer must contain the "
        "expected one)."
    )
    system_prompt = (
        "You grade answers. Reply with exactly one line `VERDICT: PASS` or `VERDICT: FAIL`, "
        "then one line `REASON: ...`."
    )

    async def run(self, ctx: RunContext, message: str) -> AsyncIterator[dict[str, Any]]:
        """Read the request, stream the verdict."""
        run = ServerRun(ctx, message, self.system_prompt, {})
        yield run.start()
        passed, reason = verdict(message)
        text = f"VERDICT: {'PASS' if passed else 'FAIL'}\nREASON: {reason}"
        async for event in run.answer(text, thinking="I'll compare the answer with the rubric."):
            yield event
