"""The replication capability (engine.ports, replication): stores built with a stamp source record each write's stamp,
and a copy from the other region replaces the stored item only when its stamp is later (last writer wins), on the
memory adapters and on the AWS adapters over moto alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from engine.adapters.aws.archive import S3Archive
from engine.adapters.aws.clients import aws_client
from engine.adapters.aws.ledger import DynamoLedger
from engine.adapters.aws.provision import provision
from engine.adapters.aws.routing import DynamoRouting
from engine.adapters.memory import MemoryArchive, MemoryLedger, MemoryRouting
from engine.failover import PeerView, RegionState
from engine.ledger import Change, HistoryEntry, Status, Takeover, Transaction
from engine.ports import ReplicaWrite
from engine.settings import Settings

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)
TX = "6f1c2a3e-0000-4000-8000-000000000001"
EAST, WEST = "us-east-1", "us-west-2"


class Stamps:
    """The stamp source of the local writes: set by the test."""

    def __init__(self) -> None:
        self.value = (100.0, EAST)

    def __call__(self) -> tuple[float, str]:
        return self.value


@dataclass
class Stores:
    ledger: Any
    routing: Any
    archive: Any
    stamps: Stamps


@pytest.fixture(params=["memory", "moto"])
def stores(request: pytest.FixtureRequest) -> Stores:
    stamps = Stamps()
    if request.param == "memory":
        return Stores(MemoryLedger(compact=True, stamp=stamps), MemoryRouting(stamp=stamps), MemoryArchive(compress=True, stamp=stamps), stamps)
    session = request.getfixturevalue("mocked_aws")
    settings = Settings()
    provision(settings, session)
    dynamodb = aws_client(session, "dynamodb", settings)
    return Stores(DynamoLedger(dynamodb, settings.ledger_table, stamp=stamps), DynamoRouting(dynamodb, settings.ledger_table, stamp=stamps),
                  S3Archive(aws_client(session, "s3", settings), settings.archive_bucket, stamp=stamps), stamps)


def opened(region: str = EAST) -> Transaction:
    return Transaction.opened(id=TX, region=region, owner="client-001", message_type="pacs.008.001.08", at=T0,
                              sla_seconds=30, retention_days=30)


def accepted(record: Transaction, region_clock: datetime = T0 + timedelta(seconds=1)) -> Transaction:
    return Change(expected_status=record.status, expected_version=record.version, target=Status.ACTC,
                  entry=HistoryEntry(Status.ACTC, region_clock)).apply(record)


def rejected(record: Transaction) -> Transaction:
    return Change(expected_status=record.status, expected_version=record.version, target=Status.RJCT,
                  entry=HistoryEntry(Status.RJCT, T0 + timedelta(seconds=2), reason_code="AB03")).apply(record)


# -- ledger items ------------------------------------------------------------------------------------------------------
def test_a_copy_of_an_item_the_replica_lacks_is_stored_and_indexed(stores):
    record = opened()

    write = stores.ledger.put_replica(record, (100.0, EAST))

    assert write == ReplicaWrite(True, None, None)
    assert stores.ledger.get(TX) == record
    assert [r.id for r in stores.ledger.in_flight(EAST, T0 + timedelta(minutes=5), 10)] == [TX]


def test_a_newer_copy_that_is_in_flight_over_a_terminal_local_item_is_in_flight_again(stores):
    local = opened()
    stores.ledger.open(local)
    stores.ledger.transition(TX, Change(expected_status=Status.ACCP, expected_version=local.version, target=Status.RJCT,
                                        entry=HistoryEntry(Status.RJCT, T0 + timedelta(seconds=2), reason_code="AB03")))
    assert stores.ledger.in_flight(EAST, T0 + timedelta(minutes=5), 10) == []

    copy = accepted(Transaction.opened(id=TX, region=EAST, owner="client-001", message_type="pacs.008.001.08", at=T0,
                                       sla_seconds=30, retention_days=30))
    write = stores.ledger.put_replica(copy, (100.5, WEST))

    assert write.written
    assert stores.ledger.in_flight(EAST, T0 + timedelta(minutes=5), 10) == [copy]


def test_an_older_copy_never_overwrites_a_newer_local_write(stores):
    local = opened()
    stores.stamps.value = (100.5, WEST)
    stores.ledger.open(local)

    write = stores.ledger.put_replica(accepted(local), (100.25, EAST))

    assert write == ReplicaWrite(False, local, (100.5, WEST))
    assert stores.ledger.get(TX) == local


def test_a_newer_copy_replaces_the_local_item_and_reports_it(stores):
    local = opened()
    stores.ledger.open(local)
    copy = accepted(local)

    write = stores.ledger.put_replica(copy, (100.000001, WEST))

    assert write == ReplicaWrite(True, local, (100.0, EAST))
    assert stores.ledger.get(TX) == copy


def test_on_equal_times_the_region_breaks_the_tie(stores):
    local = opened()
    stores.stamps.value = (100.0, "us-east-2")
    stores.ledger.open(local)

    assert not stores.ledger.put_replica(accepted(local), (100.0, EAST)).written
    assert stores.ledger.put_replica(accepted(local), (100.0, WEST)).written


def test_every_local_write_restamps_the_item(stores):
    ledger = stores.ledger
    ledger.put_replica(opened(), (100.0, WEST))
    stores.stamps.value = (102.0, EAST)
    local = ledger.transition(TX, Change(expected_status=Status.ACCP, expected_version=1, target=Status.ACTC,
                                         entry=HistoryEntry(Status.ACTC, T0 + timedelta(seconds=2))))
    assert not ledger.put_replica(rejected(opened()), (101.0, WEST)).written
    stores.stamps.value = (103.0, EAST)
    taken = ledger.take_over(TX, Takeover(expected_region=EAST, expected_version=2, new_region=WEST))
    assert taken.version == 3

    write = ledger.put_replica(rejected(opened()), (102.5, WEST))

    assert write == ReplicaWrite(False, taken, (103.0, EAST))
    assert ledger.get(TX) == taken != local


def test_a_terminal_copy_leaves_the_in_flight_index_and_a_moved_one_is_found_under_its_new_region(stores):
    ledger = stores.ledger
    ledger.open(opened())
    later = T0 + timedelta(minutes=5)
    moved = Takeover(expected_region=EAST, expected_version=1, new_region=WEST).apply(opened())

    ledger.put_replica(moved, (101.0, WEST))
    assert ledger.in_flight(EAST, later, 10) == [] and [r.id for r in ledger.in_flight(WEST, later, 10)] == [TX]

    ledger.put_replica(rejected(moved), (102.0, WEST))
    assert ledger.in_flight(WEST, later, 10) == []
    assert ledger.get(TX).status is Status.RJCT


def test_claims_are_copied_by_the_same_rule(stores):
    ledger = stores.ledger
    assert ledger.put_replica_claim("uetr#a", "tx-west", 1_800_000_000, (100.0, WEST)) == ReplicaWrite(True, None, None)
    assert ledger.claim("uetr#a", "tx-east", 1_800_000_000) == "tx-west"

    stores.stamps.value = (105.0, EAST)
    assert ledger.claim("uetr#b", "tx-east", 1_800_000_000) == "tx-east"
    assert ledger.put_replica_claim("uetr#b", "tx-west", 1_800_000_000, (104.0, WEST)) == ReplicaWrite(False, "tx-east", (105.0, EAST))
    assert ledger.put_replica_claim("uetr#b", "tx-west", 1_800_000_000, (106.0, WEST)) == ReplicaWrite(True, "tx-east", (105.0, EAST))
    assert ledger.claim("uetr#b", "tx-east", 1_800_000_000) == "tx-west"


# -- routing -------------------------------------------------------------------------------------------------------------
def test_region_states_are_copied_each_on_its_own(stores):
    routing = stores.routing
    stores.stamps.value = (200.0, EAST)
    routing.declare(RegionState(WEST, up=False, changed_at=T0, declared_by=EAST))

    # the other region's declaration about itself is another entry: a later stamp on this one does not block it
    assert routing.put_replica_state(RegionState(EAST, up=False, changed_at=T0, declared_by=WEST), (150.0, WEST))
    assert not routing.put_replica_state(RegionState(WEST, up=True, changed_at=T0, declared_by=WEST), (150.0, WEST))
    assert routing.region_states() == {WEST: RegionState(WEST, False, T0, EAST), EAST: RegionState(EAST, False, T0, WEST)}

    assert routing.put_replica_state(RegionState(WEST, up=True, changed_at=T0, declared_by=WEST), (201.0, WEST))
    assert routing.region_states()[WEST] == RegionState(WEST, True, T0, WEST)


def test_peer_views_are_copied_by_the_same_rule(stores):
    routing = stores.routing
    view = PeerView(WEST, EAST, consecutive_failures=3, down=True, changed_at=T0)
    assert routing.put_replica_view(view, (100.0, WEST))
    assert routing.peer_view(WEST, EAST) == view

    stores.stamps.value = (300.0, EAST)
    newer = PeerView(WEST, EAST, consecutive_successes=2, changed_at=T0)
    routing.save_peer_view(newer)
    assert not routing.put_replica_view(view, (299.0, WEST))
    assert routing.peer_view(WEST, EAST) == newer


# -- archive -------------------------------------------------------------------------------------------------------------
def test_objects_are_copied_by_the_same_rule(stores):
    archive = stores.archive
    assert archive.put_replica("inbox/tx-1.xml", b"<copy/>", (100.0, WEST))
    assert archive.get("inbox/tx-1.xml") == b"<copy/>"

    stores.stamps.value = (110.0, EAST)
    archive.put("outbox/tx-1.xml", b"<local/>")
    assert not archive.put_replica("outbox/tx-1.xml", b"<older/>", (109.0, WEST))
    assert archive.get("outbox/tx-1.xml") == b"<local/>"
    assert archive.put_replica("outbox/tx-1.xml", b"<newer/>", (111.0, WEST))
    assert archive.get("outbox/tx-1.xml") == b"<newer/>"
