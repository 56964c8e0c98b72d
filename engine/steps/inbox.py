"""Inbox: accept a message for an open transaction, archive it, mark it ACTC and hand it to processing.

``submit`` runs behind POST /inbox and answers the caller at once; ``receive`` is the queue worker.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from engine.ledger import Change, HistoryEntry, StaleTransition, Status
from engine.steps.handoff import Handoff, digest, payload_key
from engine.wiring import Ports

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Submitted:
    http_status: int
    message: str


def submit(ports: Ports, *, transaction_id: str, owner: str, message_type: str, payload: bytes) -> Submitted:
    limit = ports.settings.max_message_bytes
    if len(payload) > limit:
        return Submitted(413, f"message is {len(payload)} bytes; the limit is {limit}")
    if not payload.strip():
        return Submitted(400, "the request body is empty; send the ISO 20022 message as the body")
    record = ports.ledger.get(transaction_id)
    if record is None or record.owner != owner:
        return Submitted(404, f"transaction {transaction_id} not found")
    if message_type != record.message_type:
        return Submitted(400, f"transaction {transaction_id} was opened for {record.message_type}, not {message_type}")
    if record.region != ports.settings.region:
        return Submitted(421, f"transaction {transaction_id} is owned by region {record.region}; send it to that region's endpoint")
    if record.status is not Status.ACCP:
        if record.payload_sha256 is None:
            decision = record.decision
            reason = ": ".join(part for part in (decision.reason_code, decision.info) if part) if decision else ""
            closed = f"it was closed ({reason})" if reason else "it was closed"
            return Submitted(409, f"transaction {transaction_id} is {record.status.value} with no message: {closed} before one arrived; "
                                  "open a new transaction")
        if record.payload_sha256 == digest(payload):
            return Submitted(200, f"message already received; transaction is {record.status.value}")
        return Submitted(409, f"transaction {transaction_id} already received a different message; it is {record.status.value}")
    handoff = Handoff(transaction_id, message_type, ports.clock.now(), payload, record.version, owner)
    ports.queues.send("inbox", handoff.to_json(), group=transaction_id, deduplication=f"{transaction_id}:{digest(payload)}")
    return Submitted(200, "message accepted for processing")


def receive(ports: Ports, handoff: Handoff) -> str:
    """Returns what happened, for the log and the caller's trail."""
    transaction_id = handoff.transaction_id
    key = payload_key(ports.settings.region, handoff.received_at, transaction_id, handoff.message_type)
    sha = digest(handoff.payload)
    ports.archive.put(key, handoff.payload)
    change = Change(
        expected_status=Status.ACCP,
        expected_version=handoff.version,
        target=Status.ACTC,
        entry=HistoryEntry(Status.ACTC, ports.clock.now()),
        payload_key=key,
        payload_sha256=sha,
    )
    try:
        record = ports.ledger.transition(transaction_id, change)
    except StaleTransition as stale:
        current = stale.current
        if current is None or current.owner != handoff.owner:
            log.warning("message for an unknown transaction dropped", extra={"transaction_id": transaction_id})
            return "rejected: unknown transaction"
        if current.region != ports.settings.region:
            log.warning("transaction taken over by another region", extra={"transaction_id": transaction_id, "owner_region": current.region})
            return f"fenced: owned by {current.region}"
        if current.payload_sha256 != sha:
            log.warning("second, different message dropped", extra={"transaction_id": transaction_id})
            return f"rejected: transaction is {current.status.value} with another message"
        if current.status is not Status.ACTC:
            return "duplicate: already past inbox"
        record = current
    forward = Handoff(transaction_id, handoff.message_type, handoff.received_at, handoff.payload, record.version, record.owner)
    ports.queues.send("process", forward.to_json(), group=transaction_id, deduplication=f"{transaction_id}:process")
    log.info("message archived", extra={"transaction_id": transaction_id, "key": key})
    return "archived"
