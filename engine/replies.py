"""The reply of a decided transaction, rebuilt identically from the ledger and the archive.

A pacs.008 transaction is answered by a pacs.002 (in the pacs.008's generation). A camt.056 transaction is
answered by the camt.029 its processing stored (with a pacs.004 beside it when payments were returned); a
camt.056 that could not be read, or that was rejected, or that timed out, is answered by a group-only pacs.002.
"""

from __future__ import annotations

from engine.iso20022 import Message, MessageError, build_status_report, read_message
from engine.ledger import Status, Transaction

PACS_008 = "pacs.008"


def report_id(transaction_id: str) -> str:
    return "RP2" + transaction_id.replace("-", "")


def group_status(record: Transaction) -> str:
    """From the payments' statuses when there are any: all alike is that status, mixed is PART (ISO
    ExternalPaymentGroupStatus1Code: some accepted, others not); else the transaction's status."""
    decision = record.decision
    statuses = {o.status for o in decision.payments}
    if len(statuses) > 1:
        return "PART"
    if len(statuses) == 1:
        return statuses.pop()
    return "RJCT" if decision.status is Status.CANC else decision.status.value


def _original(payload: bytes | None, max_bytes: int) -> Message | None:
    if payload is None:
        return None
    try:
        return read_message(payload, max_bytes=max_bytes)
    except MessageError:
        return None


def status_report(record: Transaction, payload: bytes | None, max_bytes: int) -> bytes:
    decision = record.decision
    if decision is None:
        raise ValueError(f"transaction {record.id} has no decision to report")
    message = _original(payload, max_bytes) if record.message_type == PACS_008 else None
    payment_status = (
        {i: (o.status, o.reason_code, o.info) for i, o in enumerate(decision.payments)}
        if message is not None and len(decision.payments) == len(message.payments)
        else {}
    )
    if message is not None and not payment_status:
        status = "RJCT" if decision.status is Status.CANC else decision.status.value
        payment_status = {p.index: (status, decision.reason_code, decision.info) for p in message.payments}
    group_reason = (decision.reason_code, decision.info) if decision.reason_code else None
    return build_status_report(
        message,
        group_status=group_status(record) if message is not None or not decision.payments else _group_only(record),
        payment_status=payment_status,
        report_id=report_id(record.id),
        created_at=decision.decided_at,
        original_reference=record.id,
        original_definition=message.definition if message is not None else record.message_type,
        group_reason=group_reason,
    )


def _group_only(record: Transaction) -> str:
    """A report without the original message carries no payment entries: the transaction's own status."""
    return "RJCT" if record.status in (Status.RJCT, Status.CANC) else record.status.value
