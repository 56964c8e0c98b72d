"""SQS handlers for the inbox, process and release workers.

Every record of a batch is processed; a failed record is reported alone, together with any later record of
the same message group (FIFO order within a transaction), and never forwards anything downstream.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from engine.lambdas.environment import deployed_ports, logger
from engine.steps import inbox, process, release
from engine.steps.handoff import Handoff
from engine.wiring import Ports

Step = Callable[[Ports, Handoff], str]


class Worker:
    def __init__(self, step: Step, ports: Callable[[], Ports]) -> None:
        self._step = step
        self._ports = ports

    def handle_record(self, record: SQSRecord) -> str:
        handoff = Handoff.from_json(record.body)
        outcome = self._step(self._ports(), handoff)
        logger.info("record done", transaction_id=handoff.transaction_id, outcome=outcome, message_id=record.message_id)
        return outcome

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        processor = SqsFifoPartialProcessor(skip_group_on_error=True)
        return process_partial_response(event=event, record_handler=self.handle_record, processor=processor, context=context)


inbox_handler = Worker(inbox.receive, deployed_ports)
process_handler = Worker(process.process, deployed_ports)
release_handler = Worker(release.release, deployed_ports)
