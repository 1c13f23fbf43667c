"""Schemas for what people write: every structural problem at once, each named by its field
in the document's own words; nothing coerced; the cross-references still checked in code."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.bootstrap import ROUTING_RULES_PATH, load_routing_rules
from chalicelib.ivr.routing import RoutingRulesError, parse_routing_rules
from chalicelib.ivr.schema import RoutingRulesDocument
from chalicelib.platform.schema import (
    Document,
    ProblemKind,
    SchemaError,
    check,
    describe,
    field_path,
)

RAW = json.loads(ROUTING_RULES_PATH.read_text())


class Item(Document):
    sku: str
    count: int = 1
    gift: bool = False


class Order(Document):
    customer: str
    items: list[Item]


def problems_of(raw: object) -> list[tuple[str, ProblemKind, str]]:
    with pytest.raises(SchemaError) as error:
        check(Order, raw)
    return [(p.field, p.kind, p.message) for p in error.value.problems]


def test_a_valid_document_comes_back_typed() -> None:
    order = check(Order, {"customer": "c1", "items": [{"sku": "a"}, {"sku": "b", "count": 2}]})
    assert [item.count for item in order.items] == [1, 2]


def test_every_problem_is_named_by_its_field_in_document_order() -> None:
    raw = {"items": [{"sku": "a", "count": "2"}, {"sku": 5, "gift": 1, "colour": "red"}]}
    assert problems_of(raw) == [
        ("customer", ProblemKind.MISSING, "is required"),
        ("items[0].count", ProblemKind.WRONG_TYPE, "must be a whole number"),
        ("items[1].sku", ProblemKind.WRONG_TYPE, "must be a string"),
        ("items[1].gift", ProblemKind.WRONG_TYPE, "must be true or false"),
        ("items[1].colour", ProblemKind.UNKNOWN, "is not a known key (a typo?)"),
    ]


def test_a_document_that_is_not_an_object_is_said_so() -> None:
    assert problems_of(["not", "an", "order"]) == [
        ("", ProblemKind.WRONG_TYPE, "must be an object")
    ]


@given(st.one_of(st.integers(), st.floats(allow_nan=False), st.booleans(), st.text()))
def test_nothing_is_coerced(value) -> None:
    """`"5"` is not a count and `1` is not `true`: a designer's mistake is never guessed at."""
    raw = {"customer": "c1", "items": [{"sku": "a", "count": value}]}
    if type(value) is int:
        assert check(Order, raw).items[0].count == value
    else:
        assert problems_of(raw)[0][:2] == ("items[0].count", ProblemKind.WRONG_TYPE)


def test_unknown_keys_of_one_object_are_said_together() -> None:
    with pytest.raises(SchemaError) as error:
        check(Order, {"customer": "c", "items": [{"sku": "a", "size": 1, "colour": 2}], "x": 1})
    assert describe(error.value.problems) == [
        "items[0]: unknown keys size, colour",
        "unknown keys x",
    ]


def test_field_paths_read_as_the_document_does() -> None:
    assert field_path(("queues", "billing", "max_in_queue")) == "queues.billing.max_in_queue"
    assert field_path(("rules", 2, "when", "tier", 0)) == "rules[2].when.tier[0]"
    assert field_path(()) == ""


# -- the routing rules ------------------------------------------------------------------------


def rules_problems(mutate) -> tuple[str, ...]:
    raw = copy.deepcopy(RAW)
    mutate(raw)
    with pytest.raises(RoutingRulesError) as error:
        parse_routing_rules(raw)
    return error.value.problems


def test_the_shipped_rules_pass_the_schema_and_build_the_same_with_or_without_it() -> None:
    check(RoutingRulesDocument, RAW)
    assert parse_routing_rules(RAW) == load_routing_rules()


@pytest.mark.parametrize(
    ("mutate", "problem"),
    [
        (
            lambda r: r["rules"][2].update(priority="2"),
            "rule 'gold-billing': priority must be a whole number",
        ),
        (lambda r: r["rules"][2].update(prority=2), "rule 'gold-billing': unknown key 'prority'"),
        (lambda r: r["rules"][5].pop("queue"), "rule 'technical': queue is required"),
        (lambda r: r["rules"][3].pop("name"), None),  # a nameless rule is allowed: '#4'
        (
            lambda r: r["rules"][4]["when"].update(intent=[]),
            "rule 'billing': when.intent needs at least one item",
        ),
        (
            lambda r: r["queues"]["billing"].update(max_in_queue="10"),
            "queue 'billing': max_in_queue must be a whole number",
        ),
        (
            lambda r: r["hours"]["night-desk"]["weekly"].update(monday=["06:00-08:00"]),
            "hours 'night-desk': weekly.monday must be 'mon', 'tue', 'wed', 'thu', "
            "'fri', 'sat' or 'sun'",
        ),
        (lambda r: r.update(colour="blue"), "unknown key 'colour'"),
        (lambda r: r.update(rules={}), "rules must be a list"),
        (lambda r: r.update(callback_offer_above_seconds=-1), "must be at least 0"),
    ],
)
def test_structural_problems_are_said_in_the_rules_own_words(mutate, problem) -> None:
    if problem is None:
        raw = copy.deepcopy(RAW)
        mutate(raw)
        assert parse_routing_rules(raw).rules[3].name == "#4"
        return
    assert any(problem in said for said in rules_problems(mutate)), rules_problems(mutate)


def test_structure_and_references_each_report_every_problem_at_once() -> None:
    structural = rules_problems(
        lambda r: (r["rules"][0].update(priority=11), r["queues"]["vip"].update(hours=3))
    )
    assert structural == (
        "queue 'vip': hours must be a string",
        "rule 'green-channel': priority must be at most 10",
    )
    references = rules_problems(
        lambda r: (r["rules"][0].update(queue="nowhere"), r.update(night_queue="moon"))
    )
    assert references == (
        "night_queue 'moon' is not defined",
        "rule 'green-channel': queue 'nowhere' is not defined",
    )


def test_a_cold_start_on_a_file_it_cannot_build_fails_naming_the_field(tmp_path: Path) -> None:
    """The hooks build the rules without the schema (ADR 0008); a file that reached a stage
    unchecked and cannot be built still stops the start with the field, not a KeyError."""
    raw = copy.deepcopy(RAW)
    raw["queues"]["billing"] = "billing-queue"
    del raw["rules"][0]["queue"]
    path = tmp_path / "routing_rules.json"
    path.write_text(json.dumps(raw))
    with pytest.raises(RoutingRulesError) as error:
        load_routing_rules(path)
    assert error.value.problems == (
        "queues.billing must be an object",
        "rule 'green-channel': queue is required",
    )
