"""Connect's outbound calls as far as we rely on them, recorded; shared by callbacks and the dialer.

Each keeps the contract of the adapter it stands in for (conditional writes, tokens, races)."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from datetime import datetime

from chalicelib.outbound.model import Outcome, Route
from chalicelib.platform.clock import FixedClock


class RecordingConnect:
    """StartOutboundVoiceContact as far as we rely on it, recording every call placed.

    A ClientToken whose contact is still going answers that contact's id and places nothing;
    once the contact has ended (`end`), the same token starts a new call, as the API
    reference says. `dials` holds every call placed: (the owner's ref, token, at).

    SearchContacts by name too: a contact is found by the name its call was given only once
    `index()` ran (Connect's search index lags); `search_failure` makes a search fail."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.dials: list[tuple[str, str, datetime | None]] = []
        self.replays = 0  # requests answered with a contact already going
        self.live: dict[str, str] = {}  # token -> contact id of its call still going
        self.contacts: dict[str, tuple[str, str]] = {}  # contact id -> (ref, token)
        self.fail_with: Exception | None = None
        self.clock: FixedClock | None = None
        self.named: dict[str, str] = {}  # name -> contact id
        self.indexed: set[str] = set()
        self.search_failure: Exception | None = None
        self.adopted: dict[str, Route] = {}  # contact id -> the route a search gave it

    def adopt(self, contact_id: str, route: Route) -> None:
        self.adopted[contact_id] = route

    def index(self) -> None:
        self.indexed.update(self.named)

    def find(self, name: str, since: datetime, until: datetime) -> str | None:
        if self.search_failure is not None:
            raise self.search_failure
        return self.named.get(name) if name in self.indexed else None

    def _start(self, ref: str, token: str, name: str = "") -> str:
        with self._lock:
            if token in self.live:
                self.replays += 1
                return self.live[token]
            placed_before = sum(t == token for _, t, _ in self.dials)
            contact = f"contact-{token}" + (f"-again{placed_before}" if placed_before else "")
            self.dials.append((ref, token, self.clock.now() if self.clock else None))
            self.live[token] = contact
            self.contacts[contact] = (ref, token)
            if name:
                self.named.setdefault(name, contact)
            return contact

    def end(self, contact: str) -> None:
        """The call hung up: its token would now start a new call."""
        with self._lock:
            _, token = self.contacts[contact]
            if self.live.get(token) == contact:
                del self.live[token]


class FixedAgents:
    """Free agents: the same number in every queue, or a number per queue."""

    def __init__(self, free: int | Mapping[str, int] = 100) -> None:
        self.free = free

    def available(self, queues: Sequence[str]) -> dict[str, int]:
        if isinstance(self.free, int):
            return dict.fromkeys(queues, self.free)
        return {q: self.free.get(q, 0) for q in queues}


class ScriptedContacts:
    """DescribeContact: an outcome per contact (None while going); `failure` makes every
    look-up fail as a throttled Connect would."""

    def __init__(self) -> None:
        self.outcomes: dict[str, Outcome | None] = {}
        self.failure: Exception | None = None

    def outcome(self, contact_id: str) -> Outcome | None:
        if self.failure is not None:
            raise self.failure
        if contact_id not in self.outcomes:
            raise KeyError(contact_id)
        return self.outcomes[contact_id]
