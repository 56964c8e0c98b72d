"""SQS handlers for the inbox, process and release workers.

Every record of a batch is processed; a failed record is reported in ``batchItemFailures`` together with any
later record of the same message group (FIFO order within a transaction is kept), and never forwards anything
downstream. This is the partial batch response of an event source mapping with ``ReportBatchItemFailures``;
it is written here rather than taken from aws-lambda-powertools' batch utility, whose import alone costs about
90 ms of every cold start.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.lambdas.environment import deployed_ports, logger
from engine.steps import inbox, process, release
from engine.steps.handoff import Handoff
from engine.wiring import Ports

Step = Callable[[Ports, Handoff], str]


class Worker:
    def __init__(self, step: Step, ports: Callable[[], Ports]) -> None:
        self._step = step
        self._ports = ports

    def handle_record(self, record: dict[str, Any]) -> str:
        handoff = Handoff.from_json(record["body"])
        outcome = self._step(self._ports(), handoff)
        logger.info("record done", transaction_id=handoff.transaction_id, outcome=outcome, message_id=record["messageId"])
        return outcome

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        failed: list[dict[str, str]] = []
        failed_groups: set[str] = set()
        for record in event["Records"]:
            group = record.get("attributes", {}).get("MessageGroupId")
            if group is not None and group in failed_groups:
                failed.append({"itemIdentifier": record["messageId"]})
                continue
            try:
                self.handle_record(record)
            except Exception:
                logger.exception("record failed", message_id=record["messageId"])
                failed.append({"itemIdentifier": record["messageId"]})
                if group is not None:
                    failed_groups.add(group)
        return {"batchItemFailures": failed}


inbox_handler = Worker(inbox.receive, deployed_ports)
process_handler = Worker(process.process, deployed_ports)
release_handler = Worker(release.release, deployed_ports)
