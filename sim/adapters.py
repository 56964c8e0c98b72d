"""Sim adapters: the engine's ports, wrapped. Each call (a) counts the AWS request(s) it stands for, (b) adds a
latency drawn from the service's distribution to the running invocation, and (c) during a fault fails exactly as
the AWS adapter fails in an outage.

Steps are synchronous Python; SimPy time only moves between invocations. So an invocation's calls run at once,
their effects applied at call time, while the invocation accumulates their latencies: the engine's clock reads
``env.now`` plus the latency accumulated so far (history timestamps include latency), and the worker then waits
the accumulated total in virtual time before it acknowledges its messages.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Callable, Sequence

from engine.ledger import Change, Transaction
from engine.ports import Unavailable
from sim.faults import CallOutcome, FaultLayer, FaultState

INFLIGHT_SHARDS = 4  # DynamoLedger's default: one Query per shard per in_flight call
# DynamoDB capacity units per ledger operation, for the cost estimate (on-demand: 1 WRU per KB written, 1 RRU per
# strongly consistent 4 KB read, 0.5 per eventually consistent one). Item sizes are estimates for a one-payment
# pacs.008: ~0.6 KB when opened, ~1.5 KB with the payload reference, ~2.5 KB with the decision and reply key.
# Writes to an item in the sparse in-flight index (projection ALL) are written to the index too.
WRU_OPEN = 1 + 1  # the item, and its index entry
WRU_CLAIM = 1  # a small claim item, not indexed
WRU_TRANSITION = 2 + 2  # the item, and its index entry
WRU_TERMINAL = 3 + 1  # the item, and the deletion of its index entry
RRU_GET = 1  # ConsistentRead=True, under 4 KB
RRU_QUERY = 0.5  # an index query is eventually consistent; mostly one page under 4 KB
BOTOCORE_SERVICES = frozenset({"dynamodb", "s3", "sns"})
_ERROR_TEXT = {
    "unavailable": "503 ServiceUnavailable",
    "throttle": "400 ThrottlingException",
    "internal": "500 InternalServerError",
    "connectivity": "connect timeout",
}


class SimulatedCrash(BaseException):
    """The execution environment died mid-invocation (BaseException: no engine ``except Exception`` catches it)."""


class InvocationTimedOut(BaseException):
    """Lambda stopped the invocation at its function timeout."""


class Invocation:
    """The call context of one Lambda invocation (a worker batch, an API request, a job run)."""

    __slots__ = ("function", "elapsed", "calls", "budget", "crash_at", "crash_fault", "transaction_ids", "failed_calls", "delayed")

    def __init__(self, function: str, budget: float, crash_at: int | None = None, crash_fault: FaultState | None = None) -> None:
        self.function = function
        self.elapsed = 0.0
        self.calls = 0
        self.budget = budget
        self.crash_at = crash_at
        self.crash_fault = crash_fault
        self.transaction_ids: tuple[str, ...] = ()
        self.failed_calls = 0
        self.delayed = False


class RegionIO:
    """Per region: latency, faults and request counting for the calls of the running invocation."""

    def __init__(self, env, region: str, faults: FaultLayer, latencies: dict[str, Callable[[], float]], *, botocore_faults: bool) -> None:
        self.env = env
        self.region = region
        self.faults = faults
        self.latencies = latencies
        self.botocore_faults = botocore_faults  # moto backend: let botocore raise and the AWS adapter translate
        self.current: Invocation | None = None
        self.armed: tuple[str, str, str] | None = None  # (error kind, service, operation) for the botocore hook
        self.requests: Counter = Counter()  # (service, operation) -> requests sent (SDK attempts included)
        self.errors: Counter = Counter()  # (service, operation) -> calls that failed after the SDK's retries
        self.capacity: Counter = Counter()  # "dynamodb_wru" / "dynamodb_rru" consumed by successful calls
        self.skew_touch: Callable[[str], None] | None = None

    def now(self) -> float:
        current = self.current
        return self.env.now + (current.elapsed if current is not None else 0.0)

    def call(self, service: str, operation: str, transaction_id: str | None, *, count: int = 1, wru: float = 0.0, rru: float = 0.0) -> None:
        inv = self.current
        if inv is None:
            raise RuntimeError(f"{service}.{operation} called outside an invocation")
        inv.calls += 1
        if inv.crash_at is not None and inv.calls >= inv.crash_at:
            inv.crash_fault.hit(self.env.now + inv.elapsed, inv.transaction_ids or ((transaction_id,) if transaction_id else ()))
            raise SimulatedCrash(f"{inv.function} crashed at I/O call {inv.calls}")
        if inv.elapsed >= inv.budget:
            raise InvocationTimedOut(f"{inv.function} reached its timeout")
        if not self.faults.call_faults:  # the common case, kept cheap: one attempt, its latency
            inv.elapsed += self.latencies[service]()
            self.requests[(service, operation)] += count
            if wru:
                self.capacity["dynamodb_wru"] += wru
            if rru:
                self.capacity["dynamodb_rru"] += rru
            return
        outcome: CallOutcome = self.faults.api_call(
            self.region, service, operation, self.env.now + inv.elapsed, self.latencies[service],
            (transaction_id,) if transaction_id else inv.transaction_ids,
        )
        inv.elapsed += outcome.latency_s
        self.requests[(service, operation)] += outcome.attempts * count
        if outcome.error is None:
            if wru:
                self.capacity["dynamodb_wru"] += wru
            if rru:
                self.capacity["dynamodb_rru"] += rru
            return
        self.errors[(service, operation)] += 1
        inv.failed_calls += 1
        if self.botocore_faults and service in BOTOCORE_SERVICES:
            self.armed = (outcome.error, service, operation)
            return
        raise Unavailable(f"{service}: {operation} failed: {_ERROR_TEXT[outcome.error]} ({outcome.fault.spec.label})")

    def run(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run the real adapter call; a fault armed for botocore must be consumed by it."""
        if self.armed is None:
            return function(*args, **kwargs)
        try:
            result = function(*args, **kwargs)
        finally:
            armed, self.armed = self.armed, None
        if armed is not None:
            raise RuntimeError(f"fault armed for {armed[1]}.{armed[2]} but the adapter sent no request")
        return result


def transaction_of_key(key: str) -> str | None:
    """The transaction id in an archive key (``.../<id>-pacs.008.xml``)."""
    name = key.rsplit("/", 1)[-1]
    return name[:36] if len(name) > 36 else None


class SimLedger:
    def __init__(self, inner: Any, io: RegionIO, on_open: Callable[[Transaction], None], on_terminal: Callable[[Transaction], None]) -> None:
        self.inner = inner
        self._io = io
        self._on_open = on_open
        self._on_terminal = on_terminal

    def open(self, record: Transaction) -> bool:
        self._io.call("dynamodb", "PutItem", record.id, wru=WRU_OPEN)
        self._touch_skew(record.id)
        opened = self._io.run(self.inner.open, record)
        if opened:
            self._on_open(record)
        return opened

    def get(self, transaction_id: str) -> Transaction | None:
        self._io.call("dynamodb", "GetItem", transaction_id, rru=RRU_GET)
        return self._io.run(self.inner.get, transaction_id)

    def transition(self, transaction_id: str, change: Change) -> Transaction:
        self._io.call("dynamodb", "UpdateItem", transaction_id, wru=WRU_TERMINAL if change.target.is_terminal else WRU_TRANSITION)
        self._touch_skew(transaction_id)
        updated = self._io.run(self.inner.transition, transaction_id, change)
        if change.target.is_terminal:
            self._on_terminal(updated)
        return updated

    def take_over(self, transaction_id: str, takeover: Any) -> Transaction:
        self._io.call("dynamodb", "UpdateItem", transaction_id, wru=WRU_TRANSITION)
        return self._io.run(self.inner.take_over, transaction_id, takeover)

    def in_flight(self, region: str, deadline_before, limit: int) -> Sequence[Transaction]:
        self._io.call("dynamodb", "Query", None, count=INFLIGHT_SHARDS, rru=RRU_QUERY * INFLIGHT_SHARDS)
        return self._io.run(self.inner.in_flight, region, deadline_before, limit)

    def claim(self, key: str, transaction_id: str, expires_at: int) -> str:
        self._io.call("dynamodb", "PutItem", transaction_id, wru=WRU_CLAIM)
        return self._io.run(self.inner.claim, key, transaction_id, expires_at)

    def check(self) -> None:
        self._io.call("dynamodb", "DescribeTable", None)
        return self._io.run(self.inner.check)

    def _touch_skew(self, transaction_id: str) -> None:
        if self._io.skew_touch is not None:
            self._io.skew_touch(transaction_id)


class SimArchive:
    def __init__(self, inner: Any, io: RegionIO) -> None:
        self.inner = inner
        self._io = io

    def put(self, key: str, body: bytes) -> None:
        self._io.call("s3", "PutObject", transaction_of_key(key))
        return self._io.run(self.inner.put, key, body)

    def get(self, key: str) -> bytes | None:
        self._io.call("s3", "GetObject", transaction_of_key(key))
        return self._io.run(self.inner.get, key)

    def check(self) -> None:
        self._io.call("s3", "HeadBucket", None)
        return self._io.run(self.inner.check)


class SimNotifier:
    def __init__(self, inner: Any, io: RegionIO) -> None:
        self.inner = inner
        self._io = io

    def publish(self, transaction_id: str, owner: str, status: str) -> None:
        self._io.call("sns", "Publish", transaction_id)
        return self._io.run(self.inner.publish, transaction_id, owner, status)


class SimQueues:
    """The Queues port on the simulator's FIFO queues (both backends: moto's SQS timers follow the wall clock)."""

    def __init__(self, queues: dict, io: RegionIO) -> None:
        self._queues = queues
        self._io = io

    def send(self, step: str, body: str, *, group: str, deduplication: str) -> None:
        io = self._io
        io.call("sqs", "SendMessage", group)
        io.run(self._queues[step].send, body, group=group, deduplication=deduplication, delay=io.current.elapsed)

    def check(self) -> None:
        for _ in self._queues:
            self._io.call("sqs", "GetQueueAttributes", None)

