"""The transaction state machine: statuses, the allowed transitions, and the record the ledger keeps."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import Enum


class Status(str, Enum):
    ACCP = "ACCP"  # transaction opened, waiting for its message
    ACTC = "ACTC"  # message received and archived
    ACSP = "ACSP"  # message valid, settlement in process
    ACSC = "ACSC"  # settled
    RJCT = "RJCT"  # rejected (invalid message, timeout)
    CANC = "CANC"  # cancelled
    FAIL = "FAIL"  # the transaction could not be opened

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL


TERMINAL = frozenset({Status.ACSC, Status.RJCT, Status.CANC, Status.FAIL})

ALLOWED_TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.ACCP: frozenset({Status.ACTC, Status.RJCT, Status.CANC, Status.FAIL}),
    Status.ACTC: frozenset({Status.ACSP, Status.RJCT, Status.CANC}),
    Status.ACSP: frozenset({Status.ACSC, Status.RJCT, Status.CANC}),
    Status.ACSC: frozenset(),
    Status.RJCT: frozenset(),
    Status.CANC: frozenset(),
    Status.FAIL: frozenset(),
}


class TransitionNotAllowed(ValueError):
    """A step asked for a transition the state machine forbids: a bug, never a business outcome."""


class StaleTransition(Exception):
    """The record was not at the expected status and version: someone else moved it first."""

    def __init__(self, transaction_id: str, current: "Transaction | None") -> None:
        super().__init__(f"{transaction_id}: expected state no longer holds")
        self.transaction_id = transaction_id
        self.current = current


def check_transition(current: Status, target: Status) -> None:
    if target not in ALLOWED_TRANSITIONS[current]:
        raise TransitionNotAllowed(f"{current.value} -> {target.value} is not an allowed transition")


@dataclass(frozen=True)
class HistoryEntry:
    status: Status
    at: datetime
    reason_code: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class PaymentOutcome:
    status: str
    reason_code: str | None = None
    info: str | None = None


@dataclass(frozen=True)
class Decision:
    """What the engine decided for a message: the group status and one outcome per payment."""

    status: Status
    decided_at: datetime
    reason_code: str | None = None
    info: str | None = None
    payments: tuple[PaymentOutcome, ...] = ()


@dataclass(frozen=True)
class Transaction:
    id: str
    status: Status
    version: int
    region: str
    owner: str
    message_type: str
    opened_at: datetime
    deadline: datetime
    expires_at: int
    history: tuple[HistoryEntry, ...]
    payload_key: str | None = None
    payload_sha256: str | None = None
    reply_key: str | None = None
    decision: Decision | None = None
    warnings: tuple[str, ...] = ()
    epoch: int = 1

    @classmethod
    def opened(
        cls, *, id: str, region: str, owner: str, message_type: str, at: datetime, sla_seconds: int, retention_days: int
    ) -> "Transaction":
        return cls(
            id=id,
            status=Status.ACCP,
            version=1,
            region=region,
            owner=owner,
            message_type=message_type,
            opened_at=at,
            deadline=at + timedelta(seconds=sla_seconds),
            expires_at=int((at + timedelta(days=retention_days)).timestamp()),
            history=(HistoryEntry(Status.ACCP, at),),
        )


@dataclass(frozen=True)
class Change:
    """One transition: the expected state, the target status, and the fields set in the same write."""

    expected_status: Status
    expected_version: int
    target: Status
    entry: HistoryEntry
    payload_key: str | None = None
    payload_sha256: str | None = None
    reply_key: str | None = None
    decision: Decision | None = None
    warnings: tuple[str, ...] = field(default=())
    deadline_not_passed_at: datetime | None = None  # when set, the change applies only if the deadline is not before it

    def __post_init__(self) -> None:
        check_transition(self.expected_status, self.target)

    def apply(self, record: Transaction) -> Transaction:
        """The record after this change; used by adapters that keep records in memory."""
        updates: dict[str, object] = {
            "status": self.target,
            "version": record.version + 1,
            "history": record.history + (self.entry,),
        }
        for name in ("payload_key", "payload_sha256", "reply_key", "decision"):
            if getattr(self, name) is not None:
                updates[name] = getattr(self, name)
        if self.warnings:
            updates["warnings"] = record.warnings + self.warnings
        return replace(record, **updates)


@dataclass(frozen=True)
class Takeover:
    """A surviving region takes ownership of an in-flight transaction of a failed one.

    The version is the fencing token: the take-over increments it, so every write the old owner's workers
    still attempt with the version they read fails its condition. The epoch counts the take-overs.
    """

    expected_region: str
    expected_version: int
    new_region: str

    def apply(self, record: Transaction) -> Transaction:
        return replace(record, region=self.new_region, epoch=record.epoch + 1, version=record.version + 1)
