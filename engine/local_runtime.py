"""Drives the Lambda handlers in-process the way AWS does: API Gateway proxy events and SQS batch events."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from engine.adapters.memory import QueuedMessage
from engine.lambdas.api import Api
from engine.lambdas.schedules import TimeoutJob
from engine.lambdas.workers import Worker
from engine.steps import inbox, process, release
from engine.wiring import Ports

STEPS = ("inbox", "process", "release")
BATCH_SIZE = 10


class QueueDriver(Protocol):
    def receive(self, step: str, max_messages: int) -> list[QueuedMessage]: ...

    def acknowledge(self, step: str, messages: Sequence[QueuedMessage]) -> None: ...

    def release_unprocessed(self, step: str, messages: Sequence[QueuedMessage]) -> None: ...


@dataclass(frozen=True)
class ApiAnswer:
    status: int
    body: dict[str, Any]


def api_event(method: str, path: str, *, identity: str, headers: dict[str, str], body: bytes | None, request_time_ms: int) -> dict[str, Any]:
    """A REST API proxy event; a body that is not UTF-8 travels as base64, as API Gateway sends binary bodies."""
    text, is_base64 = None, False
    if body is not None:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text, is_base64 = base64.b64encode(body).decode("ascii"), True
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "body": text,
        "isBase64Encoded": is_base64,
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": request_time_ms,
            "authorizer": {"claims": {"client_id": identity}},
        },
    }


def sqs_event(step: str, region: str, messages: Sequence[QueuedMessage]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": m.message_id,
                "receiptHandle": m.receipt or m.message_id,
                "body": m.body,
                "attributes": {"ApproximateReceiveCount": str(m.receive_count), "MessageGroupId": m.group},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{region}:000000000000:{step}",
                "awsRegion": region,
            }
            for m in messages
        ]
    }


def settle_batch(queues: QueueDriver, step: str, batch: Sequence[QueuedMessage], result: dict[str, Any]) -> tuple[int, int]:
    """What an event source mapping does with a partial batch response: delete the successes, let the failures
    become visible again. Returns (processed, failed)."""
    failed_ids = {item["itemIdentifier"] for item in result.get("batchItemFailures", [])}
    queues.acknowledge(step, [m for m in batch if m.message_id not in failed_ids])
    queues.release_unprocessed(step, [m for m in batch if m.message_id in failed_ids])
    return len(batch) - len(failed_ids), len(failed_ids)


class LocalRuntime:
    def __init__(self, ports: Ports, queues: QueueDriver) -> None:
        self.ports = ports
        self.queues = queues
        self.api = Api(lambda: ports)
        self.workers = {
            "inbox": Worker(inbox.receive, lambda: ports),
            "process": Worker(process.process, lambda: ports),
            "release": Worker(release.release, lambda: ports),
        }
        self.timeout_job = TimeoutJob(lambda: ports)

    def call(self, method: str, path: str, *, identity: str, headers: dict[str, str] | None = None, body: bytes | None = None) -> ApiAnswer:
        event = api_event(method, path, identity=identity, headers=headers or {}, body=body, request_time_ms=int(time.time() * 1000))
        response = self.api(event, None)
        return ApiAnswer(response["statusCode"], json.loads(response["body"]))

    def run_worker_once(self, step: str) -> tuple[int, int]:
        """One poll of one queue, as an event source mapping does; returns (processed, failed)."""
        batch = self.queues.receive(step, BATCH_SIZE)
        if not batch:
            return 0, 0
        result = self.workers[step](sqs_event(step, self.ports.settings.region, batch), None)
        return settle_batch(self.queues, step, batch, result)

    def drain(self, max_polls: int = 1000) -> int:
        """Run the workers until every queue is empty or only failing messages remain; returns records processed."""
        processed = 0
        for _ in range(max_polls):
            progress = 0
            for step in STEPS:
                done, _failed = self.run_worker_once(step)
                progress += done
            processed += progress
            if progress == 0:
                break
        return processed

    def run_timeout_job(self) -> list[str]:
        return self.timeout_job({"source": "aws.scheduler"}, None)["expired"]
