"""POST /outbox: the stored reply of a finished transaction, as often as its owner asks.

The reply is the pacs.002 of a pacs.008 transaction, the camt.029 of a camt.056 transaction; a camt.056
transaction that returned settled payments also has a pacs.004, asked for with reply_type "pacs.004".
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.steps.handoff import PAYMENT_RETURN, sibling_key
from engine.steps.release import store_reply
from engine.wiring import Ports

OTHER_REPLIES = (PAYMENT_RETURN,)


@dataclass(frozen=True)
class Reply:
    http_status: int
    message: str
    status: str | None = None


def fetch_reply(ports: Ports, *, transaction_id: str, owner: str, reply_type: str | None = None) -> Reply:
    record = ports.ledger.get(transaction_id)
    if record is None or record.owner != owner:
        return Reply(404, f"transaction {transaction_id} not found")
    if not record.status.is_terminal:
        return Reply(202, f"transaction {transaction_id} is {record.status.value}; no reply yet", record.status.value)
    if reply_type in OTHER_REPLIES:
        other = ports.archive.get(sibling_key(record.reply_key, reply_type))
        if other is None:
            return Reply(404, f"transaction {transaction_id} has no {reply_type}", record.status.value)
        return Reply(200, other.decode("utf-8"), record.status.value)
    reply = ports.archive.get(record.reply_key)
    if reply is None:
        payload = ports.archive.get(record.payload_key) if record.payload_key else None
        reply = store_reply(ports, record, payload)
    return Reply(200, reply.decode("utf-8"), record.status.value)
