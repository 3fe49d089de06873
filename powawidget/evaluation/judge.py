"""`scorers.judge`: a Powabase agent grades each answer, replying in a fixed format.

The judge's run goes through the evaluation's own client (`bind`): its 429s pause the
pool and its tokens count toward `max_tokens`. Its reply must hold a line
`VERDICT: PASS` or `VERDICT: FAIL` (the prompt asks for it); anything else is an error
for that row (None in the column, an `errors` entry), never a failed evaluation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

VERDICT = re.compile(r"^\W*verdict\W*:?\s*\**\s*(pass|fail)\b", re.IGNORECASE | re.MULTILINE)
"""The verdict line the judge is asked for: `VERDICT: PASS` or `VERDICT: FAIL`."""


def judge_prompt(rubric: str, row: Mapping[str, Any], expected: str | None) -> str:
    """The message sent to the judge agent for one row."""
    lines = [
        "Grade the answer below against the rubric.",
        f"Rubric: {rubric}",
        f"Question: {row.get('prompt') or ''}",
    ]
    if expected and row.get(expected) is not None:
        lines.append(f"Expected: {row.get(expected)}")
    lines += [
        f"Answer: {row.get('answer') or ''}",
        "",
        "Reply with exactly one line `VERDICT: PASS` or `VERDICT: FAIL`, then one line "
        "`REASON: ...`.",
    ]
    return "\n".join(lines)


def parse_verdict(text: str) -> bool:
    """True for PASS, False for FAIL (the last verdict line counts); ValueError otherwise."""
    found = VERDICT.findall(text or "")
    if not found:
        shown = (text or "").strip().replace("\n", " ")[:200]
        raise ValueError(
            f"the judge's reply has no 'VERDICT: PASS' or 'VERDICT: FAIL' line: {shown!r}; "
            "check that the judge agent's instructions let it answer in that format."
        )
    return found[-1].lower() == "pass"


class Judge:
    """The scorer `scorers.judge(...)` returns; `evaluate` binds it to its client."""

    def __init__(
        self,
        agent_id: str,
        rubric: str,
        *,
        expected: str | None = "expected",
        name: str = "judge",
        timeout: float = 120.0,
    ) -> None:
        if not isinstance(agent_id, str) or not agent_id:
            raise TypeError("scorers.judge() needs the judge agent's id first")
        if not isinstance(rubric, str) or not rubric.strip():
            raise ValueError("scorers.judge(rubric=...) needs the grading rubric as text")
        self.agent_id = agent_id
        self.rubric = rubric
        self.expected = expected
        self.name = name
        self.timeout = timeout
        self._client: Any = None
        self._gate: Any = None

    def __repr__(self) -> str:
        return f"scorers.judge({self.agent_id!r})"

    def bind(self, client: Any, gate: Any = None) -> None:
        """Send the judge's runs through `client` (and count their tokens on `gate`)."""
        self._client = client
        self._gate = gate

    def __call__(self, row: Mapping[str, Any]) -> bool:
        from powawidget.session.run import start_run

        if self._client is None:
            raise RuntimeError(
                "this judge is not connected: rescore a loaded evaluation with "
                "ev.rescore([...], base_url=..., api_key=...) or run it through evaluate()"
            )
        handle = start_run(
            self._client, self.agent_id, judge_prompt(self.rubric, row, self.expected)
        )
        if not handle.wait(self.timeout):
            handle.stop()
            raise TimeoutError(f"the judge {self.agent_id!r} gave no verdict in {self.timeout} s")
        if handle.error is not None:
            raise RuntimeError(f"the judge's run failed: {handle.error.message}")
        turn = handle.turn
        if self._gate is not None and turn is not None:
            from powawidget.model.conversation import usage_tokens

            self._gate.spend(usage_tokens(turn.usage)[2])
        return parse_verdict(handle.text)
