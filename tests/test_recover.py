"""Failure detection and take-over between two regions that share one (strongly consistent) ledger."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

import pytest

from engine.adapters.memory import ScriptedPeerHealth
from engine.failover import PeerView
from engine.ledger import Status
from engine.ports import Unavailable
from engine.local_runtime import LocalRuntime
from engine.steps.recover import recover
from engine.settings import Settings
from engine.wiring import memory_ports
from tests.conftest import SteppingClock, sample

EAST, WEST = "us-east-1", "us-west-2"
T0 = datetime(2026, 12, 3, 9, 30, tzinfo=timezone.utc)


def test_a_peer_is_down_after_three_failed_probes_and_up_after_two_good_ones():
    view = PeerView(WEST, EAST)
    for minute in range(2):
        view = view.after_probe(False, T0.replace(minute=minute), down_after=3, up_after=2)
    assert (view.down, view.consecutive_failures) == (False, 2)
    view = view.after_probe(True, T0.replace(minute=2), down_after=3, up_after=2)
    assert (view.down, view.consecutive_failures) == (False, 0)
    for minute in range(3, 6):
        view = view.after_probe(False, T0.replace(minute=minute), down_after=3, up_after=2)
    assert (view.down, view.changed_at) == (True, T0.replace(minute=5))
    view = view.after_probe(True, T0.replace(minute=6), down_after=3, up_after=2)
    assert view.down is True
    view = view.after_probe(True, T0.replace(minute=7), down_after=3, up_after=2)
    assert (view.down, view.changed_at) == (False, T0.replace(minute=7))


@pytest.fixture
def regions():
    """East and west share the ledger and the routing state (a global table); each has its own archive and queues."""
    clock = SteppingClock(T0)
    east = memory_ports(Settings(region=EAST, peer_region=WEST), clock=clock)
    west = replace(
        memory_ports(Settings(region=WEST, peer_region=EAST), clock=clock),
        ledger=east.ledger,
        routing=east.routing,
        peer_health=ScriptedPeerHealth({EAST: False}),
    )
    return LocalRuntime(east, east.queues), LocalRuntime(west, west.queues), clock


def open_in_east(east: LocalRuntime, payload: bytes | None) -> str:
    transaction_id = east.call("GET", "/uuid", identity="client", headers={"X-Message-Type": "pacs.008"}).body["transaction_id"]
    if payload is not None:
        headers = {"X-Transaction-Id": transaction_id, "X-Message-Type": "pacs.008"}
        assert east.call("POST", "/inbox", identity="client", headers=headers, body=payload).status == 200
    return transaction_id


def test_west_takes_over_east_in_flight_work_and_east_is_fenced_out(regions):
    east, west, clock = regions
    waiting = open_in_east(east, None)
    processed = open_in_east(east, sample("own_pacs008_v08_bah_envelope.xml"))
    east.run_worker_once("inbox")
    east.run_worker_once("process")
    received = open_in_east(east, sample("own_pacs008_v08_single.xml"))
    lost = open_in_east(east, sample("upstream_pacs.008.xml"))
    east.run_worker_once("inbox")
    replicated = {k: v for k, v in east.ports.archive.objects.items() if lost not in k}
    west.ports.archive.objects.update(replicated)

    runs = []
    for _ in range(3):
        clock.advance(10)
        runs.append(recover(west.ports))

    assert [r.declared for r in runs] == [None, None, "down"]
    assert runs[-1].adopted == [waiting]
    assert sorted(runs[-1].redriven) == sorted([received, processed])
    assert runs[-1].cancelled == [lost]
    assert east.ports.routing.region_states()[EAST].up is False

    west.drain()
    ledger = west.ports.ledger
    for transaction_id in (received, processed):
        record = ledger.get(transaction_id)
        assert (record.status, record.region, record.epoch) == (Status.ACSC, WEST, 2)
    assert (ledger.get(lost).status, ledger.get(lost).decision.reason_code) == (Status.CANC, "AB02")
    assert (ledger.get(waiting).status, ledger.get(waiting).region) == (Status.ACCP, WEST)

    east.drain()
    for transaction_id in (received, processed, lost):
        statuses = [entry.status for entry in ledger.get(transaction_id).history]
        assert sum(status.is_terminal for status in statuses) == 1, statuses


def test_an_adopted_transaction_takes_its_message_in_the_new_region_only(regions):
    east, west, clock = regions
    waiting = open_in_east(east, None)
    for _ in range(3):
        clock.advance(10)
        recover(west.ports)
    headers = {"X-Transaction-Id": waiting, "X-Message-Type": "pacs.008"}
    payload = sample("own_pacs008_v08_single.xml")

    misdirected = east.call("POST", "/inbox", identity="client", headers=headers, body=payload)
    assert (misdirected.status, misdirected.body["message"]) == (
        421,
        f"transaction {waiting} is owned by region {WEST}; send it to that region's endpoint",
    )
    assert west.call("POST", "/inbox", identity="client", headers=headers, body=payload).status == 200
    west.drain()
    record = west.ports.ledger.get(waiting)
    assert ([e.status.value for e in record.history], record.region) == (["ACCP", "ACTC", "ACSP", "ACSC"], WEST)


def received_in_east_and_probed_by_west(regions, probes: int) -> str:
    """A payment east archived (its payload replicated to west), then ``probes`` recover runs of west 5 s apart."""
    east, west, clock = regions
    received = open_in_east(east, sample("own_pacs008_v08_single.xml"))
    east.run_worker_once("inbox")
    west.ports.archive.objects.update(east.ports.archive.objects)
    for _ in range(probes):
        clock.advance(5)
        recover(west.ports)
    return received


def test_a_take_over_whose_run_failed_before_the_re_drive_is_re_driven_by_the_next_run(regions, monkeypatch):
    _, west, clock = regions
    received = received_in_east_and_probed_by_west(regions, 2)

    send = west.ports.queues.send

    def unavailable(*args, **kwargs):
        raise Unavailable("sqs: 503 ServiceUnavailable")

    monkeypatch.setattr(west.ports.queues, "send", unavailable)
    clock.advance(5)
    with pytest.raises(Unavailable):
        recover(west.ports)
    record = west.ports.ledger.get(received)
    assert (record.status, record.region, record.epoch) == (Status.ACTC, WEST, 2)

    monkeypatch.setattr(west.ports.queues, "send", send)
    clock.advance(5)
    again = recover(west.ports)
    assert (again.resumed, again.redriven) == ([received], [])
    west.drain()
    record = west.ports.ledger.get(received)
    assert ([e.status.value for e in record.history], record.region) == (["ACCP", "ACTC", "ACSP", "ACSC"], WEST)


def test_a_resumed_re_drive_already_sent_is_dropped_by_deduplication(regions):
    _, west, clock = regions
    received = received_in_east_and_probed_by_west(regions, 3)
    clock.advance(5)
    assert recover(west.ports).resumed == [received]
    assert west.ports.queues.depth("process") == 1
