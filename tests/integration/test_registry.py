"""The capability registry and the typed composition root."""

from __future__ import annotations

import pytest

from chalicelib import bootstrap
from chalicelib.callbacks.service import CallbackService
from chalicelib.capabilities import CAPABILITIES
from chalicelib.ivr.service import IvrService


def test_an_override_of_the_wrong_type_is_refused_not_ignored() -> None:
    with pytest.raises(TypeError, match="IvrService"):
        bootstrap.override(IvrService, object())  # type: ignore[arg-type]
    assert IvrService not in bootstrap._overrides


def test_a_service_is_built_once_from_its_capability_and_overrides_win(tables) -> None:
    try:
        built = bootstrap.service(CallbackService)
        assert bootstrap.service(CallbackService) is built
        other = CAPABILITIES[1].build(None, None)
        bootstrap.override(CallbackService, other)
        assert bootstrap.service(CallbackService) is other
    finally:
        bootstrap.reset()
    with pytest.raises(LookupError, match="no capability serves str"):
        bootstrap.service(str)


def test_every_function_the_app_deploys_belongs_to_one_capability() -> None:
    from app import app

    names = {capability.name for capability in CAPABILITIES}
    assert len(names) == len(CAPABILITIES)
    hooks = [hook for capability in CAPABILITIES for hook in capability.outputs]
    assert len(hooks) == len(set(hooks))
    deployed = {f.name for f in app.pure_lambda_functions}
    assert set(hooks) == deployed  # every pure Lambda is a Connect hook with declared outputs
    for capability in CAPABILITIES:
        assert set(capability.highlights) <= set(capability.outputs), capability.name
        for hook, keys in capability.highlights.items():
            assert set(keys) <= capability.outputs[hook], hook
