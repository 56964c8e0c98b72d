from __future__ import annotations

import random
import re
from datetime import datetime, timezone

import pytest
import simpy

from sim.clock import SeededIds, VirtualClock
from sim.rng import Streams

UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def test_the_virtual_clock_is_the_epoch_plus_virtual_time_plus_skew_plus_offset():
    env = simpy.Environment()
    epoch = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
    offset = [0.25]
    clock = VirtualClock(env, epoch, skew=-2.0, offset=lambda: offset[0])
    env.run(until=10)
    assert clock.now() == datetime(2026, 1, 5, 9, 0, 8, 250000, tzinfo=timezone.utc)
    assert clock.now().tzinfo is timezone.utc
    assert clock.virtual_seconds(clock.now()) == 8.25


def test_a_naive_epoch_is_refused():
    with pytest.raises(ValueError, match="naive epoch"):
        VirtualClock(simpy.Environment(), datetime(2026, 1, 5))


def test_ids_are_lowercase_uuid4_from_the_seed():
    seen = []
    first = SeededIds(Streams(7)("ids/us-east-1"), on_new=seen.append)
    second = SeededIds(Streams(7)("ids/us-east-1"))
    drawn = [first.transaction_id() for _ in range(50)]
    assert drawn == [second.transaction_id() for _ in range(50)]
    assert all(UUID4.fullmatch(i) for i in drawn)
    assert seen == drawn
    assert drawn[0] != SeededIds(Streams(8)("ids/us-east-1")).transaction_id()


def test_named_streams_do_not_shift_each_other():
    alone = Streams(3)("load/arrivals")
    expected = [alone.random() for _ in range(5)]
    streams = Streams(3)
    noisy = streams("fault/0/rp2:region-outage")
    arrivals = streams("load/arrivals")
    got = []
    for _ in range(5):
        noisy.random()
        got.append(arrivals.random())
    assert got == expected
    assert isinstance(arrivals, random.Random)
