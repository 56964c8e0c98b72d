"""Release: make the decision final (ACSC or RJCT), store the pacs.002 reply, notify the owner."""

from __future__ import annotations

import logging

from engine.ledger import Change, Decision, HistoryEntry, PaymentOutcome, StaleTransition, Status, Transaction
from engine.replies import status_report
from engine.steps.handoff import Handoff, reply_key
from engine.wiring import Ports

log = logging.getLogger(__name__)


def final_decision(decision: Decision, now) -> Decision:
    if decision.status is Status.ACSP:
        settled = tuple(PaymentOutcome("ACSC") if o.status == "ACSP" else o for o in decision.payments)
        return Decision(Status.ACSC, now, payments=settled)
    return Decision(Status.RJCT, now, decision.reason_code, decision.info, decision.payments)


def release(ports: Ports, handoff: Handoff) -> str:
    transaction_id = handoff.transaction_id
    now = ports.clock.now()
    decision = final_decision(handoff.decision, now)
    key = reply_key(ports.settings.region, handoff.received_at, transaction_id)
    change = Change(
        expected_status=Status.ACSP if handoff.decision.status is Status.ACSP else Status.ACTC,
        expected_version=handoff.version,
        target=decision.status,
        entry=HistoryEntry(decision.status, now, decision.reason_code),
        reply_key=key,
        decision=decision,
    )
    try:
        record = ports.ledger.transition(transaction_id, change)
    except StaleTransition as stale:
        current = stale.current
        if current is None or not current.status.is_terminal:
            log.warning("release for a transaction in an unexpected state", extra={"transaction_id": transaction_id})
            return "dropped: unexpected state"
        if current.reply_key is not None and ports.archive.get(current.reply_key) is not None:
            return f"duplicate: already {current.status.value}"
        record = current
    store_reply(ports, record, handoff.payload)
    return record.status.value


def store_reply(ports: Ports, record: Transaction, payload: bytes | None) -> bytes:
    reply = status_report(record, payload, ports.settings.max_message_bytes)
    ports.archive.put(record.reply_key, reply)
    ports.notifier.publish(record.id, record.owner, record.status.value)
    log.info("reply stored", extra={"transaction_id": record.id, "status": record.status.value})
    return reply
