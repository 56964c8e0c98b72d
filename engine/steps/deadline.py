"""The SLA deadline: past it a transaction is rejected with an ISO timeout reason, whoever notices first
(the timeout job sweeping the in-flight index, or the release step finding its settlement came too late)."""

from __future__ import annotations

from datetime import datetime

from engine.ledger import Change, Decision, HistoryEntry, Status, Transaction
from engine.steps.handoff import reply_key_for

CLEARING_TIMEOUT = "AB01"
SETTLEMENT_TIMEOUT = "AB03"


def timeout_reason(status: Status) -> str:
    return SETTLEMENT_TIMEOUT if status is Status.ACSP else CLEARING_TIMEOUT


def overdue_rejection(record: Transaction, now: datetime, sla_seconds: int, note: str) -> Change:
    info = f"no final status within the {sla_seconds} s SLA; it was {record.status.value}"
    decision = Decision(Status.RJCT, now, timeout_reason(record.status), info)
    return Change(
        expected_status=record.status,
        expected_version=record.version,
        target=Status.RJCT,
        entry=HistoryEntry(Status.RJCT, now, decision.reason_code, note),
        reply_key=record.reply_key or reply_key_for(record.id, record.region, record.opened_at, record.payload_key),
        decision=decision,
    )
