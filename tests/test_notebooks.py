"""The shipped notebooks run top to bottom and tell their stories (nbclient, real kernel).

Each notebook runs once, in a kernel of a clean virtual environment made by README's first
command (`pip install -e ".[demo]"` and nothing else): the `test` extra installs more than
`demo`, and this is the check that it never hides a package a shipped notebook imports but
the demo install lacks. It runs in a copy of notebooks/ in a temp folder
(tests/notebook_runs.py), so files it writes (handouts, saved transcripts) never land in the
repository. The install needs PyPI or a pip cache (`pytest -m install` runs this file).
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
from nbconvert import HTMLExporter
from notebook_runs import (
    NOTEBOOKS,
    RearmedNotebookClient,
    clean_env,
    execute_notebook,
    readme_demo_install,
)
from saved_state import saved_entries

NAMES = (
    "01_quickstart.ipynb",
    "02_transcripts_in_pandas.ipynb",
    "03_teaching_live_demo.ipynb",
    "04_evaluate_an_agent.ipynb",
    "05_ask_about_your_data.ipynb",
    "06_a_team_of_agents.ipynb",
)
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"

Executed = tuple[nbformat.NotebookNode, Path]


pytestmark = pytest.mark.install

KERNEL_CHECK = "import sys; print('kernel prefix:', sys.prefix)"


@pytest.fixture(scope="module")
def demo_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Python of a virtual environment made by README's first command."""
    return readme_demo_install(tmp_path_factory.mktemp("readme"))


@pytest.fixture(scope="module")
def execute(demo_python: Path) -> Callable[[str, Path, dict[str, str]], Executed]:
    """Run a notebook in a copy of notebooks/ under a folder, in the demo install's kernel;
    return it (without the cell that checked the kernel) and the folder."""

    def run(name: str, folder: Path, env: dict[str, str]) -> Executed:
        nb = execute_notebook(name, folder, env, demo_python, first_cell=KERNEL_CHECK)
        check = nb.cells.pop(0)
        shown = "".join(o.get("text", "") for o in check.outputs)
        assert f"kernel prefix: {demo_python.parent.parent}" in shown, shown
        return nb, folder

    return run


def kernel_env(**powabase: str) -> dict[str, str]:
    """This process's environment without any Powabase settings or anything that would let
    the test environment leak into the kernel, plus `powabase`."""
    env = clean_env()
    env.update(powabase)
    return env


def test_readme_install_has_no_test_only_packages(demo_python: Path) -> None:
    """The environment is the demo install, not the test one (so it can catch a gap)."""
    probe = (
        "import importlib.util as u; print([m for m in ('pytest', 'playwright') if u.find_spec(m)])"
    )
    found = subprocess.run([str(demo_python), "-c", probe], capture_output=True, text=True)
    assert found.stdout.strip() == "[]", found.stdout + found.stderr


def test_every_shipped_notebook_is_run_here() -> None:
    assert sorted(NAMES) == sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))


def outputs(nb: nbformat.NotebookNode, kind: str) -> list[dict]:
    """Every output of `kind` (stream, display_data, execute_result, error) in order."""
    return [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs
            if o.output_type == kind]  # fmt: skip


def printed(nb: nbformat.NotebookNode) -> str:
    """Everything the notebook printed."""
    return "".join(o["text"] for o in outputs(nb, "stream") if o.get("name") == "stdout")


def shown_markdown(nb: nbformat.NotebookNode) -> str:
    """Everything the notebook showed as rendered Markdown (`text/markdown` outputs)."""
    return "\n".join(
        o["data"]["text/markdown"]
        for kind in ("display_data", "execute_result")
        for o in outputs(nb, kind)
        if "text/markdown" in o.get("data", {})
    )


def chat_states(nb: nbformat.NotebookNode) -> list[dict]:
    """The saved state of every ChatWidget (models with a `history` trait), with `history`
    read as the page reads it: the entries its models hold, oldest first."""
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    return [resolved(state, m["state"]) for m in state.values() if "history" in m["state"]]


def resolved(models: dict, panel: dict) -> dict:
    """A ChatWidget's saved state with `history` as the list of entries it references."""
    return {**panel, "history": saved_entries(models, panel)}


def history_text(state: dict) -> str:
    """All text the saved panel history holds: questions and the answers' text items."""
    words = []
    for entry in state["history"]:
        if entry["kind"] == "turn":
            words.append(entry["userText"] or "")
            words += [i["text"] for i in entry["items"] if i["kind"] == "text"]
    return " ".join(words)


MAX_NOTEBOOK_BYTES = 300_000
"""The most an executed shipped notebook may weigh (outputs and widget state included)."""


def assert_light(nb: nbformat.NotebookNode) -> None:
    """The executed notebook stays within MAX_NOTEBOOK_BYTES: quick to open, diff and share."""
    size = len(nbformat.writes(nb).encode("utf-8"))
    assert size <= MAX_NOTEBOOK_BYTES, f"the executed notebook weighs {size:,} bytes"


def assert_clean(nb: nbformat.NotebookNode) -> None:
    """No cell raised and nothing was written to stderr as a traceback."""
    errors = [f"{o['ename']}: {o['evalue']}" for o in outputs(nb, "error")]
    assert errors == []
    stderr = "".join(o["text"] for o in outputs(nb, "stream") if o.get("name") == "stderr")
    assert "Traceback" not in stderr, stderr


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory: pytest.TempPathFactory, execute: Callable) -> Executed:
    """01_quickstart run zero-config, as a new user does: no URL, no key in the environment."""
    return execute(NAMES[0], tmp_path_factory.mktemp("quickstart"), kernel_env())


def test_notebooks_are_committed_without_outputs() -> None:
    for name in NAMES:
        nb = nbformat.read(NOTEBOOKS / name, as_version=4)
        nbformat.validate(nb)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, name
        assert "widgets" not in nb.metadata, name


def test_shipped_notebooks_use_no_output_widget() -> None:
    """An `ipywidgets.Output` (also inside `interact`) makes nbclient send comm messages on
    the shell channel, which can stall headless runs (README, Troubleshooting)."""
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        assert not re.search(
            r"\b(Output|interact|interactive|interact_manual)\(|@interact", code
        ), path.name


def test_the_harness_answers_output_widgets_and_keeps_going(tmp_path: Path) -> None:
    """Output-widget updates go back to the kernel through the re-armed shell channel."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import ipywidgets\nout = ipywidgets.Output()\ndisplay(out)"),
        nbformat.v4.new_code_cell("with out:\n    print('inside')"),
        nbformat.v4.new_code_cell("print('captured:', len(out.outputs))"),
    ]
    nbformat.write(nb, tmp_path / "output_widget.ipynb")
    client = RearmedNotebookClient(nb, timeout=60, kernel_name="python3")
    client.execute(env=kernel_env())
    assert "captured: 1" in printed(nb)


def test_quickstart_chats_with_the_local_demo_agents_without_configuration(
    quickstart: Executed,
) -> None:
    nb, _ = quickstart
    assert_clean(nb)
    text, answers = printed(nb), shown_markdown(nb)
    # Answers show as rendered Markdown, not printed with their asterisks.
    assert "Full refund within **30 days**" in answers
    assert "Of those, the most expensive is **Orbit Enterprise**" in answers
    assert "I refunded **$49** for order **ORD-1042**" in answers
    assert "**" not in text
    stopped = re.search(r"stopped: (\d+) characters arrived before the stop", text)
    assert stopped and int(stopped.group(1)) > 0, text
    before, after = re.search(r"(sess_\w+) → (sess_\w+)", text).groups()  # type: ignore[union-attr]
    assert before != after
    assert "status: waiting_approval" in text
    assert "Not configured: set POWABASE_BASE_URL" in text

    states = chat_states(nb)
    assert {s["agent_id"] for s in states} == {"agt_demo", "agt_long", "agt_approval"}
    assert all(s["banner"].startswith("Not connected to Powabase") for s in states)
    first = next(s for s in states if "What is the refund policy?" in history_text(s))
    assert first["status"] == "idle"
    assert "Full refund within" in history_text(first)
    long = next(s for s in states if s["agent_id"] == "agt_long")
    assert long["status"] == "stopped"
    assert long["history"][-1]["status"] == "stopped"


def test_quickstart_html_export_keeps_the_conversation(quickstart: Executed) -> None:
    nb, _ = quickstart
    html, _ = HTMLExporter().from_notebook_node(nb)
    state = re.search(rf'<script type="{re.escape(WIDGET_STATE)}">(.*?)</script>', html, re.S)
    assert state, "the export lost the widget state"
    saved = json.loads(state.group(1))["state"]
    histories = " ".join(
        history_text(resolved(saved, m["state"])) for m in saved.values() if "history" in m["state"]
    )
    assert "And which of those is the most expensive?" in histories
    assert "Of those, the most expensive is" in histories
    # The static copy (for viewers without widgets) shows the conversation too.
    static = html.split(state.group(0))[0]
    assert "powawidget-static" in static
    assert "And which of those is the most expensive?" in static


def test_transcripts_notebook_answers_its_questions_with_pandas(
    local_server: object, tmp_path: Path, execute: Callable
) -> None:
    env = kernel_env(
        POWABASE_BASE_URL=local_server.base_url,  # type: ignore[attr-defined]
        POWABASE_API_KEY=local_server.api_key,  # type: ignore[attr-defined]
    )
    nb, folder = execute(NAMES[1], tmp_path, env)
    assert_clean(nb)
    assert_light(nb)
    text = printed(nb)
    counts = re.search(r"(\d+) events, (\d+) runs, (\d+) tool calls", text)
    assert counts, text
    events, runs, calls = map(int, counts.groups())
    assert runs == 6 + 3 + 2 and calls >= 9 and events > runs
    assert re.search(r"Slowest tool: check_stock \(median 3\d\d ms over 3 calls\)", text), text
    assert "Error rate: 18% (2 of 11 runs)" in text
    ttft = re.search(r"Median time to first token: (\d+) ms", text)
    assert ttft and int(ttft.group(1)) > 0
    tables = [o for o in outputs(nb, "execute_result") if "text/html" in o["data"]]
    assert len(tables) >= 5, "the pandas tables are missing"
    assert "check_stock" in tables[1]["data"]["text/html"]
    # runs: question, status, tool_calls, total_tokens, ...: counts print as 897, not 897.0
    rows = re.findall(r"<tr>(.*?)</tr>", tables[0]["data"]["text/html"], re.S)
    counts = [re.findall(r"<td>(.*?)</td>", row)[2:4] for row in rows[1:]]
    assert counts and all(re.fullmatch(r"\d+|&lt;NA&gt;", c) for p in counts for c in p), counts
    images = [o for o in outputs(nb, "display_data") if "image/png" in o.get("data", {})]
    assert len(images) == 1, "the matplotlib figure is missing"
    saved = folder / "batch_transcript.jsonl"
    assert len(saved.read_text().splitlines()) == events
    assert local_server.api_key not in saved.read_text()  # type: ignore[attr-defined]


def test_teaching_notebook_replays_offline_and_writes_a_handout(
    tmp_path: Path, execute: Callable
) -> None:
    env = kernel_env(POWABASE_BASE_URL="http://127.0.0.1:9", POWABASE_API_KEY="offline")
    nb, folder = execute(NAMES[2], tmp_path, env)
    assert_clean(nb)
    assert_light(nb)
    text = printed(nb)
    assert re.search(r"\d+ events in 3 turns", text)
    assert "the last one is 'tool_result'" in text
    assert "replay finished: True - idle" in text

    handout = (folder / "handout.md").read_text()
    assert handout.startswith("# Orbit Labs support: a worked example")
    for words in ("Which plan is cheapest?", "The cheapest is **Orbit Starter**",
                  "12 seats of Orbit Team cost $144 a month", "calculator"):  # fmt: skip
        assert words in handout
    page = (folder / "handout.html").read_text()
    assert "<details" in page and "12 seats of Orbit Team" in page and "<script" not in page
    replayed = [s for s in chat_states(nb) if s["mode"] == "replay"]
    full = max(replayed, key=lambda s: len(s["history"]))
    assert "12 seats of Orbit Team cost" in history_text(full)


def test_the_shipped_recording_matches_what_the_demo_agent_says_today(tmp_path: Path) -> None:
    record: Callable[..., object] = _recorder()
    fresh = record(tmp_path / "fresh.jsonl", 0.0)
    shipped = _load(NOTEBOOKS / "data" / "orbit_support.jsonl")
    assert [r["question"] for r in shipped.runs] == [r["question"] for r in fresh.runs]  # type: ignore[attr-defined]
    assert [r["tool_calls"] for r in shipped.runs] == [r["tool_calls"] for r in fresh.runs]  # type: ignore[attr-defined]
    assert [r["answer"] for r in shipped.runs] == [r["answer"] for r in fresh.runs]  # type: ignore[attr-defined]


def _recorder() -> Callable[..., object]:
    """tests/record_demo_conversation.record (the script that made the shipped recording)."""
    import importlib.util

    path = Path(__file__).parent / "record_demo_conversation.py"
    spec = importlib.util.spec_from_file_location("record_demo_conversation", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.record


def _load(path: Path) -> object:
    """A Transcript loaded from `path`."""
    from powawidget import Transcript

    return Transcript.load(path)


def test_evaluate_notebook_runs_forty_questions_and_compares_two_agents(
    tmp_path: Path, execute: Callable
) -> None:
    nb, folder = execute(NAMES[3], tmp_path, kernel_env())
    assert_clean(nb)
    assert_light(nb)
    text = printed(nb)
    assert "<Evaluation agent='agt_demo' done: 40/40 done, 0 running, 0 failed>" in text
    rate = re.search(r"pass rate: (\d+)% \((\d+)/40\), 95 % CI (\d+)%-(\d+)%", text)
    assert rate and int(rate.group(2)) >= 36, text
    assert int(rate.group(3)) < int(rate.group(1)) <= int(rate.group(4))
    assert re.search(r"exact match: \d+% \(contains: \d+%\); no run sent", text)
    assert "reloaded 40 runs; resumed evaluation sent 0 new runs" in text
    assert re.search(r"\d+ of 40 questions answered alike; \d+ flipped", text)
    tables = " ".join(o["data"].get("text/html", "") for o in outputs(nb, "execute_result"))
    assert "exact McNemar" in tables and "paired bootstrap" in tables  # compare().summary()
    assert "judge_mean" in tables  # the judge agent graded every answer
    assert (folder / "eval_demo.parquet").exists()
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    panels = [m["state"] for m in state.values() if m["state"].get("_view") == "evaluation"]
    assert len(panels) == 1 and panels[0]["state"] == "done"
    assert panels[0]["stats"]["completed"] == 40
    assert panels[0]["stats"]["scored"] == 40 and panels[0]["stats"]["pass_rate"] >= 0.9
    assert any("history" in m["state"] for m in state.values())  # ev.show(30)


def test_the_executed_quickstart_stays_light(quickstart: Executed) -> None:
    """The front-end bundle is saved once per notebook, not once per widget (issue 12: the
    executed quickstart weighed 840 KB, mostly four copies of it)."""
    nb, _ = quickstart
    size = len(nbformat.writes(nb).encode("utf-8"))
    states = chat_states(nb)
    carrying = [s for s in states if len(s.get("_esm", "")) > 10_000]
    assert len(states) >= 3 and len(carrying) == 1
    assert size <= MAX_NOTEBOOK_BYTES, f"the executed quickstart is {size:,} bytes"


def test_ask_about_your_data_sends_a_frame_and_a_chart_and_gets_a_structured_answer(
    tmp_path: Path, execute: Callable
) -> None:
    """Notebook 05 zero-config: the demo agents read a DataFrame and a figure sent as
    context, a dataclass answer becomes a DataFrame, the no-tools agent's ignored format is
    explained, and %%powa answers JSON; the saved panels show the chips."""
    nb, _ = execute(NAMES[4], tmp_path, kernel_env())
    assert_clean(nb)
    assert_light(nb)
    text = printed(nb)
    assert "has 6 rows and 3 columns: `city`, `population_m`, `area_km2`." in text
    assert "The mean of `population_m` is 25.82 and its max is 37.4" in text
    assert "The image **figure** is 400×240 pixels (image/png)." in text
    assert "The answer is not JSON for TableSummary (" in text
    results = [o["data"] for o in outputs(nb, "execute_result")]
    frame = next(
        r["text/html"] for r in results if "text/html" in r and "population_m" in r["text/html"]
    )
    assert "25.8167" in frame and "8231" in frame  # the structured answer, as a DataFrame
    assert any("'max': 37.4" in r.get("text/plain", "") for r in results)  # %%powa --format json
    states = chat_states(nb)
    chips = [
        item
        for state in states
        for entry in state["history"]
        if entry["kind"] == "turn"
        for item in entry.get("context") or []
    ]
    kinds = [c["kind"] for c in chips]
    assert kinds.count("dataframe") >= 3 and kinds.count("image") == 1
    image = next(c for c in chips if c["kind"] == "image")
    assert image["image"].startswith("data:image/png;base64,")  # the chip shows what was sent


def test_a_team_of_agents_draws_each_delegation(tmp_path: Path, execute: Callable) -> None:
    """Notebook 06 zero-config: orch_demo delegates to agt_demo, a failed sub-agent is a
    failed card in a completed turn, and the views say who did what."""
    nb, _ = execute(NAMES[5], tmp_path, kernel_env())
    assert_clean(nb)
    assert_light(nb)
    text = printed(nb)
    assert "I asked **Powabase demo assistant**" in text
    assert "could not answer: litellm.InternalServerError" in text
    assert "server sent:" in text
    (state,) = chat_states(nb)
    turns = [e for e in state["history"] if e["kind"] == "turn"]
    assert [t["status"] for t in turns] == ["completed", "completed"]
    cards = [i for t in turns for i in t["items"] if i["kind"] == "delegation"]
    assert [(c["agent"], c["status"]) for c in cards] == [
        ("agt_demo", "completed"),
        ("agt_demo", "failed"),
    ]
    assert any(i["kind"] == "tool" for i in cards[0]["run"]["items"])
    assert turns[0]["usageTotal"]["total_tokens"] > turns[0]["usage"]["total_tokens"]
