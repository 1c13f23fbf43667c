"""IVR use cases: each takes a parsed contact and answers the attributes the flow reads.

Everything outside the domain comes in through the ports below; `store.py` implements them on
DynamoDB and Connect, the tests implement them in memory.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from chalicelib.ivr.model import (
    JOURNEY_RETENTION,
    PREDICTION_WINDOW,
    REPEAT_WINDOW,
    Account,
    AccountEvent,
    CallerProfile,
    CallerType,
    Customer,
    JourneyStep,
    is_repeat_caller,
    predict_reason,
    summarise,
)
from chalicelib.ivr.pin import PIN_PATTERN, PinGuard, PinOutcome, pin_digest, pin_matches
from chalicelib.ivr.routing import (
    QueueLoad,
    RouteRequest,
    RoutingRules,
    candidate_queues,
    decide_route,
    resolve_intent,
)
from chalicelib.platform.clock import Clock, Deadline
from chalicelib.platform.contact import ContactContext, HookError
from chalicelib.platform.digits import parse_digits
from chalicelib.platform.phone import CallerKeyError, CallerKeys, NumberKind, normalise

_STEP_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
MAX_JOURNEY_VALUE = 200
# A decoy hash so an unknown customer costs as much as a known one (no timing oracle).
_DECOY_HASH = "scrypt$16384$00$" + "00" * 32


class CustomerDirectory(Protocol):
    def by_phone(self, e164: str) -> Customer | None: ...

    def recent_events(self, customer_id: str, since: datetime) -> Sequence[AccountEvent]: ...

    def pin_hash(self, customer_id: str) -> str: ...


@dataclass(frozen=True)
class PreviousJourney:
    initial_contact_id: str
    started_at: datetime
    last_intent: str


class JourneyLog(Protocol):
    def previous(self, caller: str, since: datetime) -> Sequence[PreviousJourney]: ...

    def append(
        self, initial_contact_id: str, caller: str, step: JourneyStep, expires_at: datetime
    ) -> Sequence[JourneyStep]:
        """Store the step once (a repeated key is a no-op) and return the whole journey."""
        ...


class PinGuards(Protocol):
    def load(self, customer_id: str) -> PinGuard: ...

    def update(self, customer_id: str, change: Callable[[PinGuard], PinGuard]) -> PinGuard:
        """Apply `change` to the stored guard with a conditional write, retrying on a race."""
        ...


class CallerKeySource(Protocol):
    def keys(self) -> CallerKeys:
        """The HMAC keys for numbers; CallerKeyError when they cannot be had right now."""
        ...


class Accounts(Protocol):
    def get(self, customer_id: str) -> Account | None: ...


class LoadUnavailableError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class QueueLoads(Protocol):
    def current(self, queues: Sequence[str], deadline: Deadline) -> Mapping[str, QueueLoad]:
        """Live load per queue name; raises LoadUnavailableError(reason) when it can't say."""
        ...


@dataclass(frozen=True)
class IvrService:
    rules: RoutingRules
    customers: CustomerDirectory
    journeys: JourneyLog
    pins: PinGuards
    accounts: Accounts
    loads: QueueLoads
    clock: Clock
    queue_ids: Mapping[str, str]
    caller_keys: CallerKeySource
    default_country: str = "US"

    def _keys(self) -> CallerKeys | None:
        """None when the secret is unavailable: the call goes on without caller history."""
        try:
            return self.caller_keys.keys()
        except CallerKeyError:
            return None

    # -- identify_caller ---------------------------------------------------------------------

    def identify_caller(self, contact: ContactContext, deadline: Deadline) -> dict[str, str]:
        number = normalise(contact.customer_address, self.default_country)
        if number.kind is not NumberKind.VALID:
            kind = CallerType.WITHHELD if number.kind is NumberKind.WITHHELD else CallerType.INVALID
            return CallerProfile(kind).attributes()
        now = self.clock.now()
        keys = self._keys()
        previous = [
            journey
            for key in (keys.every(number.e164) if keys else ())
            for journey in self.journeys.previous(key, now - REPEAT_WINDOW)
            if journey.initial_contact_id != contact.initial_contact_id
        ]
        last_intent = max(previous, key=lambda j: j.started_at).last_intent if previous else ""
        repeat = is_repeat_caller((j.started_at for j in previous), now)
        history = "checked" if keys else "unavailable"
        customer = self.customers.by_phone(number.e164)
        if customer is None:
            profile = CallerProfile(CallerType.UNKNOWN, None, repeat, "", last_intent, history)
            return profile.attributes()
        events = self.customers.recent_events(customer.customer_id, now - PREDICTION_WINDOW)
        reason = predict_reason(events, now)
        profile = CallerProfile(CallerType.KNOWN, customer, repeat, reason, last_intent, history)
        return profile.attributes()

    # -- route_call --------------------------------------------------------------------------

    def route_call(self, contact: ContactContext, deadline: Deadline) -> dict[str, str]:
        request = RouteRequest(
            intent=resolve_intent(
                self.rules, contact.param("intent"), contact.param("menu_choice")
            ),
            tier=contact.param("tier", "standard").lower(),
            language=contact.param("language", "en").lower(),
            predicted_reason=contact.param("predicted_reason"),
            elderly=contact.param("elderly") == "true",
            repeat_caller=contact.param("repeat_caller") == "true",
        )
        now = self.clock.now()
        queues = candidate_queues(self.rules, request, now)
        loads: Mapping[str, QueueLoad] | None = None
        load_error = ""
        if queues:
            try:
                loads = self.loads.current(queues, deadline)
            except LoadUnavailableError as error:
                load_error = error.reason
        decision = decide_route(self.rules, request, now, loads, load_error)
        return {**decision.attributes(), "queue_arn": self._queue_arn(contact, decision.queue)}

    def _queue_arn(self, contact: ContactContext, queue: str) -> str:
        """The ARN "Set working queue" needs; built from the contact's own instance ARN."""
        if not queue:
            return ""
        queue_id = self.queue_ids.get(queue)
        if not queue_id or not contact.instance_arn.startswith("arn:"):
            raise HookError("unknown_queue_id")
        return f"{contact.instance_arn}/queue/{queue_id}"

    # -- verify_pin --------------------------------------------------------------------------

    def verify_pin(self, contact: ContactContext, deadline: Deadline) -> dict[str, str]:
        customer_id = contact.param("customer_id")
        if not customer_id:
            raise HookError("unknown_customer")
        pin = contact.parameters.get("pin", "").strip()
        stored = self.customers.pin_hash(customer_id)
        if not stored:
            pin_matches(pin, _DECOY_HASH)
            return {"result": "ok", "pin_result": PinOutcome.NO_PIN.value, "attempts_left": "0"}
        digests = pin_digest(pin, stored) if PIN_PATTERN.match(pin) else None
        correct = digests is not None and hmac.compare_digest(*digests)
        # Without an attempt number from the flow, the same input in one contact is one attempt;
        # the key uses the slow hash, so it is no shortcut to the PIN.
        attempt = contact.param("attempt") or ("in-" + (digests[0][:6].hex() if digests else "bad"))
        attempt_key = f"{contact.initial_contact_id}:{contact.contact_id}:{attempt}"
        now = self.clock.now()
        outcome = PinOutcome.OK if correct else PinOutcome.WRONG

        def change(guard: PinGuard) -> PinGuard:
            if attempt_key in guard.counted:
                return guard  # Connect retried the same attempt: count it once
            if guard.is_locked(now):
                return guard.record(attempt_key, PinOutcome.LOCKED, now, "")
            return guard.record(attempt_key, outcome, now, contact.initial_contact_id)

        guard = self.pins.update(customer_id, change)
        attempt_number = parse_digits(attempt)
        result = guard.counted.get(attempt_key, PinOutcome.LOCKED)
        if result is PinOutcome.WRONG and guard.is_locked(now):
            result = PinOutcome.LOCKED
        return {
            "result": "ok",
            "pin_result": result.value,
            "attempts_left": str(0 if guard.is_locked(now) else guard.failures_left(now)),
            "next_attempt": "" if attempt_number is None else str(attempt_number + 1),
        }

    # -- account_lookup ----------------------------------------------------------------------

    def account_lookup(self, contact: ContactContext, deadline: Deadline) -> dict[str, str]:
        customer_id = contact.param("customer_id")
        if not customer_id:
            raise HookError("unknown_customer")
        guard = self.pins.load(customer_id)
        if not guard.verified(contact.initial_contact_id, self.clock.now()):
            return {"result": "not_verified", "reason": "pin_required"}
        account = self.accounts.get(customer_id)
        if account is None:
            return {"result": "not_found", "reason": "no_account"}
        return account.attributes()

    # -- record_journey ----------------------------------------------------------------------

    def record_journey(self, contact: ContactContext, deadline: Deadline) -> dict[str, str]:
        step_name = contact.parameters.get("step", "").strip().lower()
        if not _STEP_NAME.match(step_name):
            raise HookError("invalid_step")
        value = contact.parameters.get("value", "").strip()[:MAX_JOURNEY_VALUE]
        number = normalise(contact.customer_address, self.default_country)
        keys = self._keys() if number.kind is NumberKind.VALID else None
        # Without the key the step is still kept; a later step of the contact adds the key.
        caller = keys.current(number.e164) if keys else ""
        now = self.clock.now()
        step = JourneyStep(contact.contact_id, step_name, value, now)
        steps = self.journeys.append(
            contact.initial_contact_id, caller, step, now + JOURNEY_RETENTION
        )
        return {
            "result": "ok",
            "journey_steps": str(len(steps)),
            "journey_summary": summarise(steps),
        }
