"""Timeout (scheduled): every in-flight transaction whose deadline has passed is rejected, with a reply."""

from __future__ import annotations

import logging

from engine.ledger import StaleTransition
from engine.steps.deadline import overdue_rejection
from engine.steps.release import store_reply
from engine.wiring import Ports

log = logging.getLogger(__name__)

BATCH_LIMIT = 500


def expire_overdue(ports: Ports) -> list[str]:
    """Returns the ids of the transactions it rejected."""
    now = ports.clock.now()
    sla = ports.settings.sla_seconds
    expired = []
    for record in ports.ledger.in_flight(ports.settings.region, now, BATCH_LIMIT):
        change = overdue_rejection(record, now, sla, "timeout")
        try:
            rejected = ports.ledger.transition(record.id, change)
        except StaleTransition:
            continue
        payload = ports.archive.get(rejected.payload_key) if rejected.payload_key else None
        store_reply(ports, rejected, payload)
        log.info("transaction timed out", extra={"transaction_id": record.id, "reason_code": change.decision.reason_code})
        expired.append(record.id)
    return expired
