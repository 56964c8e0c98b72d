"""GET /uuid: open a new transaction for the caller, unique by conditional write."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from engine.ledger import Transaction
from engine.wiring import Ports

log = logging.getLogger(__name__)

ACCEPTED_MESSAGE_TYPES = ("pacs.008", "camt.056")  # payments, and requests to cancel them
OPEN_ATTEMPTS = 3


@dataclass(frozen=True)
class Opened:
    transaction: Transaction | None
    error: str | None = None


def open_transaction(ports: Ports, *, owner: str, message_type: str) -> Opened:
    if message_type not in ACCEPTED_MESSAGE_TYPES:
        return Opened(None, f"X-Message-Type must be one of: {', '.join(ACCEPTED_MESSAGE_TYPES)}; got {message_type!r}")
    settings = ports.settings
    for _ in range(OPEN_ATTEMPTS):
        record = Transaction.opened(
            id=ports.ids.transaction_id(),
            region=settings.region,
            owner=owner,
            message_type=message_type,
            at=ports.clock.now(),
            sla_seconds=settings.sla_seconds,
            retention_days=settings.retention_days,
        )
        if ports.ledger.open(record):
            log.info("transaction opened", extra={"transaction_id": record.id, "owner": owner})
            return Opened(record)
        log.warning("transaction id collision", extra={"transaction_id": record.id})
    return Opened(None, f"no unique transaction id after {OPEN_ATTEMPTS} attempts")
