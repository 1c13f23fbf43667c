"""The dialer's values: a campaign as the dialer uses it, and the call a record is about to
get, as the compliance engine sees it. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from typing import Any

from chalicelib.dialer.compliance import CallingWindow, Dial, Purpose, Recipient
from chalicelib.outbound import model as outbound
from chalicelib.outbound.model import Attempt, Leases, Outcome
from chalicelib.outbound.model import TransitionError as TransitionError
from chalicelib.platform import phone


class Mode(Enum):
    PREVIEW = "preview"
    PROGRESSIVE = "progressive"
    PREDICTIVE = "predictive"
    AGENTLESS = "agentless"


@dataclass(frozen=True)
class Callee:
    """Where a contact-list record's number is: from the number, or stated in the record."""

    number: str  # E.164
    country: str
    area: str
    time_zones: tuple[str, ...]
    subdivision: str = ""


@dataclass(frozen=True)
class CampaignRules:
    """What of a campaign the compliance engine needs."""

    jurisdiction: str  # a profile in jurisdictions.PROFILES
    purpose: Purpose
    subject: str
    consent_required: bool = False
    window: CallingWindow | None = None


def callee_for(number: str, stated_zone: str = "", subdivision: str = "") -> Callee:
    """Where a number's owner is: the zone a record states wins over the number's own zones
    (a ported mobile's area code is not where the phone is); none known means never called."""
    zones = (stated_zone,) if stated_zone else phone.time_zones(number)
    return Callee(
        number, phone.region_of(number), phone.area_code(number), zones, subdivision.upper()
    )


def dial_for(callee: Callee, campaign: CampaignRules, at: datetime) -> Dial:
    return Dial(
        country=callee.country,
        area=callee.area,
        time_zones=callee.time_zones,
        at=at,
        purpose=campaign.purpose,
        subject=campaign.subject,
        subdivision=callee.subdivision,
        consent_required=campaign.consent_required,
        campaign_window=campaign.window,
    )


# -- what became of an attempt, and what comes next ---------------------------------------------


class Disposition(Enum):
    CONNECTED = "connected"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    VOICEMAIL = "voicemail"
    SIT_TONE = "sit_tone"
    INVALID_NUMBER = "invalid_number"
    DECLINED = "declined"
    WRONG_PARTY = "wrong_party"
    ABANDONED = "abandoned"  # a live answer no agent took within 2 s
    FAILED = "failed"  # the network or Connect could not place it


# The outbound core's outcome of a dial -> the campaign's word for it.
_BY_OUTCOME = {
    Outcome.CONNECTED: Disposition.CONNECTED,
    Outcome.DECLINED: Disposition.DECLINED,
    Outcome.NO_ANSWER: Disposition.NO_ANSWER,
    Outcome.BUSY: Disposition.BUSY,
    Outcome.VOICEMAIL: Disposition.VOICEMAIL,
    Outcome.DIAL_FAILED: Disposition.FAILED,
    Outcome.UNREACHABLE: Disposition.INVALID_NUMBER,
}
# What an agent may set when wrapping up a connected call.
_BY_AGENT = {d.value: d for d in (Disposition.WRONG_PARTY, Disposition.DECLINED)}


def disposition_of(outcome: Outcome, agent_says: str = "") -> Disposition:
    """The disposition of an ended attempt; a connected call's is the agent's, if given."""
    if outcome is Outcome.CONNECTED and agent_says in _BY_AGENT:
        return _BY_AGENT[agent_says]
    return _BY_OUTCOME[outcome]


@dataclass(frozen=True)
class RetryRule:
    retry: bool = True
    after: timedelta = timedelta(hours=1)


NO_RETRY = RetryRule(retry=False)
# Reached, refused, the wrong person, or a number that cannot take calls: never again in this
# campaign, whatever its rules say.
NEVER_RETRIED = frozenset(
    {
        Disposition.CONNECTED,
        Disposition.DECLINED,
        Disposition.WRONG_PARTY,
        Disposition.INVALID_NUMBER,
        Disposition.SIT_TONE,
    }
)
# When a campaign says nothing of a disposition.
DEFAULT_RETRY: Mapping[Disposition, RetryRule] = {
    Disposition.BUSY: RetryRule(after=timedelta(minutes=20)),
    Disposition.NO_ANSWER: RetryRule(after=timedelta(hours=3)),
    Disposition.VOICEMAIL: RetryRule(after=timedelta(hours=24)),
    Disposition.FAILED: RetryRule(after=timedelta(minutes=15)),
    Disposition.ABANDONED: RetryRule(after=timedelta(hours=24)),
    Disposition.SIT_TONE: NO_RETRY,
    Disposition.INVALID_NUMBER: NO_RETRY,
    Disposition.DECLINED: NO_RETRY,
    Disposition.WRONG_PARTY: NO_RETRY,
}


@dataclass(frozen=True)
class NextStep:
    final: bool
    at: datetime | None  # when to try again; None when final
    reason: str


def next_step(
    disposition: Disposition,
    attempt: int,
    max_attempts: int,
    rules: Mapping[Disposition, RetryRule],
    ended_at: datetime,
) -> NextStep:
    """After attempt number `attempt` (1 for the first) ended so: done, or when to retry."""
    if disposition is Disposition.CONNECTED:
        return NextStep(True, None, "reached")
    if disposition in NEVER_RETRIED:
        return NextStep(True, None, f"{disposition.value}: never retried")
    rule = rules.get(disposition, DEFAULT_RETRY.get(disposition, NO_RETRY))
    if not rule.retry:
        return NextStep(True, None, f"{disposition.value}: not retried")
    if attempt >= max_attempts:
        return NextStep(True, None, f"{disposition.value}: {max_attempts} attempts used")
    return NextStep(False, ended_at + rule.after, f"{disposition.value}: retry")


# -- caller IDs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallerId:
    number: str  # E.164, one of the campaign's pool
    country: str
    area: str  # NANP area code, "" elsewhere


def caller_id_for(
    pool: Sequence[CallerId],
    callee: Callee,
    used_today: Mapping[str, int],
    daily_cap: int,
    turn: int,
) -> CallerId | None:
    """The number to call from: one with the callee's area code if the pool has one under
    its daily cap, else one in the callee's country, else any; among equals, in turn (so a
    number is not worn out and labelled as spam). None when every number is at its cap."""
    usable = [c for c in pool if used_today.get(c.number, 0) < daily_cap]
    local = [c for c in usable if c.country == callee.country and c.area and c.area == callee.area]
    national = [c for c in usable if c.country == callee.country]
    best = local or national or usable
    return best[turn % len(best)] if best else None


# -- a campaign, as the dialer runs it ----------------------------------------------------------


@dataclass(frozen=True)
class Campaign:
    """A checked campaign document (`schema.campaign_of`), in the dialer's terms."""

    name: str
    mode: Mode
    queue: str  # our queue name ("sales"); "" for agentless
    flow: str  # our flow name ("outbound-sales")
    rules: CampaignRules
    caller_ids: tuple[CallerId, ...]
    caller_id_daily_cap: int
    starts_on: date
    ends_on: date  # inclusive, in UTC
    max_attempts: int = 3
    retry: Mapping[Disposition, RetryRule] = field(default_factory=lambda: dict(DEFAULT_RETRY))
    answering_machine_detection: bool = False
    paused: bool = False
    max_in_flight: int = 10  # agentless: calls playing the flow at once
    handle_seconds: int = 300  # an agent's talk and wrap-up per call, as planned

    def running_at(self, moment: datetime) -> bool:
        day = moment.astimezone(UTC).date()
        return not self.paused and self.starts_on <= day <= self.ends_on


# -- one record of a campaign and its attempts: the ledger's state machine ----------------------


class Heard(Enum):
    """What the campaign's flow learned of the attempt's call while it was on the line."""

    NOTHING = "nothing"
    PERSON = "person"  # a live person took the call (the survey heard them)
    ABANDONED = "abandoned"  # a live person and no agent within 2 s: the safe-harbour message


class RecordStatus(Enum):
    READY = "READY"  # waiting for its next attempt, from `due_at`
    OFFERED = "OFFERED"  # preview: shown to an agent until `offered_until`
    DIALING = "DIALING"  # an attempt claimed: one worker may place its call
    UNKNOWN = "UNKNOWN"  # the lease ended with no outcome: reconciliation settles it
    DONE = "DONE"  # reached, or no attempt left (`disposition` says which)
    STOPPED = "STOPPED"  # the rules forbid calling this person for this campaign
    FAILED = "FAILED"  # Connect will never place a call to this number


FINAL = frozenset({RecordStatus.DONE, RecordStatus.STOPPED, RecordStatus.FAILED})
IN_FLIGHT = frozenset({RecordStatus.DIALING, RecordStatus.UNKNOWN})
LEASED = frozenset({*IN_FLIGHT, RecordStatus.OFFERED})  # looked at again at a lease's end

_R = RecordStatus
TRANSITIONS: Mapping[RecordStatus, frozenset[RecordStatus]] = {
    _R.READY: frozenset({_R.DIALING, _R.OFFERED}),
    _R.OFFERED: frozenset({_R.DIALING, _R.READY, _R.DONE}),
    _R.DIALING: frozenset({_R.DONE, _R.READY, _R.FAILED, _R.UNKNOWN, _R.STOPPED}),
    _R.UNKNOWN: frozenset({_R.DONE, _R.READY, _R.FAILED, _R.DIALING, _R.UNKNOWN}),
    _R.DONE: frozenset({_R.DONE}),  # an agent's wrap-up amends a connected call's disposition
    _R.STOPPED: frozenset(),
    _R.FAILED: frozenset(),
}


@dataclass(frozen=True)
class Step:
    status: RecordStatus
    at: datetime
    reason: str


@dataclass(frozen=True)
class DialRecord:
    """One number of one campaign. Dialled at most once per attempt: the attempt in hand is
    the outbound core's (`outbound.model.Attempt`), claimed (READY -> DIALING) by one
    conditional write before anything is checked or dialled; DIALING and UNKNOWN are its
    phases. What is the dialer's own: offers, dispositions, retry rules, the flow's word."""

    campaign: str
    number: str  # E.164
    time_zones: tuple[str, ...]
    due_at: datetime
    subdivision: str = ""
    status: RecordStatus = RecordStatus.READY
    attempt: Attempt = field(default_factory=Attempt)  # the attempt in hand
    caller_id: str = ""
    offered_until: datetime | None = None  # preview: when the agent's offer lapses
    disposition: Disposition | None = None  # of the last attempt that ended
    offered_to: str = ""  # preview: the agent it is shown to
    heard: Heard = Heard.NOTHING  # of the current attempt, from its flow
    history: tuple[Step, ...] = ()
    version: int = 0  # the stored version this value was read at

    @property
    def final(self) -> bool:
        return self.status in FINAL

    @property
    def lease_ends(self) -> datetime | None:
        """When a run looks at the record again: its attempt's lease, or its offer's."""
        if self.status is RecordStatus.OFFERED:
            return self.offered_until
        return self.attempt.lease_until if self.attempt.in_flight else None

    @property
    def ref(self) -> str:
        """The record's id in routes and tokens."""
        return record_ref(self.campaign, self.number)

    def callee(self) -> Callee:
        return Callee(
            self.number,
            phone.region_of(self.number),
            phone.area_code(self.number),
            self.time_zones,
            self.subdivision,
        )


def record_ref(campaign: str, number: str) -> str:
    return f"{campaign}/{number}"


def contact_name(record: DialRecord) -> str:
    """The name the attempt's contact is given: unique per attempt, so reconciliation finds
    the contact by it, and free of the number, since agents see it."""
    return outbound.contact_name(record.campaign, record.attempt)


def parse_ref(ref: str) -> tuple[str, str] | None:
    campaign, _, number = ref.partition("/")
    return (campaign, number) if campaign and number.startswith("+") else None


def _move(
    record: DialRecord, to: RecordStatus, now: datetime, reason: str, **changes: Any
) -> DialRecord:
    if to not in TRANSITIONS[record.status]:
        raise TransitionError(
            f"{record.ref}: {record.status.value} -> {to.value} is not allowed ({reason})"
        )
    history = (*record.history, Step(to, now, reason))[-20:]
    return replace(record, status=to, history=history, **changes)


def _require(record: DialRecord, *statuses: RecordStatus) -> None:
    if record.status not in statuses:
        names = " or ".join(s.value for s in statuses)
        raise TransitionError(f"{record.ref} is {record.status.value}, not {names}")


def is_due(record: DialRecord, now: datetime) -> bool:
    return record.status is RecordStatus.READY and record.due_at <= now


def claim(record: DialRecord, now: datetime, leases: Leases) -> DialRecord:
    """Take the next attempt: the one write that makes this worker its only dialler."""
    if not is_due(record, now) and record.status is not RecordStatus.OFFERED:
        raise TransitionError(f"{record.ref} is not due")
    attempt = outbound.claim(record.attempt, record.ref, now, leases)
    return _move(
        record,
        RecordStatus.DIALING,
        now,
        f"attempt {attempt.ordinal}",
        attempt=attempt,
        offered_to="",
        offered_until=None,
        disposition=None,
        heard=Heard.NOTHING,
    )


def attempt_moved(record: DialRecord, attempt: Attempt, now: datetime, reason: str) -> DialRecord:
    """The record after its attempt moved in flight: its status is the attempt's phase."""
    return _move(record, RecordStatus(attempt.phase.value), now, reason, attempt=attempt)


def _ended(
    record: DialRecord, to: RecordStatus, now: datetime, reason: str, **changes: Any
) -> DialRecord:
    """Out of flight: the attempt in hand is over."""
    _require(record, *IN_FLIGHT)
    return _move(record, to, now, reason, attempt=outbound.over(record.attempt), **changes)


def send(record: DialRecord, caller_id: str, now: datetime) -> DialRecord:
    """The last write before Connect is asked to call, made after the pacer's wait: the
    store makes it only while the person's do-not-call and consent are as the rules saw them
    at the reservation, so a "stop" that came meanwhile wins."""
    return replace(record, attempt=outbound.send(record.attempt, now), caller_id=caller_id)


def offer(record: DialRecord, agent: str, now: datetime, timeout: timedelta) -> DialRecord:
    """Preview: show the record to one agent, who accepts or skips before `timeout`."""
    if not is_due(record, now):
        raise TransitionError(f"{record.ref} is not due")
    return _move(
        record,
        RecordStatus.OFFERED,
        now,
        f"offered to {agent}",
        offered_to=agent,
        offered_until=now + timeout,
    )


def _require_offered_to(record: DialRecord, agent: str) -> None:
    _require(record, RecordStatus.OFFERED)
    if record.offered_to != agent:
        raise TransitionError(f"{record.ref} is offered to another agent")


def accept(record: DialRecord, agent: str, now: datetime, leases: Leases) -> DialRecord:
    _require_offered_to(record, agent)
    return claim(record, now, leases)


def skip(record: DialRecord, agent: str, now: datetime) -> DialRecord:
    """The agent chose not to call: the record is done for this campaign, never dialled."""
    _require_offered_to(record, agent)
    return _move(record, RecordStatus.DONE, now, f"skipped by {agent}", offered_until=None)


def offer_lapsed(record: DialRecord, now: datetime) -> DialRecord:
    """No answer from the agent in time: the record waits for the next agent."""
    _require(record, RecordStatus.OFFERED)
    if record.offered_until is not None and now < record.offered_until:
        raise TransitionError(f"{record.ref}: the offer has not lapsed")
    return _move(record, RecordStatus.READY, now, "offer lapsed", offered_to="", offered_until=None)


def record_dial(
    record: DialRecord, contact_id: str, caller_id: str, now: datetime, leases: Leases
) -> DialRecord:
    """Connect started the contact: wait for its outcome for the length of a call."""
    attempt = outbound.dialled(record.attempt, contact_id, now, leases)
    return replace(record, attempt=attempt, caller_id=caller_id)


def not_placed(record: DialRecord, now: datetime, reason: str, until: datetime) -> DialRecord:
    """No call went out (throttled, outside the window, a cap, a worker that stopped before
    its last write): the same attempt, later."""
    attempt = outbound.not_placed(record.attempt)
    return _move(record, RecordStatus.READY, now, reason, due_at=until, attempt=attempt)


def stopped(record: DialRecord, now: datetime, reason: str) -> DialRecord:
    """The rules forbid the call for good (do-not-call, no consent, no known zone)."""
    _require(record, RecordStatus.DIALING)
    return _ended(record, RecordStatus.STOPPED, now, reason)


def rejected(record: DialRecord, now: datetime, reason: str) -> DialRecord:
    """Connect will never place it (destination not allowed, not permitted)."""
    return _ended(record, RecordStatus.FAILED, now, reason, disposition=Disposition.FAILED)


def ended(
    record: DialRecord,
    disposition: Disposition,
    now: datetime,
    campaign: Campaign,
    contact_id: str = "",
) -> DialRecord:
    """The attempt's outcome: the campaign's retry rule says final or when to try again.
    `contact_id` is the contact the outcome came from (kept when its placing worker died
    before writing it)."""
    _require(record, *IN_FLIGHT)
    attempt = outbound.over(record.attempt, contact_id)
    ordinal = record.attempt.ordinal
    step = next_step(disposition, ordinal, campaign.max_attempts, campaign.retry, now)
    if step.final or step.at is None:
        return _move(
            record, RecordStatus.DONE, now, step.reason, attempt=attempt, disposition=disposition
        )
    return _move(
        record,
        RecordStatus.READY,
        now,
        step.reason,
        due_at=step.at,
        attempt=attempt,
        disposition=disposition,
    )


def heard(record: DialRecord, attempt: int, what: Heard, now: datetime) -> DialRecord:
    """The flow's word on the attempt's call (abandoned, a person answered the survey),
    kept until the call's end gives its disposition."""
    _require(record, *IN_FLIGHT)
    if record.attempt.ordinal != attempt:
        raise TransitionError(f"{record.ref}: attempt {attempt} is over")
    history = (*record.history, Step(record.status, now, f"flow: {what.value}"))[-20:]
    return replace(record, heard=what, history=history)


def disposition_heard(record: DialRecord, outcome: Outcome) -> Disposition:
    """The attempt's disposition: Connect's outcome, unless the flow heard more. A call a
    person answered and the flow ended (abandoned, a survey) has no agent, which Connect's
    outcome alone reads as unanswered."""
    if record.heard is Heard.ABANDONED:
        return Disposition.ABANDONED
    if record.heard is Heard.PERSON and outcome is Outcome.NO_ANSWER:
        return Disposition.CONNECTED
    return disposition_of(outcome)


# What an agent may say of a connected call at wrap-up.
AMENDABLE = frozenset({Disposition.WRONG_PARTY, Disposition.DECLINED})


def amend(record: DialRecord, disposition: Disposition, now: datetime) -> DialRecord:
    """The agent's disposition of a connected call (wrong party, declined)."""
    _require(record, RecordStatus.DONE)
    if record.disposition is not Disposition.CONNECTED or disposition not in AMENDABLE:
        raise TransitionError(f"{record.ref}: a {disposition.value} disposition cannot be set")
    return _move(
        record, RecordStatus.DONE, now, f"agent: {disposition.value}", disposition=disposition
    )


def look_again(record: DialRecord, now: datetime, reason: str, until: datetime) -> DialRecord:
    """Nothing can be learned now: stay UNKNOWN, looked at again at `until`."""
    return attempt_moved(record, outbound.look_again(record.attempt, until), now, reason)


@dataclass(frozen=True)
class RecordRules:
    """The dialer's side of an attempt's outcome (`outbound.service.Rules`): the campaign's
    retry rules, and what the flow heard on the line."""

    campaign: Campaign

    def moved(self, record: DialRecord, attempt: Attempt, now: datetime, reason: str) -> DialRecord:
        return attempt_moved(record, attempt, now, reason)

    def ended(self, record: DialRecord, outcome: Outcome, now: datetime) -> DialRecord:
        return ended(record, disposition_heard(record, outcome), now, self.campaign)

    def lost(self, record: DialRecord, now: datetime) -> DialRecord:
        return ended(record, Disposition.FAILED, now, self.campaign)

    def refused(self, record: DialRecord, now: datetime, reason: str) -> DialRecord:
        return rejected(record, now, reason)

    def not_placed(
        self, record: DialRecord, now: datetime, reason: str, until: datetime
    ) -> DialRecord:
        return not_placed(record, now, reason, until)

    def look_again(
        self, record: DialRecord, now: datetime, reason: str, until: datetime
    ) -> DialRecord:
        return look_again(record, now, reason, until)


# -- what a move adds to the campaign's figures -------------------------------------------------

DIALLED, CONNECTED, ABANDONED = "dialled", "connected", "abandoned"
_BY_DISPOSITION = "disposition_"


class NpsGroup(Enum):
    """Net Promoter Score groups of a 0-10 answer, and the survey nobody answered."""

    PROMOTER = "nps_promoter"  # 9-10
    PASSIVE = "nps_passive"  # 7-8
    DETRACTOR = "nps_detractor"  # 0-6
    UNANSWERED = "survey_unanswered"  # two silences: goodbye, and no answer recorded


def nps_group(score: int | None) -> NpsGroup:
    if score is None:
        return NpsGroup.UNANSWERED
    if not 0 <= score <= 10:
        raise ValueError(f"an NPS answer is 0 to 10, not {score}")
    if score >= 9:
        return NpsGroup.PROMOTER
    return NpsGroup.PASSIVE if score >= 7 else NpsGroup.DETRACTOR


TALLY_KEYS = (
    DIALLED,
    CONNECTED,
    ABANDONED,
    *(_BY_DISPOSITION + d.value for d in Disposition),
    *(group.value for group in NpsGroup),
)


def tally(before: DialRecord, after: DialRecord) -> dict[str, int]:
    """The counters a transition adds to, written in the same transaction as the transition,
    so each attempt is counted exactly once however often its outcome arrives."""
    counts: dict[str, int] = {}
    contact_id = after.attempt.contact_id
    if contact_id and contact_id != before.attempt.contact_id:
        counts[DIALLED] = 1
    disposition = after.disposition
    if disposition is None:
        return counts
    if before.status is RecordStatus.DONE and disposition is not before.disposition:
        counts[_BY_DISPOSITION + Disposition.CONNECTED.value] = -1  # the agent's amendment
        counts[_BY_DISPOSITION + disposition.value] = 1
    elif before.status in IN_FLIGHT and after.status not in IN_FLIGHT:
        counts[_BY_DISPOSITION + disposition.value] = 1
        if disposition is Disposition.CONNECTED:
            counts[CONNECTED] = 1
        elif disposition is Disposition.ABANDONED:
            counts[ABANDONED] = 1
    return counts


@dataclass(frozen=True)
class Counts:
    dialled: int = 0
    connected: int = 0  # a live person reached (an agent took the call, or the flow ran)
    abandoned: int = 0  # a live person no agent took within 2 s
    dispositions: Mapping[str, int] = field(default_factory=dict)
    survey: Mapping[NpsGroup, int] = field(default_factory=dict)

    @property
    def nps(self) -> float | None:
        """% promoters minus % detractors among the people who gave a score."""
        scored = sum(self.survey.get(g, 0) for g in NpsGroup if g is not NpsGroup.UNANSWERED)
        if not scored:
            return None
        promoters = self.survey.get(NpsGroup.PROMOTER, 0)
        return 100 * (promoters - self.survey.get(NpsGroup.DETRACTOR, 0)) / scored

    @property
    def answered(self) -> int:
        """Calls a live person answered: the base of the abandonment rate."""
        return self.connected + self.abandoned

    @property
    def right_party(self) -> int:
        return self.connected - self.dispositions.get(Disposition.WRONG_PARTY.value, 0)

    @property
    def abandonment_rate(self) -> float:
        return self.abandoned / self.answered if self.answered else 0.0


def counts_of(tallied: Mapping[str, int]) -> Counts:
    """Counts from stored counters (`tally`'s keys)."""
    prefix = _BY_DISPOSITION
    return Counts(
        dialled=tallied.get(DIALLED, 0),
        connected=tallied.get(CONNECTED, 0),
        abandoned=tallied.get(ABANDONED, 0),
        dispositions={
            key.removeprefix(prefix): value
            for key, value in tallied.items()
            if key.startswith(prefix) and value
        },
        survey={group: tallied[group.value] for group in NpsGroup if tallied.get(group.value)},
    )


ROLLING = timedelta(days=30)


@dataclass(frozen=True)
class Figures:
    """A campaign's figures to date, and over the rolling 30 days the abandonment rule uses."""

    total: Counts = Counts()
    rolling: Counts = Counts()


@dataclass(frozen=True)
class Seen:
    """A person's state as read, and the version it was read at (for the reservation).
    `stored` is what the store read, kept for its own write back; the service never looks."""

    recipient: Recipient
    version: int = 0
    stored: Any = None


def replace_version(record: DialRecord, version: int) -> DialRecord:
    return replace(record, version=version)
