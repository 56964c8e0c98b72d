"""What one step hands to the next through its queue, and where payloads and replies are archived."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from engine.ledger import Decision, PaymentOutcome, Status


def payload_key(region: str, received_at: datetime, transaction_id: str, message_type: str) -> str:
    return f"inbox/{region}/{received_at:%Y/%m/%d/%H/%M/%S}/{transaction_id}-{message_type}.xml"


STATUS_REPORT = "pacs.002"
RESOLUTION = "camt.029"
PAYMENT_RETURN = "pacs.004"
# the main reply of each inbound message type: a pacs.008 is answered by a pacs.002, a camt.056 by a camt.029
MAIN_REPLY = {"pacs.008": STATUS_REPORT, "camt.056": RESOLUTION}


def reply_key(region: str, received_at: datetime, transaction_id: str, reply_type: str = STATUS_REPORT) -> str:
    return f"outbox/{region}/{received_at:%Y/%m/%d/%H/%M/%S}/{transaction_id}-{reply_type}.xml"


def sibling_key(key: str, reply_type: str) -> str:
    """Another reply of the same transaction, beside the one at key (e.g. the pacs.004 beside the camt.029)."""
    folder, _, name = key.rpartition("/")
    transaction_id = name[:36]
    return f"{folder}/{transaction_id}-{reply_type}.xml"


def digest(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


def _encode_decision(decision: Decision | None) -> dict | None:
    if decision is None:
        return None
    return {
        "status": decision.status.value,
        "decided_at": decision.decided_at.isoformat(),
        "reason_code": decision.reason_code,
        "info": decision.info,
        "payments": [{"status": p.status, "reason_code": p.reason_code, "info": p.info} for p in decision.payments],
    }


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
    warnings: tuple[str, ...] = ()

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
                "warnings": list(self.warnings),
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
            warnings=tuple(data.get("warnings", ())),
        )


def reply_key_for(
    record_id: str, region: str, opened_at: datetime, archived_payload_key: str | None, reply_type: str = STATUS_REPORT
) -> str:
    """The reply sits beside the payload's time path; a transaction that never got a message uses its opening time."""
    if archived_payload_key is None:
        return reply_key(region, opened_at, record_id, reply_type)
    folder = archived_payload_key.removeprefix("inbox/").rsplit("/", 1)[0]
    return f"outbox/{folder}/{record_id}-{reply_type}.xml"
