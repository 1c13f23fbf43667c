"""`switchboard caller-key rotate|retire` on moto's SSM: what ops run, and what it keeps."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from click.testing import CliRunner

from devkit.caller_key import CallerKeyRefusedError, retire, rotate
from devkit.cli import main

NAME = "/switchboard/dev/caller-key"


@pytest.fixture
def ssm(aws):
    client = boto3.client("ssm", region_name="us-east-1")
    client.delete_parameter(Name=NAME)  # local_aws made one; start from none, as ops do
    yield client
    rotate(client, NAME)


def stored(ssm) -> dict:
    return json.loads(ssm.get_parameter(Name=NAME, WithDecryption=True)["Parameter"]["Value"])


def test_rotation_keeps_every_key_in_use_readable_until_retired(ssm) -> None:
    assert rotate(ssm, NAME) == 1
    first = stored(ssm)["current"]
    assert rotate(ssm, NAME) == 2 and rotate(ssm, NAME) == 3
    keys = stored(ssm)
    assert keys["previous"][-1] == first and keys["current"] != first
    assert ssm.get_parameter(Name=NAME)["Parameter"]["Type"] == "SecureString"
    with pytest.raises(CallerKeyRefusedError, match="repeat window"):
        retire(ssm, NAME, datetime.now(UTC))
    assert retire(ssm, NAME, datetime.now(UTC) + timedelta(hours=24, minutes=1)) == 2
    assert stored(ssm) == {"current": keys["current"], "previous": []}


def test_the_cli_never_prints_a_key_and_refuses_an_early_retire(ssm) -> None:
    runner = CliRunner()
    first = runner.invoke(main, ["caller-key", "rotate", "--stage", "dev"])
    second = runner.invoke(main, ["caller-key", "rotate", "--stage", "dev"])
    assert first.exit_code == second.exit_code == 0
    assert "1 previous key(s) still read" in second.output
    early = runner.invoke(main, ["caller-key", "retire", "--stage", "dev"])
    assert early.exit_code == 1 and "retire refused" in early.output
    forced = runner.invoke(main, ["caller-key", "retire", "--stage", "dev", "--force"])
    assert forced.exit_code == 0 and "1 previous key(s) retired" in forced.output
    keys = stored(ssm)
    for result in (first, second, early, forced):
        assert keys["current"] not in result.output
