"""`powawidget evaluate --expected-column/--scorer/--repeat` prints the summary;
`powawidget compare a.parquet b.parquet` prints the paired summary; loaded files keep scores."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from powawidget import Evaluation
from powawidget.cli.main import main


def test_cli_scores_compares_and_reloads(
    local_server: Any, tmp_path: Path, monkeypatch: Any, capsys: Any
) -> None:
    monkeypatch.setenv("POWABASE_BASE_URL", local_server.base_url)
    monkeypatch.setenv("POWABASE_API_KEY", local_server.api_key)
    csv = tmp_path / "prompts.csv"
    csv.write_text("prompt,expected,topic\nWhat is 2 + 2?,4,add\nWhat is 7 + 7?,14,double\n")
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    code = main([
        "evaluate", "agt_demo", str(csv), "--expected-column", "expected",
        "--scorer", "contains", "--scorer", r"regex:\*\*\d+\*\*", "--repeat", "2",
        "--by", "topic", "--out", str(a),
    ])  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if line.startswith("topic"))
    assert header.split()[:6] == ["topic", "n", "passed", "pass_rate", "ci_low", "ci_high"]
    assert "contains_mean" in header and "regex_mean" in header
    assert main(["evaluate", "agt_plain", str(csv), "--expected-column", "expected",
                 "--out", str(b)]) == 0  # fmt: skip
    capsys.readouterr()

    loaded = Evaluation.load(a)
    assert [r["repeat"] for r in loaded.runs] == [0, 1, 0, 1]
    assert [r["contains"] for r in loaded.runs] == [True] * 4
    assert "contains" not in loaded._prompts[0].carried  # a score, not a prompt column

    assert main(["compare", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert "a = agt_demo" in out and "b = agt_plain" in out
    lines = {line.split()[0]: line.split() for line in out.splitlines() if line.strip()}
    assert lines["pass_rate"][1:4] == ["2", "1", "0"]  # n = 2 prompts, a 100 %, b 0 %
    assert lines["pass_rate"][-2:] == ["paired", "bootstrap"]  # repeats: averaged first
    assert "2 prompt(s) passed on one side" in out


def test_cli_scorer_errors_are_clear(capsys: Any, tmp_path: Path) -> None:
    csv = tmp_path / "prompts.csv"
    csv.write_text("prompt\nhi\n")
    assert main(["evaluate", "agt_demo", str(csv), "--scorer", "contains"]) == 2
    assert "--expected-column NAME" in capsys.readouterr().err
    assert main(["evaluate", "agt_demo", str(csv), "--scorer", "fuzzy"]) == 2
    assert "contains, exact, number[:TOL], regex:PATTERN or tool:NAME" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["compare", str(csv)])
    assert main(["compare", str(csv), str(tmp_path / "none.parquet")]) == 2
