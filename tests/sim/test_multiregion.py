"""Two-region worlds: scenario validation, the quorum of strong mode, last writer wins of eventual mode, routing."""

from __future__ import annotations

import pytest

import sim
from sim.router import Router
from sim.schema import ScenarioError
from tests.sim.conftest import scenario

TWO = ["us-east-1", "us-west-2"]
FAST = {"engine": {"timeout_schedule": "loop", "timeout_cadence_s": 5},
        "failover": {"recover_schedule": "loop", "recover_cadence_s": 5}}


def two_regions(consistency: str, faults: list, **top):
    world = {"regions": TWO, **({"witness": "us-east-2"} if consistency == "strong" else {})}
    return scenario({**FAST, "duration_s": 40, "world": world, "replication": {"consistency": consistency},
                     "load": {"rate_tps": 8}, "faults": faults, **top})


def error_of(raw: dict) -> str:
    with pytest.raises(ScenarioError) as error:
        scenario(raw)
    return str(error.value)


def test_a_world_has_one_or_two_regions_and_strong_mode_needs_a_witness():
    assert error_of({"world": {"regions": [*TWO, "eu-west-1"]}}).endswith("expected one or two regions, got ['us-east-1', 'us-west-2', 'eu-west-1']")
    assert error_of({"world": {"regions": TWO}, "replication": {"consistency": "strong"}}).endswith(
        "world.witness: strong consistency over two regions needs a witness region (a quorum of three)")
    assert "world.witness" in error_of({"world": {"regions": TWO, "witness": "us-east-1"}})
    assert error_of({"failover": {"recover_cadence_s": 10}}).startswith("<test>: failover.recover_cadence_s: expected a whole number of minutes")
    assert error_of({"world": {"regions": TWO, "witness": "us-east-2"}, "replication": {"consistency": "strong", "accepted_tradeoffs": ["split_brain"]}}).endswith(
        "strong consistency accepts no trade-off: it must prevent them")


def test_the_router_spreads_clients_and_avoids_a_region_declared_down():
    states = {"us-east-1": True, "us-west-2": True}
    router = Router(tuple(TWO), states=lambda: states)
    homes = {router.region_for(f"client-{n:03d}") for n in range(20)}
    assert homes == set(TWO)
    states["us-east-1"] = False
    assert {router.region_for(f"client-{n:03d}") for n in range(20)} == {"us-west-2"}
    assert Router(("us-east-1",)).region_for("client-001") == "us-east-1"


def test_strong_mode_the_cut_off_region_fails_fast_and_the_majority_takes_over():
    result = sim.run(two_regions("strong", [{"action": "aws:network:route-table-disrupt-cross-region-connectivity",
                                              "region": "us-east-1", "start_s": 5, "duration_s": 25}]), seed=1)
    assert result.ok, result.report_text
    m = result.metrics
    assert m["declared_down"] == 1 and m["split_brain_transactions"] == 0 and m["lww_conflicts"] == 0
    assert m["detection_time_s"] <= 3 * 5 + 2
    # us-east-1 reached 1 of 3 replicas: its ledger calls failed with Unavailable
    assert any(key.startswith("us-east-1") or "Unavailable" in key for key in m["errors"]), m["errors"]


def test_eventual_mode_a_partition_lets_both_regions_act_and_last_writer_wins_resolves_it():
    raw = two_regions("eventual", [{"action": "aws:network:route-table-disrupt-cross-region-connectivity",
                                     "region": "us-east-1", "start_s": 5, "duration_s": 25}])
    result = sim.run(raw, seed=1)
    m = result.metrics
    assert m["declared_down"] == 2  # each side declares the other down
    assert m["lww_conflicts"] >= 1 and m["split_brain_transactions"] >= 1
    assert not {v.name for v in result.failures} - {"no_split_brain", "terminal_never_changes", "one_terminal_status",
                                                     "in_flight_taken_over", "decisions_match_messages"}


def test_a_multi_region_run_is_deterministic():
    raw = two_regions("eventual", [{"action": "rp2:region-outage", "region": "us-east-1", "start_s": 5, "duration_s": 25}])
    assert sim.run(raw, seed=2).csv("transactions") == sim.run(raw, seed=2).csv("transactions")


@pytest.mark.slow
def test_a_three_minute_outage_at_50_tps_is_detected_in_bound_and_its_in_flight_work_taken_over():
    from pathlib import Path

    result = sim.run(Path(__file__).parents[2] / "scenarios" / "multiregion" / "mr_outage_3min_strong.toml", seed=1)
    assert result.ok, result.report_text
    failover = result.report["metrics"]["multi_region"]
    (row,) = failover["failures"]
    assert row["detected"] and row["detection_time_s"] <= 3 * 60 + 2
    assert row["in_flight_at_failure"] > 0
    assert row["redriven"] + row["cancelled"] + row["adopted"] == row["in_flight_at_failure"]
    assert row["stranded"] == 0 and result.metrics["not_terminal"] == 0


def test_a_disagreement_is_valued_at_its_payments_settlement_amounts_without_the_group_total():
    from decimal import Decimal
    from pathlib import Path

    from sim.multiregion import settlement_amounts

    samples = Path(__file__).parents[2] / "data" / "samples"
    assert settlement_amounts((samples / "own_pacs008_v08_multi3_sct.xml").read_bytes()) == (("EUR", Decimal("1120.00")),)
    assert settlement_amounts((samples / "own_pacs008_v08_bah_envelope.xml").read_bytes()) == (("USD", Decimal("48210.55")),)


def test_eventual_mode_reports_what_last_writer_wins_cost():
    raw = two_regions("eventual", [{"action": "aws:network:route-table-disrupt-cross-region-connectivity",
                                     "region": "us-east-1", "start_s": 5, "duration_s": 25}])
    result = sim.run(raw, seed=1)
    mr = result.metrics["multi_region"]
    disagreed = {c.transaction_id for c in result.world.hub.conflicts if c.disagreement}
    overwritten = {c.transaction_id for c in result.world.hub.conflicts if c.lost == "ACSC" and c.kept != "ACSC"}
    assert mr["lww_settlements_overwritten"] == len(overwritten) >= 1
    assert sorted(mr["lww_disagreement_value"]) == sorted({ccy for c in result.world.hub.conflicts if c.transaction_id in disagreed
                                                            for ccy, _ in c.value})
    assert "what last writer wins cost: payments decided differently worth" in result.report_text


def test_the_report_counts_and_prices_the_aws_requests_of_both_regions():
    raw = two_regions("strong", [{"action": "rp2:region-outage", "region": "us-east-1", "start_s": 5, "duration_s": 25}])
    result = sim.run(raw, seed=1)
    frame = result.requests
    assert set(frame["region"]) == {"us-east-1", "us-west-2"}
    summed = frame.groupby(["service", "operation"])[["requests", "failed_calls"]].sum()
    assert result.metrics["aws_requests"] == {f"{s}.{o}": int(n) for (s, o), n in summed["requests"].items()}
    assert result.metrics["aws_requests_failed"] == {f"{s}.{o}": int(n) for (s, o), n in summed["failed_calls"].items() if n}


def test_a_region_stamps_its_writes_in_the_order_it_makes_them_even_when_a_clock_reads_earlier():
    from datetime import datetime, timedelta, timezone
    from sim.multiregion import STAMP_STEP_S, Hub

    class Clock:
        def __init__(self, at: datetime) -> None:
            self.at = at

        def now(self) -> datetime:
            return self.at

    hub = Hub.__new__(Hub)  # the stamp source needs none of the world
    hub._last_stamp = {}
    t0 = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
    ahead, behind = Clock(t0 + timedelta(seconds=2.3)), Clock(t0)
    take_over, timeout = hub.stamper("us-east-1", ahead), hub.stamper("us-east-1", behind)
    first = take_over()
    second = timeout()  # the timeout job saw the take-over's write, though its clock reads 2.3 s earlier
    assert first == ((t0 + timedelta(seconds=2.3)).timestamp(), "us-east-1")
    assert second == (first[0] + STAMP_STEP_S, "us-east-1")
    assert hub.stamper("us-west-2", behind)() == (t0.timestamp(), "us-west-2")
