"""Sample customers, accounts, recent account events and PINs for the demo and tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from chalicelib.ivr.pin import hash_pin


@dataclass(frozen=True)
class SampleCustomer:
    customer_id: str
    phone: str
    display_name: str
    tier: str = "standard"
    language: str = "en"
    elderly: bool = False
    assigned_agent: str = ""
    last_agent: str = ""
    pin: str = ""
    balance_cents: int = 0
    events: tuple[tuple[str, timedelta], ...] = ()  # (kind, how long before "now")


CUSTOMERS = (
    SampleCustomer(
        "C-1001",
        "+14155550101",
        "Victoria Ashford",
        tier="vip",
        assigned_agent="agent-maria",
        pin="4321",
        balance_cents=1_254_075,
    ),
    SampleCustomer(
        "C-1002",
        "+14155550102",
        "Harold Finch",
        tier="gold",
        elderly=True,
        last_agent="agent-tom",
        pin="1111",
        balance_cents=32_010,
    ),
    SampleCustomer(
        "C-1003",
        "+14155550103",
        "Priya Raman",
        last_agent="agent-lee",
        events=(("payment_failed", timedelta(days=1)), ("bill_issued", timedelta(days=3))),
        pin="9876",
        balance_cents=-4_599,
    ),
    SampleCustomer("C-1004", "+14155550104", "Sam Okafor", pin="2468", balance_cents=88_800),
    SampleCustomer(
        "C-1005", "+13055550105", "Lucía Fernández", language="es", pin="5555", balance_cents=10_000
    ),
    SampleCustomer(
        "C-1006", "+14155550106", "Dana Whitfield", tier="gold", pin="8080", balance_cents=51_230
    ),
)


def seed(now: datetime, pin_cost: int = 2**14) -> None:
    """Write the sample data into the (local) tables. `pin_cost` is scrypt's N."""
    from chalicelib.ivr.store import AccountEventRecord, AccountRecord, CustomerRecord

    for index, sample in enumerate(CUSTOMERS):
        salt = f"demo-salt-{index:04d}".encode()
        CustomerRecord(
            sample.customer_id,
            phone=sample.phone,
            display_name=sample.display_name,
            tier=sample.tier,
            language=sample.language,
            elderly=sample.elderly,
            assigned_agent=sample.assigned_agent,
            last_agent=sample.last_agent,
            pin_hash=hash_pin(sample.pin, salt, pin_cost) if sample.pin else None,
        ).save()
        AccountRecord(
            sample.customer_id,
            balance_cents=sample.balance_cents,
            currency="USD",
            next_bill_date=(now + timedelta(days=12)).date().isoformat(),
            policy_status="active",
        ).save()
        for number, (kind, age) in enumerate(sample.events):
            occurred = now - age
            AccountEventRecord(
                sample.customer_id,
                f"{occurred.astimezone(UTC).isoformat()}#{number}",
                kind=kind,
                occurred_at=occurred,
                expires_at=occurred + timedelta(days=90),
            ).save()
