"""The toolkit on other people's exports (issue 9): every finding on the real flow sets is
one we can defend, and the simulator plays their queue flow as Connect would.

Sets: `tests/fixtures/real-flows/`: two aws-samples projects and four flows of
aws-samples/amazon-connect-rules-engine (SOURCES.md says what, from where and why). The
counts here are the ones docs/flow-designers.md reports.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from click.testing import CliRunner

from devkit.catalogue import hook_catalogue
from devkit.cli import main
from flowlang.loader import flow_files, read_file
from flowlang.validate import Severity, validate_set
from tests.flowparts import REAL_FLOWS_DIR

ROOT = Path(__file__).resolve().parents[2]
RULES_ENGINE = ROOT / "tests" / "fixtures" / "real-flows" / "rules-engine"
SHARED = REAL_FLOWS_DIR


def findings(folder: Path) -> Counter[tuple[str, str, Severity]]:
    documents = [read_file(path) for path in flow_files([folder])]
    found = validate_set(documents, hook_catalogue("dev"))
    return Counter((Path(f.source).name, f.rule, f.severity) for f in found)


def test_the_rules_engine_flows_have_no_error_and_only_the_warnings_we_stand_by() -> None:
    assert findings(RULES_ENGINE) == Counter(
        {
            # Prompts whose Errors list is empty: a failed prompt ends the contact silently.
            ("RulesEngineMessage.json", "unrouted-error", Severity.WARNING): 3,
            ("RulesEngineError.json", "unrouted-error", Severity.WARNING): 1,
            ("RulesEngineCustomerQueue.json", "unrouted-error", Severity.WARNING): 1,
            # Entered by RulesEngineMain's dynamic transfer ($.External.CurrentRule_nextFlowArn),
            # which no offline tool can follow: it reads what the rules Lambda answered there,
            # said as an assumption, not as an error (these were 4 false errors).
            ("RulesEngineMessage.json", "external-from-caller", Severity.WARNING): 4,
        }
    )


def test_the_shared_real_flows_have_no_error_and_three_documented_warnings() -> None:
    together = findings(SHARED / "gitlab-cicd-terraform") + findings(SHARED / "outbound-call")
    assert together == Counter(
        {
            ("acme_agent_whisper_AUTO.json", "unrouted-error", Severity.WARNING): 1,
            ("acme_customer_whisper_AUTO.json", "unrouted-error", Severity.WARNING): 1,
            ("OutboundCallWhisperer.json", "unrouted-error", Severity.WARNING): 1,
        }
    )


def test_the_rules_engine_queue_flow_loops_its_prompts_until_an_agent_answers(tmp_path) -> None:
    scenario = tmp_path / "queue.scenario.json"
    scenario.write_text(
        json.dumps(
            {
                "queue": "BasicQueue",
                "agent_answers_after_seconds": 75,
                "lambdas": {
                    "{{lambdaFunctions.connectpromptsonhold.arn}}": {
                        "CurrentRule_currentPromptArn": "arn:aws:connect:::prompt/callback-offer"
                    }
                },
            }
        )
    )
    flow = RULES_ENGINE / "RulesEngineCustomerQueue.json"
    result = CliRunner().invoke(
        main, ["flows", "simulate", str(flow), "--scenario", str(scenario), "--json"]
    )
    assert result.exit_code == 0, result.output
    played = json.loads(result.stdout)
    # Interrupted at 30 and 60 s (each time: the Lambda, its prompt, End flow / Resume back to
    # the loop); the agent answers at 75 s. Before issue 9 the run "ended" after one action.
    assert played["outcome"] == "answered"
    assert played["prompts"].count("[audio prompt arn:aws:connect:::prompt/callback-offer]") == 2
    assert played["decided_by_scenario"] == [
        {"action": "5f2f3f62-834a-4387-9add-93fbbd326985", "why": "an agent answers after 75 s"}
    ]
    without = CliRunner().invoke(main, ["flows", "simulate", str(flow), "--json"])
    assert without.exit_code == 1
    assert "say it in the scenario as agent_answers_after_seconds" in without.stderr
