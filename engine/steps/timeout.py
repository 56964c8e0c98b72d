"""Timeout (scheduled): every in-flight transaction whose deadline has passed is rejected, with a reply."""

from __future__ import annotations

import logging

from engine.ledger import Change, Decision, HistoryEntry, StaleTransition, Status, Transaction
from engine.steps.handoff import reply_key_for
from engine.steps.release import store_reply
from engine.wiring import Ports

log = logging.getLogger(__name__)

CLEARING_TIMEOUT = "AB01"
SETTLEMENT_TIMEOUT = "AB03"
BATCH_LIMIT = 500


def timeout_reason(record: Transaction) -> str:
    return SETTLEMENT_TIMEOUT if record.status is Status.ACSP else CLEARING_TIMEOUT


def expire_overdue(ports: Ports) -> list[str]:
    """Returns the ids of the transactions it rejected."""
    now = ports.clock.now()
    sla = ports.settings.sla_seconds
    expired = []
    for record in ports.ledger.in_flight(ports.settings.region, now, BATCH_LIMIT):
        info = f"no final status within the {sla} s SLA; it was {record.status.value}"
        decision = Decision(Status.RJCT, now, timeout_reason(record), info)
        change = Change(
            expected_status=record.status,
            expected_version=record.version,
            target=Status.RJCT,
            entry=HistoryEntry(Status.RJCT, now, decision.reason_code, "timeout"),
            reply_key=reply_key_for(record.id, record.region, record.opened_at, record.payload_key),
            decision=decision,
        )
        try:
            rejected = ports.ledger.transition(record.id, change)
        except StaleTransition:
            continue
        payload = ports.archive.get(rejected.payload_key) if rejected.payload_key else None
        store_reply(ports, rejected, payload)
        log.info("transaction timed out", extra={"transaction_id": record.id, "reason_code": decision.reason_code})
        expired.append(record.id)
    return expired
