"""How a Transaction is stored as a DynamoDB item and read back.

Datetimes are ISO-8601 UTC strings with the offset and a fixed width (string order is time order);
numbers come back from DynamoDB as Decimal and are turned back into int; absent optional fields are
left out of the item rather than stored as NULL.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Mapping

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from engine.ledger import Decision, HistoryEntry, PaymentOutcome, Status, Transaction

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def timestamp(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: rp2 stores timezone-aware datetimes only")
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def to_attribute_values(values: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: _serializer.serialize(value) for name, value in values.items()}


def from_attribute_values(item: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


def _present(values: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not None}


def history_entry_map(entry: HistoryEntry) -> dict[str, Any]:
    return _present(
        {"status": entry.status.value, "at": timestamp(entry.at), "reason_code": entry.reason_code, "note": entry.note}
    )


def _history_entry(values: Mapping[str, Any]) -> HistoryEntry:
    return HistoryEntry(
        status=Status(values["status"]),
        at=_moment(values["at"]),
        reason_code=values.get("reason_code"),
        note=values.get("note"),
    )


def decision_map(decision: Decision) -> dict[str, Any]:
    return _present(
        {
            "status": decision.status.value,
            "decided_at": timestamp(decision.decided_at),
            "reason_code": decision.reason_code,
            "info": decision.info,
            "payments": [
                _present({"status": payment.status, "reason_code": payment.reason_code, "info": payment.info})
                for payment in decision.payments
            ],
        }
    )


def _decision(values: Mapping[str, Any]) -> Decision:
    return Decision(
        status=Status(values["status"]),
        decided_at=_moment(values["decided_at"]),
        reason_code=values.get("reason_code"),
        info=values.get("info"),
        payments=tuple(
            PaymentOutcome(status=payment["status"], reason_code=payment.get("reason_code"), info=payment.get("info"))
            for payment in values["payments"]
        ),
    )


def transaction_item(record: Transaction) -> dict[str, Any]:
    return _present(
        {
            "id": record.id,
            "status": record.status.value,
            "version": record.version,
            "region": record.region,
            "owner": record.owner,
            "message_type": record.message_type,
            "opened_at": timestamp(record.opened_at),
            "deadline": timestamp(record.deadline),
            "expires_at": record.expires_at,
            "history": [history_entry_map(entry) for entry in record.history],
            "payload_key": record.payload_key,
            "payload_sha256": record.payload_sha256,
            "reply_key": record.reply_key,
            "decision": decision_map(record.decision) if record.decision is not None else None,
            "warnings": list(record.warnings),
            "epoch": record.epoch,
        }
    )


def transaction_from_item(item: Mapping[str, Any]) -> Transaction:
    return Transaction(
        id=item["id"],
        status=Status(item["status"]),
        version=int(item["version"]),
        region=item["region"],
        owner=item["owner"],
        message_type=item["message_type"],
        opened_at=_moment(item["opened_at"]),
        deadline=_moment(item["deadline"]),
        expires_at=int(item["expires_at"]),
        history=tuple(_history_entry(entry) for entry in item["history"]),
        payload_key=item.get("payload_key"),
        payload_sha256=item.get("payload_sha256"),
        reply_key=item.get("reply_key"),
        decision=_decision(item["decision"]) if "decision" in item else None,
        warnings=tuple(item["warnings"]),
        epoch=int(item["epoch"]),
    )
