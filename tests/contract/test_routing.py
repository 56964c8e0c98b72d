from __future__ import annotations

from datetime import datetime, timezone

from engine.failover import PeerView, RegionState

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)


def test_no_region_is_declared_at_first(backend):
    assert backend.ports.routing.region_states() == {}


def test_declared_states_are_kept_per_region(backend):
    routing = backend.ports.routing
    routing.declare(RegionState("us-east-1", up=False, changed_at=T0, declared_by="us-west-2"))
    routing.declare(RegionState("us-west-2", up=True))
    routing.declare(RegionState("us-east-1", up=True, changed_at=T0, declared_by="us-west-2"))

    assert routing.region_states() == {
        "us-east-1": RegionState("us-east-1", True, T0, "us-west-2"),
        "us-west-2": RegionState("us-west-2", True, None, None),
    }


def test_a_peer_view_starts_empty_and_roundtrips(backend):
    routing = backend.ports.routing
    assert routing.peer_view("us-west-2", "us-east-1") == PeerView("us-west-2", "us-east-1")

    view = PeerView("us-west-2", "us-east-1", consecutive_failures=3, consecutive_successes=0, down=True, changed_at=T0)
    routing.save_peer_view(view)

    assert routing.peer_view("us-west-2", "us-east-1") == view
    assert routing.peer_view("us-east-1", "us-west-2") == PeerView("us-east-1", "us-west-2")
