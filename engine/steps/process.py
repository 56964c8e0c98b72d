"""Process: read the message, judge it under the scheme profile, and decide.

Dispatch is by the Document's namespace alone, within the family the transaction was opened for: a pacs.008
is judged payment by payment (ACSP or RJCT with the reason code), its identifiers are claimed (duplicates),
and the decision goes to release; a camt.056 is resolved by the cancel step. A message that cannot be read,
or whose group-level rules fail, is rejected whole.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from engine.iso20022 import CancellationRequest, Evaluation, Message, MessageError, Rule, evaluate, judge, profile_named
from engine.iso20022.reading import INBOUND_FAMILIES
from engine.ledger import Change, Decision, HistoryEntry, PaymentOutcome, StaleTransition, Status
from engine.steps import cancel
from engine.steps.duplicates import check_duplicates
from engine.steps.handoff import Handoff, digest
from engine.wiring import Ports

log = logging.getLogger(__name__)

DUPLICATE_REASON = "AM05"


def decide(evaluation: Evaluation, at: datetime) -> Decision:
    """The decision for an evaluated message: a group-level finding rejects every payment."""
    if evaluation.error is not None:
        return reject_unreadable(evaluation.error, at)
    outcomes = tuple(PaymentOutcome(status, code, info) for status, code, info in evaluation.payment_status)
    group = evaluation.group_rejection
    if group is not None:
        return Decision(Status.RJCT, at, group.reason_code, group.narrative, outcomes)
    if outcomes and all(o.status == "RJCT" for o in outcomes):
        first = outcomes[0]
        return Decision(Status.RJCT, at, first.reason_code, first.info, outcomes)
    return Decision(Status.ACSP, at, payments=outcomes)


def reject_unreadable(error: MessageError, at: datetime) -> Decision:
    return Decision(Status.RJCT, at, error.reason_code, error.narrative)


def _warnings(evaluation: Evaluation) -> tuple[str, ...]:
    message = evaluation.message
    if message is None:
        return ()
    inferred = (f"elements carried no namespace; read as {message.definition}",) if message.namespace_inferred else ()
    return inferred + evaluation.warnings


def _to_release(ports: Ports, handoff: Handoff, decision: Decision, warnings: tuple[str, ...], version: int | None = None) -> None:
    forward = Handoff(handoff.transaction_id, handoff.message_type, handoff.received_at, handoff.payload,
                      handoff.version if version is None else version, handoff.owner, decision, warnings)
    ports.queues.send("release", forward.to_json(), group=handoff.transaction_id, deduplication=f"{handoff.transaction_id}:release")


def _record_acceptance(ports: Ports, handoff: Handoff, decision: Decision, warnings: tuple[str, ...],
                       reply_key: str | None = None, note: str | None = None) -> str:
    """ACTC -> ACSP with the decision, then release; a redelivered record finds it done."""
    change = Change(
        expected_status=Status.ACTC,
        expected_version=handoff.version,
        target=Status.ACSP,
        entry=HistoryEntry(Status.ACSP, decision.decided_at, note=note),
        decision=decision,
        warnings=warnings,
        reply_key=reply_key,
    )
    try:
        record = ports.ledger.transition(handoff.transaction_id, change)
    except StaleTransition as stale:
        if stale.current is not None and stale.current.region != ports.settings.region:
            return f"fenced: owned by {stale.current.region}"
        if stale.current is None or stale.current.status is not Status.ACSP:
            return "duplicate: already past processing"
        record = stale.current
    _to_release(ports, handoff, record.decision, (), record.version)
    return "accepted"


def process(ports: Ports, handoff: Handoff, rules: Sequence[Rule] | None = None) -> str:
    transaction_id = handoff.transaction_id
    now = ports.clock.now()
    profile = profile_named(ports.settings.profile)
    families = (handoff.message_type,) if handoff.message_type in INBOUND_FAMILIES else INBOUND_FAMILIES
    evaluation = evaluate(handoff.payload, profile=profile, now=now, max_bytes=ports.settings.max_message_bytes, families=families)
    if rules is not None and evaluation.message is not None:
        evaluation = judge(evaluation.message, profile, now, rules)
    if isinstance(evaluation.message, CancellationRequest) and evaluation.accepted:
        return _process_cancellation(ports, handoff, evaluation, now)
    warnings = _warnings(evaluation)
    decision = decide(evaluation, now)
    resend_of = None
    if decision.status is Status.ACSP and isinstance(evaluation.message, Message):
        checked = check_duplicates(ports, transaction_id, handoff.owner, digest(handoff.payload), evaluation.message,
                                   decision, profile.duplicate_code)
        decision, resend_of = checked.decision, checked.resend_of
    if decision.status is Status.RJCT:
        if resend_of is not None:
            warnings = warnings + (f"resend of transaction {resend_of}",)
        _to_release(ports, handoff, decision, warnings)
        log.info("message rejected", extra={"transaction_id": transaction_id, "reason_code": decision.reason_code})
        return f"rejected {decision.reason_code}" if resend_of is None else f"resend of {resend_of}"
    outcome = _record_acceptance(ports, handoff, decision, warnings)
    log.info("message accepted", extra={"transaction_id": transaction_id})
    return outcome


def _process_cancellation(ports: Ports, handoff: Handoff, evaluation: Evaluation, now: datetime) -> str:
    record = ports.ledger.get(handoff.transaction_id)
    if record is None or record.status is not Status.ACTC:
        return "duplicate: already past processing"
    request = evaluation.message
    outcomes, returns = cancel.resolve(ports, handoff, request, now)
    key = cancel.store_answers(ports, handoff, request, outcomes, returns)
    decision = cancel.decision_for(outcomes, len(returns), now)
    log.info("cancellation resolved", extra={"transaction_id": handoff.transaction_id, "resolution": decision.info})
    return _record_acceptance(ports, handoff, decision, _warnings(evaluation), reply_key=key)
