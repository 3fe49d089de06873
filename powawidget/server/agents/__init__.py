"""The local server's agents, in listing order (`agt_demo` first); fault agents are C1's."""

from __future__ import annotations

from powawidget.server.agents.approval import ApprovalAgent
from powawidget.server.agents.demo import DemoAgent
from powawidget.server.agents.docs import DocsAgent
from powawidget.server.agents.timing import LongAgent, SlowToolAgent
from powawidget.server.protocol import Agent

AGENTS: list[Agent] = [DemoAgent(), ApprovalAgent(), DocsAgent(), SlowToolAgent(), LongAgent()]

__all__ = ["AGENTS", "ApprovalAgent", "DemoAgent", "DocsAgent", "LongAgent", "SlowToolAgent"]
