from __future__ import annotations

import random

from sim.load import arrival_times, expected_arrivals, rate_segments
from sim.scenario import parse_scenario


def load_of(**load):
    return parse_scenario({"duration_s": 100, "load": load}).load


def test_rate_steps_and_bursts_make_piecewise_constant_segments():
    load = load_of(rate_tps=10, steps=[{"at_s": 50, "rate_tps": 20}], bursts=[{"start_s": 40, "duration_s": 20, "rate_tps": 100}])
    assert rate_segments(load, 100) == [(0.0, 40.0, 10.0), (40.0, 50.0, 110.0), (50.0, 60.0, 120.0), (60.0, 100.0, 20.0)]
    assert expected_arrivals(load, 100) == 400 + 1100 + 1200 + 800


def test_arrivals_are_poisson_at_the_segment_rates():
    load = load_of(rate_tps=10, bursts=[{"start_s": 40, "duration_s": 20, "rate_tps": 100}])
    times = list(arrival_times(load, 100, random.Random(4)))
    assert times == sorted(times)
    in_burst = sum(1 for t in times if 40 <= t < 60)
    outside = len(times) - in_burst
    assert (in_burst, outside) == (2225, 791)  # expected 2200 and 800
    assert list(arrival_times(load, 100, random.Random(4))) == times
