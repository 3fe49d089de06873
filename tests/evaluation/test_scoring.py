"""Scorers, `passed`/`score`/`errors`, repeats, summary, rescore and the paired comparison."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from powawidget import Evaluation, compare, evaluate, scorers
from powawidget.evaluation.prompts import prompt_items, with_repeats
from powawidget.evaluation.results import pending_row
from powawidget.evaluation.scoring import Scoring
from powawidget.evaluation.statistics import mcnemar_exact, wilson
from powawidget.evaluation.stats import progress_line


def row(answer: str, **carried: Any) -> dict[str, Any]:
    return {"prompt": "q", "answer": answer, "status": "completed", "tool_names": [], **carried}


def test_builtin_scorers() -> None:
    assert scorers.contains()(row("The total is **42**.", expected="42"))
    assert not scorers.contains()(row("forty-two", expected="42"))
    assert scorers.contains("city")(row("It is  Paris", city="paris"))
    assert scorers.exact()(row("  Paris \n", expected="paris"))
    assert not scorers.exact()(row("Paris, France", expected="paris"))
    assert scorers.regex(r"\$\d+")(row("costs $40 a month"))
    assert not scorers.regex(r"\$\d+")(row("costs 40 dollars"))
    assert scorers.number(tol=0.01)(row("about 1,204 seats", expected="1200"))
    assert not scorers.number(tol=0.001)(row("about 1,204 seats", expected=1200))
    assert scorers.number()(row("x = -3.5e2", expected=-350))
    assert scorers.tool_called("search")({"tool_names": ["search", "calc"]})
    assert not scorers.tool_called("search", times=2)({"tool_names": ["search", "calc"]})
    with pytest.raises(KeyError, match="no 'expected' column"):
        scorers.contains()(row("x"))
    assert [scorers.contains().name, scorers.regex("x").name] == ["contains", "regex"]


def test_scoring_names_and_errors() -> None:
    def boom(row: Any) -> bool:
        raise ValueError("no idea")

    def text(row: Any) -> Any:
        return "yes"

    def parts(row: Any) -> dict[str, Any]:
        return {"polite": True, "length": 3}

    scoring = Scoring([scorers.contains(), boom, text, parts])
    values = scoring.score(row("it is 4", expected="4"))
    assert values["contains"] is True and values["boom"] is None and values["text"] is None
    assert values["parts.polite"] is True and values["parts.length"] == 3.0
    assert values["errors"][0] == "boom: ValueError: no idea"
    assert "text returned 'yes'" in values["errors"][1]
    with pytest.raises(ValueError, match="two scorers are named 'contains'"):
        Scoring([scorers.contains(), scorers.contains("other")])
    with pytest.raises(TypeError, match="has no name"):
        Scoring([lambda r: True])
    with pytest.raises(ValueError, match="like a result column"):
        Scoring([scorers.contains(name="answer")])


def finished(answers: list[str], expected: list[str], repeat: int = 1) -> Evaluation:
    """An ended evaluation whose runs answered `answers` (one per run), scored by contains."""
    prompts = [{"prompt": f"question {i}", "expected": e} for i, e in enumerate(expected)]
    items = with_repeats(prompt_items(prompts), repeat)
    ev = Evaluation("agt_x", items, Scoring([scorers.contains()]))
    for prompt, answer in zip(items, answers, strict=True):
        done = pending_row(prompt, "completed", answer=answer, tokens=len(answer))
        ev._rows[prompt.key] = done
        ev._score(prompt, done)
    ev._end(None)
    return ev


def test_summary_pass_rate_with_wilson_interval() -> None:
    ev = finished(["4", "5", "6", "x", "8"], ["4", "5", "6", "7", "8"])
    (line,) = ev.summary()
    assert (line["n"], line["passed"], line["pass_rate"]) == (5, 4, 0.8)
    assert (line["ci_low"], line["ci_high"]) == wilson(4, 5)
    assert line["contains_mean"] == 0.8 and line["tokens_total"] == 5
    assert [r["passed"] for r in ev.runs] == [True, True, True, False, True]
    assert [r["score"] for r in ev.runs] == [1.0, 1.0, 1.0, 0.0, 1.0]
    assert "pass 80% (4/5)" in progress_line(ev.progress, ev.state)  # the terminal line


def test_paired_comparison_mcnemar_on_a_known_table() -> None:
    expected = [str(i) for i in range(10)]
    # a passes 0-8; b passes 0-1 and 9: a only on 2-8 (7 prompts), b only on 9 (1 prompt)
    a = finished([*expected[:9], "no"], expected)
    b = finished([*expected[:2], *["no"] * 7, "9"], expected)
    cmp = compare(a, b)
    summary = {r["metric"]: r for r in cmp.summary()}
    passing = summary["pass_rate"]
    assert (passing["a"], passing["b"], passing["n"]) == (0.9, 0.3, 10)
    assert passing["difference"] == pytest.approx(-0.6)
    assert passing["p_value"] == mcnemar_exact(7, 1) == 18 / 256
    assert passing["test"] == "exact McNemar"
    assert passing["ci_low"] < -0.6 < passing["ci_high"] < 0
    assert summary["tokens"]["test"] == "paired bootstrap"
    assert len(cmp.flipped()) == 8
    assert all("passed" in r["differences"] for r in cmp.flipped())
    assert {r["prompt"] for r in cmp.differing()} >= {r["prompt"] for r in cmp.flipped()}


def test_repeats_are_averaged_per_prompt_before_the_paired_test() -> None:
    expected = ["1", "2", "3"]
    a = finished(["1", "1", "2", "2", "3", "3"], expected, repeat=2)
    b = finished(["1", "x", "x", "x", "3", "3"], expected, repeat=2)
    assert [r["repeat"] for r in a.runs] == [0, 1, 0, 1, 0, 1]
    passing = next(r for r in compare(a, b).summary() if r["metric"] == "pass_rate")
    assert passing["n"] == 3  # three prompts, not six runs
    assert passing["test"] == "paired bootstrap"
    assert passing["difference"] == pytest.approx((-0.5 + -1.0 + 0.0) / 3)


def questions(n: int) -> list[dict[str, Any]]:
    tag = uuid.uuid4().hex[:6]
    return [
        {"prompt": f"What is {i} + {i}? ({tag})", "expected": str(2 * i), "topic": f"t{i % 2}"}
        for i in range(n)
    ]


def test_evaluate_scores_as_runs_finish_and_rescore_sends_nothing(
    connection: dict, local_server: Any, runs_seen: Any
) -> None:
    def short(row: Any) -> float:
        return 1.0 if len(row["answer"]) < 40 else 0.0

    def broken(row: Any) -> bool:
        raise RuntimeError("scorer bug")

    before = runs_seen(local_server, "agt_demo")
    ev = evaluate(
        "agt_demo",
        questions(3),
        scorers=[scorers.contains(), scorers.tool_called("calculator"), short, broken],
        repeat=2,
        concurrency=3,
        display=False,
        **connection,
    )
    assert ev.wait(60)
    runs = ev.runs
    assert len(runs) == 6 and [r["repeat"] for r in runs] == [0, 1] * 3
    assert runs.columns[-7:] == ["contains", "tool_called", "short", "broken", "passed",
                                 "score", "errors"]  # fmt: skip
    for r in runs:
        assert r["contains"] is True and r["tool_called"] is True and r["broken"] is None
        assert r["errors"] == ["broken: RuntimeError: scorer bug"]
        assert r["passed"] is None  # a pass/fail scorer failed and none said no
    assert runs_seen(local_server, "agt_demo") - before == 6
    by_topic = {r["topic"]: r for r in ev.summary(by="topic")}
    assert by_topic["t0"]["n"] == 4 and by_topic["t1"]["n"] == 2
    assert by_topic["t0"]["scorer_errors"] == 4
    assert by_topic["t0"]["latency_p50_ms"] is not None

    again = ev.rescore([scorers.contains(), scorers.regex(r"\*\*\d+\*\*")])
    assert runs_seen(local_server, "agt_demo") - before == 6  # nothing sent
    assert [r["passed"] for r in again.runs] == [True] * 6
    assert again.progress["pass_rate"] == 1.0 and again.summary()[0]["pass_rate"] == 1.0
    assert "broken" in ev.runs.columns  # the original is untouched


def test_judge_verdict_format() -> None:
    from powawidget.evaluation.judge import judge_prompt, parse_verdict

    assert parse_verdict("VERDICT: PASS\nREASON: fine") is True
    assert parse_verdict("Thinking...\n**Verdict:** fail\nREASON: no") is False
    with pytest.raises(ValueError, match="no 'VERDICT: PASS' or 'VERDICT: FAIL' line"):
        parse_verdict("Looks good to me!")
    asked = judge_prompt(
        "Says the sum.", {"prompt": "1+1?", "answer": "2", "expected": "2"}, "expected"
    )
    assert "Rubric: Says the sum." in asked and "Expected: 2" in asked and "VERDICT: PASS" in asked


def test_judge_grades_through_the_evaluations_client(
    connection: dict, local_server: Any, runs_seen: Any
) -> None:
    prompts = questions(2)
    prompts[1]["expected"] = "a number nobody wrote"
    before = runs_seen(local_server, "agt_judge")
    judge = scorers.judge("agt_judge", rubric="The answer states the expected sum.")
    ev = evaluate(
        "agt_demo", prompts, scorers=[judge], max_tokens=10**6, display=False, **connection
    )
    assert ev.wait(60)
    assert [r["judge"] for r in ev.runs] == [True, False]
    assert [r["passed"] for r in ev.runs] == [True, False]
    assert runs_seen(local_server, "agt_judge") - before == 2
    assert ev._executor.gate.tokens_used > sum(r["tokens"] for r in ev.runs)  # judge tokens count
    # a loaded evaluation is judged again through a connection given to rescore
    again = ev.rescore([judge], **connection)
    assert [r["judge"] for r in again.runs] == [True, False]
    assert runs_seen(local_server, "agt_judge") - before == 4


def test_the_local_judge_reads_multi_paragraph_answers() -> None:
    from powawidget.evaluation.judge import judge_prompt
    from powawidget.server.agents.judge import verdict

    answer = "**Orbit Hub**\n\n- **Price:** $349 one-time\n\nExpected: nothing"
    asked = judge_prompt(
        "States the price.", {"prompt": "Hub?", "answer": answer, "expected": "$349"}, "expected"
    )
    assert verdict(asked)[0] is True
    asked = judge_prompt(
        "States the price.",
        {"prompt": "Hub?", "answer": "It costs $5.", "expected": "$349"},
        "expected",
    )
    assert verdict(asked)[0] is False
