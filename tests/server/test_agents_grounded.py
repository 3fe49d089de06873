"""The agents without tools: `agt_plain` on the standard streaming path and `agt_citations`
with numbered sources, read over HTTP."""

from __future__ import annotations

import json
import re

from server_http import api, stream_path
from server_shapes import USAGE_KEYS, assert_plain_stream

CITATION_KEYS = ["key", "item_id", "source_id", "source_name", "text_excerpt", "meta"]


def run(server: object, agent_id: str, message: str, **options: object) -> tuple[list, dict]:
    """The frames of one streamed run and the stored run."""
    with api(server) as client:
        response = client.post(stream_path(agent_id), json={"message": message, **options})
        frames = [
            json.loads(b[6:]) for b in response.content.split(b"\n\n") if b.startswith(b"data: ")
        ]
        stored = client.get(f"/api/agents/runs/{frames[0]['run_id']}").json()
    return frames, stored


def test_an_agent_without_tools_streams_the_standard_shape_and_stores_its_usage(local_server):
    frames, stored = run(local_server, "agt_plain", "How much is Orbit Team?")
    assert_plain_stream(frames, reasoning=True)
    names = [f["event"] for f in frames if not f["event"].endswith("_delta")]
    assert names == ["start", "chunk", "reasoning", "complete"]
    complete = frames[-1]
    assert "$12 per seat / month" in complete["content"]
    assert complete["retrieved_items"] == 1 and complete["context_handler_id"]
    assert complete["is_new_session"] is True
    assert stored["usage"]["total_tokens"] > 0, "the usage is on GET /api/agents/runs/{id}"
    assert list(stored["usage"]) == USAGE_KEYS
    assert stored["events"] is None and stored["steps"] is None
    assert stored["reasoning_steps"] == [
        {"step": 1, "source": "thinking", "content": frames[-2]["content"]}
    ]


def test_a_second_run_in_the_session_is_not_a_new_session(local_server):
    first, _ = run(local_server, "agt_plain", "What is the refund policy?")
    second, _ = run(local_server, "agt_plain", "And shipping?", session_id=first[0]["session_id"])
    assert second[-1]["is_new_session"] is False


def test_citations_list_the_candidates_on_start_and_the_cited_sources_on_complete(
    local_server,
):
    frames, stored = run(
        local_server, "agt_citations", "What is the refund policy?", citations_enabled=True
    )
    candidates = frames[0]["citation_candidates"]
    assert [list(c) for c in candidates] == [CITATION_KEYS] * len(candidates)
    assert [c["key"] for c in candidates] == ["1", "2", "3"]
    assert all(c["source_name"] == "policies/refund.md" for c in candidates)
    complete = frames[-1]
    text = complete["content"]
    markers = re.findall(r"\[(\d+)\]", text)
    assert markers == ["1", "2", "3"]
    assert complete["citations"] == candidates, "each candidate cited once, in order"
    assert "30 days" in candidates[0]["text_excerpt"]
    assert complete["retrieved_items"] == 3 and complete["context_handler_id"]
    assert stored["content"] == text


def test_an_invented_marker_streams_but_is_gone_from_the_final_text(local_server):
    frames, _ = run(local_server, "agt_citations", "What is the refund policy?")
    deltas = "".join(f["delta"] for f in frames if f["event"] == "content_delta")
    chunk = next(f for f in frames if f["event"] == "chunk")
    assert "[1][4]" in deltas, "the model cited a source that does not exist"
    assert "[4]" not in chunk["content"] and chunk["content"] == frames[-1]["content"]
    assert chunk["content"] == deltas.replace("[4]", "")


def test_citations_can_be_turned_off_and_nothing_found_cites_nothing(local_server):
    off, _ = run(
        local_server, "agt_citations", "What is the refund policy?", citations_enabled=False
    )
    assert "citation_candidates" not in off[0] and "citations" not in off[-1]
    assert not re.search(r"\[\d+\]", off[-1]["content"])
    nothing, _ = run(local_server, "agt_citations", "Who won the 2018 World Cup?")
    assert nothing[0]["citation_candidates"] == [] and nothing[-1]["citations"] == []
    assert nothing[-1]["retrieved_items"] == 0 and nothing[-1]["context_handler_id"] is None
