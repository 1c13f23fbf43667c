"""Events as AWS sends them, for the tests, the benchmarks and the demo."""

from __future__ import annotations

from typing import Any


def contact_event(
    address: object = "+14155550101",
    contact_id: str = "5f3c1a2e-0000-4000-8000-000000000001",
    **parameters: Any,
) -> dict[str, Any]:
    return {
        "Name": "ContactFlowEvent",
        "Details": {
            "ContactData": {
                "Attributes": {},
                "Channel": "VOICE",
                "ContactId": contact_id,
                "InitialContactId": contact_id,
                "PreviousContactId": contact_id,
                "CustomerEndpoint": None
                if address is None
                else {"Address": address, "Type": "TELEPHONE_NUMBER"},
                "SystemEndpoint": {"Address": "+18005550100", "Type": "TELEPHONE_NUMBER"},
                "InitiationMethod": "INBOUND",
                "InstanceARN": "arn:aws:connect:us-east-1:111122223333:instance/"
                "00000000-0000-4000-8000-00000000dev0",
                "Queue": None,
                "MediaStreams": {"Customer": {"Audio": None}},
            },
            "Parameters": parameters,
        },
    }
