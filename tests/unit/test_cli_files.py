"""One loader for every command: a file or folder that cannot be read as flows gets the same
sentence from `validate`, `graph`, `simulate`, `test` and `deploy`, exit status 2, and no
traceback; a wrapped export, an export without an extension and flows in sub-folders are read
by all of them alike."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from devkit.cli import UNREADABLE, main

ROOT = Path(__file__).resolve().parents[2]
INBOUND = ROOT / "flows" / "inbound-main.json"
A_CASE = ROOT / "flows" / "tests" / "inbound-main" / "green-channel.json"
LEGACY = {"modules": [{"id": "a", "type": "Disconnect", "branches": []}], "start": "a"}


def write_legacy(folder: Path) -> tuple[Path, str]:
    path = folder / "inbound-main.json"
    path.write_text(json.dumps(LEGACY))
    return path, "a legacy (pre-2019) console export with 'modules' and 'start'"


def write_wrapped_legacy(folder: Path) -> tuple[Path, str]:
    path = folder / "inbound-main.json"
    wrapper = {
        "ContactFlow": {"Name": "main", "Type": "CONTACT_FLOW", "Content": json.dumps(LEGACY)}
    }
    path.write_text(json.dumps(wrapper))
    return path, "a legacy (pre-2019) console export with 'modules' and 'start'"


def write_not_json(folder: Path) -> tuple[Path, str]:
    path = folder / "inbound-main.json"
    path.write_text("Flow export failed: AccessDeniedException\n")
    return path, "not valid JSON"


def write_not_utf8(folder: Path) -> tuple[Path, str]:
    path = folder / "inbound-main.json"
    path.write_bytes(b'{"Version": "2019-10-30", "Metadata": {"name": "caf\xe9"}}')
    return path, "not UTF-8 text"


def write_nothing(folder: Path) -> tuple[Path, str]:
    (folder / "README.md").write_text("flows go here")
    return folder, "no flow files here"


BAD_INPUTS = [write_legacy, write_wrapped_legacy, write_not_json, write_not_utf8, write_nothing]


def commands(path: Path, folder: Path) -> dict[str, list[str]]:
    """Each command given the bad input as it takes its input: a file, or a flows folder."""
    return {
        "validate": ["flows", "validate", str(path)],
        "graph": ["flows", "graph", str(path)],
        "simulate": ["flows", "simulate", str(path)],
        "test": ["flows", "test", str(A_CASE), "--flows-dir", str(folder)],
        "deploy": ["flows", "deploy", "--stage", "dev", "--dry-run", "--flows-dir", str(folder)],
    }


def run(args: list[str]):
    env = {"COLUMNS": "200", "AWS_DEFAULT_REGION": "us-east-1"}
    return CliRunner().invoke(main, args, env=env)


@pytest.mark.parametrize("bad_input", BAD_INPUTS, ids=lambda f: f.__name__[6:])
def test_every_command_refuses_an_unreadable_input_in_the_same_words(
    tmp_path: Path, bad_input: Callable[[Path], tuple[Path, str]]
) -> None:
    path, why = bad_input(tmp_path)
    said = {}
    for name, args in commands(path, tmp_path).items():
        if path.is_dir() and name in ("graph", "simulate"):
            continue  # they take one file; click refuses a folder with exit 2 itself
        result = run(args)
        assert result.exit_code == UNREADABLE, (name, result.output, result.stderr)
        assert result.exception is None or isinstance(result.exception, SystemExit), name
        assert "Traceback" not in result.output + result.stderr, name
        said[name] = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    expected = f"error: {path if path.is_file() else tmp_path}: "
    for name, lines in said.items():
        assert len(lines) == 1 and lines[0].startswith(expected) and why in lines[0], (name, lines)
    assert len({lines[0] for lines in said.values()}) == 1, said  # the very same sentence


def test_a_folder_with_nothing_to_check_is_not_a_pass(tmp_path: Path) -> None:
    result = run(["flows", "validate", str(tmp_path)])
    assert result.exit_code == UNREADABLE
    assert "no flow files here" in result.stderr


def test_validate_reads_the_rest_of_a_folder_and_still_exits_2(tmp_path: Path) -> None:
    shutil.copy(INBOUND, tmp_path / "good.json")
    write_not_json(tmp_path)
    result = run(["flows", "validate", str(tmp_path)])
    assert result.exit_code == UNREADABLE
    assert "2 files, 1 errors" in result.output  # the good one was checked too
    as_json = run(["flows", "validate", str(tmp_path), "--format", "json"])
    assert [f["rule"] for f in json.loads(as_json.stdout)] == ["unreadable"]


def test_wrapped_extensionless_and_nested_exports_are_read_by_every_command(
    tmp_path: Path,
) -> None:
    content = json.loads(INBOUND.read_text())
    wrapper = {"ContactFlow": {"Name": "inbound-main", "Content": json.dumps(content)}}
    nested = tmp_path / "exported" / "2026-12-01"
    nested.mkdir(parents=True)
    (nested / "inbound-main").write_text(json.dumps(wrapper))  # as `aws connect ... >` leaves it
    (tmp_path / "notes.txt").write_text("not a flow")
    (tmp_path / "LICENSE").write_text("MIT No Attribution")

    validated = run(["flows", "validate", str(tmp_path)])
    assert validated.exit_code == 0 and "1 files, 0 errors" in validated.output, validated.output
    flow = str(nested / "inbound-main")
    assert run(["flows", "graph", flow]).output.startswith("flowchart")
    # A weekday morning in New York: the lines are open whatever day the suite runs.
    simulated = run(
        ["flows", "simulate", flow, "--dtmf", "1", "--at", "2026-11-24T15:00", "--json"]
    )
    assert simulated.exit_code == 0, simulated.stderr
    assert json.loads(simulated.stdout)["outcome"] == "queued"
    tested = run(["flows", "test", str(A_CASE), "--flows-dir", str(nested)])
    # One case cannot cover the flow (exit 1 for coverage), but it was read and it passed.
    assert "PASS green-channel" in tested.output and "1 passed, 0 failed" in tested.output
