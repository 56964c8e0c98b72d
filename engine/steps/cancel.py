"""Cancel: a camt.056 asks to cancel payments of earlier pacs.008 transactions; answer each with a camt.029.

For each cancellation item the original payment is found through the ledger's claims (its UETR, else the
original MsgId from the requester), then:
- not found (never received, or rejected before it was accepted): RJCR NOOR;
- in flight (ACTC/ACSP): the original transaction moves to CANC in one conditional write on its status and
  version; its own pacs.002 then reports RJCT DS02 for its payments. Release settles with a conditional
  write on the version it saw, so once CANC is written the original can never reach ACSC; and when release
  wins the race, the conditional CANC write fails and the item is handled as a settled payment;
- settled (ACSC): when the profile allows returns, a pacs.004 returns the payment (reason FOCR) and the item
  is ACCR; a second request for the same payment finds the return claimed and gets RJCR ARDT. When the
  profile does not allow returns: RJCR LEGL (settlement is final under the scheme's rules);
- already cancelled: ACCR; rejected: RJCR NARR.
A request that covers only part of an in-flight multi-payment transaction is refused (RJCR NARR): the ledger
cancels whole transactions.

The camt.029 (and pacs.004) are archived before the camt.056 transaction records its decision, with the
transaction's receive time as creation time, so a redelivery rebuilds the same bytes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from engine.iso20022 import CancellationItem, CancellationRequest, ItemOutcome, Message, MessageError, read_message
from engine.iso20022 import build_resolution, build_return, profile_named
from engine.iso20022.codes import ALREADY_RETURNED, CANCELLED_BY_USER, NARRATIVE, NEVER_RECEIVED, REGULATORY_REASON
from engine.iso20022.resolution import ACCEPTED, REJECTED, confirmation
from engine.ledger import Change, Decision, HistoryEntry, PaymentOutcome, StaleTransition, Status, Transaction
from engine.steps.duplicates import claim, message_key, sender_of, uetr_key
from engine.steps.handoff import PAYMENT_RETURN, RESOLUTION, Handoff, reply_key, reply_key_for, sibling_key
from engine.wiring import Ports

log = logging.getLogger(__name__)

TRANSITION_ATTEMPTS = 5
IN_FLIGHT = (Status.ACCP, Status.ACTC, Status.ACSP)


@dataclass
class _Target:
    """An original transaction some items point at, with its message and the payment indexes asked for."""

    record: Transaction
    message: Message
    payload: bytes
    items: dict[int, int] = field(default_factory=dict)  # item index -> payment index


def resolution_id(transaction_id: str) -> str:
    return "RP2R" + transaction_id.replace("-", "")[:31]


def return_id(transaction_id: str, number: int) -> str:
    return f"RP2T{transaction_id.replace('-', '')[:28]}{number:02d}"


def _find(ports: Ports, request: CancellationRequest, item: CancellationItem, transaction_id: str,
          owner: str, expires_at: int) -> tuple[Transaction, Message, bytes, list[int]] | str:
    """The original transaction, its message and the payment indexes the item names; or why it cannot be found."""
    if item.original_uetr:
        key = uetr_key(item.original_uetr)
    elif item.original_msg_id:
        key = message_key(sender_of(request, owner), item.original_msg_id)
    else:
        return "the item names neither OrgnlUETR nor OrgnlGrpInf/OrgnlMsgId"
    holder, record = claim(ports, key, transaction_id, expires_at)
    if holder == transaction_id or record is None or record.payload_key is None:
        return "no payment with this reference was received"
    payload = ports.archive.get(record.payload_key)
    try:
        message = read_message(payload, max_bytes=ports.settings.max_message_bytes)
    except (MessageError, TypeError):
        return "the original message cannot be read"
    if item.whole_message:
        return record, message, payload, [p.index for p in message.payments]
    for payment in message.payments:
        if item.original_uetr and payment.uetr == item.original_uetr:
            return record, message, payload, [payment.index]
        if not item.original_uetr and any(
            value is not None and value == wanted
            for value, wanted in ((payment.end_to_end_id, item.original_end_to_end_id), (payment.tx_id, item.original_tx_id),
                                  (payment.instr_id, item.original_instr_id))
        ):
            return record, message, payload, [payment.index]
    return "the original message has no payment with these references"


def _cancel_in_flight(ports: Ports, target: _Target, request: CancellationRequest, transaction_id: str, at: datetime) -> Transaction:
    """Move the original to CANC; returns the record as it is afterwards (CANC, or whatever won the race)."""
    record = target.record
    for _ in range(TRANSITION_ATTEMPTS):
        if record.status not in IN_FLIGHT:
            return record
        info = f"cancelled at the request of camt.056 {request.assignment_id}"
        previous = record.decision.payments if record.decision is not None else ()
        payments = tuple(
            previous[i] if i < len(previous) and previous[i].status == "RJCT" else PaymentOutcome("RJCT", CANCELLED_BY_USER, info)
            for i in range(len(target.message.payments))
        )
        change = Change(
            expected_status=record.status,
            expected_version=record.version,
            target=Status.CANC,
            entry=HistoryEntry(Status.CANC, at, CANCELLED_BY_USER, f"camt.056 transaction {transaction_id}"),
            reply_key=reply_key_for(record.id, record.region, record.opened_at, record.payload_key),
            decision=Decision(Status.CANC, at, CANCELLED_BY_USER, info, payments),
        )
        try:
            cancelled = ports.ledger.transition(record.id, change)
        except StaleTransition as stale:
            if stale.current is None:
                raise
            record = stale.current
            continue
        from engine.steps.release import store_reply  # release imports nothing from here; avoid a cycle at import

        store_reply(ports, cancelled, target.payload)
        log.info("payment cancelled", extra={"transaction_id": record.id, "cancelled_by": transaction_id})
        return cancelled
    return ports.ledger.get(record.id)


def _answer_settled(ports: Ports, target: _Target, index: int, transaction_id: str, expires_at: int,
                    returns_allowed: bool) -> ItemOutcome:
    outcome = target.record.decision.payments[index] if target.record.decision and index < len(target.record.decision.payments) else None
    if outcome is not None and outcome.status == "RJCT":
        return ItemOutcome(REJECTED, NARRATIVE, f"the payment was rejected ({outcome.reason_code}); nothing to cancel")
    if not returns_allowed:
        return ItemOutcome(REJECTED, REGULATORY_REASON, "settled payments are final under this scheme profile")
    holder = ports.ledger.claim(f"return#{target.record.id}#{index}", transaction_id, expires_at)
    if holder != transaction_id:
        return ItemOutcome(REJECTED, ALREADY_RETURNED, f"already returned at the request of transaction {holder}")
    return ItemOutcome(ACCEPTED, None, "settled: returned by pacs.004")


def resolve(ports: Ports, handoff: Handoff, request: CancellationRequest, now: datetime) -> tuple[list[ItemOutcome], list[tuple[Message, list[int]]]]:
    """Every item's answer, and the payments to return (per original message)."""
    profile = profile_named(ports.settings.profile)
    expires_at = int(now.timestamp()) + ports.settings.retention_days * 86_400
    outcomes: list[ItemOutcome | None] = [None] * len(request.items)
    targets: dict[str, _Target] = {}
    for item in request.items:
        found = _find(ports, request, item, handoff.transaction_id, handoff.owner, expires_at)
        if isinstance(found, str):
            code = NEVER_RECEIVED if found.startswith("no payment") else NARRATIVE
            outcomes[item.index] = ItemOutcome(REJECTED, code, found)
            continue
        record, message, payload, indexes = found
        target = targets.setdefault(record.id, _Target(record, message, payload))
        for index in indexes:
            target.items.setdefault(item.index, index)
    returns: list[tuple[Message, list[int]]] = []
    for target in targets.values():
        if target.record.status in IN_FLIGHT:
            alive = {i for i, o in enumerate(target.record.decision.payments) if o.status != "RJCT"} \
                if target.record.decision else set(range(len(target.message.payments)))
            if not alive <= set(target.items.values()):
                for item_index in target.items:
                    outcomes[item_index] = ItemOutcome(REJECTED, NARRATIVE, "part of an in-flight batch cannot be cancelled")
                continue
            target.record = _cancel_in_flight(ports, target, request, handoff.transaction_id, now)
        returned: list[int] = []
        for item_index, index in target.items.items():
            status = target.record.status
            if status is Status.CANC:
                outcomes[item_index] = ItemOutcome(ACCEPTED, None, "cancelled before settlement")
            elif status is Status.RJCT:
                reason = target.record.decision.reason_code if target.record.decision else None
                outcomes[item_index] = ItemOutcome(REJECTED, NARRATIVE, f"the payment was rejected ({reason}); nothing to cancel")
            else:  # ACSC
                outcome = _answer_settled(ports, target, index, handoff.transaction_id, expires_at, profile.returns_allowed)
                outcomes[item_index] = outcome
                if outcome.status == ACCEPTED and index not in returned:
                    returned.append(index)
        if returned:
            returns.append((target.message, sorted(returned)))
    return [o for o in outcomes], returns


def store_answers(ports: Ports, handoff: Handoff, request: CancellationRequest, outcomes: list[ItemOutcome],
                  returns: list[tuple[Message, list[int]]]) -> str:
    """Archive the camt.029 and any pacs.004; returns the camt.029's key."""
    at = handoff.received_at
    key = reply_key(ports.settings.region, at, handoff.transaction_id, RESOLUTION)
    profile = profile_named(ports.settings.profile)
    for number, (message, indexes) in enumerate(returns, start=1):
        body = build_return(message, indexes, return_id=return_id(handoff.transaction_id, number), created_at=at,
                            settlement_date=at.astimezone(profile.zone).date(),
                            info=f"Return following cancellation request {request.case_id or request.assignment_id}")
        suffix = PAYMENT_RETURN if number == 1 else f"{PAYMENT_RETURN}-{number}"
        ports.archive.put(sibling_key(key, suffix), body)
    resolution = build_resolution(request, outcomes, resolution_id=resolution_id(handoff.transaction_id), created_at=at)
    ports.archive.put(key, resolution)
    return key


def decision_for(outcomes: list[ItemOutcome], returns: int, at: datetime) -> Decision:
    info = f"{confirmation(outcomes)}; {returns} pacs.004" if returns else confirmation(outcomes)
    return Decision(Status.ACSP, at, None, info, tuple(PaymentOutcome(o.status, o.reason_code, o.info) for o in outcomes))
