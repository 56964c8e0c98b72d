"""The pacs.002 status report of a decided transaction, rebuilt identically from the ledger and the archive."""

from __future__ import annotations

from engine.iso20022 import MessageError, build_status_report, read_message
from engine.ledger import Transaction


def report_id(transaction_id: str) -> str:
    return "RP2" + transaction_id.replace("-", "")


def group_status(record: Transaction) -> str:
    decision = record.decision
    statuses = {o.status for o in decision.payments}
    if len(statuses) > 1:
        return "PART"
    return decision.status.value


def status_report(record: Transaction, payload: bytes | None, max_bytes: int) -> bytes:
    decision = record.decision
    if decision is None:
        raise ValueError(f"transaction {record.id} has no decision to report")
    message = None
    if payload is not None:
        try:
            message = read_message(payload, max_bytes=max_bytes)
        except MessageError:
            message = None
    payment_status = (
        {i: (o.status, o.reason_code, o.info) for i, o in enumerate(decision.payments)}
        if message is not None and len(decision.payments) == len(message.payments)
        else {}
    )
    if message is not None and not payment_status:
        payment_status = {p.index: (decision.status.value, decision.reason_code, decision.info) for p in message.payments}
    group_reason = (decision.reason_code, decision.info) if decision.reason_code else None
    return build_status_report(
        message,
        group_status=group_status(record),
        payment_status=payment_status,
        report_id=report_id(record.id),
        created_at=decision.decided_at,
        original_reference=record.id,
        original_definition=message.definition if message is not None else record.message_type,
        group_reason=group_reason,
    )
