"""Duplicates: a payment's UETR, and a message's MsgId from one sender, belong to one transaction only.

Each is a claim in the ledger: one conditional PutItem that either records this transaction as the holder or
returns the holder that came first. A claim held by a camt.056 transaction means that a cancellation request
for that identifier arrived before any payment carried it (and was answered NOOR): the identifier is then
claimed again under a key chained to that request, so the late payment is processed normally.

What a duplicate gets:
- an exact resend (same payload bytes as the holder's) or a message flagged PssblDplct=true in its AppHdr is
  answered with the original's status and creates nothing new: this transaction ends RJCT in the ledger (it
  never settles) and its pacs.002 reports the original payments' statuses (ACSC, ACSP, RJCT...);
- a different message reusing the identifier is rejected with the profile's duplicate code (AM05 or DUPL).
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.iso20022 import Message, MessageError, read_message
from engine.iso20022.header import agent_identity
from engine.iso20022.elements import child, namespace
from engine.ledger import Decision, PaymentOutcome, Status, Transaction
from engine.wiring import Ports

CANCELLATION_TYPE = "camt.056"
CHAIN_LIMIT = 8


def uetr_key(uetr: str) -> str:
    return f"uetr#{uetr}"


def message_key(sender: str, msg_id: str) -> str:
    return f"msgid#{sender}#{msg_id}"


def sender_of(message, owner: str) -> str:
    """Who sent a message: the AppHdr's Fr, else the instructing agent (group, then first transaction), else
    the API caller."""
    if message.header is not None and message.header.sender:
        return message.header.sender
    if isinstance(message, Message):
        ns = namespace(message.document)
        transfer = child(message.document, ns, "FIToFICstmrCdtTrf")
        for holder in (child(transfer, ns, "GrpHdr"), child(transfer, ns, "CdtTrfTxInf")):
            identity = agent_identity(child(holder, ns, "InstgAgt"))
            if identity:
                return identity
    else:
        if message.assigner:
            return message.assigner
    return f"caller:{owner}"


def claim(ports: Ports, key: str, transaction_id: str, expires_at: int) -> tuple[str, Transaction | None]:
    """The transaction holding key (this one when it was free) and, when another holds it, its record.

    Claims held by a cancellation request are stepped over by chaining the key to the request's id.
    """
    holder_record = None
    for _ in range(CHAIN_LIMIT):
        holder = ports.ledger.claim(key, transaction_id, expires_at)
        if holder == transaction_id:
            return transaction_id, None
        holder_record = ports.ledger.get(holder)
        if holder_record is None or holder_record.message_type != CANCELLATION_TYPE:
            return holder, holder_record
        key = f"{key}>{holder}"
    return holder, holder_record


def _status_of_original(original: Transaction, count: int, index: int | None = None) -> tuple[PaymentOutcome, ...]:
    decision = original.decision
    if decision is not None and decision.payments and (index is None and len(decision.payments) == count):
        return decision.payments
    if decision is not None and decision.payments and index is not None and index < len(decision.payments):
        return (decision.payments[index],)
    if decision is not None:
        status = "RJCT" if decision.status is Status.CANC else decision.status.value
        outcome = PaymentOutcome(status, decision.reason_code, decision.info)
    else:
        outcome = PaymentOutcome(original.status.value)
    return tuple(outcome for _ in range(count if index is None else 1))


def resend_decision(original: Transaction, message: Message, at) -> Decision:
    outcomes = _status_of_original(original, len(message.payments))
    info = f"resend of transaction {original.id}: its status is reported, nothing is executed again"
    return Decision(Status.RJCT, at, None, info, outcomes)


def _payment_index(ports: Ports, original: Transaction, uetr: str, max_bytes: int) -> int | None:
    payload = ports.archive.get(original.payload_key) if original.payload_key else None
    if payload is None:
        return None
    try:
        message = read_message(payload, max_bytes=max_bytes)
    except MessageError:
        return None
    return next((p.index for p in message.payments if p.uetr == uetr), None)


@dataclass(frozen=True)
class Checked:
    decision: Decision
    resend_of: str | None = None


def check_duplicates(ports: Ports, transaction_id: str, owner: str, payload_sha256: str, message: Message,
                     decision: Decision, duplicate_code: str) -> Checked:
    """Claim the message's MsgId (per sender) and every accepted payment's UETR; see the module's rules."""
    settings = ports.settings
    expires_at = int(decision.decided_at.timestamp()) + settings.retention_days * 86_400
    possible_duplicate = message.header is not None and message.header.possible_duplicate
    sender = sender_of(message, owner)
    holder, original = claim(ports, message_key(sender, message.msg_id), transaction_id, expires_at)
    if holder != transaction_id:
        if original is not None and (original.payload_sha256 == payload_sha256 or possible_duplicate):
            return Checked(resend_decision(original, message, decision.decided_at), original.id)
        info = f"MsgId {message.msg_id} from {sender} is already used by transaction {holder}"
        rejected = PaymentOutcome("RJCT", duplicate_code, info)
        return Checked(Decision(Status.RJCT, decision.decided_at, duplicate_code, info, tuple(rejected for _ in message.payments)))
    outcomes = list(decision.payments)
    for payment in message.payments:
        if payment.uetr is None or outcomes[payment.index].status == "RJCT":
            continue
        holder, original = claim(ports, uetr_key(payment.uetr), transaction_id, expires_at)
        if holder == transaction_id:
            continue
        if possible_duplicate and original is not None:
            index = _payment_index(ports, original, payment.uetr, settings.max_message_bytes)
            outcomes[payment.index] = _status_of_original(original, 1, index)[0]
        else:
            outcomes[payment.index] = PaymentOutcome("RJCT", duplicate_code, f"UETR {payment.uetr} is already used by transaction {holder}")
    if all(o.status == "RJCT" for o in outcomes):
        first = outcomes[0]
        return Checked(Decision(Status.RJCT, decision.decided_at, first.reason_code, first.info, tuple(outcomes)))
    if any(o.status not in ("ACSP", "RJCT") for o in outcomes):
        # some payments are possible duplicates answered with their original's status: none of this
        # message settles (nothing twice), each payment reports what it is
        outcomes = [o if o.status != "ACSP" else PaymentOutcome("RJCT", duplicate_code, "part of a possible-duplicate message") for o in outcomes]
        return Checked(Decision(Status.RJCT, decision.decided_at, None, "possible duplicate", tuple(outcomes)))
    return Checked(Decision(decision.status, decision.decided_at, decision.reason_code, decision.info, tuple(outcomes)))
