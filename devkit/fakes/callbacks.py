"""The callback ledger and its dialler in memory.

Each keeps the contract of the adapter it stands in for (conditional writes, tokens, races)."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import replace as _replace
from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib.callbacks import model as callback_model
from chalicelib.callbacks.model import Callback
from chalicelib.callbacks.service import AllowanceUsedError, Holders, QueueSettings
from chalicelib.outbound.service import Commit, commit_or_stop

if TYPE_CHECKING:
    pass

from devkit.fakes.outbound import RecordingConnect


class InMemoryLedger:
    """The ledger's contract in memory: conditional writes on the version, one active
    callback per (number, queue) and per asking contact, thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.callbacks: dict[str, Callback] = {}
        self.charged: Counter[str] = Counter()
        self.writes = 0

    def _active(self) -> list[Callback]:
        return [c for c in self.callbacks.values() if not c.final]

    def create(
        self,
        callback: Callback,
        supersedes: Callback | None,
        allowance: callback_model.Allowance,
    ) -> tuple[Callback, bool]:
        with self._lock:
            for other in self._active():
                if (other.number, other.queue) == (callback.number, callback.queue) and (
                    supersedes is None or other.callback_id != supersedes.callback_id
                ):
                    return other, False
            if self.charged[allowance.key] >= allowance.limit:
                raise AllowanceUsedError(allowance.key)
            self.charged[allowance.key] += 1
            if supersedes is not None:
                current = self.callbacks.get(supersedes.callback_id)
                if current is None or current.version != supersedes.version:
                    raise RuntimeError("superseded callback changed meanwhile")
                cancelled = callback_model.cancel(
                    current, callback.requested_at, "replaced by a request for another number"
                )
                self.callbacks[current.callback_id] = _replace(
                    cancelled, version=current.version + 1
                )
            stored = _replace(callback, version=1)
            self.callbacks[callback.callback_id] = stored
            self.writes += 1
            return stored, True

    def get(self, callback_id: str) -> Callback | None:
        return self.callbacks.get(callback_id)

    def active_for_number(self, number: str) -> list[Callback]:
        return [c for c in self._active() if c.number == number]

    def holders(self, number: str, queue: str, contact_id: str) -> Holders:
        active = self._active()
        return Holders(
            next((c for c in active if (c.number, c.queue) == (number, queue)), None),
            next((c for c in active if contact_id and c.contact_id == contact_id), None),
        )

    def by_outbound_contact(self, contact_id: str) -> Callback | None:
        return next(
            (c for c in self.callbacks.values() if c.attempt.contact_id == contact_id), None
        )

    @staticmethod
    def _order(callback: Callback) -> tuple[object, ...]:
        return (callback.priority, callback.due_at, callback.requested_at, callback.callback_id)

    def due(self, queue: str, now: datetime, limit: int) -> list[Callback]:
        with self._lock:
            waiting = [
                c
                for c in self.callbacks.values()
                if c.queue == queue and c.status in callback_model.WAITING and c.due_at <= now
            ]
        return sorted(waiting, key=self._order)[:limit]

    def position(self, callback: Callback) -> int:
        with self._lock:
            waiting = [
                c
                for c in self.callbacks.values()
                if c.queue == callback.queue and c.status in callback_model.WAITING
            ]
        return 1 + sum(self._order(c) < self._order(callback) for c in waiting)

    def leases_ended(self, now: datetime, limit: int) -> list[Callback]:
        return [
            c
            for c in self.callbacks.values()
            if c.attempt.in_flight
            and c.attempt.lease_until is not None
            and c.attempt.lease_until <= now
        ][:limit]

    def transition(self, before: Callback, after: Callback) -> Callback | None:
        with self._lock:
            current = self.callbacks.get(before.callback_id)
            if current is None or current.version != before.version:
                return None
            stored = _replace(after, version=before.version + 1)
            self.callbacks[before.callback_id] = stored
            self.writes += 1
            return stored


class RecordingDialer(RecordingConnect):
    """The callbacks' Dialer port on the recording Connect."""

    def dial(self, callback: Callback, commit: Commit) -> str:
        commit_or_stop(commit)  # as ConnectOutbound does, after its pacer's wait
        if self.fail_with is not None:  # what Connect answered
            raise self.fail_with
        return self.place(callback)

    def place(self, callback: Callback) -> str:
        name = callback_model.contact_name(callback)
        return self._start(callback.callback_id, callback.attempt.token, name)


class SequentialIds:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0

    def __call__(self) -> str:
        with self._lock:
            self.count += 1
            return f"cb-{self.count:06d}"


def callback_queues() -> dict[str, QueueSettings]:
    """Each queue of the routing rules with its hours and handle time, as production has."""
    from chalicelib.bootstrap import load_routing_rules

    rules = load_routing_rules()
    return {
        name: QueueSettings(rules.hours[q.hours], q.average_handle_seconds)
        for name, q in rules.queues.items()
    }
