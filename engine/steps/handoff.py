"""What one step hands to the next through its queue, and where payloads and replies are archived."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import datetime

from engine.ledger import Decision, PaymentOutcome, Status


def payload_key(region: str, received_at: datetime, transaction_id: str, message_type: str) -> str:
    return f"inbox/{region}/{received_at:%Y/%m/%d/%H/%M/%S}/{transaction_id}-{message_type}.xml"


def reply_key(region: str, received_at: datetime, transaction_id: str) -> str:
    return f"outbox/{region}/{received_at:%Y/%m/%d/%H/%M/%S}/{transaction_id}-pacs.002.xml"


def digest(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


def _encode_decision(decision: Decision | None) -> dict | None:
    if decision is None:
        return None
    encoded = asdict(decision)
    encoded["status"] = decision.status.value
    encoded["decided_at"] = decision.decided_at.isoformat()
    return encoded


def _decode_decision(encoded: dict | None) -> Decision | None:
    if encoded is None:
        return None
    return Decision(
        status=Status(encoded["status"]),
        decided_at=datetime.fromisoformat(encoded["decided_at"]),
        reason_code=encoded["reason_code"],
        info=encoded["info"],
        payments=tuple(PaymentOutcome(**p) for p in encoded["payments"]),
    )


@dataclass(frozen=True)
class Handoff:
    """The body of a queue message between steps. The payload travels as base64: any bytes survive."""

    transaction_id: str
    message_type: str
    received_at: datetime
    payload: bytes
    version: int = 1
    owner: str = ""
    decision: Decision | None = None

    def to_json(self) -> str:
        return json.dumps(
            {
                "transaction_id": self.transaction_id,
                "message_type": self.message_type,
                "received_at": self.received_at.isoformat(),
                "payload": base64.b64encode(self.payload).decode("ascii"),
                "version": self.version,
                "owner": self.owner,
                "decision": _encode_decision(self.decision),
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, body: str) -> "Handoff":
        data = json.loads(body)
        return cls(
            transaction_id=data["transaction_id"],
            message_type=data["message_type"],
            received_at=datetime.fromisoformat(data["received_at"]),
            payload=base64.b64decode(data["payload"], validate=True),
            version=int(data["version"]),
            owner=data["owner"],
            decision=_decode_decision(data["decision"]),
        )


def reply_key_for(record_id: str, region: str, opened_at: datetime, archived_payload_key: str | None) -> str:
    """The reply sits beside the payload's time path; a transaction that never got a message uses its opening time."""
    if archived_payload_key is None:
        return reply_key(region, opened_at, record_id)
    folder = archived_payload_key.removeprefix("inbox/").rsplit("/", 1)[0]
    return f"outbox/{folder}/{record_id}-pacs.002.xml"
