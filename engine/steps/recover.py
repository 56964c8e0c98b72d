"""Recover (scheduled, in each region): probe the peer, declare it down or up with hysteresis, move routing,
and take over a failed peer's in-flight transactions: re-drive each from its last durable step where the
payload has reached this region's archive, cancel it with an ISO reason where it has not.

A take-over is two writes: the ledger's (ownership moves here) and then the re-drive's queue message or the
cancellation. A run that fails between them leaves a transaction this region owns that nothing will move, so every
run first resumes this region's taken-over transactions still in flight before their deadline. A re-drive's
deduplication id is the same each time, so SQS drops the repeat of one that went out; a step that gets one anyway
finds the transaction moved on and stops."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from engine.failover import RegionState
from engine.ledger import Change, Decision, HistoryEntry, StaleTransition, Status, Takeover, Transaction
from engine.steps.handoff import Handoff, reply_key_for
from engine.steps.release import store_reply
from engine.wiring import Ports

log = logging.getLogger(__name__)

CLEARING_ABORTED = "AB02"
SETTLEMENT_ABORTED = "AB04"
TAKEOVER_BATCH = 500


@dataclass
class RecoverRun:
    peer: str
    healthy: bool
    peer_down: bool
    declared: str | None = None
    redriven: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    adopted: list[str] = field(default_factory=list)
    resumed: list[str] = field(default_factory=list)  # taken over by an earlier run, re-driven or cancelled again


def recover(ports: Ports) -> RecoverRun:
    settings = ports.settings
    region, peer = settings.region, settings.peer_region
    now = ports.clock.now()
    healthy = ports.peer_health.probe(peer)
    before = ports.routing.peer_view(region, peer)
    view = before.after_probe(healthy, now, down_after=settings.down_after_probes, up_after=settings.up_after_probes)
    ports.routing.save_peer_view(view)
    run = RecoverRun(peer, healthy, view.down)
    resume_taken_over(ports, now, run)
    if view.down != before.down:
        ports.routing.declare(RegionState(peer, up=not view.down, changed_at=now, declared_by=region))
        run.declared = "down" if view.down else "up"
        log.warning("peer region declared %s", run.declared, extra={"peer": peer, "failures": view.consecutive_failures})
    if view.down:
        take_over_in_flight(ports, peer, now, run)
    return run


def take_over_in_flight(ports: Ports, peer: str, now: datetime, run: RecoverRun) -> None:
    region = ports.settings.region
    horizon = now + timedelta(days=ports.settings.retention_days)
    for record in ports.ledger.in_flight(peer, horizon, TAKEOVER_BATCH):
        try:
            moved = ports.ledger.take_over(record.id, Takeover(peer, record.version, region))
        except StaleTransition:
            continue
        outcome = resume(ports, moved, now)
        getattr(run, outcome).append(record.id)


def resume_taken_over(ports: Ports, now: datetime, run: RecoverRun) -> None:
    region = ports.settings.region
    horizon = now + timedelta(days=ports.settings.retention_days)
    for record in ports.ledger.in_flight(region, horizon, TAKEOVER_BATCH):
        if record.epoch > 1 and record.status is not Status.ACCP and record.deadline > now:
            resume(ports, record, now)
            run.resumed.append(record.id)


def resume(ports: Ports, record: Transaction, now: datetime) -> str:
    """Continue a taken-over transaction in this region from its last durable step: "adopted" (it waits for its
    message), "cancelled" (its payload is not in this region's archive) or "redriven"."""
    if record.status is Status.ACCP:
        return "adopted"
    payload = ports.archive.get(record.payload_key) if record.payload_key else None
    if payload is None:
        cancel(ports, record, now)
        return "cancelled"
    received_at = record.history[1].at
    step = "process" if record.status is Status.ACTC else "release"
    handoff = Handoff(record.id, record.message_type, received_at, payload, record.version, record.owner, record.decision)
    ports.queues.send(step, handoff.to_json(), group=record.id, deduplication=f"{record.id}:{step}:epoch{record.epoch}")
    log.info("transaction re-driven", extra={"transaction_id": record.id, "step": step})
    return "redriven"


def cancel(ports: Ports, record: Transaction, now: datetime) -> None:
    reason = SETTLEMENT_ABORTED if record.status is Status.ACSP else CLEARING_ABORTED
    info = f"taken over from {ports.settings.peer_region}; its payload had not reached {ports.settings.region}"
    decision = Decision(Status.CANC, now, reason, info)
    change = Change(
        expected_status=record.status,
        expected_version=record.version,
        target=Status.CANC,
        entry=HistoryEntry(Status.CANC, now, reason, "failover"),
        reply_key=reply_key_for(record.id, ports.settings.region, record.opened_at, record.payload_key),
        decision=decision,
    )
    try:
        cancelled = ports.ledger.transition(record.id, change)
    except StaleTransition:
        return
    store_reply(ports, cancelled, None)
    log.warning("transaction cancelled after take-over", extra={"transaction_id": record.id, "reason_code": reason})
