"""docs/adding-a-capability.md, followed to the letter on a copy of the repository: a
throwaway capability with one Connect hook, and nothing else edited.

The copy then passes the registry's checks (its declaration agrees with its handlers and the
stage configuration) and the declarations', policies' and import-cycle checks of `make
check`; its Lambda loads it alone and answers; and the flow validator knows its hook. A list
the document does not name would fail here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from devkit.local_aws import ROOT, stage_environment

FOLDER = {
    "__init__.py": "",
    "model.py": '''"""Echo: a throwaway capability."""


def echoed(contact_id: str) -> dict[str, str]:
    return {"echo": "yes", "heard": contact_id}
''',
    "service.py": '''"""Echo's use case."""

from chalicelib.echo.model import echoed


class EchoService:
    def echo(self, contact_id: str) -> dict[str, str]:
        return echoed(contact_id)
''',
    "handlers.py": '''"""Echo's hook."""

from chalice.app import Blueprint

from chalicelib.capability import Provided
from chalicelib.echo.service import EchoService
from chalicelib.platform.clock import Deadline
from chalicelib.platform.contact import ContactContext
from chalicelib.platform.hooks import connect_hook

bp = Blueprint(__name__)
served = Provided(EchoService)
OUTPUTS = {"echo_caller": frozenset({"echo", "heard"})}


@bp.lambda_function(name="echo_caller")
@connect_hook("echo_caller", {"echo": "no"})
def echo_caller(contact: ContactContext, deadline: Deadline) -> dict[str, str]:
    return served().echo(contact.contact_id)
''',
    "capability.py": '''"""Echo, as the registry lists it."""

from chalicelib.capability import Capability, Function


def build_service(clock=None, connect=None):
    from chalicelib.echo.service import EchoService

    return EchoService()


CAPABILITY = Capability(
    name="echo",
    handlers="chalicelib.echo.handlers",
    functions=(Function("echo_caller", timeout=8, memory=256),),
    tables=(),
    build=build_service,
)
''',
}

SKIPPED = (".venv", ".git", "build", "deployments", "__pycache__", ".hypothesis", ".mypy_cache",
           ".ruff_cache", ".pytest_cache")  # fmt: skip

ANSWER = """
import json, sys
import app
from devkit.events import contact_event

class Context:
    function_name = "switchboard-dev-echo_caller"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:us-east-1:111122223333:function:" + function_name
    aws_request_id = "echo"

answer = app.echo_caller(contact_event("+14155550101", contact_id="echo-1"), Context())
handlers = sorted(m for m in sys.modules if m.startswith("chalicelib.") and m.endswith("handlers"))
print(json.dumps({"answer": answer, "handlers": handlers}))
"""


def _touch_as_the_document_says(copy: Path) -> None:
    # 1. Its folder.
    for name, text in FOLDER.items():
        (copy / "chalicelib" / "echo").mkdir(exist_ok=True)
        (copy / "chalicelib" / "echo" / name).write_text(text)
    # 2. One line in the registry.
    registry = copy / "chalicelib" / "capabilities.py"
    text = registry.read_text().replace(
        "from chalicelib.qa.capability import CAPABILITY as QA\n",
        "from chalicelib.qa.capability import CAPABILITY as QA\n"
        "from chalicelib.echo.capability import CAPABILITY as ECHO\n",
    )
    registry.write_text(
        text.replace("(IVR, CALLBACKS, DIALER, QA)", "(IVR, CALLBACKS, DIALER, QA, ECHO)")
    )
    # 3. Infra: no table; its Lambda's timeout and policy file for every stage.
    config_path = copy / ".chalice" / "config.json"
    config = json.loads(config_path.read_text())
    for stage, settings in config["stages"].items():
        settings["lambda_functions"]["echo_caller"] = {
            "lambda_timeout": 8,
            "lambda_memory_size": 256,
            "iam_policy_file": f"policies/{stage}/echo_caller.json",
        }
    config_path.write_text(json.dumps(config, indent=2) + "\n")
    # 4. Policies: its entry (it calls no AWS API), then `make policies`.
    permissions_path = copy / "infra" / "permissions.json"
    permissions = json.loads(permissions_path.read_text())
    permissions["functions"]["echo_caller"] = {}
    permissions_path.write_text(json.dumps(permissions, indent=1) + "\n")
    _run(copy, "-m", "devkit.policies")


def _run(copy: Path, *arguments: str, **environment: str) -> str:
    done = subprocess.run(
        [sys.executable, *arguments],
        cwd=copy,
        env={**os.environ, "PYTHONPATH": str(copy), **environment},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def test_a_capability_added_as_the_document_says_is_checked_loaded_alone_and_served(
    tmp_path: Path,
) -> None:
    copy = tmp_path / "repo"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(*SKIPPED))
    _touch_as_the_document_says(copy)

    _run(copy, "-m", "devkit.policies", "--check")
    _run(copy, "-m", "devkit.cycles")
    _run(copy, "-m", "devkit.declarations")
    _run(copy, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/integration/test_registry.py")

    lambda_like = {**stage_environment("dev"), "AWS_DEFAULT_REGION": "us-east-1"}
    lambda_like["AWS_LAMBDA_FUNCTION_NAME"] = "switchboard-dev-echo_caller"
    served = json.loads(_run(copy, "-c", ANSWER, **lambda_like))
    assert served["answer"]["echo"] == "yes" and served["answer"]["heard"] == "echo-1"
    assert served["handlers"] == ["chalicelib.echo.handlers"]

    known = "import json; from devkit.catalogue import hook_catalogue as c; " + (
        "print(json.dumps(sorted(c().hooks['echo_caller'].outputs)))"
    )
    assert json.loads(_run(copy, "-c", known)) == ["echo", "heard"]  # the flow validator knows it
