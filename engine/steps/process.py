"""Process: read and validate the message, run the business checks, decide ACSP or RJCT per payment."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from engine.iso20022 import STRUCTURAL_RULES, Message, MessageError, Rule, check, read_message
from engine.ledger import Change, Decision, HistoryEntry, PaymentOutcome, StaleTransition, Status
from engine.steps.handoff import Handoff
from engine.wiring import Ports

log = logging.getLogger(__name__)

DUPLICATE_REASON = "AM05"


def decide(message: Message, rules: Sequence[Rule], at: datetime) -> Decision:
    """The decision for a readable message: a group-level finding rejects every payment."""
    findings = check(message, rules)
    group = next((f for f in findings if f.payment_index is None), None)
    if group is not None:
        rejected = PaymentOutcome("RJCT", group.reason_code, group.narrative)
        return Decision(Status.RJCT, at, group.reason_code, group.narrative, tuple(rejected for _ in message.payments))
    by_payment = {f.payment_index: f for f in findings}
    outcomes = tuple(
        PaymentOutcome("RJCT", by_payment[p.index].reason_code, by_payment[p.index].narrative)
        if p.index in by_payment
        else PaymentOutcome("ACSP")
        for p in message.payments
    )
    if all(o.status == "RJCT" for o in outcomes):
        first = outcomes[0]
        return Decision(Status.RJCT, at, first.reason_code, first.info, outcomes)
    return Decision(Status.ACSP, at, payments=outcomes)


def reject_unreadable(error: MessageError, at: datetime) -> Decision:
    return Decision(Status.RJCT, at, error.reason_code, error.narrative)


def claim_uetrs(ports: Ports, transaction_id: str, expires_at: int, message: Message, decision: Decision) -> Decision:
    """A UETR already held by another transaction rejects that payment as a duplicate."""
    outcomes = list(decision.payments)
    for payment in message.payments:
        if payment.uetr is None or outcomes[payment.index].status == "RJCT":
            continue
        holder = ports.ledger.claim(f"uetr#{payment.uetr}", transaction_id, expires_at)
        if holder != transaction_id:
            outcomes[payment.index] = PaymentOutcome("RJCT", DUPLICATE_REASON, f"UETR {payment.uetr} is already used by another transaction")
    if all(o.status == "RJCT" for o in outcomes):
        first = outcomes[0]
        return Decision(Status.RJCT, decision.decided_at, first.reason_code, first.info, tuple(outcomes))
    return Decision(decision.status, decision.decided_at, decision.reason_code, decision.info, tuple(outcomes))


def process(ports: Ports, handoff: Handoff, rules: Sequence[Rule] = STRUCTURAL_RULES) -> str:
    transaction_id = handoff.transaction_id
    now = ports.clock.now()
    warnings: tuple[str, ...] = ()
    try:
        message = read_message(handoff.payload, max_bytes=ports.settings.max_message_bytes)
    except MessageError as error:
        decision = reject_unreadable(error, now)
    else:
        warnings = message.warnings
        if message.namespace_inferred:
            warnings = (f"elements carried no namespace; read as {message.definition}",) + warnings
        decision = decide(message, rules, now)
        if decision.status is Status.ACSP:
            expires_at = int(now.timestamp()) + ports.settings.retention_days * 86_400
            decision = claim_uetrs(ports, transaction_id, expires_at, message, decision)

    if decision.status is Status.RJCT:
        forward = Handoff(transaction_id, handoff.message_type, handoff.received_at, handoff.payload, handoff.version, handoff.owner, decision)
        ports.queues.send("release", forward.to_json(), group=transaction_id, deduplication=f"{transaction_id}:release")
        log.info("message rejected", extra={"transaction_id": transaction_id, "reason_code": decision.reason_code})
        return f"rejected {decision.reason_code}"

    change = Change(
        expected_status=Status.ACTC,
        expected_version=handoff.version,
        target=Status.ACSP,
        entry=HistoryEntry(Status.ACSP, now),
        decision=decision,
        warnings=warnings,
    )
    try:
        record = ports.ledger.transition(transaction_id, change)
    except StaleTransition as stale:
        if stale.current is None or stale.current.status is not Status.ACSP:
            return "duplicate: already past processing"
        record = stale.current
    forward = Handoff(
        transaction_id, handoff.message_type, handoff.received_at, handoff.payload, record.version, record.owner, record.decision
    )
    ports.queues.send("release", forward.to_json(), group=transaction_id, deduplication=f"{transaction_id}:release")
    log.info("message accepted", extra={"transaction_id": transaction_id})
    return "accepted"
