"""Release: make the decision final (ACSC or RJCT), store the reply, notify the owner."""

from __future__ import annotations

import logging
from datetime import datetime

from engine.ledger import Change, Decision, HistoryEntry, PaymentOutcome, StaleTransition, Status, Transaction
from engine.replies import status_report
from engine.steps.deadline import overdue_rejection
from engine.steps.handoff import MAIN_REPLY, STATUS_REPORT, Handoff, reply_key
from engine.wiring import Ports

log = logging.getLogger(__name__)

CANCELLATION_TYPE = "camt.056"


def final_decision(decision: Decision, now) -> Decision:
    if decision.status is Status.ACSP:
        settled = tuple(PaymentOutcome("ACSC") if o.status == "ACSP" else o for o in decision.payments)
        return Decision(Status.ACSC, now, decision.reason_code, decision.info, payments=settled)
    return Decision(Status.RJCT, now, decision.reason_code, decision.info, decision.payments)


def release(ports: Ports, handoff: Handoff) -> str:
    transaction_id = handoff.transaction_id
    now = ports.clock.now()
    decision = final_decision(handoff.decision, now)
    accepted = handoff.decision.status is Status.ACSP
    reply_type = MAIN_REPLY.get(handoff.message_type, STATUS_REPORT) if accepted else STATUS_REPORT
    key = reply_key(ports.settings.region, handoff.received_at, transaction_id, reply_type)
    change = Change(
        expected_status=Status.ACSP if accepted else Status.ACTC,
        expected_version=handoff.version,
        target=decision.status,
        entry=HistoryEntry(decision.status, now, decision.reason_code),
        reply_key=key,
        decision=decision,
        warnings=handoff.warnings,
        deadline_not_passed_at=now if accepted else None,
    )
    try:
        record = ports.ledger.transition(transaction_id, change)
    except StaleTransition as stale:
        current = stale.current
        if current is not None and current.region != ports.settings.region:
            return f"fenced: owned by {current.region}"
        if accepted and current is not None and (current.status, current.version) == (Status.ACSP, handoff.version):
            return reject_late(ports, current, now, handoff.payload)
        if current is None or not current.status.is_terminal:
            log.warning("release for a transaction in an unexpected state", extra={"transaction_id": transaction_id})
            return "dropped: unexpected state"
        if current.reply_key is not None and ports.archive.get(current.reply_key) is not None:
            return f"duplicate: already {current.status.value}"
        record = current
    store_reply(ports, record, handoff.payload)
    return record.status.value


def reject_late(ports: Ports, record: Transaction, now: datetime, payload: bytes) -> str:
    """The settlement came after the deadline: the payment is rejected, never settled late."""
    try:
        rejected = ports.ledger.transition(record.id, overdue_rejection(record, now, ports.settings.sla_seconds, "late settlement"))
    except StaleTransition:
        return "duplicate: decided elsewhere"
    store_reply(ports, rejected, payload)
    log.info("settlement after the deadline rejected", extra={"transaction_id": record.id})
    return rejected.status.value


def store_reply(ports: Ports, record: Transaction, payload: bytes | None) -> bytes:
    if record.message_type == CANCELLATION_TYPE and record.status is Status.ACSC:
        reply = ports.archive.get(record.reply_key)  # the camt.029, archived before the decision was recorded
        if reply is None:
            raise RuntimeError(f"transaction {record.id}: resolution missing at {record.reply_key}")
    else:
        reply = status_report(record, payload, ports.settings.max_message_bytes)
        ports.archive.put(record.reply_key, reply)
    ports.notifier.publish(record.id, record.owner, record.status.value)
    log.info("reply stored", extra={"transaction_id": record.id, "status": record.status.value})
    return reply
