"""`python -m devkit.rules`: what a flow designer runs after editing the routing rules."""

from __future__ import annotations

import json

from click.testing import CliRunner

from devkit.rules import main


def test_shipped_rules_pass_and_are_listed_in_order() -> None:
    result = CliRunner().invoke(main, [], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert result.output.index("green-channel") < result.output.index("everyone-else")


def test_invalid_rules_fail_naming_each_problem(tmp_path) -> None:
    path = tmp_path / "rules.json"
    path.write_text(
        json.dumps({"default_queue": "x", "queues": {}, "rules": [{"name": "r", "queue": "y"}]})
    )
    result = CliRunner().invoke(main, [str(path)], env={"COLUMNS": "200"})
    assert result.exit_code == 1
    assert "rule 'r': queue 'y' is not defined" in result.output
    assert "default_queue 'x' is not defined" in result.output


def test_a_file_that_is_not_json_fails_clearly(tmp_path) -> None:
    path = tmp_path / "rules.json"
    path.write_text("{oops")
    result = CliRunner().invoke(main, [str(path)])
    assert result.exit_code == 1 and "not JSON" in result.output
