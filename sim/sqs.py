"""SQS FIFO queues in virtual time.

moto's SQS timers (visibility timeouts, deduplication windows) follow the wall clock, so the simulator keeps the
three FIFO queues of each region itself, on both backends, with the semantics the engine relies on:

* at-least-once: a received message stays in the queue, invisible, until it is deleted or its visibility
  timeout expires; then it is visible again and its receive count grows;
* message groups: while one message of a group is in flight, no other message of that group is delivered;
  a batch may hold several messages of one group, in order;
* a redrive policy: a message received ``max_receive_count`` times and still not deleted goes to the
  queue's dead-letter queue the next time it would be delivered;
* content deduplication by MessageDeduplicationId for 5 minutes;
* ReceiveMessage returns at most 10 messages.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass

import simpy

DEDUPLICATION_WINDOW_S = 300.0
MAX_BATCH = 10


class Message:
    __slots__ = ("message_id", "body", "group", "receive_count", "receipt", "sent_at", "deliveries")

    def __init__(self, message_id: str, body: str, group: str, sent_at: float) -> None:
        self.message_id = message_id
        self.body = body
        self.group = group
        self.receive_count = 0
        self.receipt = 0  # the receipt handle of the latest delivery; older ones are stale
        self.sent_at = sent_at
        self.deliveries: list[float] = []


@dataclass(frozen=True)
class Delivery:
    message: Message
    receipt: int
    receive_count: int


@dataclass(frozen=True)
class DeadLetter:
    queue: str
    message_id: str
    group: str
    body: str
    receive_count: int
    moved_at: float


class FifoQueue:
    def __init__(self, env: simpy.Environment, name: str, *, visibility_timeout_s: float, max_receive_count: int,
                 dead_letters: list[DeadLetter], on_redelivery=None) -> None:
        self.env = env
        self.name = name
        self.visibility_timeout_s = visibility_timeout_s
        self.max_receive_count = max_receive_count
        self.dead_letters = dead_letters
        self._on_redelivery = on_redelivery
        self._groups: dict[str, deque[Message]] = {}  # waiting (visible) messages per group, in order
        self._ready: OrderedDict[str, None] = OrderedDict()  # groups with a visible message and none in flight
        self._in_flight: dict[str, Message] = {}  # message id -> message
        self._group_in_flight: dict[str, int] = {}
        self._dedup: dict[str, float] = {}  # deduplication id -> expiry
        self._dedup_expiry: deque[tuple[float, str]] = deque()
        self._ready_event: simpy.Event | None = None
        self._ids = 0
        self.visible = 0
        self.pending = 0  # sent, not yet in the queue (the sender's invocation has not reached that call yet)
        self.sent = 0
        self.deduplicated = 0

    # -- producer ------------------------------------------------------------------------------------------
    def send(self, body: str, *, group: str, deduplication: str, delay: float = 0.0) -> bool:
        """False when the deduplication id was seen in the last 5 minutes (SQS accepts and drops it).

        ``delay``: the message enters the queue this many seconds from now -- the sender's invocation has spent
        that much virtual time before its SendMessage call (see sim/adapters.py)."""
        now = self.env.now
        expiry = self._dedup_expiry
        while expiry and expiry[0][0] <= now:
            at, key = expiry.popleft()
            if self._dedup.get(key) == at:
                del self._dedup[key]
        if deduplication in self._dedup:
            self.deduplicated += 1
            return False
        until = now + DEDUPLICATION_WINDOW_S
        self._dedup[deduplication] = until
        expiry.append((until, deduplication))
        self._ids += 1
        message = Message(f"{self.name}-{self._ids}", body, group, now + delay)
        self.sent += 1
        if delay > 0:
            self.pending += 1
            timer = self.env.timeout(delay)
            timer.callbacks.append(lambda _event: self._arrive(message, delayed=True))
        else:
            self._arrive(message)
        return True

    def _arrive(self, message: Message, delayed: bool = False) -> None:
        if delayed:
            self.pending -= 1
        group = message.group
        waiting = self._groups.get(group)
        if waiting is None:
            waiting = self._groups[group] = deque()
        waiting.append(message)
        self.visible += 1
        if not self._group_in_flight.get(group):
            self._mark_ready(group)

    # -- consumer ------------------------------------------------------------------------------------------
    def receive(self, max_messages: int) -> list[Delivery]:
        now = self.env.now
        batch: list[Delivery] = []
        limit = min(max_messages, MAX_BATCH)
        while self._ready and len(batch) < limit:
            group, _ = self._ready.popitem(last=False)
            waiting = self._groups[group]
            while waiting and len(batch) < limit:
                message = waiting.popleft()
                self.visible -= 1
                if message.receive_count >= self.max_receive_count:
                    self.dead_letters.append(DeadLetter(self.name, message.message_id, group, message.body, message.receive_count, now))
                    continue
                message.receive_count += 1
                message.receipt += 1
                message.deliveries.append(now)
                if message.receive_count > 1 and self._on_redelivery is not None:
                    self._on_redelivery(self.name, message)
                self._in_flight[message.message_id] = message
                self._group_in_flight[group] = self._group_in_flight.get(group, 0) + 1
                batch.append(Delivery(message, message.receipt, message.receive_count))
                self._expire_later(message, message.receipt, self.visibility_timeout_s)
            if not waiting:
                del self._groups[group]
            elif not self._group_in_flight.get(group):
                self._ready[group] = None  # only dead letters were taken; the rest stays ready
                self._ready.move_to_end(group, last=False)
        return batch

    def delete(self, delivery: Delivery) -> bool:
        """DeleteMessage with this delivery's receipt handle; a stale handle deletes nothing."""
        message = delivery.message
        if message.receipt != delivery.receipt or self._in_flight.get(message.message_id) is not message:
            return False
        del self._in_flight[message.message_id]
        self._leave_flight(message.group)
        return True

    def extend_visibility(self, delivery: Delivery, seconds: float) -> None:
        """ChangeMessageVisibility: the message stays invisible ``seconds`` from now (used for lost deletes)."""
        message = delivery.message
        if message.receipt == delivery.receipt and message.message_id in self._in_flight:
            message.receipt += 1  # the old timer becomes stale
            self._expire_later(message, message.receipt, seconds)

    def ready(self) -> simpy.Event:
        """An event that fires when some group has a deliverable message."""
        if self._ready_event is None or self._ready_event.triggered:
            self._ready_event = self.env.event()
            if self._ready:
                self._ready_event.succeed()
        return self._ready_event

    # -- state ---------------------------------------------------------------------------------------------
    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    def has_ready(self) -> bool:
        return bool(self._ready)

    def is_empty(self) -> bool:
        return self.visible == 0 and self.pending == 0 and not self._in_flight

    def messages(self) -> list[Message]:
        waiting = [m for group in self._groups.values() for m in group]
        return waiting + list(self._in_flight.values())

    # -- internals -----------------------------------------------------------------------------------------
    def _expire_later(self, message: Message, receipt: int, seconds: float) -> None:
        timer = self.env.timeout(seconds)
        timer.callbacks.append(lambda _event: self._expire(message, receipt))

    def _expire(self, message: Message, receipt: int) -> None:
        if message.receipt != receipt or self._in_flight.get(message.message_id) is not message:
            return
        del self._in_flight[message.message_id]
        waiting = self._groups.get(message.group)
        if waiting is None:
            waiting = self._groups[message.group] = deque()
        waiting.appendleft(message)
        self.visible += 1
        self._leave_flight(message.group)

    def _leave_flight(self, group: str) -> None:
        count = self._group_in_flight[group] - 1
        if count:
            self._group_in_flight[group] = count
            return
        del self._group_in_flight[group]
        if group in self._groups:
            self._mark_ready(group)

    def _mark_ready(self, group: str) -> None:
        self._ready[group] = None
        event = self._ready_event
        if event is not None and not event.triggered:
            event.succeed()
