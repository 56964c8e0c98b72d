"""Two-region worlds on moto: the engine's AWS adapters over one moto table and bucket per region (eventual mode,
replicated by the simulator's process through the adapters' conditional put_replica*), or one table both regions use
behind the quorum check (strong mode). The same scenario and seed give the same result on memory and moto: every
transaction's final status and reason, every table of the run, the report."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import boto3
import pytest

import sim
from engine.adapters.aws.ledger import REPLICA_REGION
from engine.ledger import Status
from sim.backends import make_backend
from sim.world import World
from tests.sim.conftest import scenario
from tests.sim.test_backends import assert_same

TWO = ["us-east-1", "us-west-2"]
FAST = {"engine": {"timeout_schedule": "loop", "timeout_cadence_s": 5},
        "failover": {"recover_schedule": "loop", "recover_cadence_s": 5}}


def two_regions(consistency: str, *, duration_s: float, rate_tps: float, faults: list):
    world = {"regions": TWO, **({"witness": "us-east-2"} if consistency == "strong" else {})}
    replication = {"consistency": consistency}
    if consistency == "eventual":
        replication["accepted_tradeoffs"] = ["split_brain", "stranded"]  # eventual mode's price, as in its scenarios
    return scenario({**FAST, "duration_s": duration_s, "world": world, "replication": replication,
                     "load": {"rate_tps": rate_tps}, "faults": faults})


def outage(start_s: float, duration_s: float) -> dict:
    return {"action": "rp2:region-outage", "region": "us-east-1", "start_s": start_s, "duration_s": duration_s}


@pytest.mark.parametrize("consistency", ["strong", "eventual"])
def test_a_short_two_region_outage_is_identical_on_memory_and_moto(aws_env, consistency):
    raw = two_regions(consistency, duration_s=20, rate_tps=6, faults=[outage(3, 20)])
    memory = sim.run(raw, backend="memory")
    moto = sim.run(raw, backend="moto")
    assert len(memory.transactions) > 100
    assert memory.ok and moto.ok, moto.report_text
    m = memory.metrics
    assert m["declared_down"] >= 1 and m["multi_region"]["items_replicated"] > 0 and m["cancelled_by_takeover"] > 0
    if consistency == "strong":  # the old owner's late writes fail their condition on the one table
        assert m["fenced"] > 0 and m["split_brain_transactions"] == 0 and m["lww_conflicts"] == 0
    else:  # both regions acted on their replica: last writer wins resolved conflicts in the conditional copies
        assert m["lww_conflicts"] > 0 and m["redriven"] > 0
    assert_same(memory, moto)


@pytest.mark.slow
@pytest.mark.parametrize("consistency", ["strong", "eventual"])
def test_a_few_hundred_transactions_through_an_outage_are_identical_on_memory_and_moto(aws_env, consistency):
    raw = two_regions(consistency, duration_s=40, rate_tps=8, faults=[outage(5, 25)])
    memory = sim.run(raw, backend="memory")
    moto = sim.run(raw, backend="moto")
    assert len(memory.transactions) >= 300
    assert memory.ok and moto.ok, moto.report_text
    m = memory.metrics
    assert m["declared_down"] >= 1
    if consistency == "strong":
        assert m["split_brain_transactions"] == 0 and m["lww_conflicts"] == 0 and m["stranded_transactions"] == 0
    else:
        assert m["lww_conflicts"] > 0 and m["split_brain_transactions"] > 0
    assert_same(memory, moto)


def _items(region: str, table: str) -> dict[str, dict]:
    client = boto3.client("dynamodb", region_name=region)
    items = {}
    for page in client.get_paginator("scan").paginate(TableName=table):
        for item in page["Items"]:
            items[item["id"]["S"]] = item
    return items


@contextmanager
def _short_moto_world(consistency: str) -> Iterator[tuple[World, dict[str, dict], dict[str, dict]]]:
    """Four seconds of a two-region world on moto, and the ledger table's items as each region's client reads them."""
    with make_backend("moto") as backend:
        world = World(two_regions(consistency, duration_s=4, rate_tps=5, faults=[]), 1, backend)
        world.run()
        table = world.regions["us-east-1"].settings.ledger_table
        yield world, _items("us-east-1", table), _items("us-west-2", table)


def test_eventual_mode_on_moto_keeps_a_table_per_region_and_copies_every_item_to_the_other(aws_env):
    with _short_moto_world("eventual") as (world, east, west):
        assert world.transactions and set(world.transactions) <= set(east) and set(east) == set(west)
        for tid, info in world.transactions.items():
            # the item carries the stamp of its last write, made by the region that opened the transaction
            assert east[tid][REPLICA_REGION]["S"] == west[tid][REPLICA_REGION]["S"] == info.region
            assert east[tid]["status"] == west[tid]["status"] == {"S": Status.ACSC.value}
        bucket = {region: world.regions[region].settings.archive_bucket for region in TWO}
        keys = {region: {o["Key"] for o in boto3.client("s3", region_name=region).list_objects_v2(Bucket=bucket[region])["Contents"]}
                for region in TWO}
        assert keys["us-east-1"] == keys["us-west-2"] and len(keys["us-east-1"]) == 2 * len(world.transactions)


def test_strong_mode_on_moto_is_one_table_both_regions_use(aws_env):
    with _short_moto_world("strong") as (world, east, west):
        assert {info.region for info in world.transactions.values()} == set(TWO)
        assert set(world.transactions) <= set(east) and west == {}
        assert not any(REPLICA_REGION in item for item in east.values())  # one table: nothing to replicate, no stamps
