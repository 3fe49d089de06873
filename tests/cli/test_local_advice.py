"""Against the built-in local server a wrong id's advice lists the ids it has: its user has
no Powabase Studio to copy one from."""

from __future__ import annotations

from typing import Any

import pytest

from powawidget.cli.main import main
from powawidget.wire.client import OrchestrationId, PowabaseClient
from powawidget.wire.config import TERMINAL
from powawidget.wire.errors import NotFoundError

LOCAL = "the built-in local server"


def test_a_client_of_the_local_server_names_its_ids(local_server: Any) -> None:
    url, key = local_server.base_url, local_server.api_key
    with PowabaseClient(url, key, origin=LOCAL, uuid_agent_ids=False, audience=TERMINAL) as c:
        agents = [a["id"] for a in c.list_agents()]
        with pytest.raises(NotFoundError) as run:
            c.stream_run("agt_nope", "hi")
        with pytest.raises(NotFoundError) as agent:
            c.get_agent("agt_nope")
        with pytest.raises(NotFoundError) as orchestration:
            c.get_orchestration(OrchestrationId("orch_nope"))
    for error in (run.value, agent.value):
        assert f"Check the agent id: {LOCAL} has {', '.join(agents)}." in str(error)
        assert "Studio" not in str(error)
    assert "agt_demo" in agents
    assert f"{LOCAL} has orch_demo" in str(orchestration.value)
    with (
        PowabaseClient(url, key, uuid_agent_ids=False) as chosen_by_the_user,
        pytest.raises(NotFoundError) as elsewhere,
    ):
        chosen_by_the_user.get_agent("agt_nope")
    assert "Powabase Studio" in str(elsewhere.value) and "agt_demo" not in str(elsewhere.value)


def test_powawidget_chat_local_lists_the_local_ids(capsys: Any) -> None:
    assert main(["chat", "--local", "agt_nope", "hi"]) == 1
    err = capsys.readouterr().err
    assert f"Check the agent id: {LOCAL} has agt_demo, " in err
    assert "Studio" not in err
    assert main(["chat", "--local", "--orchestration", "orch_nope", "hi"]) == 1
    err = capsys.readouterr().err
    assert "Orchestration orch_nope not found" in err
    assert f"Check the orchestration id: {LOCAL} has orch_demo." in err
