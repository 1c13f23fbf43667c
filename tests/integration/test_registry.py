"""The capability declarations, and the composition root that loads and injects from them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from chalicelib import composition
from chalicelib.callbacks import handlers as callbacks_handlers
from chalicelib.capabilities import CAPABILITIES
from chalicelib.capability import Provided
from chalicelib.ivr import handlers as ivr_handlers
from chalicelib.ivr.service import IvrService
from devkit.local_aws import ROOT, stage_environment


def test_an_override_of_the_wrong_type_is_refused_not_ignored() -> None:
    with pytest.raises(TypeError, match="IvrService"):
        ivr_handlers.served.override(object())  # type: ignore[arg-type]
    assert ivr_handlers.served.current is None or isinstance(
        ivr_handlers.served.current, IvrService
    )


def test_a_service_is_built_once_on_first_use_and_an_override_wins(tables) -> None:
    import app  # noqa: F401  (wires every handler module)

    try:
        built = callbacks_handlers.served()
        assert callbacks_handlers.served() is built
        other = composition.build(composition.capability("callbacks"))
        callbacks_handlers.served.override(other)
        assert callbacks_handlers.served() is other
    finally:
        composition.reset()
    assert callbacks_handlers.served.current is None


def test_a_handler_module_nobody_wired_says_so() -> None:
    with pytest.raises(LookupError, match="nothing provides IvrService"):
        Provided(IvrService)()


def test_each_capability_declares_exactly_the_functions_its_handlers_define() -> None:
    import app as module

    deployed = {f.name for f in [*module.app.pure_lambda_functions, *module.app.event_sources]}
    for name in deployed:  # Lambda's name is the handler's: app.py serves it as app.<name>
        assert callable(getattr(module, name)), name
    for capability in CAPABILITIES:
        defined = {name for name in deployed if hasattr(capability.module(), name)}
        assert set(capability.function_names) == defined, capability.name
    declared = [name for capability in CAPABILITIES for name in capability.function_names]
    assert len(declared) == len(set(declared)), "a function declared by two capabilities"


def test_every_function_the_app_deploys_is_declared_and_configured_for_every_stage() -> None:
    from app import app

    declared = {name for capability in CAPABILITIES for name in capability.function_names}
    deployed = {f.name for f in [*app.pure_lambda_functions, *app.event_sources]}
    assert deployed == declared | {f.name for f in composition.OUTBOUND_FUNCTIONS}
    stages = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]
    for stage, config in stages.items():
        assert set(config["lambda_functions"]) == deployed | {"api_handler"}, stage


def test_every_hook_declares_its_outputs_and_highlights_only_those() -> None:
    from app import app

    hooks = [hook for capability in CAPABILITIES for hook in capability.outputs]
    assert len(hooks) == len(set(hooks))
    assert set(hooks) == {f.name for f in app.pure_lambda_functions}
    for capability in CAPABILITIES:
        assert set(capability.highlights) <= set(capability.outputs), capability.name
        for hook, keys in capability.highlights.items():
            assert set(keys) <= capability.outputs[hook], hook


def test_a_capability_that_places_calls_is_named_as_its_calls_owner() -> None:
    from chalicelib.callbacks.capability import OWNER as CALLBACKS_OWNER
    from chalicelib.callbacks.service import OWNER as CALLBACKS_ROUTES_TO
    from chalicelib.dialer.service import OWNER as DIALER_OWNER

    owners = {capability.name for capability in CAPABILITIES if capability.settle}
    assert owners == {CALLBACKS_OWNER, DIALER_OWNER}
    assert CALLBACKS_ROUTES_TO == CALLBACKS_OWNER  # a contact found by search is routed there


LOADED = """
import json, sys
import app
print(json.dumps({
    # Each capability's declaration is light and always loaded; anything else of it is code.
    "modules": sorted(
        m for m in sys.modules
        if m.startswith("chalicelib.") and m.count(".") > 1 and not m.endswith(".capability")
    ),
    "handlers": sorted(n for n in vars(app) if not n.startswith("_") and callable(getattr(app, n))),
}))
"""


def _loaded_by(function_name: str) -> dict[str, list[str]]:
    environment = {**os.environ, **stage_environment("dev"), "AWS_DEFAULT_REGION": "us-east-1"}
    environment["AWS_LAMBDA_FUNCTION_NAME"] = function_name
    done = subprocess.run(
        [sys.executable, "-c", LOADED], cwd=ROOT, env=environment, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    loaded: dict[str, list[str]] = json.loads(done.stdout)
    return loaded


def _handlers(loaded: dict[str, list[str]]) -> set[str]:
    return {m.split(".")[1] for m in loaded["modules"] if m.endswith(".handlers")}


def _capabilities(loaded: dict[str, list[str]]) -> set[str]:
    return {m.split(".")[1] for m in loaded["modules"]} - {"platform"}


def test_a_lambda_loads_only_the_capability_it_runs() -> None:
    hook = _loaded_by("switchboard-dev-identify_caller")
    assert _capabilities(hook) == {"ivr"}
    assert "identify_caller" in hook["handlers"]
    assert "dial_campaigns" not in hook["handlers"]

    dialer = _loaded_by("switchboard-prod-dial_campaigns")
    # every Lambda checks the routing rules at start (app.py), which live with the IVR
    assert _handlers(dialer) == {"dialer"}
    assert _capabilities(dialer) <= {"dialer", "outbound", "ivr"}

    events = _loaded_by("switchboard-prod-outbound_contact_events")
    assert _handlers(events) == {"outbound"}
    assert "outbound_contact_events" in events["handlers"]

    api = _loaded_by("switchboard-dev")  # the HTTP API's function: every capability
    assert _handlers(api) == {c.handlers.split(".")[1] for c in CAPABILITIES} | {"outbound"}
