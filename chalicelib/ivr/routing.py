"""Where a call goes: the routing rules (parsed from JSON, every problem reported at once)
and the decision (menu choice or intent x tier x language x hours x queue load -> queue,
priority, callback offer).

Standard library only. Time and queue loads come in as arguments.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import Enum
from typing import Any

from chalicelib.ivr.model import Tier
from chalicelib.platform.contact import flag
from chalicelib.platform.hours import Hours, parse_hours


class RoutingRulesError(ValueError):
    """The routing rules file is invalid; each problem names the rule, queue or hours."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = tuple(problems)


# ---------------------------------------------------------------------------------------------
# Routing rules


_FLAG_KEYS = {"elderly", "repeat_caller"}


@dataclass(frozen=True)
class QueueConfig:
    name: str
    hours: str
    backup: str = ""
    max_in_queue: int = 20
    average_handle_seconds: int = 300


@dataclass(frozen=True)
class Rule:
    name: str
    queue: str
    priority: int
    when: Mapping[str, frozenset[str] | bool] = field(default_factory=dict)

    def matches(self, request: RouteRequest) -> bool:
        return all(self._condition_holds(key, wanted, request) for key, wanted in self.when.items())

    @staticmethod
    def _condition_holds(key: str, wanted: frozenset[str] | bool, request: RouteRequest) -> bool:
        actual = getattr(request, key)
        if isinstance(wanted, bool):
            return bool(actual) is wanted
        return str(actual) in wanted


@dataclass(frozen=True)
class RoutingRules:
    queues: Mapping[str, QueueConfig]
    hours: Mapping[str, Hours]
    rules: tuple[Rule, ...]
    menu: Mapping[str, str]
    default_queue: str
    night_queue: str
    closed_message: str
    callback_offer_above_seconds: int


@dataclass(frozen=True)
class RouteRequest:
    intent: str = ""
    tier: str = Tier.STANDARD.value
    language: str = "en"
    predicted_reason: str = ""
    elderly: bool = False
    repeat_caller: bool = False


def _build_queue(name: str, raw: Mapping[str, Any]) -> QueueConfig:
    return QueueConfig(
        name=name,
        hours=raw["hours"],
        backup=raw.get("backup", ""),
        max_in_queue=raw.get("max_in_queue", 20),
        average_handle_seconds=raw.get("average_handle_seconds", 300),
    )


def _build_condition(key: str, value: Any) -> frozenset[str] | bool:
    if key in _FLAG_KEYS:
        return bool(value)
    return frozenset([value] if isinstance(value, str) else value)


def _build_rule(index: int, raw: Mapping[str, Any]) -> Rule:
    return Rule(
        name=raw.get("name") or f"#{index + 1}",
        queue=raw["queue"],
        priority=raw.get("priority", 5),
        when={
            key: _build_condition(key, value)
            for key, value in raw.get("when", {}).items()
            if value is not None
        },
    )


def _check_references(rules: RoutingRules, problems: list[str]) -> None:
    _check_queue_references(rules, problems)
    _check_rule_references(rules, problems)


def _check_queue_references(rules: RoutingRules, problems: list[str]) -> None:
    for queue in rules.queues.values():
        if queue.hours not in rules.hours:
            problems.append(f"queue {queue.name!r}: hours {queue.hours!r} are not defined")
        if queue.backup and queue.backup not in rules.queues:
            problems.append(f"queue {queue.name!r}: backup {queue.backup!r} is not defined")
    for label, name in (("default_queue", rules.default_queue), ("night_queue", rules.night_queue)):
        if name and name not in rules.queues:
            problems.append(f"{label} {name!r} is not defined")


def _check_rule_references(rules: RoutingRules, problems: list[str]) -> None:
    for rule in rules.rules:
        if rule.queue not in rules.queues:
            problems.append(f"rule {rule.name!r}: queue {rule.queue!r} is not defined")
    names = [rule.name for rule in rules.rules]
    for duplicate in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"rule {duplicate!r}: defined more than once")
    for digit, intent in rules.menu.items():
        if not re.fullmatch(r"[0-9*#]", digit) or not re.fullmatch(r"[a-z_]{1,32}", intent):
            problems.append(f"menu {digit!r}: must map one key to an intent like 'payment'")


def build_routing_rules(raw: Mapping[str, Any]) -> RoutingRules:
    """The rules from a document whose structure `parse_routing_rules` has checked; what the
    names refer to (and the hours' time zones, windows and dates) is checked here, every
    problem at once. A structure it cannot build raises KeyError, TypeError or AttributeError."""
    problems: list[str] = []
    hours = {
        name: parsed
        for name, spec in raw.get("hours", {}).items()
        if (parsed := parse_hours(name, spec, problems))
    }
    rules = RoutingRules(
        queues={name: _build_queue(name, spec) for name, spec in raw.get("queues", {}).items()},
        hours=hours,
        rules=tuple(_build_rule(index, rule) for index, rule in enumerate(raw.get("rules", []))),
        menu=dict(raw.get("menu", {})),
        default_queue=raw["default_queue"],
        night_queue=raw.get("night_queue", ""),
        closed_message=raw.get("closed_message", "We are closed. Please call again later."),
        callback_offer_above_seconds=raw.get("callback_offer_above_seconds", 300),
    )
    _check_references(rules, problems)
    if problems:
        raise RoutingRulesError(problems)
    return rules


def parse_routing_rules(raw: Any) -> RoutingRules:
    """Check the rules' structure against their schema, then build them: every problem at
    once, each naming its rule, queue or hours. Imports pydantic (tools, tests, deploy);
    the hooks build the checked file with `build_routing_rules`."""
    from chalicelib.ivr.schema import structure_problems

    if problems := structure_problems(raw):
        raise RoutingRulesError(problems)
    return build_routing_rules(raw)


# ---------------------------------------------------------------------------------------------
# Deciding the route


class Decision(Enum):
    QUEUE = "queue"
    CLOSED = "closed"


@dataclass(frozen=True)
class QueueLoad:
    contacts_in_queue: int
    agents_available: int
    agents_staffed: int


@dataclass(frozen=True)
class RouteDecision:
    decision: Decision
    queue: str = ""
    priority: int = 5
    rule: str = ""
    intent: str = ""
    estimated_wait_seconds: int | None = None
    offer_callback: bool = False
    overflow_from: str = ""
    after_hours: bool = False
    load_status: str = "live"
    closed_message: str = ""

    def attributes(self) -> dict[str, str]:
        wait = self.estimated_wait_seconds
        return {
            "result": "ok",
            "decision": self.decision.value,
            "queue": self.queue,
            "priority": str(self.priority),
            "rule": self.rule,
            "intent": self.intent,
            "estimated_wait_seconds": "" if wait is None else str(wait),
            "estimated_wait_minutes": "" if wait is None else str(max(1, math.ceil(wait / 60))),
            "offer_callback": flag(self.offer_callback),
            "overflowed": flag(bool(self.overflow_from)),
            "overflow_from": self.overflow_from,
            "after_hours": flag(self.after_hours),
            "load_status": self.load_status,
            "closed_message": self.closed_message,
        }


def resolve_intent(rules: RoutingRules, intent: str, menu_choice: str) -> str:
    """A spoken/Lex intent wins over a key press; junk input resolves to no intent."""
    if re.fullmatch(r"[a-z_]{1,32}", intent):
        return intent
    return rules.menu.get(menu_choice.strip(), "")


def choose_rule(rules: RoutingRules, request: RouteRequest) -> Rule:
    for rule in rules.rules:
        if rule.matches(request):
            return rule
    return Rule(name="default", queue=rules.default_queue, priority=5)


def estimated_wait(queue: QueueConfig, load: QueueLoad) -> int:
    """Seconds until a new contact reaches an agent: the queue ahead shared by staffed agents."""
    ahead = load.contacts_in_queue - load.agents_available
    if ahead < 0:
        return 0
    return math.ceil((ahead + 1) * queue.average_handle_seconds / max(load.agents_staffed, 1))


def is_saturated(queue: QueueConfig, load: QueueLoad) -> bool:
    return load.contacts_in_queue >= queue.max_in_queue or load.agents_staffed == 0


def _open_target(rules: RoutingRules, rule: Rule, now: datetime) -> tuple[str, bool] | None:
    """The queue to use right now and whether that is because of after-hours, or None if closed."""
    queue = rules.queues[rule.queue]
    if rules.hours[queue.hours].is_open(now):
        return rule.queue, False
    night = rules.queues.get(rules.night_queue)
    if night and rules.hours[night.hours].is_open(now):
        return night.name, True
    return None


def _with_load(
    rules: RoutingRules, decision: RouteDecision, loads: Mapping[str, QueueLoad], now: datetime
) -> RouteDecision:
    queue = rules.queues[decision.queue]
    load = loads.get(queue.name)
    if load is None:
        return replace(decision, load_status="unavailable:no_data")
    backup = rules.queues.get(queue.backup)
    backup_load = loads.get(queue.backup)
    if (
        is_saturated(queue, load)
        and backup
        and backup_load
        and rules.hours[backup.hours].is_open(now)
        and not is_saturated(backup, backup_load)
    ):
        queue, load = backup, backup_load
        decision = replace(decision, queue=backup.name, overflow_from=decision.queue)
    wait = estimated_wait(queue, load)
    offer = wait > rules.callback_offer_above_seconds or is_saturated(queue, load)
    return replace(decision, estimated_wait_seconds=wait, offer_callback=offer)


def queues_to_watch(rules: RoutingRules, queue: str) -> tuple[str, ...]:
    backup = rules.queues[queue].backup
    return (queue, backup) if backup else (queue,)


def decide_route(
    rules: RoutingRules,
    request: RouteRequest,
    now: datetime,
    loads: Mapping[str, QueueLoad] | None,
    load_error: str = "",
) -> RouteDecision:
    """Menu/intent x tier x language -> rule; hours -> queue or closed; load -> overflow/callback.

    `loads` is None when Connect metrics could not be had; the decision is then made without
    them and `load_status` says why.
    """
    rule = choose_rule(rules, request)
    target = _open_target(rules, rule, now)
    if target is None:
        return RouteDecision(
            Decision.CLOSED,
            rule=rule.name,
            intent=request.intent,
            after_hours=True,
            closed_message=rules.closed_message,
            load_status="not_needed",
        )
    queue, after_hours = target
    decision = RouteDecision(
        Decision.QUEUE, queue, rule.priority, rule.name, request.intent, after_hours=after_hours
    )
    if loads is None:
        return replace(decision, load_status=f"unavailable:{load_error or 'unknown'}")
    return _with_load(rules, decision, loads, now)


def candidate_queues(rules: RoutingRules, request: RouteRequest, now: datetime) -> tuple[str, ...]:
    """The queues whose live load the decision needs: none when the contact centre is closed."""
    target = _open_target(rules, choose_rule(rules, request), now)
    return queues_to_watch(rules, target[0]) if target else ()
