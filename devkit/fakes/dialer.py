"""The dialer's ledger, people, caller IDs, staffing and campaigns in memory.

Each keeps the contract of the adapter it stands in for (conditional writes, tokens, races)."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace as _replace
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from chalicelib.dialer import model as dialer_model
from chalicelib.dialer.compliance import Consent, PastCall, Recipient
from chalicelib.dialer.contacts import Contact
from chalicelib.dialer.model import Campaign, DialRecord, Figures, Seen
from chalicelib.outbound.model import DialUncertainError, OutboundCall
from chalicelib.outbound.service import Commit, commit_or_stop

if TYPE_CHECKING:
    pass

from devkit.fakes.outbound import RecordingConnect


class RecordingCalls(RecordingConnect):
    """The dialer's Calls port on the recording Connect.

    `requests` keeps each call asked for. `lose_answer` places the call and then raises
    DialUncertainError, as a timeout after Connect acted does."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[OutboundCall] = []
        self.lose_answer = False

    def start(self, call: OutboundCall, commit: Commit) -> str:
        commit_or_stop(commit)  # as ConnectOutbound does, after its pacer's wait
        self.requests.append(call)
        if self.fail_with is not None:  # what Connect answered
            raise self.fail_with
        contact = self._start(call.ref, call.token, call.name)
        if self.lose_answer:
            raise DialUncertainError("ReadTimeoutError")
        return contact


class InMemoryDialLedger:
    """The dialer's table as dicts: records by (campaign, number), each write conditional
    on the version read, and the figures each transition adds (`model.tally`), by UTC day.
    It is also the contact book ingest adds to."""

    def __init__(self, people: InMemoryRecipients | None = None) -> None:
        self._lock = threading.Lock()
        self.people = people  # whose do-not-call and consent the last write before a call checks
        self.records: dict[tuple[str, str], DialRecord] = {}
        self.days: dict[tuple[str, date], Counter[str]] = {}
        self.answers: dict[tuple[str, str, int], int | None] = {}  # (campaign, number, attempt)
        self.writes = 0

    def add(self, campaign: str, contacts: Sequence[Contact], at: datetime) -> Sequence[bool]:
        added = []
        with self._lock:
            for contact in contacts:
                key = (campaign, contact.number)
                added.append(key not in self.records)
                if key not in self.records:
                    self.records[key] = DialRecord(
                        campaign,
                        contact.number,
                        contact.time_zones,
                        due_at=at,
                        subdivision=contact.subdivision,
                        version=1,
                    )
        return added

    def get(self, campaign: str, number: str) -> DialRecord | None:
        return self.records.get((campaign, number))

    def of_number(self, number: str, campaigns: Sequence[str]) -> list[DialRecord]:
        found = (self.records.get((campaign, number)) for campaign in campaigns)
        return [record for record in found if record is not None]

    def due(self, campaign: str, now: datetime, limit: int) -> list[DialRecord]:
        due = [
            r for (c, _), r in self.records.items() if c == campaign and dialer_model.is_due(r, now)
        ]
        return sorted(due, key=lambda r: (r.due_at, r.number))[:limit]

    def in_flight(self, campaign: str) -> int:
        return sum(
            1
            for (c, _), r in self.records.items()
            if c == campaign and r.status in dialer_model.IN_FLIGHT
        )

    def leases_ended(self, now: datetime, limit: int) -> list[DialRecord]:
        ended = [
            (ends, r.ref, r)
            for r in self.records.values()
            if (ends := r.lease_ends) is not None and ends <= now
        ]
        return [r for _, _, r in sorted(ended, key=lambda e: (e[0], e[1]))][:limit]

    def transition(self, before: DialRecord, after: DialRecord) -> DialRecord | None:
        with self._lock:
            key = (before.campaign, before.number)
            current = self.records.get(key)
            if current is None or current.version != before.version:
                return None
            stored = _replace(after, version=before.version + 1)
            self.records[key] = stored
            day = (
                before.campaign,
                (stored.history[-1].at if stored.history else datetime.now(UTC)).date(),
            )
            self.days.setdefault(day, Counter()).update(dialer_model.tally(before, after))
            self.writes += 1
            return stored

    def send(self, before: DialRecord, after: DialRecord, person: Seen) -> DialRecord | None:
        if self.people is None:
            raise RuntimeError("made without the people whose word the last write checks")
        now = self.people.read(before.number).recipient
        seen = person.recipient
        if (now.internal_dnc_at, now.consent.revoked_at) != (
            seen.internal_dnc_at,
            seen.consent.revoked_at,
        ):
            return None
        return self.transition(before, after)

    def statuses(self, campaign: str) -> dict[str, int]:
        return dict(Counter(r.status.value for (c, _), r in self.records.items() if c == campaign))

    def answer(self, record: DialRecord, group: dialer_model.NpsGroup, score: int | None) -> bool:
        with self._lock:
            key = (record.campaign, record.number, record.attempt.ordinal)
            if key in self.answers:
                return False
            self.answers[key] = score
            day = (record.campaign, (record.attempt.claimed_at or datetime.now(UTC)).date())
            self.days.setdefault(day, Counter())[group.value] += 1
            return True

    def figures(self, campaign: str, now: datetime) -> Figures:
        total: Counter[str] = Counter()
        rolling: Counter[str] = Counter()
        since = (now - dialer_model.ROLLING).date()
        for (c, day), counts in self.days.items():
            if c == campaign:
                total.update(counts)
                if day > since:
                    rolling.update(counts)
        return Figures(dialer_model.counts_of(total), dialer_model.counts_of(rolling))


class InMemoryRecipients:
    """People's state by number; a reservation is written only on the version checked."""

    def __init__(self, copy_at: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self.state: dict[str, tuple[Recipient, int, tuple[str, ...]]] = {}
        self.national_dnc: set[str] = set()
        self.copy_at = copy_at  # when the national registry copy was taken

    def read(self, number: str) -> Seen:
        with self._lock:
            recipient, version, _ = self.state.get(number, (Recipient(), 0, ()))
        return Seen(
            _replace(
                recipient,
                on_national_dnc=number in self.national_dnc,
                national_dnc_copy_at=self.copy_at,
            ),
            version,
        )

    def _write(
        self,
        number: str,
        change: Callable[[Recipient, tuple[str, ...]], tuple[Recipient, tuple[str, ...]]],
    ) -> None:
        with self._lock:
            recipient, version, tokens = self.state.get(number, (Recipient(), 0, ()))
            recipient, tokens = change(recipient, tokens)
            self.state[number] = (recipient, version + 1, tokens)

    def reserve(self, number: str, seen: Seen, call: PastCall, token: str) -> bool:
        with self._lock:
            recipient, version, tokens = self.state.get(number, (Recipient(), 0, ()))
            if version != seen.version:
                return False
            calls = (*recipient.calls, call)
            self.state[number] = (_replace(recipient, calls=calls), version + 1, (*tokens, token))
            return True

    def release(self, number: str, token: str) -> None:
        def without(
            recipient: Recipient, tokens: tuple[str, ...]
        ) -> tuple[Recipient, tuple[str, ...]]:
            keep = [i for i, t in enumerate(tokens) if t != token]
            return (
                _replace(recipient, calls=tuple(recipient.calls[i] for i in keep)),
                tuple(tokens[i] for i in keep),
            )

        self._write(number, without)

    def do_not_call(self, number: str, at: datetime) -> None:
        self._write(number, lambda r, t: (_replace(r, internal_dnc_at=r.internal_dnc_at or at), t))

    def set_consent(self, number: str, consent: Consent) -> None:
        self._write(number, lambda r, t: (_replace(r, consent=consent), t))


class InMemoryCallerIds:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: Counter[tuple[str, date]] = Counter()

    def used(self, numbers: Sequence[str], day: date) -> dict[str, int]:
        return {n: self.counts[(n, day)] for n in numbers}

    def take(self, number: str, day: date, cap: int) -> bool:
        with self._lock:
            if self.counts[(number, day)] >= cap:
                return False
            self.counts[(number, day)] += 1
            return True


class FixedStaffing:
    """(staffed, available) agents, the same in every queue; None: figures unavailable."""

    def __init__(self, staffed: int = 10, available: int = 10) -> None:
        self.agents: tuple[int, int] | None = (staffed, available)

    def floor(self, queue: str) -> tuple[int, int] | None:
        return self.agents


class InMemoryCampaigns:
    def __init__(self, *campaigns: Campaign) -> None:
        self.campaigns = {c.name: c for c in campaigns}

    def get(self, name: str) -> Campaign | None:
        return self.campaigns.get(name)

    def all(self) -> list[Campaign]:
        return list(self.campaigns.values())

    def put(self, document_json: str, at: datetime) -> None:
        from chalicelib.dialer.schema import campaign_of, read_campaign

        campaign = campaign_of(read_campaign(json.loads(document_json)))
        self.campaigns[campaign.name] = campaign

    def set_paused(self, name: str, paused: bool, at: datetime) -> Campaign | None:
        if name not in self.campaigns:
            return None
        self.campaigns[name] = _replace(self.campaigns[name], paused=paused)
        return self.campaigns[name]
