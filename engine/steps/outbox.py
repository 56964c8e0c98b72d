"""POST /outbox: the stored reply of a finished transaction, as often as its owner asks."""

from __future__ import annotations

from dataclasses import dataclass

from engine.steps.release import store_reply
from engine.wiring import Ports


@dataclass(frozen=True)
class Reply:
    http_status: int
    message: str
    status: str | None = None


def fetch_reply(ports: Ports, *, transaction_id: str, owner: str) -> Reply:
    record = ports.ledger.get(transaction_id)
    if record is None or record.owner != owner:
        return Reply(404, f"transaction {transaction_id} not found")
    if not record.status.is_terminal:
        return Reply(202, f"transaction {transaction_id} is {record.status.value}; no reply yet", record.status.value)
    reply = ports.archive.get(record.reply_key)
    if reply is None:
        payload = ports.archive.get(record.payload_key) if record.payload_key else None
        reply = store_reply(ports, record, payload)
    return Reply(200, reply.decode("utf-8"), record.status.value)
