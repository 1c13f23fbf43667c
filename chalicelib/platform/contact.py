"""What a hook knows about the contact: a pure value parsed from Connect's event.

Kept apart from `hooks.py` (which imports Powertools) so use cases can take it and stay pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


def flag(value: bool) -> str:
    """A yes/no as Connect flows compare it: contact attributes are strings."""
    return "true" if value else "false"


class HookError(Exception):
    """An expected failure a use case reports with its own reason code."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ContactContext:
    contact_id: str
    initial_contact_id: str
    channel: str
    initiation_method: str
    customer_address: object
    instance_arn: str
    attributes: Mapping[str, str] = field(default_factory=dict)
    parameters: Mapping[str, str] = field(default_factory=dict)
    truncated: tuple[str, ...] = ()

    def param(self, name: str, default: str = "") -> str:
        """A block parameter, falling back to the contact attribute of the same name."""
        value = self.parameters.get(name) or self.attributes.get(name)
        return value.strip() if value else default
