"""The dialer's use cases over ports: ingesting a contact list, dialling a campaign's due
records (claim, compliance on fresh data, place through the outbound core), taking outcomes
and settling attempts whose lease ended.

A record is dialled at most once per attempt: the attempt is claimed by one conditional write
(`DialLedger.transition`) before anything else. After the claim the person's state is read
fresh and checked; the call is then *reserved* on that state with a write conditional on the
version just checked, so a do-not-call, a revocation or another campaign's call that lands in
between makes the reservation fail, and the check runs again on the newer state. A call is
placed only after its reservation: caps hold with any number of workers, and nothing is
dialled after a do-not-call took effect.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from itertools import islice
from typing import Any, Protocol

from chalicelib.dialer import model
from chalicelib.dialer.compliance import (
    Consent,
    ContactLimit,
    Dial,
    PastCall,
    Profile,
    Reason,
    Recipient,
    Verdict,
    check,
    limited,
    next_allowed,
)
from chalicelib.dialer.contacts import Contact, Read, RowProblem
from chalicelib.dialer.jurisdictions import PROFILES
from chalicelib.dialer.model import (
    Campaign,
    DialRecord,
    Disposition,
    Figures,
    Heard,
    Mode,
    NpsGroup,
    RecordStatus,
    Seen,
    caller_id_for,
    dial_for,
    nps_group,
    parse_ref,
)
from chalicelib.dialer.pacing import Floor, Predictive, progressive
from chalicelib.outbound.model import Leases, OutboundCall, Outcome
from chalicelib.outbound.service import (
    Commit,
    ContactFinder,
    ContactLookup,
    LastWrite,
    NotPlaced,
    Placed,
    Refused,
    Stopped,
    Uncertain,
    Unsent,
    lease_ended,
    place,
    settle,
    settled,
)
from chalicelib.platform.clock import Clock
from chalicelib.platform.phone import NumberKind, normalise

CHUNK = 100  # rows sent to the book at once: one BatchGetItem
KEPT_PROBLEMS = 1_000  # the report keeps the first ones; the counts cover them all


class ContactBook(Protocol):
    def add(self, campaign: str, contacts: Sequence[Contact], at: datetime) -> Sequence[bool]:
        """Add each contact unless the campaign has it already; True for each one added."""
        ...


class CheckOnly:
    """A book that keeps nothing: `campaigns ingest --check` and the ingest benchmark read
    and judge a list of any size without writing it or holding it in memory."""

    def add(self, campaign: str, contacts: Sequence[Contact], at: datetime) -> Sequence[bool]:
        return [True] * len(contacts)


@dataclass
class IngestReport:
    rows: int = 0
    added: int = 0
    already_in_campaign: int = 0
    problems: list[RowProblem] = field(default_factory=list)  # the first KEPT_PROBLEMS
    problem_counts: Counter[str] = field(default_factory=Counter)

    @property
    def rejected(self) -> int:
        return sum(self.problem_counts.values())

    def take(self, problem: RowProblem) -> None:
        self.problem_counts[problem.reason.value] += 1
        if len(self.problems) < KEPT_PROBLEMS:
            self.problems.append(problem)


def ingest(
    reads: Iterable[Read],
    book: ContactBook,
    campaign: str,
    at: datetime,
    progress: Callable[[int], None] = lambda rows: None,
) -> IngestReport:
    """Add a list's good rows to the campaign; re-ingesting the same list adds nothing."""
    report = IngestReport()
    stream = iter(reads)
    while chunk := list(islice(stream, CHUNK)):
        contacts = []
        for read in chunk:
            if isinstance(read, Contact):
                contacts.append(read)
            else:
                report.take(read)
        added = book.add(campaign, contacts, at) if contacts else []
        report.added += sum(added)
        report.already_in_campaign += len(added) - sum(added)
        report.rows += len(chunk)
        progress(len(chunk))
    return report


# -- dialling -----------------------------------------------------------------------------------


class DialLedger(ContactBook, Protocol):
    """The records of every campaign; ingest adds them (`ContactBook.add`), runs move them."""

    def get(self, campaign: str, number: str) -> DialRecord | None: ...

    def of_number(self, number: str, campaigns: Sequence[str]) -> Sequence[DialRecord]:
        """The number's records in those campaigns (strongly consistent; missing ones
        left out), in few requests however many campaigns there are."""
        ...

    def due(self, campaign: str, now: datetime, limit: int) -> Sequence[DialRecord]:
        """READY records due by `now`, oldest due first."""
        ...

    def in_flight(self, campaign: str) -> int:
        """Records of the campaign with an attempt in flight (DIALING or UNKNOWN)."""
        ...

    def leases_ended(self, now: datetime, limit: int) -> Sequence[DialRecord]:
        """Records in flight or offered whose lease ended by `now`, in any campaign."""
        ...

    def transition(self, before: DialRecord, after: DialRecord) -> DialRecord | None:
        """Write `after` if the stored record is still `before`, adding `model.tally(before,
        after)` to the campaign's figures in the same write; None if someone else won."""
        ...

    def send(self, before: DialRecord, after: DialRecord, person: Seen) -> DialRecord | None:
        """The attempt's last write before the call: `after` is written only if the record is
        still `before` and the person's do-not-call and consent are still as `person` saw
        them at the reservation; None otherwise (nothing is then sent)."""
        ...

    def figures(self, campaign: str, now: datetime) -> Figures: ...

    def statuses(self, campaign: str) -> Mapping[str, int]:
        """How many of the campaign's records are in each status."""
        ...

    def answer(self, record: DialRecord, group: NpsGroup, score: int | None) -> bool:
        """Keep the survey answer of the record's current attempt, once: False if that
        attempt has one already. The figures are added to in the same write."""
        ...


class Recipients(Protocol):
    def read(self, number: str) -> Seen:
        """The person's state now (strongly consistent), with the version it was read at."""
        ...

    def reserve(self, number: str, seen: Seen, call: PastCall, token: str) -> bool:
        """Count `call` against the person if their state is still `seen`; False if it
        changed (read and check again)."""
        ...

    def release(self, number: str, token: str) -> None:
        """Uncount a reserved call that was never placed."""
        ...

    def do_not_call(self, number: str, at: datetime) -> None: ...

    def set_consent(self, number: str, consent: Consent) -> None: ...


class CallerIdCounts(Protocol):
    def used(self, numbers: Sequence[str], day: date) -> Mapping[str, int]: ...

    def take(self, number: str, day: date, cap: int) -> bool:
        """Count one call from `number` on `day` unless it already made `cap`."""
        ...


class Staffing(Protocol):
    def floor(self, queue: str) -> tuple[int, int] | None:
        """(agents staffed, agents available) in the queue; None when unknown (no dials)."""
        ...


class Campaigns(Protocol):
    def get(self, name: str) -> Campaign | None: ...

    def all(self) -> Sequence[Campaign]: ...

    def put(self, document_json: str, at: datetime) -> None:
        """Store a campaign document that passed the schema (`schema.read_campaign`)."""
        ...

    def set_paused(self, name: str, paused: bool, at: datetime) -> Campaign | None: ...


class Calls(Protocol):
    def start(self, call: OutboundCall, commit: Commit) -> str:
        """Place the call through the outbound core (paced, routed by owner); the contact id,
        or a Dial*Error. `commit` is made after the pacer's wait; the call is sent only if
        it is written."""
        ...


OWNER = "dialer"  # the owner the outbound core routes our contacts' events to
RESERVE_RACES = 3
STALE_COPY_WAIT = timedelta(hours=1)
_WAITS_FOR_TIME = frozenset({Reason.OUTSIDE_WINDOW, Reason.FREQUENCY_CAP})


@dataclass(frozen=True)
class _Refused:
    """The rules refused the call: the verdict and the state it was judged on."""

    verdict: Verdict
    dial: Dial
    recipient: Recipient
    profile: Profile

    def next_allowed(self) -> datetime:
        """When time alone lets the call through (the window opens, a cap's calls age out)."""
        at = next_allowed(self.dial, self.recipient, self.profile)
        return at or self.dial.at + timedelta(days=1)


@dataclass
class RunReport:
    campaign: str
    dialled: list[str] = field(default_factory=list)
    uncertain: list[str] = field(default_factory=list)
    deferred: list[str] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    refusals: Counter[str] = field(default_factory=Counter)
    lost_races: int = 0
    note: str = ""  # why nothing was dialled, when nothing was
    abandonment: float | None = None  # rolling 30 days, abandoned / answered, when it dialled

    def placed(self) -> int:
        return len(self.dialled) + len(self.uncertain)


@dataclass
class DialerService:
    ledger: DialLedger
    recipients: Recipients
    caller_ids: CallerIdCounts
    calls: Calls
    contacts: ContactLookup
    staffing: Staffing
    campaigns: Campaigns
    clock: Clock
    queue_ids: Mapping[str, str]
    flow_ids: Mapping[str, str]
    search: ContactFinder
    leases: Leases = field(default_factory=Leases)
    default_country: str = "US"
    # Calls to one person from every campaign together (CONTACT_LIMIT, e.g. "5/7d").
    contact_limit: ContactLimit | None = None
    offer_timeout: timedelta = timedelta(seconds=30)
    # Predictive pacing's gain per campaign. Lost at a cold start, which only restarts the
    # tuning: the abandonment budget it spends is read from the stored figures every run.
    _pacers: dict[str, Predictive] = field(default_factory=dict)

    # -- runs -------------------------------------------------------------------------------

    def run(self) -> list[RunReport]:
        """One pass over every running campaign: dial what pacing allows."""
        now = self.clock.now()
        return [self.run_campaign(c) for c in self.campaigns.all() if c.running_at(now)]

    def run_campaign(self, campaign: Campaign) -> RunReport:
        report = RunReport(campaign.name)
        problem = self._unplaceable(campaign)
        if problem:
            report.note = problem
            return report
        now = self.clock.now()
        figures = self.ledger.figures(campaign.name, now)
        report.abandonment = figures.rolling.abandonment_rate
        capacity = self._capacity(campaign, report, figures)
        if capacity <= 0:
            return report
        for record in self.ledger.due(campaign.name, now, limit=capacity * 2):
            if report.placed() >= capacity:
                break
            claimed = self.ledger.transition(record, model.claim(record, now, self.leases))
            if claimed is None:
                report.lost_races += 1
            else:
                self._dial_claimed(campaign, claimed, report)
        return report

    def _unplaceable(self, campaign: Campaign) -> str:
        if not campaign.running_at(self.clock.now()):
            return "the campaign is paused or outside its dates"
        if campaign.mode is Mode.PREVIEW:
            return "preview campaigns are dialled by agents accepting records"
        undeployed = self._undeployed(campaign)
        if undeployed:
            return undeployed
        if campaign.queue and campaign.queue not in self.queue_ids:
            return f"no queue id for {campaign.queue!r} (QUEUE_IDS)"
        return ""

    def _undeployed(self, campaign: Campaign) -> str:
        """Why its flow cannot be dialled into yet, or "" when it can."""
        if campaign.flow in self.flow_ids:
            return ""
        return f"no contact flow id for {campaign.flow!r} (switchboard flows deploy)"

    def _capacity(self, campaign: Campaign, report: RunReport, figures: Figures) -> int:
        in_flight = self.ledger.in_flight(campaign.name)
        if campaign.mode is Mode.AGENTLESS:
            return max(0, campaign.max_in_flight - in_flight)
        staffed = self.staffing.floor(campaign.queue)
        if staffed is None:
            report.note = "agent figures unavailable: no dials"
            return 0
        agents, free = staffed
        if campaign.mode is Mode.PROGRESSIVE:  # needs no figures: one call per free agent
            return progressive(Floor(agents, free, in_flight, 0, 0, 0, campaign.handle_seconds))
        floor = Floor(
            agents=agents,
            free_agents=free,
            dials_in_flight=in_flight,
            dials=figures.rolling.dialled,
            answered=figures.rolling.answered,
            abandoned=figures.rolling.abandoned,
            handle_seconds=campaign.handle_seconds,
        )
        pacer = self._pacers.setdefault(campaign.name, Predictive())
        return pacer.dials_now(floor)

    # -- one claimed attempt ------------------------------------------------------------------

    def _dial_claimed(self, campaign: Campaign, claimed: DialRecord, report: RunReport) -> None:
        reserved = self._reserve(campaign, claimed)
        if not isinstance(reserved, Seen):
            self._refused(campaign, claimed, reserved, report)
            return
        caller_id = self._caller_id(campaign, claimed)
        if caller_id is None:
            self.recipients.release(claimed.number, claimed.attempt.token)
            until = _next_utc_midnight(self.clock.now())
            after = model.not_placed(
                claimed, self.clock.now(), "caller IDs at their daily cap", until
            )
            self._write(claimed, after, report.deferred, report)
            return
        self._place(campaign, claimed, caller_id, reserved, report)

    def _reserve(self, campaign: Campaign, claimed: DialRecord) -> _Refused | str | Seen:
        """The person's fresh state the call was reserved on; else the verdict that refuses
        it (with what it was judged on), or why it could not be reserved."""
        profile = self._profile(campaign)
        for _ in range(RESERVE_RACES):
            seen = self.recipients.read(claimed.number)
            dial = dial_for(claimed.callee(), campaign.rules, self.clock.now())
            verdict = check(dial, seen.recipient, profile)
            if not verdict.allowed:
                return _Refused(verdict, dial, seen.recipient, profile)
            call = PastCall(dial.at, dial.purpose, dial.subject)
            if self.recipients.reserve(claimed.number, seen, call, claimed.attempt.token):
                return seen
        return "the person's state kept changing"

    def _refused(
        self, campaign: Campaign, claimed: DialRecord, refusal: _Refused | str, report: RunReport
    ) -> None:
        now = self.clock.now()
        if isinstance(refusal, str):
            after = model.not_placed(claimed, now, refusal, now + self.leases.not_placed_backoff)
            self._write(claimed, after, report.deferred, report)
            return
        verdict = refusal.verdict
        report.refusals.update(reason.value for reason in verdict.reasons)
        # Said in words on the record's history: what an agent or the customer can be told.
        reason = "refused: " + "; ".join(
            f"{r.reason.value} ({r.rule}: {r.detail})" for r in verdict.refusals
        )
        if set(verdict.reasons) <= _WAITS_FOR_TIME:
            until = refusal.next_allowed()
            self._write(
                claimed, model.not_placed(claimed, now, reason, until), report.deferred, report
            )
        elif set(verdict.reasons) <= {*_WAITS_FOR_TIME, Reason.DNC_COPY_STALE}:
            # Our copy of the registry is too old: nobody is called until it is refreshed.
            after = model.not_placed(claimed, now, reason, now + STALE_COPY_WAIT)
            self._write(claimed, after, report.deferred, report)
        else:
            self._write(claimed, model.stopped(claimed, now, reason), report.stopped, report)

    def _profile(self, campaign: Campaign) -> Profile:
        return limited(PROFILES[campaign.rules.jurisdiction], self.contact_limit)

    def _caller_id(self, campaign: Campaign, record: DialRecord) -> str | None:
        day = self.clock.now().astimezone(UTC).date()
        pool = campaign.caller_ids
        if not pool:
            return ""  # the queue's outbound number
        for turn in range(len(pool)):
            used = self.caller_ids.used([c.number for c in pool], day)
            chosen = caller_id_for(
                pool,
                record.callee(),
                used,
                campaign.caller_id_daily_cap,
                record.attempt.ordinal + turn,
            )
            if chosen is None:
                return None
            if self.caller_ids.take(chosen.number, day, campaign.caller_id_daily_cap):
                return chosen.number
        return None

    def _call(self, campaign: Campaign, record: DialRecord, caller_id: str) -> OutboundCall:
        return OutboundCall(
            number=record.number,
            flow_id=self.flow_ids[campaign.flow],
            queue_id=self.queue_ids.get(campaign.queue, ""),
            token=record.attempt.token,
            attributes={
                "campaign": campaign.name,
                "campaign_attempt": str(record.attempt.ordinal),
            },
            traffic_type="CAMPAIGN",
            owner=OWNER,
            ref=record.ref,
            attempt=record.attempt.ordinal,
            source_number=caller_id,
            name=model.contact_name(record),
            answering_machine_detection=campaign.answering_machine_detection,
        )

    def _place(
        self, campaign: Campaign, claimed: DialRecord, caller_id: str, seen: Seen, report: RunReport
    ) -> None:
        call = self._call(campaign, claimed, caller_id)
        commit = LastWrite(
            lambda: self.ledger.send(
                claimed, model.send(claimed, caller_id, self.clock.now()), seen
            )
        )
        placement = place(lambda: self.calls.start(call, commit))
        claimed = commit.latest(claimed)
        now = self.clock.now()
        match placement:
            case Placed(contact_id):
                after = model.record_dial(claimed, contact_id, caller_id, now, self.leases)
                self._write(claimed, after, report.dialled, report)
            case NotPlaced(reason):
                self.recipients.release(claimed.number, claimed.attempt.token)
                until = now + self.leases.not_placed_backoff
                self._write(
                    claimed, model.not_placed(claimed, now, reason, until), report.deferred, report
                )
            case Refused(reason):
                self.recipients.release(claimed.number, claimed.attempt.token)
                self._write(claimed, model.rejected(claimed, now, reason), report.failed, report)
            case Stopped(reason):
                # A do-not-call or a consent revoked during the pacer's wait (or another
                # worker's move): nothing was sent. The next run judges it on fresh data.
                self.recipients.release(claimed.number, claimed.attempt.token)
                after = model.not_placed(claimed, now, f"{reason}: judged again", now)
                self._write(claimed, after, report.deferred, report)
            case Uncertain():
                # Left DIALING with no contact id: when the placement lease ends,
                # reconciliation searches for the contact by the call's name (it never
                # sends the call again). The caller ID is kept: its count is spent.
                after = replace(claimed, caller_id=caller_id)
                self._write(claimed, after, report.uncertain, report)

    def _write(
        self, before: DialRecord, after: DialRecord, bucket: list[str], report: RunReport
    ) -> DialRecord | None:
        written = self.ledger.transition(before, after)
        if written is None:
            report.lost_races += 1
        else:
            bucket.append(after.number)
        return written

    # -- preview ------------------------------------------------------------------------------

    def next_for_agent(self, campaign_name: str, agent: str) -> DialRecord | None:
        """Preview: the next due record, shown to `agent` alone until the offer lapses."""
        campaign = self.campaigns.get(campaign_name)
        if campaign is None or campaign.mode is not Mode.PREVIEW:
            raise DialerError("not_preview", "campaign", f"no preview campaign {campaign_name!r}")
        now = self.clock.now()
        if not campaign.running_at(now):
            return None
        for record in self.ledger.due(campaign.name, now, limit=5):
            offered = self.ledger.transition(
                record, model.offer(record, agent, now, self.offer_timeout)
            )
            if offered is not None:
                return offered
        return None

    def answer_offer(self, campaign_name: str, number: str, agent: str, accept: bool) -> DialRecord:
        """The agent accepts (the call is checked and placed now) or skips the record."""
        campaign = self.campaigns.get(campaign_name)
        record = self.ledger.get(campaign_name, number)
        if campaign is None or record is None:
            raise DialerError("not_found", "number", "no such record in that campaign")
        undeployed = self._undeployed(campaign) if accept else ""
        if undeployed:  # before the record is taken
            raise DialerError("not_deployed", "campaign", undeployed)
        now = self.clock.now()
        try:
            after = (
                model.accept(record, agent, now, self.leases)
                if accept
                else model.skip(record, agent, now)
            )
        except model.TransitionError as error:
            raise DialerError("not_offered", "number", str(error)) from error
        written = self.ledger.transition(record, after)
        if written is None:
            raise DialerError("busy", "number", "the record changed; ask for the next one")
        if accept:
            report = RunReport(campaign.name)
            self._dial_claimed(campaign, written, report)
        return self.ledger.get(campaign_name, number) or written

    # -- outcomes -----------------------------------------------------------------------------

    def record_outcome(
        self, ref: str, attempt: int, contact_id: str, outcome: Outcome
    ) -> DialRecord | None:
        """An attempt's call ended (its contact event). Repeats, late arrivals for an earlier
        attempt and strangers change nothing."""
        key = parse_ref(ref)
        campaign = self.campaigns.get(key[0]) if key else None
        if campaign is None:
            return None

        def end(record: DialRecord) -> DialRecord:
            disposition = model.disposition_heard(record, outcome)
            # The contact id is kept when the placing worker died before writing it.
            after = model.ended(record, disposition, self.clock.now(), campaign, contact_id)
            return after

        return self._change(ref, attempt, contact_id, end)

    def flow_heard(self, ref: str, attempt: int, contact_id: str, what: Heard) -> DialRecord | None:
        """The campaign flow's word while the call is on: abandoned, or a person answered.
        On a hook's path: it reads the record only, never the campaign (whose document is
        read through the schema library, ADR 0008)."""
        return self._change(
            ref,
            attempt,
            contact_id,
            lambda record: model.heard(record, attempt, what, self.clock.now()),
        )

    def _change(
        self,
        ref: str,
        attempt: int,
        contact_id: str,
        change: Callable[[DialRecord], DialRecord],
    ) -> DialRecord | None:
        key = parse_ref(ref)
        if key is None:
            return None
        for _ in range(RESERVE_RACES):
            record = self.ledger.get(*key)
            if record is None or not _is_this_attempt(record, attempt, contact_id):
                return record
            written = self.ledger.transition(record, change(record))
            if written is not None:
                return written
        return None

    def wrap_up(self, ref: str, disposition: Disposition) -> DialRecord:
        """An agent's disposition of a connected call: wrong party, declined."""
        key = parse_ref(ref)
        record = self.ledger.get(*key) if key else None
        if record is None:
            raise DialerError("not_found", "record", "no such record")
        try:
            after = model.amend(record, disposition, self.clock.now())
        except model.TransitionError as error:
            raise DialerError("not_amendable", "disposition", str(error)) from error
        return self.ledger.transition(record, after) or record

    def record_survey(self, ref: str, attempt: int, contact_id: str, score: int | None) -> bool:
        """The survey flow's answer (0-10), or None after two silences. Kept once per
        attempt; an answer means a person took the call."""
        key = parse_ref(ref)
        record = self.ledger.get(*key) if key else None
        if record is None or not _is_this_attempt(record, attempt, contact_id):
            return False
        kept = self.ledger.answer(record, nps_group(score), score)
        if kept and score is not None:
            self.flow_heard(ref, attempt, contact_id, Heard.PERSON)
        return kept

    # -- the campaign as a whole --------------------------------------------------------------

    def report(self, name: str) -> CampaignReport | None:
        return campaign_report(self.campaigns, self.ledger, name, self.clock.now())

    def pause(self, name: str, paused: bool) -> Campaign | None:
        """Pause (or resume) a campaign: no run dials it while it is paused."""
        return self.campaigns.set_paused(name, paused, self.clock.now())

    # -- the person's own word ----------------------------------------------------------------

    def do_not_call(self, raw_number: str) -> str:
        """A "don't call me": no marketing call from any campaign from this moment on.

        Every call's last write before Connect is asked checks the person's word (`send`), so
        a call not yet sent when this returns is never sent; `calls_in_progress` names those
        sent before it."""
        number = _valid(raw_number, self.default_country)
        self.recipients.do_not_call(number, self.clock.now())
        return number

    def calls_in_progress(self, number: str) -> list[str]:
        """The campaigns whose call to `number` was sent and has not ended. Read after the
        person's word is written, it names every call that word came too late to stop."""
        names = [campaign.name for campaign in self.campaigns.all()]
        going = {r.campaign for r in self.ledger.of_number(number, names) if _sent_and_going(r)}
        return [name for name in names if name in going]

    def revoke_consent(self, raw_number: str) -> str:
        number = _valid(raw_number, self.default_country)
        seen = self.recipients.read(number)
        consent = replace(seen.recipient.consent, revoked_at=self.clock.now())
        self.recipients.set_consent(number, consent)
        return number

    # -- reconciliation -----------------------------------------------------------------------

    def reconcile(self, limit: int = 100) -> list[DialRecord]:
        """Settle what is past its lease: a lapsed offer goes back, DIALING becomes UNKNOWN,
        UNKNOWN is looked up, or searched for by its name when its contact id was never
        written: never dialled again."""
        settled = []
        now = self.clock.now()
        campaigns: dict[str, Campaign | None] = {}  # each read once a run
        for record in self.ledger.leases_ended(now, limit):
            if record.campaign not in campaigns:
                campaigns[record.campaign] = self.campaigns.get(record.campaign)
            after = self._reconciled(record, now, campaigns[record.campaign])
            if after is not None:
                settled.append(after)
        return settled

    def _reconciled(
        self, record: DialRecord, now: datetime, campaign: Campaign | None
    ) -> DialRecord | None:
        if record.status is RecordStatus.OFFERED:
            return self.ledger.transition(record, model.offer_lapsed(record, now))
        if campaign is None:  # its campaign is gone: nothing decides what comes next
            return None
        rules = model.RecordRules(campaign)
        unknown: DialRecord | None = record
        if record.status is RecordStatus.DIALING:
            unknown = self.ledger.transition(record, lease_ended(record, now, rules))
        if unknown is None or unknown.status is not RecordStatus.UNKNOWN:
            return unknown
        # Never by sending the call again (ADR 0009): a contact id never written is searched
        # for by the attempt's name.
        settlement = settle(
            unknown.attempt,
            now,
            self.contacts,
            self.search,
            model.contact_name(unknown),
            unknown.attempt.route(OWNER, unknown.ref),
        )
        if isinstance(settlement, Unsent):  # no call was made: its reservation counts for none
            self.recipients.release(unknown.number, unknown.attempt.token)
        return self.ledger.transition(
            unknown, settled(unknown, settlement, now, rules, self.leases)
        )


@dataclass(frozen=True)
class CampaignReport:
    campaign: Campaign
    figures: Figures
    records: Mapping[str, int]  # status -> how many
    at: datetime

    def as_dict(self) -> dict[str, Any]:
        """The report as `switchboard campaigns report --json` and the API give it."""
        total, rolling = self.figures.total, self.figures.rolling
        return {
            "campaign": self.campaign.name,
            "mode": self.campaign.mode.value,
            "paused": self.campaign.paused,
            "at": self.at.isoformat(),
            "records": dict(sorted(self.records.items())),
            "dialled": total.dialled,
            "connected": total.connected,
            "right_party_contacts": total.right_party,
            "abandoned": {
                "campaign_to_date": total.abandoned,
                "rate_campaign_to_date": round(total.abandonment_rate, 4),
                "rolling_30_days": rolling.abandoned,
                "rate_rolling_30_days": round(rolling.abandonment_rate, 4),
            },
            "dispositions": dict(sorted(total.dispositions.items())),
            "survey": {group.value: n for group, n in total.survey.items()},
            "nps": None if total.nps is None else round(total.nps, 1),
        }


def campaign_report(
    campaigns: Campaigns, ledger: DialLedger, name: str, now: datetime
) -> CampaignReport | None:
    """Where a campaign stands: its figures to date and over 30 days, and its records."""
    campaign = campaigns.get(name)
    if campaign is None:
        return None
    return CampaignReport(campaign, ledger.figures(name, now), dict(ledger.statuses(name)), now)


class DialerError(ValueError):
    """A request we refuse; `field` names what is wrong, `code` is for flows and the API."""

    def __init__(self, code: str, field: str, message: str) -> None:
        super().__init__(message)
        self.code, self.field = code, field


def _sent_and_going(record: DialRecord | None) -> bool:
    return record is not None and record.attempt.call_in_progress


def _valid(raw: str, country: str) -> str:
    number = normalise(raw, country)
    if number.kind is not NumberKind.VALID:
        raise DialerError("invalid_number", "number", "the number is not a valid phone number")
    return number.e164


def _is_this_attempt(record: DialRecord, attempt: int, contact_id: str) -> bool:
    return record.attempt.is_current(attempt, contact_id)


def _next_utc_midnight(now: datetime) -> datetime:
    return datetime.combine(now.astimezone(UTC).date() + timedelta(days=1), time(0), tzinfo=UTC)
