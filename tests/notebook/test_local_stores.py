"""The zero-config local server keeps each folder's chats in their own store, and
evaluations' runs apart: the demo's session picker lists the demo's chats only."""

from __future__ import annotations

from pathlib import Path

import pytest

from powawidget import ChatWidget, evaluate
from powawidget.server.settings import local_store_path


@pytest.fixture
def zero_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No Powabase settings, and a per-user data folder of the test's own."""
    for name in ("POWABASE_BASE_URL", "POWABASE_API_KEY", "POWABASE_SERVICE_ROLE_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return tmp_path


def test_a_folders_chats_are_listed_apart_from_evaluations_and_other_folders(
    zero_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo, other = zero_config / "powawidget-demo", zero_config / "elsewhere"
    demo.mkdir()
    other.mkdir()
    monkeypatch.chdir(demo)
    chat = ChatWidget(agent_id="agt_demo")
    try:
        chat.ask("Which plan is cheapest?", timeout=60)
        ev = evaluate("agt_demo", ["What is 31 * 56?", "What is 2 + 2?"], display=False)
        assert ev.wait(60)
        assert len(ev.runs) == 2 and all(r["status"] == "completed" for r in ev.runs)
        listed = chat.sessions()
        assert [r["first_message"] for r in listed] == ["Which plan is cheapest?"]
        assert [r["session_id"] for r in listed] == [chat.session_id]
        monkeypatch.chdir(other)
        elsewhere = ChatWidget(agent_id="agt_demo")
        try:
            assert list(elsewhere.sessions()) == []
        finally:
            elsewhere.close()
    finally:
        chat.close()
    data = zero_config / "data" / "powawidget"
    assert local_store_path("chats", demo).is_file()
    assert local_store_path("chats", demo).parent == data / "chats"
    assert local_store_path("chats", demo).name.startswith("powawidget-demo-")
    assert local_store_path("evaluations", demo).is_file()
    assert local_store_path("chats", other) != local_store_path("chats", demo)


def test_a_store_is_chats_or_evaluations() -> None:
    with pytest.raises(ValueError, match="chats, evaluations"):
        local_store_path("notes")
