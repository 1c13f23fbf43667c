"""The hand-kept lists agree with the capabilities' declarations (`make check` runs the same),
and a disagreement is named, not just failed."""

from __future__ import annotations

import copy
import json

from chalicelib.composition import tables
from chalicelib.platform.settings import table_variable
from devkit.declarations import (
    PERMISSIONS,
    devkit_modules,
    problems,
    template_tables,
    variables_read,
)
from devkit.local_aws import CHALICE_CONFIG

CONFIG = json.loads(CHALICE_CONFIG.read_text())
POLICIES = json.loads(PERMISSIONS.read_text())


def test_the_repository_agrees_with_its_declarations() -> None:
    assert problems() == []


def test_a_function_a_stage_does_not_configure_is_named() -> None:
    config = copy.deepcopy(CONFIG)
    del config["stages"]["prod"]["lambda_functions"]["verify_pin"]
    assert problems(config=config) == [
        ".chalice/config.json prod lambda_functions: verify_pin is missing"
    ]


def test_a_timeout_other_than_the_declared_one_is_named() -> None:
    config = copy.deepcopy(CONFIG)
    config["stages"]["dev"]["lambda_functions"]["dial_campaigns"]["lambda_timeout"] = 300
    assert problems(config=config) == [
        ".chalice/config.json dev lambda_functions: dial_campaigns lambda_timeout is 300, "
        "declared 55"
    ]


def test_a_policy_for_a_function_nobody_declares_is_named() -> None:
    permissions = copy.deepcopy(POLICIES)
    permissions["functions"]["old_hook"] = {}
    assert problems(permissions=permissions) == [
        "infra/permissions.json functions: old_hook is declared by no capability"
    ]


def test_a_table_in_the_template_that_no_capability_owns_is_named() -> None:
    tables = template_tables() | {"orphans"}
    assert problems(in_template=tables) == [
        "infra/template.yaml tables: orphans is declared by no capability"
    ]


def test_a_stage_naming_another_stages_table_is_named() -> None:
    config = copy.deepcopy(CONFIG)
    config["stages"]["prod"]["environment_variables"][table_variable("qa")] = "switchboard-dev-qa"
    assert problems(config=config) == [
        ".chalice/config.json prod: QA_TABLE is not switchboard-prod-qa"
    ]


def test_a_grant_reaching_into_another_capabilitys_table_is_named() -> None:
    """A hook of the IVR may read its own tables, never the dialer's."""
    permissions = copy.deepcopy(POLICIES)
    permissions["functions"]["verify_pin"]["dynamodb:GetItem"].append("table/dialer/index/due")
    assert problems(permissions=permissions) == [
        "infra/permissions.json: verify_pin is granted table dialer, "
        "which no capability it runs declares"
    ]


def test_a_function_may_use_the_tables_of_the_capabilities_whose_services_it_takes() -> None:
    """QA takes the callbacks' service (a peer); the outbound core's functions serve every
    capability that places calls."""
    assert tables("qa_events") >= {"qa", "callbacks"}
    assert tables("outbound_contact_events") >= {"outbound", "callbacks", "dialer"}
    assert "qa" not in tables("dial_campaigns")


def test_cli_and_fakes_modules_belong_to_a_capability_and_exist() -> None:
    present = devkit_modules()
    assert problems(modules=present | {"devkit.fakes.forecast"}) == [
        "devkit.fakes.forecast belongs to no capability (name it as one's cli or fakes)"
    ]
    assert problems(modules=present - {"devkit.cli.qa"}) == [
        "devkit.cli.qa is named by a capability and does not exist"
    ]


def test_a_setting_nobody_declares_is_named_wherever_it_is_set_or_read() -> None:
    config = copy.deepcopy(CONFIG)
    config["stages"]["prod"]["environment_variables"]["QA_SAMPL_RATE"] = "0.1"  # a typo
    assert problems(config=config) == [
        ".chalice/config.json prod: QA_SAMPL_RATE is declared by no capability"
    ]
    assert problems(read=variables_read() | {"FORECAST_DAYS"}) == [
        "settings read FORECAST_DAYS, which no capability declares"
    ]
    assert problems(read=variables_read() - {"CONTACT_LIMIT"}) == [
        "CONTACT_LIMIT is declared by a capability and never read by the settings"
    ]
