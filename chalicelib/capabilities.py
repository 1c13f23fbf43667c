"""Every capability, one line each. Adding one: its folder, a line here, infra, policies
(docs/adding-a-capability.md)."""

from __future__ import annotations

from chalicelib.callbacks.capability import CAPABILITY as CALLBACKS
from chalicelib.capability import Capability
from chalicelib.dialer.capability import CAPABILITY as DIALER
from chalicelib.ivr.capability import CAPABILITY as IVR
from chalicelib.qa.capability import CAPABILITY as QA

CAPABILITIES: tuple[Capability, ...] = (IVR, CALLBACKS, DIALER, QA)
