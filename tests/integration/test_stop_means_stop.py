"""Stop means stop: a cancel or a "do not call me" that answers 200 is never followed by a call.

Each test runs the real schedule (the dispatcher, the dialer) through the Chalice test client
on moto and makes the stop, through the HTTP API, before the schedule's 1st AWS request, then
before its 2nd, and so on until the run ends before the stop: every interleaving there is,
since DynamoDB and Connect are each atomic per request. The pacer's wait is a stretch of those
requests. Across all of them: one call at most, none sent after a 200, and a 202 (the call
already went to Connect) only when a call was placed before the stop answered.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient
from botocore.stub import Stubber

from chalicelib.dialer.contacts import Contact
from devkit.iam import CURRENT_FUNCTION
from tests.integration.conftest import NOW, metrics_response
from tests.integration.test_callback_handlers import CALLER, expect_dial
from tests.integration.test_dialer_handlers import CAMPAIGN, NEW_YORK

MOST_REQUESTS = 100  # a run makes fewer: each loop ends once the stop came after the run
INSTANCE = "00000000-0000-4000-8000-00000000dev0"


@dataclass
class Timeline:
    """What happened, in order: every StartOutboundVoiceContact and the stop's answer."""

    events: list[str] = field(default_factory=list)
    function_requests: int = 0
    stop_at: int = 0  # before the schedule's n-th AWS request (1-based)
    stop: Callable[[], int] | None = None
    answered: int | None = None

    def calls_after_the_answer(self) -> int:
        if "answered" not in self.events:
            return 0
        return self.events[self.events.index("answered") :].count("call")


@pytest.fixture
def timeline(monkeypatch: pytest.MonkeyPatch) -> Iterator[Timeline]:
    """Wraps every AWS request (inside the IAM check): counts the schedule's own requests,
    makes the stop before the chosen one, and notes each call and the stop's answer."""
    seen = Timeline()
    inner = BaseClient._make_api_call

    def observed(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        # The run's own thread: Connect's metrics are read on a worker thread with a deadline,
        # and a stop made there would only be the same interleaving as before the next request.
        main = threading.current_thread() is threading.main_thread()
        if main and CURRENT_FUNCTION.get(None) in ("dispatch_callbacks", "dial_campaigns"):
            seen.function_requests += 1
            if seen.function_requests == seen.stop_at and seen.stop is not None:
                stop_now(seen)
        if operation == "StartOutboundVoiceContact":
            seen.events.append("call")
        return inner(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", observed)
    yield seen


def stop_now(seen: Timeline) -> None:
    """The stop, as the test's own request (not the running function's, for IAM)."""
    assert seen.stop is not None
    outside = CURRENT_FUNCTION.set(None)
    try:
        seen.answered = seen.stop()
    finally:
        CURRENT_FUNCTION.reset(outside)
    seen.events.append("answered")


def run_schedule(client: Any, name: str) -> Any:
    tick = client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
    )
    return client.lambda_.invoke(name, tick).payload


def served_on_own_connect(clock: Any, capability: str) -> Any:
    """The capability's service on a Connect client of its own, whose Stubber each
    interleaving replaces: a stopped run leaves its dial's stubbed answer unused, which must
    not reach the next interleaving."""
    from chalicelib.callbacks import handlers as callbacks_handlers
    from chalicelib.dialer import handlers as dialer_handlers

    client = boto3.client("connect", region_name="us-east-1")
    if capability == "callbacks":
        from chalicelib.callbacks.capability import build_service as build_callbacks

        callbacks_handlers.served.override(build_callbacks(clock=clock, connect=client))
    else:
        from chalicelib.dialer.capability import build_service as build_dialer

        dialer_handlers.served.override(build_dialer(clock=clock, connect=client))
    return client


def fresh_stubber(client: Any) -> Stubber:
    stubber = Stubber(client)
    stubber.activate()
    return stubber


def reset_tables() -> None:
    """Every table empty: a stop and a run need no sample customers."""
    from devkit.local_aws import empty_tables

    empty_tables()


def one_agent_free_in_billing(stubber: Stubber) -> None:
    """Only billing has an agent: the run dials there and reads no other queue's callbacks."""
    queues = ("general", "billing", "technical", "vip", "care", "spanish", "night")
    free = {f"dev-{q}-queue-id": (0, int(q == "billing"), 1) for q in queues}
    stubber.add_response("get_current_metric_data", metrics_response(**free))


def every_interleaving(
    client: Any,
    timeline: Timeline,
    function: str,
    connect: Any,
    prepare: Callable[[Stubber], None],
    stop: Callable[[], int],
    state: Callable[[], str],
    check: Callable[[int, int], None],
) -> dict[int, tuple[int, str]]:
    """For n = 1, 2, ...: fresh tables, `prepare` them and the stubbed Connect, run `function`
    with `stop` made before its n-th request (after the run once the run makes fewer), and
    check what every stop promises, then `check(n, calls)`. Each n's (answer, the attempt's
    `state` when the stop came)."""
    answers: dict[int, tuple[int, str]] = {}
    for stop_at in range(1, MOST_REQUESTS):
        reset_tables()
        stubber = fresh_stubber(connect)
        prepare(stubber)
        stopped_in: list[str] = []

        def stopping(stopped_in: list[str] = stopped_in) -> int:
            stopped_in.append(state())
            return stop()

        timeline.events.clear()
        timeline.function_requests, timeline.stop_at, timeline.stop = 0, stop_at, stopping
        run_schedule(client, function)
        stubber.deactivate()
        ran_to_the_end = timeline.function_requests < stop_at
        if ran_to_the_end:
            stop_now(timeline)
        code, calls = timeline.answered, timeline.events.count("call")
        assert code in (200, 202), f"interleaving {stop_at}: the stop answered {code}"
        assert calls <= 1, f"interleaving {stop_at}: {calls} calls"
        if code == 200:
            assert timeline.calls_after_the_answer() == 0, f"called after 200 ({stop_at})"
        else:  # 202: the call had been handed to Connect before the stop was written
            in_flight = ("DIALING/sent", "UNKNOWN/sent")
            assert calls == 1 and stopped_in[0] in in_flight, (stop_at, stopped_in)
        check(stop_at, calls)
        answers[stop_at] = (code, stopped_in[0])
        if ran_to_the_end:
            return answers
    pytest.fail(f"the run made more than {MOST_REQUESTS} requests: interleavings untried")


def state_of(record: Any) -> str:
    return record.status.value + ("/sent" if record.attempt.sent_at else "")


# -- a callback cancelled -------------------------------------------------------------------------


def test_a_cancel_answered_200_is_never_followed_by_the_call(
    callbacks: Any, clock: Any, timeline: Timeline
) -> None:
    from chalicelib.callbacks import handlers as callbacks_handlers
    from chalicelib.callbacks.model import Status
    from chalicelib.callbacks.service import CallbackService

    def service() -> CallbackService:
        return callbacks_handlers.served()

    asked: list[str] = []  # this interleaving's callback id

    def prepare(stubber: Stubber) -> None:
        asked[:] = [service().request(CALLER, "billing", source="web").callback.callback_id]
        one_agent_free_in_billing(stubber)
        expect_dial(stubber, asked[0])

    def cancelled(stop_at: int, calls: int) -> None:
        final = service().ledger.get(asked[0])
        assert final.status is Status.CANCELLED, f"interleaving {stop_at}: {final.status}"

    answers = every_interleaving(
        callbacks,
        timeline,
        "dispatch_callbacks",
        served_on_own_connect(clock, "callbacks"),
        prepare,
        stop=lambda: int(callbacks.http.delete(f"/callbacks/{asked[0]}").status_code),
        state=lambda: state_of(service().ledger.get(asked[0])),
        check=cancelled,
    )
    # The window the bug lived in was reached: claimed, pacing, not yet sent; and both answers.
    assert (200, "DIALING") in answers.values(), answers
    assert any(code == 202 for code, _ in answers.values()), answers
    assert (200, "QUEUED") in answers.values(), answers


# -- a do-not-call during a campaign run ----------------------------------------------------------


def test_a_do_not_call_answered_200_is_never_followed_by_a_call(
    client: Any, clock: Any, timeline: Timeline
) -> None:
    from chalicelib.dialer import handlers as dialer_handlers
    from chalicelib.dialer.schema import read_campaign
    from chalicelib.dialer.service import DialerService
    from chalicelib.dialer.store import DynamoRegistry

    def service() -> DialerService:
        return dialer_handlers.served()

    campaign = read_campaign(CAMPAIGN).model_dump_json()  # as PUT /campaigns/{name} stores it
    connect = served_on_own_connect(clock, "dialer")
    one_agent_free = metrics_response(**{"dev-sales-queue-id": (0, 1, 1)})

    def prepare(stubber: Stubber) -> None:
        DynamoRegistry().load([], taken_at=NOW - timedelta(days=2))
        service().campaigns.put(campaign, NOW)
        service().ledger.add("winter-offer", [Contact(2, NEW_YORK, ("America/New_York",))], NOW)
        stubber.add_response("get_current_metric_data", one_agent_free)
        stubber.add_response("start_outbound_voice_contact", {"ContactId": "out-1"})

    def do_not_call() -> int:
        answer = client.http.post(
            "/do-not-call",
            body=json.dumps({"number": NEW_YORK}),
            headers={"Content-Type": "application/json"},
        )
        return int(answer.status_code)

    def never_again(stop_at: int, calls: int) -> None:
        """The next run, on fresh data, never calls again: the refusal is for good."""
        stubber = fresh_stubber(connect)
        stubber.add_response("get_current_metric_data", one_agent_free)
        timeline.stop = None
        service().run()  # the service itself: no second cold start
        stubber.deactivate()
        assert timeline.events.count("call") == calls, f"called again ({stop_at})"

    answers = every_interleaving(
        client,
        timeline,
        "dial_campaigns",
        connect,
        prepare,
        stop=do_not_call,
        state=lambda: state_of(service().ledger.get("winter-offer", NEW_YORK)),
        check=never_again,
    )
    assert (200, "DIALING") in answers.values(), answers
    assert any(code == 202 for code, _ in answers.values()), answers
    assert (200, "READY") in answers.values(), answers
