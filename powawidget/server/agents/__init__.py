"""The local server's agents, in listing order (`agt_demo` first); the fault agents are in
server/faults/ (served only when asked for)."""

from __future__ import annotations

from powawidget.server.agents.approval import ApprovalAgent
from powawidget.server.agents.demo import DemoAgent
from powawidget.server.agents.docs import DocsAgent
from powawidget.server.agents.grounded import CitationsAgent, PlainAgent
from powawidget.server.agents.judge import JudgeAgent
from powawidget.server.agents.timing import LongAgent, SlowToolAgent
from powawidget.server.protocol import Agent

AGENTS: list[Agent] = [
    DemoAgent(),
    ApprovalAgent(),
    DocsAgent(),
    SlowToolAgent(),
    LongAgent(),
    PlainAgent(),
    CitationsAgent(),
    JudgeAgent(),
]

__all__ = [
    "AGENTS",
    "ApprovalAgent",
    "CitationsAgent",
    "DemoAgent",
    "DocsAgent",
    "JudgeAgent",
    "LongAgent",
    "PlainAgent",
    "SlowToolAgent",
]
