"""`switchboard flows deploy` and `export`: flows/ to an Amazon Connect instance and back.

Deploy resolves placeholders per stage (our Lambda ARNs from Chalice's deployed resources for
that stage; queues, hours, prompts, flows and modules by name through the Connect API),
refuses anything unresolved or invalid, creates or updates each flow by name, and associates
our Lambdas with the instance. Export turns the instance's ARNs back into placeholders.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from devkit.flow_ids import publish_flow_ids
from devkit.local_aws import CHALICE_CONFIG, ROOT, stage_environment
from flowlang.diff import diff_flows
from flowlang.loader import FlowDocument, flow_files, read_document, read_file
from flowlang.model import load_flow
from flowlang.placeholders import (
    Resources,
    placeholder_name,
    placeholders_in,
    resolve,
    unresolve,
)
from flowlang.validate import HookCatalogue, Severity, validate_set

_LISTS = {  # kind -> (API, result key, extra arguments)
    "queue": ("list_queues", "QueueSummaryList", {"QueueTypes": ["STANDARD"]}),
    "hours": ("list_hours_of_operations", "HoursOfOperationSummaryList", {}),
    "prompt": ("list_prompts", "PromptSummaryList", {}),
    "flow": ("list_contact_flows", "ContactFlowSummaryList", {}),
    "module": ("list_contact_flow_modules", "ContactFlowModulesSummaryList", {}),
}


class DeployError(Exception):
    """Deploy refused; every problem is listed."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class Plan:
    creates: list[str] = field(default_factory=list)
    updates: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    associations: list[str] = field(default_factory=list)
    diffs: dict[str, list[str]] = field(default_factory=dict)
    published: str = ""  # the SSM parameter the flows' ids were written to

    def lines(self) -> list[str]:
        out = [f"create {name}" for name in self.creates]
        for name in self.updates:
            out.append(f"update {name}")
            out += [
                f"  {line}" for change in self.diffs.get(name, []) for line in change.splitlines()
            ]
        out += [f"unchanged {name}" for name in self.unchanged]
        out += [f"associate Lambda {arn}" for arn in self.associations]
        out += [f"flow ids written to {self.published}"] if self.published else []
        return out or ["nothing to do"]


def _pages(call: Callable[..., Mapping[str, Any]], key: str, **arguments: Any) -> Iterator[Any]:
    token = None
    while True:
        page = call(**arguments, **({"NextToken": token} if token else {}))
        yield from page.get(key, [])
        token = page.get("NextToken")
        if not token:
            return


def stage_settings(stage: str) -> tuple[str, str]:
    """The app's name and the stage's Connect instance id."""
    config = json.loads(CHALICE_CONFIG.read_text())
    instance = deployed_environment(stage).get("CONNECT_INSTANCE_ID", "")
    if not instance:
        why = "no CONNECT_INSTANCE_ID in its settings nor in the outputs of its stack"
        raise DeployError([f"no Connect instance for {stage}: {why}"])
    return config["app_name"], instance


def deployed_environment(stage: str) -> dict[str, str]:
    """The stage's settings as its functions have them: what the stage's settings leave to
    the stack (prod's instance and bucket, `make package`) read from the stack's outputs."""
    from devkit.package import STACK_SUPPLIED

    environment = stage_environment(stage)
    left = [variable for variable in STACK_SUPPLIED if variable not in environment]
    outputs = stack_outputs(stage) if left else {}
    environment.update({v: outputs[v] for v in left if outputs.get(v)})
    return environment


def stack_outputs(stage: str, cloudformation: Any = None) -> dict[str, str]:
    """The outputs of the stack `make package` made for the stage, by description: each
    function's ARN under its name, and the settings the stack supplies under theirs. Empty
    with no stack."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    client = cloudformation or boto3.client("cloudformation")
    try:
        stacks = client.describe_stacks(StackName=f"switchboard-{stage}")["Stacks"]
    except (ClientError, BotoCoreError):
        return {}
    outputs = stacks[0].get("Outputs", []) if stacks else []
    return {o.get("Description") or o["OutputKey"]: o["OutputValue"] for o in outputs}


def deployed_lambdas(stage: str, chalice_dir: Path = ROOT / ".chalice") -> dict[str, str]:
    """Our functions' ARNs for the stage, from Chalice's record of its last deploy, or from
    the packaged stack's outputs."""
    record = chalice_dir / "deployed" / f"{stage}.json"
    if not record.exists():
        outputs = stack_outputs(stage)
        return {name: arn for name, arn in outputs.items() if ":function:" in arn}
    resources = json.loads(record.read_text()).get("resources", [])
    return {
        r["name"]: r["lambda_arn"]
        for r in resources
        if r.get("resource_type") == "lambda_function" and r.get("lambda_arn")
    }


def instance_resources(client: Any, instance_id: str, lambdas: Mapping[str, str]) -> Resources:
    arns: dict[str, dict[str, str]] = {"lambda": dict(lambdas)}
    for kind, (api, key, extra) in _LISTS.items():
        items = _pages(getattr(client, api), key, InstanceId=instance_id, **extra)
        arns[kind] = {item["Name"]: item["Arn"] for item in items}
    return Resources(arns)


def _local_flows(flows_dir: Path) -> list[FlowDocument]:
    return [replace(read_file(path), source=path.stem) for path in flow_files([flows_dir])]


def _order(documents: list[FlowDocument]) -> list[FlowDocument]:
    """Modules first, then flows after the flows they transfer to."""
    by_name = {d.source: d for d in documents}
    ordered: list[FlowDocument] = []

    def visit(document: FlowDocument, trail: tuple[str, ...]) -> None:
        if document in ordered:
            return
        if document.source in trail:
            raise DeployError([f"flows refer to each other in a cycle: {' > '.join(trail)}"])
        for placeholder in placeholders_in(document.content):
            name = placeholder_name(placeholder, "flow", "module")
            if name in by_name:
                visit(by_name[name], (*trail, document.source))
        ordered.append(document)

    for document in sorted(documents, key=lambda d: d.flow_type != "MODULE"):
        visit(document, ())
    return ordered


def _check(documents: list[FlowDocument], hooks: HookCatalogue) -> None:
    problems = [str(f) for f in validate_set(documents, hooks) if f.severity is Severity.ERROR]
    if problems:
        raise DeployError(["validation errors:", *problems])


class Deployer:
    def __init__(
        self,
        client: Any,
        stage: str,
        flows_dir: Path,
        hooks: HookCatalogue,
        lambdas: Mapping[str, str] | None = None,
        ssm: Any = None,
    ) -> None:
        self.ssm = ssm
        self.client = client
        self.stage = stage
        self.flows_dir = flows_dir
        self.hooks = hooks
        self.app_name, self.instance_id = stage_settings(stage)
        self.lambdas = dict(lambdas) if lambdas is not None else deployed_lambdas(stage)

    def resources(self) -> Resources:
        return instance_resources(self.client, self.instance_id, self.lambdas)

    def _current(self, kind: str, flow_id: str) -> Mapping[str, Any]:
        if kind == "module":
            answer = self.client.describe_contact_flow_module(
                InstanceId=self.instance_id, ContactFlowModuleId=flow_id
            )["ContactFlowModule"]
        else:
            answer = self.client.describe_contact_flow(
                InstanceId=self.instance_id, ContactFlowId=flow_id
            )["ContactFlow"]
        content: Mapping[str, Any] = json.loads(answer["Content"])
        return content

    def plan(self) -> tuple[Plan, list[tuple[FlowDocument, Any]], Resources]:
        documents = _order(_local_flows(self.flows_dir))
        _check(documents, self.hooks)
        resources = self.resources()
        plan, resolved, problems = Plan(), [], []
        for document in documents:
            content, missing = resolve(document.content, resources)
            problems += [f"{document.source}: unresolved placeholder {m}" for m in missing]
            resolved.append((document, content))
            self._plan_one(document, content, resources, plan)
        if problems:
            raise DeployError(problems)
        associated = set(
            _pages(
                self.client.list_lambda_functions, "LambdaFunctions", InstanceId=self.instance_id
            )
        )
        plan.associations = sorted(set(self.lambdas.values()) - associated)
        return plan, resolved, resources

    def _plan_one(
        self, document: FlowDocument, content: Any, resources: Resources, plan: Plan
    ) -> None:
        kind = "module" if document.flow_type == "MODULE" else "flow"
        arn = resources.arn(kind, document.source)
        if arn is None:
            plan.creates.append(document.source)
            return
        current = self._current(kind, arn.rsplit("/", 1)[-1])
        if current == content:
            plan.unchanged.append(document.source)
            return
        plan.updates.append(document.source)
        changes = diff_flows(
            load_flow(current, document.source), load_flow(content, document.source)
        )
        plan.diffs[document.source] = [str(c) for c in changes] or ["Metadata only"]

    def apply(self) -> Plan:
        plan, resolved, resources = self.plan()
        ids: dict[str, str] = {}
        for document, content in resolved:
            created = None
            if document.source not in plan.unchanged:
                text = json.dumps(content, separators=(",", ":"))
                created = self._write(document, text, resources, plan)
            if document.flow_type != "MODULE":
                known = str(resources.arn("flow", document.source)).rsplit("/", 1)[-1]
                ids[document.source] = created or known
        for arn in plan.associations:
            self.client.associate_lambda_function(InstanceId=self.instance_id, FunctionArn=arn)
        self._publish(plan, ids)
        return plan

    def _publish(self, plan: Plan, ids: Mapping[str, str]) -> None:
        """Every flow's id, where the functions read them: a callback or a campaign dials
        the flow deployed, never an id pasted into settings."""
        import boto3

        parameter = stage_environment(self.stage)["FLOW_IDS_PARAMETER"]
        publish_flow_ids(self.ssm or boto3.client("ssm"), parameter, ids)
        plan.published = parameter

    def _write(
        self, document: FlowDocument, text: str, resources: Resources, plan: Plan
    ) -> str | None:
        """Create or update it; a created flow's id."""
        module = document.flow_type == "MODULE"
        if document.source in plan.creates and module:
            self.client.create_contact_flow_module(
                InstanceId=self.instance_id, Name=document.source, Content=text
            )
        elif document.source in plan.creates:
            return str(
                self.client.create_contact_flow(
                    InstanceId=self.instance_id,
                    Name=document.source,
                    Type=document.flow_type or "CONTACT_FLOW",
                    Content=text,
                )["ContactFlowId"]
            )
        elif module:
            self.client.update_contact_flow_module_content(
                InstanceId=self.instance_id,
                Content=text,
                ContactFlowModuleId=str(resources.arn("module", document.source)).rsplit("/", 1)[
                    -1
                ],
            )
        else:
            self.client.update_contact_flow_content(
                InstanceId=self.instance_id,
                Content=text,
                ContactFlowId=str(resources.arn("flow", document.source)).rsplit("/", 1)[-1],
            )
        return None

    def export(self, names: list[str] | None, out_dir: Path) -> list[Path]:
        """Write the instance's flows (by default: those flows/ already has) with placeholders."""
        resources = self.resources()
        wanted = names if names is not None else [d.source for d in _local_flows(out_dir)]
        written = []
        for name in wanted:
            kind = "flow" if resources.arn("flow", name) else "module"
            arn = resources.arn(kind, name)
            if arn is None:
                raise DeployError([f"the instance has no flow or module named {name!r}"])
            content = unresolve(self._current(kind, arn.rsplit("/", 1)[-1]), resources)
            read_document(content, name)  # refuse to write what we could not read back
            path = out_dir / f"{name}.json"
            path.write_text(json.dumps(content, indent=2, ensure_ascii=False) + "\n")
            written.append(path)
        return written
