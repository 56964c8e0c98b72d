"""In-process adapters: fast, for unit tests and big simulations. Same contract as the AWS adapters."""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Sequence

from engine.failover import PeerView, RegionState
from engine.ledger import Change, StaleTransition, Takeover, Transaction


class MemoryLedger:
    def __init__(self) -> None:
        self._records: dict[str, Transaction] = {}
        self._claims: dict[str, str] = {}
        self._by_deadline: list[tuple[datetime, str]] = []

    def open(self, record: Transaction) -> bool:
        if record.id in self._records:
            return False
        self._records[record.id] = record
        heapq.heappush(self._by_deadline, (record.deadline, record.id))
        return True

    def get(self, transaction_id: str) -> Transaction | None:
        return self._records.get(transaction_id)

    def transition(self, transaction_id: str, change: Change) -> Transaction:
        current = self._records.get(transaction_id)
        if current is None or current.status != change.expected_status or current.version != change.expected_version:
            raise StaleTransition(transaction_id, current)
        updated = change.apply(current)
        self._records[transaction_id] = updated
        return updated

    def take_over(self, transaction_id: str, takeover: Takeover) -> Transaction:
        current = self._records.get(transaction_id)
        if (
            current is None
            or current.status.is_terminal
            or current.region != takeover.expected_region
            or current.version != takeover.expected_version
        ):
            raise StaleTransition(transaction_id, current)
        updated = takeover.apply(current)
        self._records[transaction_id] = updated
        return updated

    def in_flight(self, region: str, deadline_before: datetime, limit: int) -> Sequence[Transaction]:
        while self._by_deadline and self._records[self._by_deadline[0][1]].status.is_terminal:
            heapq.heappop(self._by_deadline)
        found = []
        for deadline, transaction_id in sorted(self._by_deadline):
            if deadline >= deadline_before or len(found) == limit:
                break
            record = self._records[transaction_id]
            if record.region == region and not record.status.is_terminal:
                found.append(record)
        return found

    def claim(self, key: str, transaction_id: str, expires_at: int) -> str:
        return self._claims.setdefault(key, transaction_id)

    def check(self) -> None:
        return None

    def records(self) -> list[Transaction]:
        return list(self._records.values())


class MemoryArchive:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def put(self, key: str, body: bytes) -> None:
        self.objects[key] = bytes(body)

    def get(self, key: str) -> bytes | None:
        return self.objects.get(key)

    def check(self) -> None:
        return None


@dataclass
class QueuedMessage:
    message_id: str
    body: str
    group: str
    receive_count: int = 0
    receipt: str = ""


@dataclass
class MemoryQueues:
    """FIFO queues as SQS keeps them: deduplication ids, and a message group waits while one of its
    messages is in flight (received, neither acknowledged nor released)."""

    steps: tuple[str, ...] = ("inbox", "process", "release")
    _queues: dict[str, deque[QueuedMessage]] = field(default_factory=dict)
    _in_flight: dict[str, dict[str, QueuedMessage]] = field(default_factory=dict)
    _seen: dict[str, set[str]] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=itertools.count)

    def __post_init__(self) -> None:
        for step in self.steps:
            self._queues[step] = deque()
            self._in_flight[step] = {}
            self._seen[step] = set()

    def send(self, step: str, body: str, *, group: str, deduplication: str) -> None:
        if deduplication in self._seen[step]:
            return
        self._seen[step].add(deduplication)
        self._queues[step].append(QueuedMessage(f"m-{next(self._ids)}", body, group))

    def receive(self, step: str, max_messages: int) -> list[QueuedMessage]:
        """Copies of the received messages, so that a later receive does not change what a caller holds."""
        queue, in_flight = self._queues[step], self._in_flight[step]
        waiting_groups = {message.group for message in in_flight.values()}
        batch: list[QueuedMessage] = []
        skipped: list[QueuedMessage] = []
        while queue and len(batch) < max_messages:
            message = queue.popleft()
            if message.group in waiting_groups:
                skipped.append(message)
                continue
            message.receive_count += 1
            in_flight[message.message_id] = message
            batch.append(replace(message, receipt=f"{message.message_id}/{message.receive_count}"))
        queue.extendleft(reversed(skipped))
        return batch

    def acknowledge(self, step: str, messages: Sequence[QueuedMessage]) -> None:
        for message in messages:
            self._in_flight[step].pop(message.message_id, None)

    def release_unprocessed(self, step: str, messages: Sequence[QueuedMessage]) -> None:
        """Make failed messages visible again, as an expired visibility timeout does."""
        in_flight = self._in_flight[step]
        released = [in_flight.pop(message.message_id) for message in messages if message.message_id in in_flight]
        self._queues[step].extendleft(reversed(released))

    def depth(self, step: str) -> int:
        return len(self._queues[step])

    def check(self) -> None:
        return None


@dataclass
class MemoryNotifier:
    published: list[tuple[str, str, str]] = field(default_factory=list)

    def publish(self, transaction_id: str, owner: str, status: str) -> None:
        self.published.append((transaction_id, owner, status))


class MemoryRouting:
    def __init__(self) -> None:
        self._states: dict[str, RegionState] = {}
        self._views: dict[tuple[str, str], PeerView] = {}

    def region_states(self) -> dict[str, RegionState]:
        return dict(self._states)

    def declare(self, state: RegionState) -> None:
        self._states[state.region] = state

    def peer_view(self, observer: str, peer: str) -> PeerView:
        return self._views.get((observer, peer), PeerView(observer, peer))

    def save_peer_view(self, view: PeerView) -> None:
        self._views[(view.observer, view.peer)] = view


@dataclass
class ScriptedPeerHealth:
    """Probe answers set by the caller: what a test or the simulator decides the peer looks like."""

    healthy: dict[str, bool] = field(default_factory=dict)

    def probe(self, region: str) -> bool:
        return self.healthy.get(region, True)
